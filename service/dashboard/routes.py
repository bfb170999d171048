"""The dashboard's blueprint and what every page shares: sign-in guard, CSRF, times, errors.

The pages themselves live beside this module, one per area (auth, queue, patients,
settings), each a thin handler over the same use cases as the clinic API.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask import session as web_session
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from service.api.validation import FieldError
from service.db import Clinic, StaffUser, utcnow
from service.request_scope import session
from service.usecases import NotFound
from service.usecases.staff import resume_session

log = logging.getLogger(__name__)

dashboard = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
)

CSRF_FIELD = "csrf_token"
SESSION_FIELD = "sid"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Pages anyone may open: signing in, setting a password from a one-time link, assets.
PUBLIC = ("dashboard.login", "dashboard.setup", "dashboard.static")
# Forms that start a session: a script (no cookie yet) may post them without the form's token,
# unless a browser says the post came from another site (login CSRF).
SIGN_IN_FORMS = ("dashboard.login", "dashboard.setup")
SECURITY_HEADERS = {
    # Patient data: never cached, never framed (the Acknowledge button), no outside assets.
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "connect-src 'self'; img-src 'self' data:; media-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = web_session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        web_session[CSRF_FIELD] = token
    return token


def csrf_ok() -> bool:
    """True when the posted form carries the session's CSRF token."""
    expected = web_session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD, "")
    return isinstance(expected, str) and hmac.compare_digest(sent.encode(), expected.encode())


def cross_site() -> bool:
    """True when the browser says this request came from another site."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    return origin is not None and origin.rstrip("/") != request.host_url.rstrip("/")


def form_trusted() -> bool:
    """A form post carries the session's CSRF token, or is a same-site sign-in form."""
    if csrf_ok():
        return True
    return request.endpoint in SIGN_IN_FORMS and CSRF_FIELD not in request.form and not cross_site()


def staff() -> StaffUser:
    """The person signed in to this session."""
    found: StaffUser = g.staff
    return found


def clinic() -> Clinic:
    """The clinic of the person signed in."""
    found: Clinic = g.dashboard_clinic
    return found


def actor() -> str:
    """Who is acting, for the audit trail: the person, not the clinic."""
    return f"staff:{staff().id}"


def zone() -> ZoneInfo:
    """The clinic's time zone: every time on the dashboard is shown in it."""
    return ZoneInfo(clinic().timezone)


def when(value: datetime | None) -> str:
    """A time in the clinic's zone for people ("2026-03-01 09:05 EST"), or a dash."""
    return "-" if value is None else value.astimezone(zone()).strftime("%Y-%m-%d %H:%M %Z")


def local(value: datetime | None, tz: str) -> str:
    """A time in another zone (the patient's) for people, or a dash."""
    return "-" if value is None else value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, for people: "just now", "4 min ago", "3 h ago", "2 days ago"."""
    if value is None:
        return "-"
    seconds = int(((now or utcnow()) - value).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''} ago"


def iso(value: datetime | None) -> str:
    """ISO 8601 in UTC for a <time datetime> attribute."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def submitted(names: Iterable[str]) -> dict[str, str]:
    """The posted fields among `names`; an empty field counts as absent, as in the API."""
    return {name: request.form[name] for name in names if request.form.get(name, "").strip()}


def by_field(errors: Sequence[FieldError]) -> dict[str, list[str]]:
    """Error messages grouped by field, for showing each next to its input."""
    grouped: dict[str, list[str]] = {}
    for item in errors:
        grouped.setdefault(item.field, []).append(item.message)
    return grouped


def page(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    """Render one of the dashboard's templates."""
    return render_template(f"dashboard/{template}", **context), status


def error_page(status: int, message: str) -> ResponseReturnValue:
    """An HTML error page."""
    return page("error.html", status, code=status, message=message)


@dashboard.context_processor
def helpers() -> dict[str, Any]:
    """What every dashboard template may use."""
    return {
        "csrf_token": csrf_token,
        "current_clinic": g.get("dashboard_clinic"),
        "current_staff": g.get("staff"),
        "when": when,
        "local": local,
        "ago": ago,
        "iso": iso,
    }


@dashboard.before_request
def guard() -> ResponseReturnValue | None:
    """Check the CSRF token of every POST, then require a live session but on public pages."""
    if request.method not in SAFE_METHODS and not form_trusted():
        log.info("dashboard form refused: missing or bad CSRF token")
        abort(400, "This form has expired or did not come from the dashboard. Reload the page.")
    if request.endpoint == "dashboard.static":
        return None  # stylesheet and script: no session lookup
    token = web_session.get(SESSION_FIELD)
    signed_in = resume_session(session(), token, now=utcnow()) if isinstance(token, str) else None
    if signed_in is not None:
        g.staff = signed_in.staff
        g.dashboard_clinic = signed_in.staff.clinic
    if request.endpoint in PUBLIC:
        return None
    if signed_in is None:
        web_session.pop(SESSION_FIELD, None)
        if request.endpoint == "dashboard.queue_rows":
            abort(401, "Signed out.")
        return redirect(url_for("dashboard.login"))
    return None


def admin_only() -> None:
    """403 unless the person is an admin of the clinic."""
    if staff().role != "admin":
        abort(403, "Only an admin of the clinic can do this.")


@dashboard.after_request
def security_headers(response: Response) -> Response:
    """No caching, no framing, no outside assets."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@dashboard.errorhandler(NotFound)
def not_found(exc: NotFound) -> ResponseReturnValue:
    """404 for missing resources and for other clinics' resources alike."""
    return error_page(404, str(exc).capitalize() + ".")


@dashboard.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> ResponseReturnValue:
    """Werkzeug's errors (400, 404, 405...) as an HTML page."""
    return error_page(exc.code or 500, exc.description or exc.name)


@dashboard.errorhandler(Exception)
def unexpected(exc: Exception) -> ResponseReturnValue:
    """Never a stack trace to the browser; the log keeps the type for the operator."""
    log.exception("unhandled %s in the dashboard", type(exc).__name__)
    return error_page(500, "Something went wrong on our side. Try again in a moment.")
