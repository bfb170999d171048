"""A clinic's settings as its admins change them: the follow-up and paging numbers and the
on-call phone."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.core.paging import PAGING_KEYS, PagingNumbers
from service.core.policy import PolicyNumbers
from service.db import Clinic
from service.usecases.audit import record

# Numbers a clinic may leave unset (the feature is then off), offered on the form too.
OPTIONAL_KEYS = ("no_reply_reminder_hours",)


def _split(mapping: dict[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """The follow-up numbers and the paging numbers (unset paging ones: the default)."""
    followup = {k: v for k, v in mapping.items() if k not in PAGING_KEYS}
    paging = {k: v for k, v in mapping.items() if k in PAGING_KEYS and v is not None}
    return followup, paging


def policy_keys(clinic: Clinic) -> list[str]:
    """Every follow-up and paging number the clinic can set, in a stable order."""
    keys = [*PolicyNumbers().to_mapping(), *PagingNumbers().to_mapping()]
    for key in (*OPTIONAL_KEYS, *(clinic.policy or {})):
        if key in keys or key in PAGING_KEYS:
            continue
        try:
            PolicyNumbers.from_mapping({key: None})
        except ValueError:
            continue  # not a key this version knows
        keys.append(key)
    return keys


def current_policy(clinic: Clinic) -> dict[str, int | float]:
    """The numbers in force: the clinic's own over the defaults."""
    followup, paging = _split(dict(clinic.policy or {}))
    return {
        **PolicyNumbers.from_mapping(followup).to_mapping(),
        **PagingNumbers.from_mapping(paging).to_mapping(),
    }


def update_policy(
    session: Session, clinic: Clinic, changes: dict[str, object], *, actor: str
) -> PolicyNumbers:
    """Change some numbers (None resets one to its default); ValueError names a bad one."""
    followup, paging = _split({**(clinic.policy or {}), **changes})
    numbers = PolicyNumbers.from_mapping(followup)
    clinic.policy = {**numbers.to_mapping(), **PagingNumbers.from_mapping(paging).to_mapping()}
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


def update_backups(session: Session, clinic: Clinic, phones: list[str], *, actor: str) -> None:
    """Replace the backup phones of the escalation chain (E.164, already validated, in order)."""
    if phones == (clinic.backup_phones or []):
        return
    clinic.backup_phones = phones or None
    record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="clinic.backup_phones",
        subject=f"clinic:{clinic.id}",
        detail={"chain_length": 1 + len(phones)},
    )
