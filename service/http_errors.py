"""werkzeug's HTTP errors as JSON, keeping the headers they carry."""

from __future__ import annotations

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException


def http_error_response(exc: HTTPException) -> Response:
    """A werkzeug error as JSON, keeping its headers (Allow on a 405, for one)."""
    response = jsonify({"error": exc.description or exc.name})
    response.status_code = exc.code or 500
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response
