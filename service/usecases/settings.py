"""A clinic's settings as its admins change them: the follow-up numbers and the on-call phone."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.core.policy import PolicyNumbers
from service.db import Clinic
from service.usecases.audit import record

# Numbers a clinic may leave unset (the feature is then off), offered on the form too.
OPTIONAL_KEYS = ("no_reply_reminder_hours",)


def policy_keys(clinic: Clinic) -> list[str]:
    """Every follow-up number the clinic can set, in a stable order."""
    keys = list(PolicyNumbers().to_mapping())
    for key in (*OPTIONAL_KEYS, *(clinic.policy or {})):
        if key in keys:
            continue
        try:
            PolicyNumbers.from_mapping({key: None})
        except ValueError:
            continue  # not a key this version knows
        keys.append(key)
    return keys


def current_policy(clinic: Clinic) -> dict[str, int | float]:
    """The numbers in force: the clinic's own over the defaults."""
    return PolicyNumbers.from_mapping(clinic.policy or {}).to_mapping()


def update_policy(
    session: Session, clinic: Clinic, changes: dict[str, object], *, actor: str
) -> PolicyNumbers:
    """Change some numbers (None resets one to its default); ValueError names a bad one."""
    merged = {**(clinic.policy or {}), **changes}
    numbers = PolicyNumbers.from_mapping(merged)
    clinic.policy = numbers.to_mapping()
    record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="clinic.policy",
        subject=f"clinic:{clinic.id}",
        detail=dict(clinic.policy),
    )
    return numbers


def update_on_call(session: Session, clinic: Clinic, phone: str, *, actor: str) -> None:
    """Change the first phone of the escalation chain (E.164, already validated)."""
    if phone == clinic.on_call_phone:
        return
    clinic.on_call_phone = phone
    record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="clinic.on_call_phone",
        subject=f"clinic:{clinic.id}",
    )
