"""`checkin twilio connect`: point each clinic number's webhooks at PUBLIC_BASE_URL.

Idempotent: a number already right is left alone, so a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from service.core.webhooks import Webhooks, changes_for
from service.db import Clinic
from service.transport.account import TwilioAccount


@dataclass(frozen=True)
class NumberResult:
    """What connect did for one number: `changed`, `unchanged` or `missing`."""

    phone_number: str
    outcome: str
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # field: (before, after)


def clinic_numbers(session: Session, settings: Settings) -> list[str]:
    """Every number the service texts and calls from: the clinics' own and TWILIO_FROM_NUMBER."""
    owned = session.scalars(select(Clinic.phone).where(Clinic.phone.is_not(None))).all()
    numbers = {n for n in owned if n}
    if settings.twilio_from_number:
        numbers.add(settings.twilio_from_number)
    return sorted(numbers)


def connect(
    account: TwilioAccount, numbers: Iterable[str], public_base_url: str
) -> list[NumberResult]:
    """Set the webhooks of `numbers` at Twilio; one result per number, in the given order."""
    webhooks = Webhooks.for_base(public_base_url)
    at_twilio = {n.phone_number: n for n in account.numbers()}
    results = []
    for phone in numbers:
        number = at_twilio.get(phone)
        if number is None:
            results.append(NumberResult(phone, "missing"))
            continue
        changes = changes_for(number.config, webhooks)
        if not changes:
            results.append(NumberResult(phone, "unchanged"))
            continue
        account.update(number.sid, changes)
        before = {name: str(number.config.get(name) or "") for name in changes}
        diff = {name: (before[name], value) for name, value in changes.items()}
        results.append(NumberResult(phone, "changed", diff))
    return results
