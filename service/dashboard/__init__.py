"""The clinic staff dashboard: server-rendered pages for the escalation queue and patients."""

from service.dashboard import auth, patients, queue, settings
from service.dashboard.routes import dashboard

__all__ = ["auth", "dashboard", "patients", "queue", "settings"]
