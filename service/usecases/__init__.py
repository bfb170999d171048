"""Use cases: what the API, the webhook, the CLI and the workers ask the service to do."""

from __future__ import annotations


class NotFound(Exception):
    """The resource does not exist for this clinic."""


class Conflict(Exception):
    """The request clashes with the current state (a duplicate phone, an opted-out patient)."""
