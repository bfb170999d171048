"""The database: engine, sessions, models and Alembic migrations."""

from service.db.engine import make_engine, make_session_factory, upgrade
from service.db.models import (
    AuditEvent,
    Base,
    CheckIn,
    Clinic,
    Escalation,
    Message,
    Patient,
    Schedule,
    utcnow,
)

__all__ = [
    "AuditEvent",
    "Base",
    "CheckIn",
    "Clinic",
    "Escalation",
    "Message",
    "Patient",
    "Schedule",
    "make_engine",
    "make_session_factory",
    "upgrade",
    "utcnow",
]
