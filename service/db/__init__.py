"""The database: engine, sessions, models and Alembic migrations."""

from service.db.engine import (
    autocommit,
    in_transactions,
    make_engine,
    make_session_factory,
    upgrade,
)
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
from service.db.staff import StaffSession, StaffToken, StaffUser

__all__ = [
    "AuditEvent",
    "Base",
    "CheckIn",
    "Clinic",
    "Escalation",
    "Message",
    "Patient",
    "Schedule",
    "StaffSession",
    "StaffToken",
    "StaffUser",
    "autocommit",
    "in_transactions",
    "make_engine",
    "make_session_factory",
    "upgrade",
    "utcnow",
]
