"""Clinics as an operator manages them: list, look up, change (never their keys' hashes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import Clinic
from service.usecases import NotFound
from service.usecases.audit import record


def list_clinics(session: Session) -> Sequence[Clinic]:
    """Every clinic, oldest first."""
    return session.scalars(select(Clinic).order_by(Clinic.id)).all()


def get_clinic(session: Session, clinic_id: int) -> Clinic:
    """One clinic, or NotFound."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound("clinic not found")
    return clinic


def update_clinic(
    session: Session, clinic_id: int, changes: dict[str, Any], *, actor: str
) -> Clinic:
    """Change a clinic's name, numbers, time zone or WhatsApp templates."""
    clinic = get_clinic(session, clinic_id)
    changed = sorted(k for k, v in changes.items() if getattr(clinic, k) != v)
    for name in changed:
        setattr(clinic, name, changes[name])
    if changed:
        record(
            session,
            clinic_id=clinic.id,
            actor=actor,
            action="clinic.update",
            subject=f"clinic:{clinic.id}",
            detail={"fields": changed},
        )
    return clinic


def set_whatsapp_template(
    session: Session, clinic_id: int, language: str, content_sid: str | None, *, actor: str
) -> Clinic:
    """Store (or with None, remove) the clinic's WhatsApp template for `language`."""
    clinic = get_clinic(session, clinic_id)
    templates = dict(clinic.whatsapp_templates or {})
    if content_sid is None:
        templates.pop(language, None)
    else:
        templates[language] = content_sid
    return update_clinic(session, clinic_id, {"whatsapp_templates": templates or None}, actor=actor)
