"""The webhook's signature check agrees with twilio's RequestValidator.validate everywhere."""

from __future__ import annotations

import itertools

import pytest
from twilio.request_validator import HMAC_SHA1, HMAC_SHA256, RequestValidator
from werkzeug.datastructures import MultiDict

from service.webhooks.signature import valid_signature

TOKEN = "12345678901234567890123456789012"
FORM = MultiDict(
    [("MessageSid", "SM" + "a" * 32), ("From", "+12025550123"), ("Body", "2 & ñ"), ("Body", "x")]
)
URLS = [
    "https://clinic.example.org/twilio/sms",
    "https://clinic.example.org:443/twilio/sms",
    "https://clinic.example.org:8443/twilio/sms",
    "http://localhost:5000/twilio/voice/gather?call=12&step=2",
    "http://localhost/twilio/status",
]
ALGORITHMS = [HMAC_SHA1, HMAC_SHA256, "hmac_sha256", "", "HMAC_MD5"]


def signatures(url: str) -> list[str]:
    """Good ones (each algorithm, with and without the default port) and forged ones."""
    validator = RequestValidator(TOKEN)
    found = ["", "forged", "ñ" * 28, RequestValidator("another token").compute_signature(url, FORM)]
    for algorithm, signed in itertools.product(
        (HMAC_SHA1, HMAC_SHA256), (url, url.replace("/twilio", ":443/twilio", 1))
    ):
        found.append(validator.compute_signature(signed, FORM, algorithm))
        found.append(validator.compute_signature(signed, MultiDict(), algorithm))
    return found


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_check_agrees_with_twilios_validator(url: str, algorithm: str) -> None:
    validator = RequestValidator(TOKEN)
    accepted = 0
    for signature in signatures(url):
        expected = validator.validate(url, FORM, signature, algorithm)
        assert valid_signature(TOKEN, url, FORM, signature, algorithm) == expected, signature
        accepted += expected
    if algorithm != "HMAC_MD5":
        assert accepted >= 1  # the good signature of this algorithm is among them
