"""Transport that sends through Twilio's REST API with the official twilio SDK."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from service.transport.base import FailureKind, Sent, TransportError, classify_error_code

# Call progress events we want callbacks for. Without StatusCallbackEvent Twilio only reports
# "completed"; "answered" tells the app a person (or machine) picked up.
CALL_STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]

# Anything that looks like a phone number (7+ digits, optional +, separators allowed).
_PHONE_RE = re.compile(r"\+?\d[\d\s().-]{5,}\d")


class BaseRewritingHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """TwilioHttpClient that sends every *.twilio.com request to another base URL instead."""

    def __init__(self, api_base: str, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        base = urlsplit(api_base)
        if not base.scheme or not base.netloc:
            raise ValueError("api_base must be an absolute URL such as http://127.0.0.1:4010")
        self._scheme = base.scheme
        self._netloc = base.netloc
        self._prefix = base.path.rstrip("/")

    def rewrite(self, url: str) -> str:
        """Return ``url`` with a *.twilio.com scheme and host replaced by the api_base."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != "twilio.com" and not host.endswith(".twilio.com"):
            return url
        return urlunsplit(
            (self._scheme, self._netloc, self._prefix + parts.path, parts.query, parts.fragment)
        )

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        """Send the request to the rewritten URL (same path, query and Basic auth)."""
        return super().request(method, self.rewrite(url), *args, **kwargs)


def twilio_client(
    account_sid: str, auth_token: str, *, api_base: str | None, timeout: float
) -> Any:
    """The official client with a request timeout, its URLs rewritten to `api_base` if set."""
    # TwilioHttpClient waits forever by default; a stuck request would pin a worker or a CLI.
    http_client: TwilioHttpClient = (
        BaseRewritingHttpClient(api_base, timeout=timeout)
        if api_base
        else TwilioHttpClient(timeout=timeout)
    )
    return Client(account_sid, auth_token, http_client=http_client)


class TwilioRestTransport:
    """Transport backed by ``twilio.rest.Client``; errors become TransportError."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_base: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._client: Any = twilio_client(
            account_sid, auth_token, api_base=api_base, timeout=timeout
        )

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
        """Create a Message resource; raise TransportError when Twilio refuses it."""
        kwargs: dict[str, Any] = {"to": to, "from_": from_, "body": body}
        if status_callback is not None:
            kwargs["status_callback"] = status_callback
        if validity_period is not None:
            kwargs["validity_period"] = validity_period
        if content_sid is not None:
            # A WhatsApp template: Twilio sends the approved text, not `body`.
            kwargs.pop("body")
            kwargs["content_sid"] = content_sid
            kwargs["content_variables"] = content_variables
        try:
            message = self._client.messages.create(**kwargs)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise _transport_error(exc, secrets=(to, from_, body)) from None
        return Sent(sid=str(message.sid), status=str(message.status or "queued"))

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
        """Create a Call resource running ``twiml`` or fetching ``url``; raise TransportError."""
        given: dict[str, Any] = {
            "twiml": twiml,
            "url": url,
            "status_callback": status_callback,
            "machine_detection": machine_detection,
            "async_amd": None if async_amd is None else str(async_amd).lower(),
            "async_amd_status_callback": async_amd_status_callback,
            "timeout": timeout,
        }
        kwargs = {"to": to, "from_": from_} | {k: v for k, v in given.items() if v is not None}
        if status_callback is not None:
            events = CALL_STATUS_EVENTS if status_callback_event is None else status_callback_event
            kwargs["status_callback_event"] = list(events)
        try:
            call = self._client.calls.create(**kwargs)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise _transport_error(exc, secrets=(to, from_, twiml or "")) from None
        return Sent(sid=str(call.sid), status=str(call.status or "queued"))

    def find_sent(
        self, *, channel: str, to: str, from_: str, since: datetime, body: str | None
    ) -> list[Sent]:
        """List Messages (or Calls) to `to` from `from_` since `since`; match the SMS body."""
        since = since.astimezone(UTC) - timedelta(seconds=1)  # Twilio filters by the second
        try:
            if channel == "sms":
                found = self._client.messages.list(
                    to=to, from_=from_, date_sent_after=since, limit=50
                )
                found = [m for m in found if body is None or m.body == body]
            else:
                found = self._client.calls.list(
                    to=to, from_=from_, start_time_after=since, limit=50
                )
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise _transport_error(exc, secrets=(to, from_, body or "")) from None
        return [Sent(sid=str(f.sid), status=str(f.status or "queued")) for f in found]


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    """Remove the given values and anything phone-number-like from ``text``."""
    for secret in secrets:
        # Very short values ("1", "ok") carry no personal data and would mangle the message.
        if len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _PHONE_RE.sub("[redacted]", text)


def _transport_error(exc: Exception, *, secrets: tuple[str, ...]) -> TransportError:
    """Translate an SDK or requests exception into a TransportError without personal data."""
    # `from None` at the raise sites: the SDK exception's text can quote the To number
    # ("The 'To' number +1... is not valid"), and chained tracebacks end up in RQ's logs.
    if isinstance(exc, TwilioRestException):
        code, status = _int_or_none(exc.code), _int_or_none(exc.status)
        message = f"Twilio refused the request: {exc.msg}"
    elif isinstance(exc, TwilioServiceException):
        code, status = _int_or_none(exc.code), _int_or_none(exc.status)
        message = f"Twilio refused the request: {exc.title}. {exc.detail or ''}".strip()
    elif isinstance(exc, requests.exceptions.RequestException):
        # The requests message holds the URL; only the class name is useful and safe.
        code, status = None, None
        message = f"network error talking to Twilio: {type(exc).__name__}"
        kind = classify_error_code(code, status)
        return TransportError(
            kind, code=None, status=None, message=message, maybe_sent=_maybe_sent(exc)
        )
    else:
        # Any other TwilioException is raised by the SDK itself (bad arguments, unparsable
        # answer): retrying would not help and might send twice.
        message = f"Twilio client error: {type(exc).__name__}"
        return TransportError(FailureKind.REJECTED, code=None, status=None, message=message)
    kind = classify_error_code(code, status)
    return TransportError(kind, code=code, status=status, message=_redact(message, secrets))


def _maybe_sent(exc: requests.exceptions.RequestException) -> bool:
    """Whether the request may have reached Twilio before it failed."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        # Refused or unresolvable: the connection never opened, so nothing was sent.
        return not any(
            marker in repr(exc.args) for marker in ("NewConnectionError", "NameResolutionError")
        )
    return isinstance(
        exc, (requests.exceptions.ReadTimeout, requests.exceptions.ChunkedEncodingError)
    )


def _int_or_none(value: object) -> int | None:
    """Coerce an SDK-provided code or status to int, tolerating junk."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
