"""Twilio's webhooks: inbound SMS, voice calls and status callbacks."""

from service.webhooks.twilio import twilio_hooks

__all__ = ["twilio_hooks"]
