"""A local fake of Twilio's REST API (Messages, Calls, IncomingPhoneNumbers, the Account) for
tests and end-to-end runs."""

from __future__ import annotations

import argparse
import re
import secrets
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal

import requests
from flask import Flask, Response, jsonify, request
from twilio.request_validator import RequestValidator
from werkzeug.serving import WSGIRequestHandler, make_server

from service.core.segments import count_segments
from tests.fake_numbers import FakeNumbers

API = "/2010-04-01/Accounts/<account_sid>"
DEFAULT_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}
Endpoint = Literal["messages", "calls"]
# One answer at a <Gather>: None (silence), keypad digits, or (speech, confidence).
CallInput = str | tuple[str, float] | None


@dataclass(frozen=True)
class WebhookAnswer:
    """What our webhook answered the fake: HTTP status and body."""

    status: int
    text: str


def twilio_error(status: int, code: int | None = None, message: str | None = None) -> Response:
    """Twilio's JSON error body and HTTP status."""
    if code is None:
        code = {401: 20003, 404: 20404, 429: 20429, 503: 20503}.get(status)
        code = code or (20500 if status >= 500 else status)
    body = {
        "code": code,
        "message": message or DEFAULT_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    response = jsonify(body)
    response.status_code = status
    return response


@dataclass
class _Failure:
    status: int
    code: int | None
    message: str | None
    times: int
    to: str | None
    endpoint: Endpoint | None
    hang: float = 0.0  # status 0: answer normally, but only after `hang` seconds


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # .requests is the log; werkzeug's access lines would only clutter test output


def _not_found() -> Response:
    return twilio_error(404, 20404, f"The requested resource {request.path} was not found")


def _form() -> dict[str, Any]:
    # Repeated keys (StatusCallbackEvent) stay lists; the rest are plain strings.
    return {k: v[0] if len(v) == 1 else v for k, v in request.form.lists()}


def _now() -> str:
    return format_datetime(datetime.now(UTC))  # RFC 2822 with +0000, like Twilio


def _segments(body: str) -> int:
    # Twilio's num_segments: GSM-7 (extension table included) or UCS-2.
    return count_segments(body).segments


class FakeTwilio:
    """Twilio's Messages and Calls REST API on 127.0.0.1, with recording and failure injection."""

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
    ) -> None:
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.delay = delay  # seconds every API answer waits: for client timeout tests
        self.host, self.port = host, port
        self.requests: list[dict[str, Any]] = []
        self._created: dict[str, dict[str, Any]] = {}  # sid -> {"endpoint", "form", "resource"}
        self._failures: list[_Failure] = []
        self.numbers = FakeNumbers(self.account_sid)  # IncomingPhoneNumbers of the account
        self.account_status = "active"
        # WhatsApp numbers that wrote in the last 24 hours: free text reaches only these.
        self.whatsapp_window: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()
        # Posts webhooks instead of HTTP (an in-process app's test client), when set.
        self.poster: Callable[[str, dict[str, str], dict[str, str]], WebhookAnswer] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeTwilio:
        """Start serving in a background thread."""
        self._stopping.clear()
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler
        )
        # A short poll interval: shutdown() waits up to one interval, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wakes up delayed answers so they do not linger."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The URL to give the client as its API base."""
        return f"http://{self.host}:{self._server.server_port}"

    # -- inspection and control -------------------------------------------------------------
    def messages(self) -> list[dict[str, Any]]:
        """Form params of accepted message creates, each with its "sid"."""
        return self._accepted("messages")

    def calls(self) -> list[dict[str, Any]]:
        """Form params of accepted call creates, each with its "sid"."""
        return self._accepted("calls")

    def _accepted(self, endpoint: Endpoint) -> list[dict[str, Any]]:
        with self._lock:
            items = [c for c in self._created.values() if c["endpoint"] == endpoint]
            return [{**c["form"], "sid": c["resource"]["sid"]} for c in items]

    def reset(self) -> None:
        """Forget recorded requests, created resources and pending failures."""
        with self._lock:
            self.requests.clear()
            self._created.clear()
            self._failures.clear()
            self.numbers.clear()
            self.account_status = "active"
            self.whatsapp_window.clear()
        self.poster = None

    def resource(self, sid: str) -> dict[str, Any]:
        """The resource Twilio would answer for ``sid`` (its status and error code)."""
        with self._lock:
            return dict(self._created[sid]["resource"])

    def fail_next(
        self,
        status: int,
        code: int | None = None,
        times: int = 1,
        message: str | None = None,
        to: str | None = None,
        endpoint: Endpoint | None = None,
    ) -> None:
        """Make the next ``times`` matching create (or list) requests fail with a Twilio error."""
        with self._lock:
            self._failures.append(_Failure(status, code, message, times, to, endpoint))

    def hang_next(self, seconds: float, times: int = 1, to: str | None = None) -> None:
        """Take the next ``times`` matching creates, but answer only after ``seconds`` (a
        client timeout: Twilio has the message, the client never hears so)."""
        with self._lock:
            self._failures.append(_Failure(0, None, None, times, to, None, seconds))

    def deliver(self, sid: str, status: str, error_code: int | None = None) -> int:
        """POST a signed status callback for ``sid`` to its StatusCallback; return HTTP status."""
        with self._lock:
            created = self._created[sid]
            created["resource"]["status"] = status
            created["resource"]["error_code"] = error_code
        form = created["form"]
        url = form.get("StatusCallback")
        if not url:
            raise ValueError(f"{sid} was created without a StatusCallback")
        kind = "Message" if created["endpoint"] == "messages" else "Call"
        params = {
            f"{kind}Sid": sid,
            f"{kind}Status": status,
            "AccountSid": self.account_sid,
            "To": form.get("To", ""),
            "From": form.get("From", ""),
            "ApiVersion": "2010-04-01",
        }
        if kind == "Message":  # Twilio still sends the legacy Sms* names too
            params.update(SmsSid=sid, SmsStatus=status)
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        answer = requests.post(
            url, data=params, headers={"X-Twilio-Signature": signature}, timeout=15
        )
        return answer.status_code

    def run_call(
        self,
        sid: str,
        outcome: str = "completed",
        *,
        answered_by: str = "human",
        inputs: tuple[CallInput, ...] = (),
    ) -> list[str]:
        """Play a created call as Twilio does, posting signed requests; return its TwiML.

        Progress events go to the StatusCallback for each event the call asked for
        (``initiated``, ``ringing``, ``answered``); the final status (``completed``,
        ``busy``, ``no-answer``, ``failed``) is always sent. A ``completed`` call fetches
        its ``Url`` when answered, with ``AnsweredBy`` when ``MachineDetection`` was asked
        for (synchronous AMD), then follows each ``<Gather>``: an input of None is
        silence (the verbs after the Gather run, e.g. its ``<Redirect>``), a string is
        keypad ``Digits``, and a ``(text, confidence)`` pair is ``SpeechResult``.
        """
        with self._lock:
            form = dict(self._created[sid]["form"])
        events = form.get("StatusCallbackEvent") or []
        events = [events] if isinstance(events, str) else list(events)
        for event, status in (("initiated", "initiated"), ("ringing", "ringing")):
            if event in events:
                self._call_status(sid, form, status)
        if outcome != "completed":
            self._call_status(sid, form, outcome, final=True)
            return []
        amd = {"AnsweredBy": answered_by} if form.get("MachineDetection") else {}
        if "answered" in events:
            self._call_status(sid, form, "in-progress", extra=amd)
        documents: list[str] = []
        pending = list(inputs)
        url: str | None = form.get("Url")
        params = {**self._call_params(sid, form, "in-progress"), **amd}
        while url and len(documents) < 20:
            document = self._post_signed(url, params).text
            assert document.lstrip().startswith("<"), document
            documents.append(document)
            url, params = self._next_step(sid, form, document, pending)
        self._call_status(sid, form, "completed", extra=amd | {"CallDuration": "30"}, final=True)
        with self._lock:
            self._created[sid]["resource"]["answered_by"] = answered_by if amd else None
        return documents

    def _next_step(
        self, sid: str, form: dict[str, Any], document: str, pending: list[CallInput]
    ) -> tuple[str | None, dict[str, str]]:
        """Where the call goes after ``document``: a Gather's action, a Redirect, or nowhere."""
        root = ET.fromstring(document)
        base = self._call_params(sid, form, "in-progress")
        gather = root.find("Gather")
        if gather is not None:
            given = pending.pop(0) if pending else None
            if given is not None:
                if isinstance(given, str):
                    return gather.get("action"), base | {"Digits": given}
                said, confidence = given
                speech = {"SpeechResult": said, "Confidence": str(confidence)}
                return gather.get("action"), base | speech
        redirect = root.find("Redirect")
        if redirect is not None and redirect.text:
            return redirect.text.strip(), base
        return None, base

    def _call_params(self, sid: str, form: dict[str, Any], status: str) -> dict[str, str]:
        return {
            "CallSid": sid,
            "AccountSid": self.account_sid,
            "From": form.get("From", ""),
            "To": form.get("To", ""),
            "CallStatus": status,
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
        }

    def _call_status(
        self,
        sid: str,
        form: dict[str, Any],
        status: str,
        *,
        extra: dict[str, str] | None = None,
        final: bool = False,
    ) -> None:
        with self._lock:
            self._created[sid]["resource"]["status"] = status
        url = form.get("StatusCallback")
        if url:
            params = self._call_params(sid, form, status) | (extra or {})
            if final:
                params["CallbackSource"] = "call-progress-events"
            self._post_signed(url, params)

    def _post_signed(self, url: str, params: dict[str, str]) -> WebhookAnswer:
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature}
        if self.poster is not None:
            return self.poster(url, params, headers)
        answer = requests.post(url, data=params, headers=headers, timeout=15)
        return WebhookAnswer(answer.status_code, answer.text)

    # -- the API ----------------------------------------------------------------------------
    def _build_app(self) -> Flask:
        app = Flask(__name__)

        @app.before_request
        def record_and_check() -> Response | None:
            if request.path.startswith("/_fake/"):
                return None
            auth = request.authorization
            auth_ok = bool(
                auth and auth.username == self.account_sid and auth.password == self.auth_token
            )
            form = _form()
            with self._lock:
                record = dict(
                    method=request.method,
                    path=request.path,
                    form=form,
                    auth_ok=auth_ok,
                    at=time.time(),  # when it arrived: benchmarks measure send rates
                )
                self.requests.append(record)
            if self.delay:
                self._stopping.wait(self.delay)
            if not auth_ok:
                return twilio_error(401, 20003)
            sid = (request.view_args or {}).get("account_sid")
            return _not_found() if sid not in (None, self.account_sid) else None

        @app.route(f"{API}/Messages.json", methods=["POST", "GET"])
        def messages(account_sid: str) -> Response | tuple[Response, int]:
            return self._create_or_list("messages", account_sid)

        @app.route(f"{API}/Calls.json", methods=["POST", "GET"])
        def calls(account_sid: str) -> Response | tuple[Response, int]:
            return self._create_or_list("calls", account_sid)

        @app.get(f"{API}/Messages/<sid>.json")
        @app.get(f"{API}/Calls/<sid>.json")
        def fetch(account_sid: str, sid: str) -> Response:
            with self._lock:
                created = self._created.get(sid)
            return jsonify(created["resource"]) if created else _not_found()

        @app.get("/2010-04-01/Accounts/<account_sid>.json")
        def account(account_sid: str) -> Response:
            return jsonify(_account(account_sid, self.account_status))

        self.numbers.register(app, self._lock)
        app.register_error_handler(404, lambda error: _not_found())

        @app.get("/_fake/requests")
        def fake_requests() -> Response:
            with self._lock:
                return jsonify(list(self.requests))

        app.add_url_rule("/_fake/messages", "fake_messages", lambda: jsonify(self.messages()))
        app.add_url_rule("/_fake/calls", "fake_calls", lambda: jsonify(self.calls()))

        @app.post("/_fake/fail")
        def fake_fail() -> Response:
            self.fail_next(**(request.get_json(force=True) or {}))
            return jsonify({"ok": True})

        @app.post("/_fake/calls/<sid>/run")
        def fake_run_call(sid: str) -> Response:
            options = request.get_json(force=True) or {}
            given = [tuple(i) if isinstance(i, list) else i for i in options.get("inputs", [])]
            documents = self.run_call(
                sid,
                options.get("outcome", "completed"),
                answered_by=options.get("answered_by", "human"),
                inputs=tuple(given),
            )
            return jsonify({"twiml": documents})

        @app.post("/_fake/reset")
        def fake_reset() -> Response:
            self.reset()
            return jsonify({"ok": True})

        return app

    def _create_or_list(
        self, endpoint: Endpoint, account_sid: str
    ) -> Response | tuple[Response, int]:
        uri = f"/2010-04-01/Accounts/{account_sid}/{endpoint.capitalize()}.json"
        if request.method == "GET":
            failure = self._take_failure(endpoint, request.args.get("To"))
            if failure is not None:
                return twilio_error(failure.status, failure.code, failure.message)
            try:
                keep = _list_filter(endpoint)
            except ValueError as exc:
                return twilio_error(400, 20001, str(exc))
            with self._lock:
                found = [c for c in self._created.values() if c["endpoint"] == endpoint]
                # Newest first, as Twilio lists them.
                items = [c["resource"] for c in reversed(found) if keep(c)]
            paging = dict(page=0, page_size=50, start=0, end=max(len(items) - 1, 0))
            nulls = dict.fromkeys(["next_page_uri", "previous_page_uri"])
            return jsonify({endpoint: items, "uri": uri, "first_page_uri": uri} | paging | nulls)
        form = _form()
        failure = self._take_failure(endpoint, request.form.get("To"))
        if failure is not None and failure.status == 0:
            self._stopping.wait(failure.hang)
        elif failure is not None:
            return twilio_error(failure.status, failure.code, failure.message)
        problem = self._missing(endpoint)
        if problem is not None:
            return twilio_error(400, *problem)
        prefix = "SM" if endpoint == "messages" else "CA"
        sid = prefix + secrets.token_hex(16)
        resource = self._resource(endpoint, sid, account_sid)
        answered = dict(resource)  # Twilio answers "queued"; WhatsApp's refusal comes later
        if endpoint == "messages":
            self._whatsapp_outside_window(resource)
        with self._lock:
            self._created[sid] = {
                "endpoint": endpoint,
                "form": form,
                "resource": resource,
                "at": datetime.now(UTC).replace(microsecond=0),
            }
        return jsonify(answered), 201

    def _take_failure(self, endpoint: Endpoint, to: str | None) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if failure.endpoint not in (None, endpoint) or failure.to not in (None, to):
                    continue
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _whatsapp_outside_window(self, resource: dict[str, Any]) -> None:
        """Free text to WhatsApp outside the 24-hour window: accepted (201, queued), then
        failed with 63016, as a later fetch or status callback shows."""
        to, form = resource["to"], request.form
        if to.startswith("whatsapp:") and not form.get("ContentSid"):
            with self._lock:
                open_window = to in self.whatsapp_window
            if not open_window:
                resource.update(
                    status="failed",
                    error_code=63016,
                    error_message="Failed to send freeform message because you are outside "
                    "the allowed window. If you are using WhatsApp, please use a Message "
                    "Template.",
                )

    @staticmethod
    def _missing(endpoint: Endpoint) -> tuple[int, str] | None:
        form = request.form
        if endpoint == "messages":
            to, sender = form.get("To", ""), form.get("From", "")
            if sender and to.startswith("whatsapp:") != sender.startswith("whatsapp:"):
                return 21910, "Invalid From and To pair. From and To should be of the same channel"
            content = form.get("ContentSid")
            if content is not None and not re.fullmatch(r"HX[0-9a-fA-F]{32}", content):
                return 21655, "The ContentSid is Invalid"
            if not form.get("To"):
                return 21604, "A 'To' phone number is required."
            if not form.get("From") and not form.get("MessagingServiceSid"):
                return 21603, "A 'From' phone number is required."
            if not form.get("Body") and not form.get("MediaUrl") and not form.get("ContentSid"):
                return 21602, "Message body is required."
            return None
        if not form.get("To"):
            return 21201, "No 'To' number is specified"
        if not form.get("From"):
            return 21213, "No 'From' number is specified"
        if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
            return 21205, "Url parameter is required."
        return None

    @staticmethod
    def _resource(endpoint: Endpoint, sid: str, account_sid: str) -> dict[str, Any]:
        form, now = request.form, _now()
        uri = f"/2010-04-01/Accounts/{account_sid}/{endpoint.capitalize()}/{sid}.json"
        common: dict[str, Any] = {
            "sid": sid,
            "account_sid": account_sid,
            "to": form["To"],
            "from": form["From"],
        }
        common |= dict(status="queued", direction="outbound-api", api_version="2010-04-01")
        common |= dict(date_created=now, date_updated=now, price=None, price_unit="USD", uri=uri)
        if endpoint == "messages":
            body = form.get("Body", "")
            sub = {"media": uri.replace(".json", "/Media.json")}
            extra = dict(body=body, num_segments=str(_segments(body)), num_media="0")
            extra["date_sent"] = now
            nulls = ["error_code", "error_message", "messaging_service_sid"]
        else:
            sub = {"notifications": uri.replace(".json", "/Notifications.json")}
            extra = dict(to_formatted=form["To"], from_formatted=form["From"], queue_time="0")
            extra["start_time"] = now
            nulls = ["end_time", "duration", "parent_call_sid", "answered_by"]
        return common | extra | dict.fromkeys(nulls) | {"subresource_uris": sub}


def _account(sid: str, status: str) -> dict[str, Any]:
    now = _now()
    uri = f"/2010-04-01/Accounts/{sid}.json"
    return {
        "sid": sid,
        "owner_account_sid": sid,
        "friendly_name": "Fake account",
        "status": status,
        "type": "Full",
        "auth_token": "",
        "date_created": now,
        "date_updated": now,
        "uri": uri,
        "subresource_uris": {"messages": uri.replace(".json", "/Messages.json")},
    }


def _when(raw: str, name: str) -> tuple[datetime, bool]:
    """A filter date: YYYY-MM-DD (a whole day) or YYYY-MM-DDTHH:MM:SSZ; bool: date only."""
    try:
        if len(raw) == 10:
            return datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC), True
        return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), False
    except ValueError:
        raise ValueError(f"Invalid {name}: {raw}") from None


def _list_filter(endpoint: Endpoint) -> Any:
    """Twilio's list filters: To, From, Status and DateSent (Messages) or StartTime (Calls),
    exact or with > (on or after) and < (on or before): the SDK sends "DateSent>" and the
    form encoding makes it "DateSent>=", as Twilio's documentation writes it."""
    args = request.args
    field = "DateSent" if endpoint == "messages" else "StartTime"
    bounds = []
    for suffix in ("", ">", "<"):
        raw = args.get(field + suffix)
        if raw:
            bounds.append((suffix, *_when(raw, field + suffix)))

    def keep(created: dict[str, Any]) -> bool:
        resource, at = created["resource"], created["at"]
        for name in ("To", "From", "Status"):
            if args.get(name) and resource[name.lower()] != args[name]:
                return False
        for suffix, when, date_only in bounds:
            # The exact filter names a day (the SDK sends midnight of it): compare days.
            date_only = date_only or suffix == ""
            mine = at.date() if date_only else at
            limit = when.date() if date_only else when
            if (suffix == "" and mine != limit) or (suffix == ">" and mine < limit):
                return False
            if suffix == "<" and mine > limit:
                return False
        return True

    return keep


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until interrupted: ``python -m tests.fake_twilio --port N``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--account-sid")
    parser.add_argument("--auth-token")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    fake = FakeTwilio(
        args.account_sid, args.auth_token, host=args.host, port=args.port, delay=args.delay
    )
    fake.start()
    print(f"account_sid={fake.account_sid} auth_token={fake.auth_token}", file=sys.stderr)
    print(f"ready {fake.base_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
