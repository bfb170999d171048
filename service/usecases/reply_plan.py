"""A policy decision's effects as `reply_steps` steps: the one plan every path carries out.

The webhook's write runs the plan in its one statement (PostgreSQL) or one transaction
(SQLite), gated on the sid; `followup.apply_decision` runs the very same steps for a
message already stored (an emergency left unprocessed). So what a decision does is written
once: the new episode state, the schedule, an escalation with its audit event, an
emergency's first page (an SMS and a call to the chain's first phone, decided by the pure
`service.core.paging`), or the emergency escalation the patient already has, joined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config import Settings
from service.core.paging import notice_at
from service.core.policy import Decision, EscalationReason, Status
from service.core.schedule import outside_quiet_hours
from service.db import Patient
from service.usecases import paging
from service.usecases.answers import ANSWER_PURPOSE
from service.usecases.reply_steps import ESCALATION_MARK, Marked, Ref, Step


@dataclass(frozen=True)
class Plan:
    """The escalation to open (or the open one joined) and the steps of one decision."""

    escalation: dict[str, Any] | None
    steps: list[Step]
    attached_to: int | None = None  # the patient's open emergency escalation, joined


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
    return Step("patients", values, where={"id": patient.id})


def cancel_step(patient_id: int, now: datetime) -> Step:
    """Cancel every check-in of the patient not yet sent."""
    return Step(
        "checkins",
        {"status": "cancelled", "updated_at": now},
        where={"patient_id": patient_id, "status": "scheduled"},
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
    return Step("checkins", row)


def audit_step(
    clinic_id: int,
    actor: str,
    action: str,
    subject: str | None,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> Step:
    """An audit event; with no subject, the subject is the reply's escalation."""
    row: dict[str, Any] = {
        "clinic_id": clinic_id,
        "actor": actor,
        "action": action,
        "subject": subject if subject is not None else Marked(f"escalation:{ESCALATION_MARK}"),
        "detail": detail,
        "created_at": now,
    }
    return Step("audit_events", row)


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
    return Step("messages", row)


def page_steps(
    settings: Settings, patient: Patient, now: datetime
) -> tuple[dict[str, Any], list[Step]]:
    """A new emergency escalation's paging state and its first page (`paging.first_page`).

    The page's texts name the escalation, whose id the write makes: they are stored with
    ESCALATION_MARK in its place. Each page message's id comes back, to be enqueued.
    """
    clinic = patient.clinic
    step = paging.first_page(clinic, now)
    paging_state = {
        "status": step.state.status,
        "page_phone": step.state.phone,
        "page_round": step.state.round,
        "page_failed": False,
        "next_page_at": step.next_at,
    }
    rows = paging.page_rows(settings, clinic, patient, ESCALATION_MARK, now, step.state)
    steps = [
        Step(
            "messages",
            {
                **row,
                "body": Marked(row["body"]),
                "page_key": Marked(row["page_key"]),
                "escalation_id": Ref.ESCALATION_ID,
                "needs_review": False,
                "processed": True,
                "created_at": now,
                "updated_at": now,
            },
            returns_id=True,
        )
        for row in rows
    ]
    return paging_state, steps


def plan_decision(
    settings: Settings,
    patient: Patient,
    decision: Decision,
    *,
    now: datetime,
    channel: str = "sms",
    open_emergency_id: int | None = None,
) -> Plan:
    """The steps of one decision for one patient (answers are rendered by the caller).

    `channel` is the reply's: a follow-up stays on the phone call the patient answered,
    else goes by the patient's channel. `open_emergency_id`: the patient's emergency
    escalation still open or unacknowledged (`paging.open_emergency`): an emergency joins
    it, opens nothing and pages nobody.
    """
    steps: list[Step] = [state_step(patient, decision, now)]
    if decision.next_checkin_in is not None:
        steps.append(cancel_step(patient.id, now))
        due = now + decision.next_checkin_in
        follow_up = "voice" if channel == "voice" else patient.channel
        steps.append(checkin_step(patient, due, decision.checkin_kind or "checkin", now, follow_up))
    elif not decision.keep_pending_checkin:
        steps.append(cancel_step(patient.id, now))
    if decision.escalation is None:
        return Plan(None, steps)
    clinic = patient.clinic
    emergency = decision.escalation is EscalationReason.EMERGENCY
    if emergency and open_emergency_id is not None:
        # Still being paged (or unacknowledged): shown there, nobody new is paged.
        return Plan(None, steps, attached_to=open_emergency_id)
    reason = decision.escalation.value
    escalation: dict[str, Any] = {
        "clinic_id": patient.clinic_id,
        "patient_id": patient.id,
        "reason": reason,
        "created_at": now,
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
    if emergency:
        paging_state, pages = page_steps(settings, patient, now)
        escalation.update(paging_state)
        steps.extend(pages)
    else:
        # A notice waits for the clinic's working hours; the dispatcher sends it then.
        escalation.update(
            status="open",
            page_phone=0,
            page_round=0,
            page_failed=False,
            next_page_at=notice_at(now, clinic.timezone, paging.paging_numbers(clinic)),
        )
    return Plan(escalation, steps)
