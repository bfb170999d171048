"""`checkin twilio connect` and `checkin doctor`: set up and check a deployment."""

from __future__ import annotations

import os
import sys

import click

from config import Settings
from service.api.validation import to_e164
from service.db import make_engine, make_session_factory
from service.transport.account import AccountError, TwilioAccount
from service.usecases.doctor import Check, run_checks
from service.usecases.twilio_setup import clinic_numbers, connect


def _account(settings: Settings) -> TwilioAccount | None:
    """The Twilio account of TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN, None when unset."""
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        return None
    return TwilioAccount(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        api_base=settings.twilio_api_base,
        timeout=settings.twilio_timeout_seconds,
    )


def _numbers(_ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    try:
        return [to_e164(v) for v in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


@click.group("twilio")
def twilio_group() -> None:
    """Twilio account commands."""


@twilio_group.command("connect")
@click.option(
    "--number",
    "numbers",
    multiple=True,
    callback=_numbers,
    help="Only this number (repeatable). Default: every clinic number and TWILIO_FROM_NUMBER.",
)
def twilio_connect(numbers: list[str]) -> None:
    """Point each clinic number's SMS, voice and status webhooks at PUBLIC_BASE_URL."""
    settings = Settings.from_env()
    account = _account(settings)
    if account is None:
        raise click.UsageError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set")
    if not os.environ.get("PUBLIC_BASE_URL", "").strip():
        raise click.UsageError("PUBLIC_BASE_URL must be set to the URL Twilio can reach")
    try:
        status = account.status()
        if status != "active":
            raise click.ClickException(f"the Twilio account is {status}")
        click.echo(f"credentials ok: account {settings.twilio_account_sid} is active")
        if not numbers:
            engine = make_engine(settings.database_url)
            try:
                with make_session_factory(engine)() as session:
                    numbers = clinic_numbers(session, settings)
            finally:
                engine.dispose()
        if not numbers:
            raise click.ClickException("no clinic number and no TWILIO_FROM_NUMBER to connect")
        results = connect(account, numbers, settings.public_base_url)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    for result in results:
        if result.outcome == "missing":
            click.echo(f"missing   {result.phone_number}: not a number of this Twilio account")
        elif result.outcome == "unchanged":
            click.echo(f"unchanged {result.phone_number}: webhooks already right")
        else:
            click.echo(f"changed   {result.phone_number}:")
            for name, (before, after) in result.changes.items():
                click.echo(f"    {name}: {before or '(empty)'} -> {after or '(empty)'}")
    if any(r.outcome == "missing" for r in results):
        sys.exit(1)


@click.command("doctor")
def doctor() -> None:
    """Check the database, Redis, workers, Twilio, numbers and escalation chains; one line each."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        checks = run_checks(settings, engine, _account(settings), _echo)
    finally:
        engine.dispose()
    failed = [c for c in checks if c.verdict == "FAIL"]
    click.echo(f"{len(failed)} problem(s)" if failed else "all good")
    sys.exit(1 if failed else 0)


def _echo(check: Check) -> None:
    click.echo(check.line())
