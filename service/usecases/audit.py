"""The audit trail: who did what, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.db import AuditEvent


def record(
    session: Session,
    *,
    clinic_id: int | None,
    actor: str,
    action: str,
    subject: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit event to the session's transaction (no phone numbers or bodies in detail)."""
    session.add(
        AuditEvent(clinic_id=clinic_id, actor=actor, action=action, subject=subject, detail=detail)
    )
