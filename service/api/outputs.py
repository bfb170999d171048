"""Response schemas of the clinic API, for the generated OpenAPI document.

The serialisers in the routes build plain dicts; `tests/api/test_openapi.py` validates real
answers against these schemas, so a field added to one and not the other fails a test.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas import Language, PatientChannel, PatientStatus


class Out(BaseModel):
    """A response body; extra fields are allowed so adding one is not a breaking change."""

    model_config = ConfigDict(extra="allow")


class Error(Out):
    """Any error but invalid input."""

    error: str


class FieldProblem(Out):
    """One bad field."""

    field: str
    message: str


class ValidationErrors(Out):
    """422: every bad field of the request."""

    errors: list[FieldProblem]


class Patient(Out):
    """A patient."""

    id: int
    phone: str = Field(description="E.164")
    name: str | None
    timezone: str
    language: Language
    channel: PatientChannel
    landline: bool = Field(description="The number cannot take texts (Twilio 21614/30006)")
    status: PatientStatus
    status_reason: str | None = Field(
        description="Why the service changed the status itself, e.g. invalid_number "
        "(Twilio 21211/21614/30005/30006: paused until the clinic fixes the number) or "
        "carrier_opt_out (21610)"
    )
    next_checkin_at: datetime | None
    created_at: datetime


class PatientPage(Out):
    """One page of patients, oldest first; `next_cursor` is null on the last page."""

    items: list[Patient]
    next_cursor: str | None


class Checkin(Out):
    """A check-in; scheduled ones can be cancelled."""

    id: int
    patient_id: int
    due_at: datetime = Field(description="When it will really go out (quiet hours)")
    channel: str
    kind: Literal["checkin", "got_help", "reminder"] | str
    status: str
    schedule_id: int | None = None


class Schedule(Out):
    """A recurring schedule: every `every_seconds`, at `at_local`, until a date or a count."""

    id: int
    patient_id: int
    every_seconds: int
    at_local: str | None
    starts_at: datetime = Field(description="The first occurrence")
    until: datetime | None
    count: int | None
    channel: str | None = Field(description="null: the patient's channel")
    status: Literal["active", "finished", "cancelled", "ended", "replaced"]


class ScheduledCheckin(Checkin):
    """The check-in just scheduled, with its patient (and its schedule when recurring)."""

    patient: Patient | None = None
    schedule: Schedule | None = None


class CheckinList(Out):
    """A patient's check-ins, newest due first."""

    items: list[Checkin]


class Message(Out):
    """An SMS, WhatsApp message or call."""

    id: int
    direction: Literal["inbound", "outbound"]
    channel: str
    to: str
    from_: str = Field(alias="from")
    body: str
    status: str
    created_at: datetime
    outcome: Literal["answered", "machine", "no_input", "opted_out"] | None = Field(
        default=None, description="How an outbound call ended"
    )
    category: (
        Literal["emergency", "worse", "same", "better", "unclear", "stop", "start", "help"] | None
    ) = None
    reasons: list[str] | None = None
    needs_review: bool | None = None


class MessageList(Out):
    """A patient's messages, oldest first."""

    items: list[Message]


class Escalation(Out):
    """Something staff must look at."""

    id: int
    patient_id: int
    reason: Literal["emergency", "worsening", "persisting", "unreachable"]
    status: Literal["open", "acknowledged", "unacknowledged"]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_via: Literal["api", "dashboard", "sms", "call", "call_connect"] | None = None
    replies: int = Field(0, ge=0, description="The patient's replies attached to it")


class EscalationList(Out):
    """The escalation queue, newest first."""

    items: list[Escalation]


class RowProblem(Out):
    """One bad row of an import (row 1 is the first data row after the header)."""

    row: int
    field: str
    message: str


class ImportResult(Out):
    """What an import did: good rows are kept, bad rows are named."""

    created: int
    existing: int = Field(0, description="Rows whose phone the clinic already had")
    errors: list[RowProblem]


class FhirBundle(Out):
    """A FHIR R4 Bundle (collection): Patient, Observations, QuestionnaireResponses, Flags."""

    resourceType: Literal["Bundle"]
    type: str
    entry: list[dict[str, Any]]


class Clinic(Out):
    """A clinic, as the admin API shows it (never its key)."""

    id: int
    name: str
    phone: str | None
    on_call_phone: str
    backup_phones: list[str]
    timezone: str
    country: str
    whatsapp_templates: dict[str, str]
    created_at: datetime


class ClinicList(Out):
    """Every clinic."""

    items: list[Clinic]


class ClinicKey(Clinic):
    """A clinic with its new API key, shown this once."""

    api_key: str
