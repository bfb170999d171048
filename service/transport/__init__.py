"""Outbound SMS and voice transports: Twilio's REST API, or a console for development."""

from service.transport.base import (
    FailureKind,
    Sent,
    Transport,
    TransportError,
    classify_error_code,
)
from service.transport.console import ConsoleTransport, read_outbox
from service.transport.twilio_rest import TwilioRestTransport

__all__ = [
    "ConsoleTransport",
    "FailureKind",
    "Sent",
    "Transport",
    "TransportError",
    "TwilioRestTransport",
    "classify_error_code",
    "read_outbox",
]
