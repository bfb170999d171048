"""The Flask application factory: `create_app(settings)` builds everything the web needs."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from config import Settings
from service.api import api
from service.logs import configure_logging
from service.runtime import Runtime, build_runtime
from service.transport import Transport
from service.webhooks import twilio_hooks

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, transport: Transport | None = None) -> Flask:
    """Build the web app: runtime (database, Redis, transport), blueprints and error handlers."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config["JSON_SORT_KEYS"] = False
    runtime = build_runtime(settings, transport)
    app.extensions["checkin"] = runtime
    app.register_blueprint(api)
    app.register_blueprint(twilio_hooks)

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        """200 when the database and Redis answer, 503 naming what failed otherwise."""
        return health(runtime)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify({"error": exc.description or exc.name}), exc.code or 500

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        # Never a stack trace to the caller; the log keeps the type for the operator.
        log.exception("unhandled %s", type(exc).__name__)
        return jsonify({"error": "internal error"}), 500

    return app


def health(runtime: Runtime) -> tuple[Response, int]:
    """Check the database and Redis."""
    checks: dict[str, str] = {}
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        runtime.redis.ping()
        checks["redis"] = "ok"
    except (RedisError, OSError, RuntimeError) as exc:
        checks["redis"] = f"unavailable: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if healthy else "unavailable", **checks}), (
        200 if healthy else 503
    )
