"""The outbound transport interface: send an SMS or place a call, and classify failures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


@dataclass(frozen=True)
class Sent:
    """What the provider answered for an accepted send."""

    sid: str
    status: str


class FailureKind(StrEnum):
    """How a failed send should be handled by the caller."""

    RETRYABLE = "retryable"
    OPTED_OUT = "opted_out"
    INVALID_NUMBER = "invalid_number"
    REJECTED = "rejected"


# Twilio error codes; see PITFALLS.md and https://www.twilio.com/docs/api/errors.
OPTED_OUT_CODES = frozenset({21610})
INVALID_NUMBER_CODES = frozenset({21211, 21614, 30005, 30006})
# 20429 too many requests, 20500/20503 Twilio-side failures, 30001 sender queue overflow,
# 30003 unreachable handset: all temporary, and Twilio did not deliver, so a later retry is safe.
RETRYABLE_CODES = frozenset({20429, 20500, 20503, 30001, 30003})


def classify_error_code(code: int | None, status: int | None) -> FailureKind:
    """Map a Twilio error code and/or HTTP status to a FailureKind."""
    # The specific error code wins over the HTTP status: 21610 comes back as a plain 400.
    if code in OPTED_OUT_CODES:
        return FailureKind.OPTED_OUT
    if code in INVALID_NUMBER_CODES:
        return FailureKind.INVALID_NUMBER
    if code in RETRYABLE_CODES:
        return FailureKind.RETRYABLE
    if status is not None and (status == 429 or status >= 500):
        return FailureKind.RETRYABLE
    if code is None and status is None:
        # No answer at all from Twilio (network error, timeout): nothing was refused.
        return FailureKind.RETRYABLE
    return FailureKind.REJECTED


class TransportError(Exception):
    """A send that failed; ``kind`` tells the caller whether to retry."""

    def __init__(
        self,
        kind: FailureKind,
        *,
        code: int | None,
        status: int | None,
        message: str,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(kind, code, status, message)
        self.kind = kind
        self.code = code
        self.status = status
        self.message = message
        # True when the request may have reached Twilio (the answer was lost): a retry
        # could send the message twice, so the caller must not retry it.
        self.maybe_sent = maybe_sent

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments break Exception's default pickling (RQ or multiprocessing
        # may pickle it); rebuild through a helper instead.
        return (
            _rebuild_transport_error,
            (self.kind, self.code, self.status, self.message, self.maybe_sent),
        )

    def __str__(self) -> str:
        # The message is built by the transport without the phone number or the body,
        # because this string ends up in logs and job failure records.
        return f"{self.kind.value}: {self.message} (code={self.code}, status={self.status})"


def _rebuild_transport_error(
    kind: FailureKind, code: int | None, status: int | None, message: str, maybe_sent: bool
) -> TransportError:
    return TransportError(kind, code=code, status=status, message=message, maybe_sent=maybe_sent)


class Transport(Protocol):
    """Something that can send an SMS and place a voice call."""

    def send_sms(
        self,
        *,
        to: str,
        from_: str,
        body: str,
        status_callback: str | None = None,
        validity_period: int | None = None,
        content_sid: str | None = None,
        content_variables: str | None = None,
    ) -> Sent:
        """Send one SMS or WhatsApp message (a template with `content_sid`); raise on refusal."""
        ...

    def place_call(
        self,
        *,
        to: str,
        from_: str,
        twiml: str | None = None,
        status_callback: str | None = None,
        url: str | None = None,
        machine_detection: str | None = None,
        async_amd: bool | None = None,
        async_amd_status_callback: str | None = None,
        timeout: int | None = None,
        status_callback_event: Sequence[str] | None = None,
    ) -> Sent:
        """Place one outbound call; raise TransportError when it is refused.

        The call runs the inline ``twiml``, or fetches ``url`` when it is answered (so the
        script can depend on the state at that moment). ``machine_detection`` ("Enable" or
        "DetectMessageEnd") and ``async_amd`` are Twilio's answering-machine detection,
        ``timeout`` is how many seconds the phone rings, and ``status_callback_event`` lists
        the progress events reported to ``status_callback`` (default: all of them).
        """
        ...

    def find_sent(
        self, *, channel: str, to: str, from_: str, since: datetime, body: str | None
    ) -> list[Sent]:
        """What the provider accepted to `to` from `from_` since `since` (matching `body`
        for SMS), newest first, for a send whose answer was lost; TransportError if the
        provider cannot be asked."""
        ...
