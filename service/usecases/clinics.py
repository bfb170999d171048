"""Clinics and their API keys: a key is shown once and only its hash is kept."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.names import valid_clinic_name
from service.db import Clinic
from service.usecases import NotFound
from service.usecases.audit import record

KEY_PREFIX = "ck_"


def hash_key(key: str) -> str:
    """SHA-256 of an API key: keys are long random tokens, so a fast hash is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_clinic(
    session: Session,
    *,
    name: str,
    on_call_phone: str,
    phone: str | None,
    timezone: str,
    actor: str,
) -> tuple[Clinic, str]:
    """Create a clinic and return it with its new API key (the only time the key is seen).

    ValueError when the name is not a valid clinic name (at most 30 characters).
    """
    name = valid_clinic_name(name)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    clinic = Clinic(
        name=name,
        on_call_phone=on_call_phone,
        phone=phone,
        timezone=timezone,
        api_key_hash=hash_key(key),
    )
    session.add(clinic)
    session.flush()
    record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="clinic.create",
        subject=f"clinic:{clinic.id}",
    )
    return clinic, key


def clinic_for_key(session: Session, key: str) -> Clinic | None:
    """The clinic an API key belongs to, or None."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    return session.scalar(select(Clinic).where(Clinic.api_key_hash == hash_key(key)))


def rotate_key(session: Session, clinic_id: int, *, now: datetime, actor: str) -> str:
    """Give a clinic a new API key (shown once); the old one stops working, sessions end."""
    from service.usecases.staff import revoke_clinic_sessions

    clinic = session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound("clinic not found")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    clinic.api_key_hash = hash_key(key)
    revoke_clinic_sessions(session, clinic.id, now=now)
    record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="clinic.rotate_key",
        subject=f"clinic:{clinic.id}",
    )
    return key
