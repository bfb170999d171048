"""One typed settings object, read once from the environment (see shared/CONTRACT.md)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# PUBLIC_BASE_URL goes into staff alerts (a dashboard link), which must fit two SMS segments.
PUBLIC_BASE_URL_MAX_LENGTH = 64


class ConfigError(ValueError):
    """A missing or malformed setting; the message names the variable."""


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    value = _optional(env, name)
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not (parsed.netloc or parsed.path):
        raise ConfigError(f"{name}: expected a URL starting with {' or '.join(schemes)}://")
    return value.rstrip("/") if name != "REDIS_URL" else value


def _e164(env: Mapping[str, str], name: str) -> str | None:
    value = _optional(env, name)
    if value is not None and not E164.match(value):
        raise ConfigError(f"{name}: expected an E.164 phone number such as +15551234567")
    return value


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = _optional(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}")
    return value


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    from limits import parse  # imported here: config stays importable without the extras

    raw = _optional(env, name) or default
    try:
        amount = parse(raw).amount
    except ValueError:
        amount = 0
    if amount < 1:
        raise ConfigError(f"{name}: expected a rate such as 3000/minute, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    instance_path: Path
    database_url: str
    redis_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_from_number: str | None = None
    twilio_api_base: str | None = None
    public_base_url: str = "http://localhost:5000"
    emergency_number: str = "911"
    send_rate_per_second: float = 1.0
    dispatch_interval_seconds: int = 5
    twilio_timeout_seconds: float = 10.0
    log_level: str = "INFO"
    # API requests per key, and failed key checks per client address (limits' syntax).
    api_rate_limit: str = "3000/minute"
    api_bad_key_rate_limit: str = "30/minute"
    # Signs the dashboard's session cookie; None: a random key kept under instance_path.
    secret_key: str | None = field(default=None, repr=False)
    # Bearer key of the admin API (/api/v1/admin/...); None: the admin API is off.
    admin_api_key: str | None = field(default=None, repr=False)

    @property
    def uses_twilio(self) -> bool:
        """True when real Twilio credentials (both) are configured."""
        return self.twilio_account_sid is not None and self.twilio_auth_token is not None

    @property
    def console_outbox(self) -> Path:
        """Where the console transport records what it would have sent."""
        return self.instance_path / "console_outbox.jsonl"

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests and tools)."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the settings; raise ConfigError naming the bad variable."""
        env = os.environ if env is None else env
        instance = Path(_optional(env, "CHECKIN_INSTANCE_PATH") or "instance").resolve()
        database_url = _optional(env, "DATABASE_URL") or f"sqlite:///{instance / 'checkin.db'}"
        if "://" not in database_url:
            raise ConfigError("DATABASE_URL: expected a SQLAlchemy URL such as sqlite:///file.db")
        if database_url.startswith(("postgres://", "postgresql://")):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
        sid = _optional(env, "TWILIO_ACCOUNT_SID")
        token = _optional(env, "TWILIO_AUTH_TOKEN")
        if sid and not token:
            raise ConfigError("TWILIO_AUTH_TOKEN: required when TWILIO_ACCOUNT_SID is set")
        # A token alone is allowed: webhook signatures are checked, messages go to the console.
        emergency = _optional(env, "EMERGENCY_NUMBER") or "911"
        if not re.fullmatch(r"\+?\d{2,15}", emergency):
            raise ConfigError("EMERGENCY_NUMBER: expected digits such as 911 or 112")
        level = (_optional(env, "LOG_LEVEL") or "INFO").upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError("LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR")
        public_base_url = _url(env, "PUBLIC_BASE_URL", ("http", "https"))
        if public_base_url is not None and len(public_base_url) > PUBLIC_BASE_URL_MAX_LENGTH:
            raise ConfigError(
                f"PUBLIC_BASE_URL: at most {PUBLIC_BASE_URL_MAX_LENGTH} characters "
                "(staff alerts carry a link to it and must fit two SMS segments)"
            )
        secret_key = _optional(env, "SECRET_KEY")
        if secret_key is not None and len(secret_key) < 16:
            raise ConfigError("SECRET_KEY: must be at least 16 characters (a long random string)")
        admin_api_key = _optional(env, "ADMIN_API_KEY")
        if admin_api_key is not None and len(admin_api_key) < 32:
            raise ConfigError(
                "ADMIN_API_KEY: must be at least 32 characters (a long random string)"
            )
        return cls(
            instance_path=instance,
            database_url=database_url,
            redis_url=_url(env, "REDIS_URL", ("redis", "rediss", "unix")),
            twilio_account_sid=sid,
            twilio_auth_token=token,
            twilio_from_number=_e164(env, "TWILIO_FROM_NUMBER"),
            twilio_api_base=_url(env, "TWILIO_API_BASE", ("http", "https")),
            public_base_url=public_base_url or "http://localhost:5000",
            emergency_number=emergency,
            send_rate_per_second=_number(env, "SEND_RATE_PER_SECOND", 1.0, 0.01),
            dispatch_interval_seconds=int(_number(env, "DISPATCH_INTERVAL_SECONDS", 5, 1)),
            twilio_timeout_seconds=_number(env, "TWILIO_TIMEOUT_SECONDS", 10.0, 0.1),
            log_level=level,
            api_rate_limit=_rate(env, "API_RATE_LIMIT", "3000/minute"),
            api_bad_key_rate_limit=_rate(env, "API_BAD_KEY_RATE_LIMIT", "30/minute"),
            secret_key=secret_key,
            admin_api_key=admin_api_key,
        )
