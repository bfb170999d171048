"""The Flask application factory: `create_app(settings)` builds everything the web needs."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException

from config import ConfigError, Settings
from service.api import admin, api
from service.core.triage import warm_up
from service.dashboard import dashboard
from service.guards import install_guards
from service.health import checks
from service.http_errors import http_error_response
from service.logs import configure_logging
from service.runtime import Runtime, build_runtime
from service.transport import Transport
from service.usecases.spool_replay import SpoolReplayer
from service.webhooks import alert_hooks, twilio_hooks, voice_hooks

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, transport: Transport | None = None) -> Flask:
    """Build the web app: runtime (database, Redis, transport), blueprints and error handlers."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config["JSON_SORT_KEYS"] = False
    # The dashboard's login lives in Flask's signed session cookie.
    app.secret_key = settings.secret_key or instance_secret_key(settings.instance_path)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    # Compile the triage vocabulary and load the learned reader (three words the rules do not
    # call an emergency reach it) now, not inside the first webhook's 3-second answer.
    warm_up()
    runtime = build_runtime(settings, transport)
    app.extensions["checkin"] = runtime
    # Replies spooled on this host are stored by this process once the database is back,
    # whether or not a worker shares the disk.
    replayer = SpoolReplayer(runtime)
    app.extensions["checkin_replayer"] = replayer
    runtime.closers.append(replayer.stop)
    replayer.wake_if_spooled()
    install_guards(app)
    app.register_blueprint(api)
    app.register_blueprint(admin)
    app.register_blueprint(twilio_hooks)
    app.register_blueprint(voice_hooks)
    app.register_blueprint(alert_hooks)
    app.register_blueprint(dashboard)

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        """200 when the database (migrated), Redis and Twilio answer; 503 naming what failed."""
        return health(runtime)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return http_error_response(exc)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        # Never a stack trace to the caller; the log keeps the type for the operator.
        log.exception("unhandled %s", type(exc).__name__)
        return jsonify({"error": "internal error"}), 500

    return app


def instance_secret_key(folder: Path) -> str:
    """The random key kept in `folder/secret_key`, created 0600 by the first process to need it."""
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: racing web processes all read the same key.
        fd, spare = tempfile.mkstemp(dir=folder, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process won the race
                os.link(spare, path)
        finally:
            os.unlink(spare)
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigError(f"SECRET_KEY: unset, and {path} holds no usable key (delete it)")
    return key


def health(runtime: Runtime) -> tuple[Response, int]:
    """Check the database (and its schema), Redis and Twilio; 503 naming what failed."""
    found = checks(runtime)
    healthy = all(v in ("ok", "console") for v in found.values())
    return jsonify({"status": "ok" if healthy else "unavailable", **found}), (
        200 if healthy else 503
    )
