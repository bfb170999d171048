"""Per-request access to the runtime and a database session, shared by the blueprints."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from service.runtime import Runtime


def runtime() -> Runtime:
    """The app's runtime (database, Redis, transport)."""
    rt: Runtime = current_app.extensions["checkin"]
    return rt


def session() -> Session:
    """The request's database session, closed when the app context ends."""
    if "db" not in g:
        g.db = runtime().sessions()
    db: Session = g.db
    return db
