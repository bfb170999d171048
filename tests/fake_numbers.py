"""IncomingPhoneNumbers of the fake Twilio account: list (filters, pages), fetch and update.

Answers like Twilio: the same JSON fields, page envelopes with `next_page_uri`, 404 (20404)
for an unknown sid, and 400 (21502) for a webhook URL that is not http(s).
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request

API = "/2010-04-01/Accounts/<account_sid>/IncomingPhoneNumbers"
URL_FIELDS = {
    "SmsUrl": "sms_url",
    "SmsFallbackUrl": "sms_fallback_url",
    "VoiceUrl": "voice_url",
    "VoiceFallbackUrl": "voice_fallback_url",
    "StatusCallback": "status_callback",
}
PLAIN_FIELDS = {
    "FriendlyName": "friendly_name",
    "SmsMethod": "sms_method",
    "SmsFallbackMethod": "sms_fallback_method",
    "VoiceMethod": "voice_method",
    "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallbackMethod": "status_callback_method",
    "SmsApplicationSid": "sms_application_sid",
    "VoiceApplicationSid": "voice_application_sid",
}
METHODS = {"GET", "POST"}


def _now() -> str:
    return format_datetime(datetime.now(UTC))


def _error(status: int, code: int, message: str) -> Response:
    response = jsonify(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
    )
    response.status_code = status
    return response


class FakeNumbers:
    """The account's phone numbers, kept in memory, served under the fake's Flask app."""

    def __init__(self, account_sid: str) -> None:
        self.account_sid = account_sid
        self._numbers: dict[str, dict[str, Any]] = {}
        self.updates: list[tuple[str, dict[str, str]]] = []  # (sid, form) of each update
        self._lock = threading.Lock()

    def add(self, phone_number: str, **fields: str | None) -> str:
        """Buy a number for the account (webhooks empty unless given); return its sid."""
        sid = "PN" + secrets.token_hex(16)
        now = _now()
        uri = f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers/{sid}.json"
        resource: dict[str, Any] = {
            "sid": sid,
            "account_sid": self.account_sid,
            "phone_number": phone_number,
            "friendly_name": phone_number,
            "api_version": "2010-04-01",
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "date_created": now,
            "date_updated": now,
            "origin": "twilio",
            "status": "in-use",
            "beta": False,
            "uri": uri,
            "voice_caller_id_lookup": False,
            "voice_receive_mode": "voice",
            "emergency_status": "Inactive",
            "trunk_sid": None,
            "address_requirements": "none",
        }
        for name in (*URL_FIELDS.values(), "sms_application_sid", "voice_application_sid"):
            resource[name] = ""
        for name in ("sms_method", "sms_fallback_method", "voice_method"):
            resource[name] = "POST"
        resource["voice_fallback_method"] = "POST"
        resource["status_callback_method"] = "POST"
        resource.update(fields)
        with self._lock:
            self._numbers[sid] = resource
        return sid

    def get(self, phone_number: str) -> dict[str, Any]:
        """The resource of a number the account has."""
        with self._lock:
            return next(
                dict(n) for n in self._numbers.values() if n["phone_number"] == phone_number
            )

    def clear(self) -> None:
        """Release every number."""
        with self._lock:
            self._numbers.clear()
            self.updates.clear()

    def register(self, app: Flask, _lock: threading.Lock) -> None:
        """Add the IncomingPhoneNumbers routes to the fake's app."""

        @app.get(f"{API}.json")
        def list_numbers(account_sid: str) -> Response:
            return self._list(account_sid)

        @app.get(f"{API}/<sid>.json")
        def fetch_number(account_sid: str, sid: str) -> Response:
            with self._lock:
                found = self._numbers.get(sid)
            return jsonify(found) if found else self._not_found()

        @app.post(f"{API}/<sid>.json")
        def update_number(account_sid: str, sid: str) -> Response:
            return self._update(sid)

    @staticmethod
    def _not_found() -> Response:
        return _error(404, 20404, f"The requested resource {request.path} was not found")

    def _list(self, account_sid: str) -> Response:
        try:
            size = min(max(int(request.args.get("PageSize", 50)), 1), 1000)
            page = max(int(request.args.get("Page", 0)), 0)
        except ValueError:
            return _error(400, 20001, "Invalid paging parameter")
        wanted = request.args.get("PhoneNumber")
        with self._lock:
            items = [
                dict(n)
                for n in self._numbers.values()
                if wanted is None or n["phone_number"] == wanted
            ]
        base = f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers.json"
        chunk = items[page * size : (page + 1) * size]
        more = (page + 1) * size < len(items)
        query = f"?PageSize={size}" + (f"&PhoneNumber={wanted}" if wanted else "")
        return jsonify(
            {
                "incoming_phone_numbers": chunk,
                "uri": f"{base}{query}&Page={page}",
                "first_page_uri": f"{base}{query}&Page=0",
                "next_page_uri": f"{base}{query}&Page={page + 1}" if more else None,
                "previous_page_uri": f"{base}{query}&Page={page - 1}" if page else None,
                "page": page,
                "page_size": size,
                "start": page * size,
                "end": page * size + max(len(chunk) - 1, 0),
            }
        )

    def _update(self, sid: str) -> Response:
        form = {k: v for k, v in request.form.items()}
        for field, value in form.items():
            if field in URL_FIELDS and value:
                parts = urlsplit(value)
                if parts.scheme not in {"http", "https"} or not parts.netloc:
                    return _error(400, 21502, f"{field} is not valid: {value}")
            if field.endswith("Method") and value.upper() not in METHODS:
                return _error(400, 21401, f"{field} must be GET or POST")
        with self._lock:
            resource = self._numbers.get(sid)
            if resource is None:
                return self._not_found()
            for field, value in form.items():
                name = URL_FIELDS.get(field) or PLAIN_FIELDS.get(field)
                if name is not None:
                    resource[name] = value.upper() if field.endswith("Method") else value
            resource["date_updated"] = _now()
            self.updates.append((sid, form))
            return jsonify(dict(resource))
