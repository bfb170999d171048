"""`checkin doctor`: every dependency and setting the service needs, one verdict each.

Each check returns a Check; none of them changes anything (no migration, no Redis start).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from redis.exceptions import RedisError
from rq import Worker
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from config import Settings
from config.settings import E164
from service.core.webhooks import Webhooks, problems
from service.db import Clinic
from service.db.engine import alembic_config
from service.embedded_redis import embedded_redis_running, socket_path_for
from service.transport.account import AccountError, TwilioAccount
from service.usecases.twilio_setup import clinic_numbers

# A worker heartbeats before each wait for a job (at most 45 s apart with worker_ttl 60,
# see workers.main), so a minute and a half of silence means it is gone or stuck.
HEARTBEAT_MAX_AGE_SECONDS = 90


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report: `ok`, `warn` or `FAIL`, what, and why."""

    verdict: str
    name: str
    detail: str

    def line(self) -> str:
        """The report line."""
        return f"{self.verdict:<4} {self.name}: {self.detail}"


def check_database(engine: Engine) -> Check:
    """The database answers and its schema is at Alembic's head."""
    script = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(False)))
    head = script.get_current_head()
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()
        return Check(
            "FAIL", "database", f"DATABASE_URL unreachable: {reason[0] if reason else exc}"
        )
    backend = engine.url.get_backend_name()
    if current is None:
        return Check("FAIL", "database", f"{backend}: schema not migrated; run checkin db upgrade")
    if current != head:
        return Check(
            "FAIL",
            "database",
            f"{backend}: schema {current}, head is {head}; run checkin db upgrade",
        )
    return Check("ok", "database", f"{backend}, schema {current} (head)")


def redis_client(settings: Settings) -> redis.Redis | None:
    """A short-timeout client for REDIS_URL or the running embedded Redis (None: not running)."""
    if settings.redis_url:
        url = settings.redis_url
    elif embedded_redis_running(settings.instance_path):
        url = f"unix://{socket_path_for(settings.instance_path)}"
    else:
        return None
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=3)


def check_redis(client: redis.Redis | None) -> Check:
    """Redis answers a PING."""
    if client is None:
        return Check(
            "FAIL",
            "redis",
            "REDIS_URL unset and the embedded Redis is not running (checkin up starts it)",
        )
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        return Check("FAIL", "redis", f"REDIS_URL unreachable: {exc}")
    return Check("ok", "redis", "answers PING")


def alive_workers(client: redis.Redis, hostname: str | None = None) -> list[tuple[str, float]]:
    """(name, seconds since heartbeat) of the RQ workers heard from recently (on `hostname`)."""
    now = datetime.now(UTC)
    found = []
    for worker in Worker.all(connection=client):
        if hostname is not None and worker.hostname != hostname:
            continue
        if worker.last_heartbeat is None:
            continue
        age = (now - worker.last_heartbeat).total_seconds()
        if age <= HEARTBEAT_MAX_AGE_SECONDS:
            found.append((str(worker.name), age))
    return found


def check_workers(client: redis.Redis | None) -> Check:
    """At least one RQ worker has sent a heartbeat recently."""
    if client is None:
        return Check("FAIL", "workers", "no Redis, so no worker can run")
    try:
        alive = alive_workers(client)
    except (RedisError, OSError) as exc:
        return Check("FAIL", "workers", f"cannot list workers: {type(exc).__name__}")
    if not alive:
        return Check(
            "FAIL",
            "workers",
            f"no RQ heartbeat in the last {HEARTBEAT_MAX_AGE_SECONDS} s: start checkin worker",
        )
    freshest = min(age for _, age in alive)
    return Check("ok", "workers", f"{len(alive)} alive (last heartbeat {freshest:.0f} s ago)")


def check_twilio(settings: Settings, account: TwilioAccount | None) -> Check:
    """The Twilio credentials are accepted and the account is active."""
    if account is None:
        return Check(
            "warn",
            "twilio",
            "TWILIO_ACCOUNT_SID unset: console transport, nothing reaches a phone",
        )
    try:
        status = account.status()
    except AccountError as exc:
        return Check("FAIL", "twilio", str(exc))
    if status != "active":
        return Check("FAIL", "twilio", f"account {settings.twilio_account_sid} is {status}")
    return Check("ok", "twilio", f"credentials accepted, account {settings.twilio_account_sid}")


def check_numbers(
    session: Session, settings: Settings, account: TwilioAccount | None
) -> list[Check]:
    """Each clinic number's webhooks point at PUBLIC_BASE_URL."""
    numbers = clinic_numbers(session, settings)
    if account is None:
        return []
    if not numbers:
        return [Check("FAIL", "numbers", "no clinic number and no TWILIO_FROM_NUMBER")]
    try:
        at_twilio = {n.phone_number: n for n in account.numbers()}
    except AccountError as exc:
        return [Check("FAIL", "numbers", str(exc))]
    webhooks = Webhooks.for_base(settings.public_base_url)
    checks = []
    for phone in numbers:
        number = at_twilio.get(phone)
        if number is None:
            checks.append(Check("FAIL", f"number {phone}", "not a number of this Twilio account"))
            continue
        wrong = problems(number.config, webhooks)
        if wrong:
            detail = "; ".join(wrong) + " (run checkin twilio connect)"
            checks.append(Check("FAIL", f"number {phone}", detail))
        else:
            checks.append(Check("ok", f"number {phone}", f"webhooks at {settings.public_base_url}"))
    return checks


def chain_of(clinic: Clinic) -> list[str]:
    """The clinic's escalation chain: its on-call phone, then its backup phones in order."""
    return [clinic.on_call_phone, *(clinic.backup_phones or [])]


def check_chains(session: Session, settings: Settings) -> list[Check]:
    """Each clinic's escalation chain has valid phones, none of them a sending number."""
    clinics = session.scalars(select(Clinic).order_by(Clinic.id)).all()
    if not clinics:
        return [Check("warn", "clinics", "none yet: checkin clinic create")]
    checks = []
    for clinic in clinics:
        chain = chain_of(clinic)
        senders = {clinic.phone, settings.twilio_from_number} - {None}
        bad = [p for p in chain if not p or not E164.match(p)]
        own = [p for p in chain if p in senders]
        name = f"clinic {clinic.id} chain"
        if not chain or bad:
            checks.append(Check("FAIL", name, f"invalid phone(s) in the chain: {bad}"))
        elif own:
            checks.append(Check("FAIL", name, "a chain phone is a sending number: pages loop"))
        elif len(set(chain)) < len(chain):
            checks.append(Check("warn", name, f"{len(chain)} phones, some repeated"))
        else:
            checks.append(Check("ok", name, f"{len(chain)} phone(s): {', '.join(chain)}"))
    return checks


def run_checks(
    settings: Settings,
    engine: Engine,
    account: TwilioAccount | None,
    on_check: Callable[[Check], None],
) -> list[Check]:
    """Run every check in order, reporting each as it finishes; return them all."""
    done: list[Check] = []

    def report(check: Check) -> None:
        done.append(check)
        on_check(check)

    database = check_database(engine)
    report(database)
    client = redis_client(settings)
    try:
        report(check_redis(client))
        report(check_workers(client))
    finally:
        if client is not None:
            client.close()
    report(check_twilio(settings, account))
    if database.verdict == "ok":
        with Session(engine) as session:
            for check in check_numbers(session, settings, account):
                report(check)
            for check in check_chains(session, settings):
                report(check)
    return done


def this_host() -> str:
    """The host name RQ records for workers of this machine (a container's id in Docker)."""
    return socket.gethostname()
