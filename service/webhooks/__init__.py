"""Twilio's webhooks: inbound SMS, voice calls and status callbacks."""

from service.webhooks.alert import alert_hooks
from service.webhooks.twilio import twilio_hooks
from service.webhooks.voice import voice_hooks

__all__ = ["alert_hooks", "twilio_hooks", "voice_hooks"]
