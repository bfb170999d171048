"""SQLAlchemy models: clinics, patients, check-ins, messages, escalations and the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always gives them back aware (SQLite drops zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes: a naive time is a bug waiting to schedule at the wrong hour."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Give back aware UTC whatever the backend returned."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints the same way."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}  # noqa: RUF012


class Clinic(Base):
    """A clinic: its numbers, its API key hash and its follow-up numbers."""

    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    on_call_phone: Mapped[str] = mapped_column(String(20))
    # The escalation chain after the on-call phone, in order (E.164 strings).
    backup_phones: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    # The language of staff alerts.
    language: Mapped[str] = mapped_column(String(2), default="en", server_default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    country: Mapped[str] = mapped_column(String(2), default="US")
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # WhatsApp templates (Twilio ContentSid) by language, for first contacts out of the window.
    whatsapp_templates: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Patient(Base):
    """A patient of one clinic and the state of their current episode."""

    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("clinic_id", "phone", name="uq_patients_clinic_phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2), default="en")
    # How check-ins reach the patient: "sms" or "voice" (a phone call).
    channel: Mapped[str] = mapped_column(String(8), default="sms", server_default="sms")
    # Set when Twilio (21614) or the number's type says the phone cannot take texts.
    landline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    same_streak: Mapped[int] = mapped_column(Integer, default=0)
    better_streak: Mapped[int] = mapped_column(Integer, default=0)
    menu_repeated: Mapped[bool] = mapped_column(Boolean, default=False)
    last_outbound_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    clinic: Mapped[Clinic] = relationship()


class CheckIn(Base):
    """One scheduled check-in; the database, not Redis, is the source of truth for it."""

    __tablename__ = "checkins"
    __table_args__ = (
        # The dispatcher's question, "what is due?", follows the rows due, not the history:
        # a partial index holds only scheduled check-ins (it replaced one on status, due_at).
        Index(
            "ix_checkins_scheduled_due",
            "due_at",
            postgresql_where=text("status = 'scheduled'"),
            sqlite_where=text("status = 'scheduled'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    due_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(8), default="sms")
    kind: Mapped[str] = mapped_column(String(16), default="checkin")
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    # Call tries: 1 for the first, n+1 for the retry of an unanswered call (retry_of).
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    retry_of: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id"), unique=True, default=None
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id"), unique=True, default=None
    )
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id"), index=True, default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Schedule(Base):
    """A recurring check-in: every `every_seconds`, at `at_local`, until a date or a count."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    starts_at: Mapped[datetime]  # the first occurrence
    every_seconds: Mapped[int] = mapped_column(Integer)
    at_local: Mapped[str | None] = mapped_column(String(5), default=None)
    until: Mapped[datetime | None] = mapped_column(default=None)
    count: Mapped[int | None] = mapped_column(Integer, default=None)
    # The last occurrence put in the check-ins table: the next one is strictly after it.
    last_due_at: Mapped[datetime | None] = mapped_column(default=None)
    channel: Mapped[str | None] = mapped_column(String(16), default=None)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """An SMS or call, inbound or outbound; outbound ones are sent from here exactly once."""

    __tablename__ = "messages"
    __table_args__ = (
        # Partial indexes on the few rows the dispatcher looks for each tick (lost jobs,
        # dead workers' sends, unfinished emergencies): the cost follows them, not the table.
        Index(
            "ix_messages_pending",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_messages_sending_updated",
            "updated_at",
            postgresql_where=text("status = 'sending'"),
            sqlite_where=text("status = 'sending'"),
        ),
        Index(
            "ix_messages_unprocessed",
            "id",
            postgresql_where=text("processed IS false"),
            sqlite_where=text("processed IS 0"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(8), default="sms")
    purpose: Mapped[str] = mapped_column(String(16))
    to_number: Mapped[str] = mapped_column(String(32))
    from_number: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[int | None] = mapped_column(Integer, default=None)
    category: Mapped[str | None] = mapped_column(String(16), default=None)
    reasons: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # False while an inbound emergency, already answered, waits for its policy to be applied.
    processed: Mapped[bool] = mapped_column(Boolean, default=True)
    answer: Mapped[str | None] = mapped_column(Text, default=None)
    # An outbound call's end as the service saw it: "machine", "no_input" or "answered".
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), default=None)
    # The SMS copy of a WhatsApp check-in that WhatsApp refused (63016): one copy at most.
    resent_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id"), unique=True, default=None
    )
    # One page per (escalation, phone, round, channel), whatever retries or races happen.
    page_key: Mapped[str | None] = mapped_column(String(48), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# An emergency escalation still being paged, or whose chain ran out unacknowledged: a new
# emergency of the same patient joins it (`paging.open_emergency`) instead of paging again.
OPEN_EMERGENCY_STATUSES = ("open", "unacknowledged")
OPEN_EMERGENCY_INDEX = "uq_escalations_open_emergency"
OPEN_EMERGENCY_WHERE = "reason = 'emergency' AND status IN ('open', 'unacknowledged')"


class Escalation(Base):
    """Something staff must look at: an emergency, worsening or persisting weakness."""

    __tablename__ = "escalations"
    __table_args__ = (
        Index("ix_escalations_clinic_status", "clinic_id", "status"),
        Index("ix_escalations_status_next_page", "status", "next_page_at"),
        # One open emergency per patient (safety rule 2): two emergencies written at once,
        # each having read none open, cannot both open one and page the chain twice.
        Index(
            OPEN_EMERGENCY_INDEX,
            "patient_id",
            unique=True,
            postgresql_where=text(OPEN_EMERGENCY_WHERE),
            sqlite_where=text(OPEN_EMERGENCY_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    inbound_message_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    # Who acknowledged ("staff:+1202...", "api", "dashboard") and how (sms, call, api...).
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), default=None)
    acknowledged_via: Mapped[str | None] = mapped_column(String(16), default=None)
    # Paging (service.core.paging): the phone of the chain and its round, and the timer.
    page_phone: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    page_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_page_at: Mapped[datetime | None] = mapped_column(default=None)
    # The current page failed for good: the dispatcher moves to the next phone at once.
    page_failed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class AuditEvent(Base):
    """Who did what and when: API calls, CLI actions, patient replies, worker sends."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
