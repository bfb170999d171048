"""A policy decision as the hot path's write: the same effects as `apply_decision`, as steps.

`apply_decision` (the ORM) carries out decisions where round trips do not matter (an
answered emergency's escalation and page, after the response). Here the decisions of the
webhook's own transaction become `reply_store` steps: the new episode state, the schedule,
an escalation with its audit event, and the audit of STOP/START. None of them pages: only
emergencies page, and those are answered first and processed after the response.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, literal, update

from service.core.paging import notice_at
from service.core.policy import Decision, EscalationReason, Status
from service.core.schedule import outside_quiet_hours
from service.db import Patient
from service.usecases.answers import ANSWER_PURPOSE
from service.usecases.paging import paging_numbers
from service.usecases.reply_store import (
    AUDIT,
    CHECKINS,
    MESSAGES,
    Refs,
    Step,
    insert_row,
    json_value,
    table,
)

PATIENTS = table(Patient)


@dataclass(frozen=True)
class Plan:
    """The escalation row (if any) and the steps that carry out one decision."""

    escalation: dict[str, Any] | None
    steps: list[Step]


def state_step(patient: Patient, decision: Decision, now: datetime) -> Step:
    """The episode's new state."""
    state = decision.state
    values: dict[str, Any] = {
        "status": state.status.value,
        "same_streak": state.same_streak,
        "better_streak": state.better_streak,
        "menu_repeated": state.menu_repeated,
        "updated_at": now,
    }
    if state.status is not Status.PAUSED:
        values["status_reason"] = None
    return lambda refs: (
        update(PATIENTS).where(PATIENTS.c.id == patient.id, refs.guard).values(**values)
    )


def cancel_step(patient_id: int, now: datetime) -> Step:
    """Cancel every check-in of the patient not yet sent."""
    return lambda refs: (
        update(CHECKINS)
        .where(CHECKINS.c.patient_id == patient_id, CHECKINS.c.status == "scheduled", refs.guard)
        .values(status="cancelled", updated_at=now)
    )


def checkin_step(patient: Patient, due: datetime, kind: str, now: datetime, channel: str) -> Step:
    """A new check-in, moved out of the patient's quiet hours (as `add_checkin` does)."""
    row = {
        "clinic_id": patient.clinic_id,
        "patient_id": patient.id,
        "due_at": outside_quiet_hours(due, patient.timezone),
        "channel": channel,
        "kind": kind,
        "status": "scheduled",
        "created_at": now,
        "updated_at": now,
    }
    return lambda refs: insert_row(CHECKINS, row, refs)


def audit_step(
    clinic_id: int,
    actor: str,
    action: str,
    subject: str | None,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> Step:
    """An audit event; with no subject, the subject is the reply's escalation."""

    def build(refs: Refs) -> Any:
        row: dict[str, Any] = {
            "clinic_id": clinic_id,
            "actor": actor,
            "action": action,
            "subject": (
                subject
                if subject is not None
                else literal("escalation:") + cast(refs.escalation_id, String)
            ),
            "detail": json_value(detail),
            "created_at": now,
        }
        return insert_row(AUDIT, row, refs)

    return build


def answer_step(inbound: dict[str, Any], answer: str, now: datetime) -> Step:
    """The service's answer kept as an outbound message (`answers.store_answer`'s row)."""
    row = {
        "clinic_id": inbound["clinic_id"],
        "patient_id": inbound["patient_id"],
        "direction": "outbound",
        "channel": inbound["channel"],
        "purpose": ANSWER_PURPOSE,
        "to_number": inbound["from_number"],
        "from_number": inbound["to_number"],
        "body": answer,
        "status": "sent",
        "needs_review": False,
        "processed": True,
        "created_at": now,
        "updated_at": now,
    }
    return lambda refs: insert_row(MESSAGES, row, refs)


def plan_decision(
    patient: Patient, decision: Decision, *, now: datetime, channel: str = "sms"
) -> Plan:
    """The steps of one decision for one patient (answers are rendered by the caller).

    `channel` is the reply's: a follow-up stays on the phone call the patient answered,
    else goes by the patient's channel (as `apply_decision` does).
    """
    steps: list[Step] = [state_step(patient, decision, now)]
    if decision.next_checkin_in is not None:
        steps.append(cancel_step(patient.id, now))
        due = now + decision.next_checkin_in
        follow_up = "voice" if channel == "voice" else patient.channel
        steps.append(checkin_step(patient, due, decision.checkin_kind or "checkin", now, follow_up))
    elif not decision.keep_pending_checkin:
        steps.append(cancel_step(patient.id, now))
    escalation: dict[str, Any] | None = None
    if decision.escalation is not None:
        reason = decision.escalation.value
        # Only notices here (worsening, persisting): emergencies page after the answer,
        # in `inbound.process_reply`. The notice waits for the clinic's working hours,
        # as `paging.start` times it.
        assert decision.escalation is not EscalationReason.EMERGENCY
        escalation = {
            "clinic_id": patient.clinic_id,
            "patient_id": patient.id,
            "reason": reason,
            "status": "open",
            "created_at": now,
            "page_phone": 0,
            "page_round": 0,
            "page_failed": False,
            "next_page_at": notice_at(now, patient.clinic.timezone, paging_numbers(patient.clinic)),
        }
        steps.append(
            audit_step(
                patient.clinic_id,
                f"patient:{patient.id}",
                "escalation.open",
                None,
                now,
                {"reason": reason},
            )
        )
    return Plan(escalation, steps)
