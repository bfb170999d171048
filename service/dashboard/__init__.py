"""The clinic staff dashboard: server-rendered pages for the escalation queue and patients."""

from service.dashboard.routes import dashboard

__all__ = ["dashboard"]
