"""WhatsApp addressing: the same Twilio Messages API, with `whatsapp:` on both numbers.

Patients with `"channel": "whatsapp"` keep their phone in E.164; messages to them are stored
and sent `to="whatsapp:+E164"`, `from_="whatsapp:" + the clinic's number`, which is what
Twilio shows in its logs and status callbacks. Inbound `From=whatsapp:+E164` is routed on the
bare number and stored with its prefix and the `whatsapp` channel.
"""

from __future__ import annotations

PREFIX = "whatsapp:"
CHANNEL = "whatsapp"


def address(number: str, channel: str) -> str:
    """The Twilio address of `number` on `channel` (`whatsapp:+E164` for WhatsApp)."""
    if channel == CHANNEL and not number.startswith(PREFIX):
        return PREFIX + number
    return number


def bare(number: str) -> str:
    """The phone number of a Twilio address, without a `whatsapp:` prefix."""
    return number[len(PREFIX) :] if number.lower().startswith(PREFIX) else number


def channel_of(number: str) -> str:
    """`whatsapp` for a `whatsapp:` address, else `sms`."""
    return CHANNEL if number.lower().startswith(PREFIX) else "sms"
