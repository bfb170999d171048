"""X-Twilio-Signature, checked as twilio's `RequestValidator.validate` checks it, for less.

`validate` parses the URL, then computes the HMAC of the URL with its default port and
without it (Twilio signs either, PITFALLS), and only then compares. Every webhook request
pays that, so here the two URLs are worked out once per URL and the HMAC without the port
comes first: a good signature costs one HMAC, a forged one two, as before. The HMAC itself
is twilio's (`compute_signature`), and anything else (an algorithm twilio does not know, a
JSON body) goes to `validate` as it is.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    RequestValidator,
    add_port,
    remove_port,
)

KNOWN = frozenset({HMAC_SHA1, HMAC_SHA256})


@lru_cache(maxsize=64)
def _urls(url: str) -> tuple[str, str]:
    """The URL without its default port, then with it (as `validate` signs them)."""
    parsed = urlparse(url)
    return remove_port(parsed), add_port(parsed)


@lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def valid_signature(
    token: str, url: str, form: Mapping[str, Any], signature: str, algorithm: str
) -> bool:
    """True when `signature` signs `url` and the form fields with `token` (twilio's rule)."""
    validator = _validator(token)
    if (algorithm or HMAC_SHA1).upper() not in KNOWN:
        return bool(validator.validate(url, form, signature, algorithm))  # logs a warning
    given = signature.encode("utf-8", "surrogatepass")
    for signed in _urls(url):
        computed = validator.compute_signature(signed, form, algorithm)
        if hmac.compare_digest(computed.encode("utf-8"), given):
            return True
    return False
