"""Request guards for bad input, written once for every route instead of in each handler.

- Ids: the `int` URL converter is bounded to PostgreSQL's INTEGER, so an id of 2^31 or more
  (or a negative one) simply matches no route and answers 404, whatever route adds it.
- Text: a NUL byte or a lone surrogate cannot be stored (PostgreSQL refuses NUL in text, and
  no encoding can write a lone surrogate), so any query argument, form field or JSON string
  holding one answers 422 naming the field, before a handler runs. Twilio's webhooks are left
  alone: they clean their fields themselves and must always answer TwiML.
- Errors: werkzeug's HTTP errors keep their headers (405 carries `Allow`), in
  `service.http_errors`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import UnprocessableEntity

from service.api.validation import FieldError, Invalid
from service.ids import BoundedInt

BAD_TEXT = re.compile(r"[\x00\ud800-\udfff]")
MAX_DEPTH = 32


class BadText(Invalid, UnprocessableEntity):
    """Invalid for the API's 422 body, and an HTTP error for pages that render those."""

    def __init__(self, errors: list[FieldError]) -> None:
        Invalid.__init__(self, errors)
        UnprocessableEntity.__init__(self, "; ".join(f"{e.field} {e.message}" for e in errors))


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    found = BAD_TEXT.search(value)
    if found is None:
        return None
    return "must not contain NUL bytes" if found.group() == "\x00" else "is not valid Unicode"


def bad_strings(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """(field, problem) for every string in a JSON value, keys included, that cannot be stored."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            yield path or "body", problem
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            problem = text_problem(str(key))
            if problem:
                yield name, f"field name {problem}"
            yield from bad_strings(item, name, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from bad_strings(item, f"{path}[{index}]", depth + 1)


def reject_bad_text() -> None:
    """Raise Invalid naming every argument, form field or JSON string that cannot be stored."""
    if request.blueprint == "twilio" or request.path.startswith("/twilio/"):
        return
    errors = [
        FieldError(name, problem)
        for source in (request.args, request.form)
        for name, value in source.items(multi=True)
        for name, problem in bad_strings({name: value}, "")
    ]
    if request.blueprint == "api" and request.content_length:
        # The API reads bodies as JSON whatever their content type, so check them the same way.
        errors += [
            FieldError(n, p) for n, p in bad_strings(request.get_json(silent=True, force=True), "")
        ]
    if errors:
        raise BadText(errors)


def invalid_response(exc: Invalid) -> tuple[Response, int]:
    """422 naming every bad field."""
    return jsonify({"errors": [{"field": e.field, "message": e.message} for e in exc.errors]}), 422


def install_guards(app: Flask) -> None:
    """Bound the id converter and check text on every request; call before adding routes."""
    app.url_map.converters["int"] = BoundedInt
    app.before_request(reject_bad_text)
    app.register_error_handler(Invalid, invalid_response)
