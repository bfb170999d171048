"""Staff accounts: creation, one-time password links, password checks and server-side sessions.

Passwords are hashed with argon2id (argon2-cffi, the reference implementation's bindings).
Session and link tokens are long random strings; only their SHA-256 is stored, so the tables
alone sign nobody in. A session ends when it is idle too long, at logout, when the person's
password changes, when the account is disabled, or when the clinic's API key is rotated.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.db import Clinic, StaffSession, StaffToken, StaffUser
from service.usecases import Conflict, NotFound
from service.usecases.audit import record

ROLES = ("nurse", "admin")
LINK_LIFETIME = timedelta(hours=72)
IDLE_TIMEOUT = timedelta(minutes=30)
MAX_SESSION = timedelta(hours=12)
# last_seen_at is written at most this often, so the queue's polling is not a write per poll.
TOUCH_EVERY = timedelta(minutes=1)
MIN_PASSWORD = 10
MAX_PASSWORD = 200


@cache
def _hasher() -> PasswordHasher:
    """argon2id with the library's current recommended parameters (built on first use)."""
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Checked against when the email is unknown, so both answers take the same time."""
    return _hasher().hash(secrets.token_urlsafe(16))


def token_hash(token: str) -> str:
    """SHA-256 of a random token (tokens are long and random, so a fast hash is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """An email as stored: trimmed and lower-cased."""
    return email.strip().lower()


def valid_email(email: str) -> bool:
    """A plausible address: one @, something either side, a dot in the domain, no spaces."""
    local, at, domain = email.partition("@")
    return bool(at and local and "." in domain and " " not in email and len(email) <= 254)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"must be at most {MAX_PASSWORD} characters"
    return None


def _new_link(session: Session, staff: StaffUser, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        StaffToken(token_hash=token_hash(token), staff_id=staff.id, expires_at=now + LINK_LIFETIME)
    )
    return token


def add_staff(
    session: Session, clinic_id: int, email: str, *, role: str, now: datetime, actor: str
) -> tuple[StaffUser, str]:
    """Create an account without a password; returns it with its one-time set-password token."""
    email = normalise_email(email)
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not valid_email(email):
        raise ValueError("not an email address")
    if session.get(Clinic, clinic_id) is None:
        raise NotFound("clinic not found")
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise Conflict("an account with this email already exists")
    staff = StaffUser(clinic_id=clinic_id, email=email, role=role)
    session.add(staff)
    session.flush()
    token = _new_link(session, staff, now)
    record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="staff.create",
        subject=f"staff:{staff.id}",
        detail={"role": role},
    )
    return staff, token


def disable_staff(session: Session, email: str, *, now: datetime, actor: str) -> StaffUser:
    """Disable an account and end its sessions."""
    staff = session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))
    if staff is None:
        raise NotFound("no account with this email")
    if staff.disabled_at is None:
        staff.disabled_at = now
        revoke_sessions(session, [staff.id], now=now)
        record(
            session,
            clinic_id=staff.clinic_id,
            actor=actor,
            action="staff.disable",
            subject=f"staff:{staff.id}",
        )
    return staff


def staff_for_link(session: Session, token: str, *, now: datetime) -> StaffUser | None:
    """The account a set-password link is for, if the link is unused, unexpired and enabled."""
    link = session.scalar(select(StaffToken).where(StaffToken.token_hash == token_hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    staff = session.get(StaffUser, link.staff_id)
    return staff if staff is not None and staff.disabled_at is None else None


def set_password_with_link(
    session: Session, token: str, password: str, *, now: datetime
) -> StaffUser:
    """Use a one-time link: set the password, spend the link, end the account's sessions."""
    staff = staff_for_link(session, token, now=now)
    if staff is None:
        raise NotFound("this link is not valid any more")
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    claimed = session.execute(
        update(StaffToken)
        .where(StaffToken.token_hash == token_hash(token), StaffToken.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise NotFound("this link is not valid any more")
    _set_password(session, staff, password, now=now)
    return staff


def change_password(
    session: Session, staff: StaffUser, current: str, new: str, *, now: datetime
) -> None:
    """Change a password knowing the current one; every session of the account ends."""
    if not _verify(staff.password_hash, current):
        raise PermissionError("the current password is not right")
    problem = password_problem(new)
    if problem:
        raise ValueError(problem)
    _set_password(session, staff, new, now=now)


def _set_password(session: Session, staff: StaffUser, password: str, *, now: datetime) -> None:
    """Store the new password's hash, end every session of the account, and audit it."""
    staff.password_hash = _hasher().hash(password)
    revoke_sessions(session, [staff.id], now=now)
    record(
        session,
        clinic_id=staff.clinic_id,
        actor=f"staff:{staff.id}",
        action="staff.password",
        subject=f"staff:{staff.id}",
    )


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, email: str, password: str) -> StaffUser | None:
    """The enabled account with this email and password, or None (same work either way)."""
    staff = session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))
    ok = _verify(staff.password_hash if staff else None, password[:MAX_PASSWORD])
    if staff is None or not ok or staff.disabled_at is not None:
        return None
    if staff.password_hash and _hasher().check_needs_rehash(staff.password_hash):
        staff.password_hash = _hasher().hash(password)
    return staff


def start_session(session: Session, staff: StaffUser, *, now: datetime) -> str:
    """Open a server-side session; returns the token the browser keeps."""
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=token_hash(token), staff_id=staff.id, created_at=now, last_seen_at=now
        )
    )
    record(
        session,
        clinic_id=staff.clinic_id,
        actor=f"staff:{staff.id}",
        action="staff.login",
        subject=f"staff:{staff.id}",
    )
    return token


@dataclass(frozen=True)
class SignedIn:
    """The person behind a live session."""

    staff: StaffUser
    session_id: int


def resume_session(session: Session, token: str, *, now: datetime) -> SignedIn | None:
    """The live session of a token, touched; None when unknown, ended, idle or too old."""
    found = session.scalar(select(StaffSession).where(StaffSession.token_hash == token_hash(token)))
    if found is None or found.revoked_at is not None:
        return None
    if now - found.last_seen_at > IDLE_TIMEOUT or now - found.created_at > MAX_SESSION:
        found.revoked_at = now
        session.commit()
        return None
    staff = session.get(StaffUser, found.staff_id)
    if staff is None or staff.disabled_at is not None:
        return None
    if now - found.last_seen_at > TOUCH_EVERY:
        found.last_seen_at = now
        session.commit()
    return SignedIn(staff, found.id)


def end_session(session: Session, token: str, *, now: datetime) -> None:
    """Log out: the session's token stops working at once."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == token_hash(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_sessions(session: Session, staff_ids: list[int], *, now: datetime) -> None:
    """End every live session of these accounts."""
    if staff_ids:
        session.execute(
            update(StaffSession)
            .where(StaffSession.staff_id.in_(staff_ids), StaffSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def revoke_clinic_sessions(session: Session, clinic_id: int, *, now: datetime) -> None:
    """End every live session of a clinic's staff (after its API key is rotated)."""
    ids = list(session.scalars(select(StaffUser.id).where(StaffUser.clinic_id == clinic_id)))
    revoke_sessions(session, ids, now=now)


def staff_names(session: Session, actors: set[str]) -> dict[str, str]:
    """Email of each `staff:<id>` actor, for showing the audit trail with people's names."""
    ids = [int(a.split(":", 1)[1]) for a in actors if a.startswith("staff:") and a[6:].isdigit()]
    if not ids:
        return {}
    rows = session.execute(select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(ids)))
    return {f"staff:{i}": email for i, email in rows}
