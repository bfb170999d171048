"""Property tests on Twilio's webhooks: any form fields and any Unicode, signed or not, answer
200 with TwiML (signed) or 403 (unsigned or forged), never a 5xx."""

from __future__ import annotations

import os
import re
import xml.dom.minidom
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FROM_NUMBER, ClinicHandle

EXAMPLES = int(os.environ.get("CHECKIN_FUZZ_EXAMPLES", "100"))
TWILIO_FIELDS = [
    "AccountSid",
    "MessageSid",
    "SmsSid",
    "CallSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "Digits",
    "SpeechResult",
    "Confidence",
    "MessageStatus",
    "CallStatus",
    "ErrorCode",
    "AnsweredBy",
    "CallDuration",
]
# Twilio-like values, digits and phone shapes (huge, negative, superscript digits) and any text.
VALUES = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["+12025550123", FROM_NUMBER, "", "911", "completed", "failed", "30006"]),
    st.integers().map(str),
    st.text(alphabet="0123456789²³¹٣+-", max_size=40),
    st.sampled_from(["help", "I can't breathe", "worse", "STOP", "same", "better", "1", "2"]),
)
FORMS = st.dictionaries(
    st.one_of(st.sampled_from(TWILIO_FIELDS), st.text(min_size=1, max_size=20)),
    VALUES,
    max_size=10,
)
QUERIES = st.one_of(
    st.just(""),
    st.dictionaries(st.sampled_from(["patient", "escalation", "attempt", "x"]), VALUES, max_size=2)
    .map(urlencode)
    .map(lambda q: "?" + q if q else ""),
)
PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("CHECKIN_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=list(HealthCheck),
)


def webhook_paths(app: Flask) -> list[str]:
    """Every POST route Twilio calls (ids in them are filled in by `with_ids`)."""
    paths = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/twilio/") and "POST" in (rule.methods or ())
    )
    assert "/twilio/sms" in paths
    return paths


def with_ids(rule: str, ids: list[int]) -> str:
    """The rule with its <int:...> parts replaced by `ids` in turn."""
    numbers = iter(ids)
    return re.sub(r"<int:\w+>", lambda _m: str(next(numbers)), rule)


IDS = st.lists(st.one_of(st.just(1), st.integers(0, 2**31 - 1)), min_size=3, max_size=3)


def is_twiml(body: bytes) -> bool:
    """A well-formed XML document whose root is <Response>."""
    return xml.dom.minidom.parseString(body).documentElement.tagName == "Response"


@pytest.fixture
def known_patient(
    make_patient: Callable[..., dict[str, object]], clinic: ClinicHandle
) -> dict[str, object]:
    """A patient, so some fuzzed replies reach the triage and the policy."""
    return make_patient()


def test_signed_webhooks_answer_twiml_whatever_the_fields(
    app: Flask,
    client: FlaskClient,
    sign: Callable[[str, dict[str, str]], dict[str, str]],
    known_patient: dict[str, object],
) -> None:
    paths = webhook_paths(app)

    @PROFILE
    @given(rule=st.sampled_from(paths), ids=IDS, query=QUERIES, form=FORMS)
    def check(rule: str, ids: list[int], query: str, form: dict[str, str]) -> None:
        path = with_ids(rule, ids)
        response = client.post(
            path + query, data=form, headers=sign(path + query, form), buffered=True
        )
        assert response.status_code == 200, (path, query, form, response.status_code)
        # A status callback's answer may be empty; every other one is a TwiML document.
        if response.data.strip():
            assert is_twiml(response.data), response.data

    check()


def test_unsigned_or_forged_webhooks_answer_403(
    app: Flask, client: FlaskClient, sign: Callable[[str, dict[str, str]], dict[str, str]]
) -> None:
    paths = webhook_paths(app)

    @PROFILE
    @given(
        rule=st.sampled_from(paths),
        ids=IDS,
        form=FORMS,
        # Any header a client can send: HTTP carries no control characters in a header.
        signature=st.one_of(
            st.none(),
            st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=40),
            st.just("stolen"),
        ),
    )
    def check(rule: str, ids: list[int], form: dict[str, str], signature: str | None) -> None:
        path = with_ids(rule, ids)
        headers = {}
        if signature == "stolen":  # a real signature, for another form
            headers = sign(path, {**form, "Body": "changed"})
        elif signature is not None:
            headers = {"X-Twilio-Signature": signature}
        response = client.post(path, data=form, headers=headers, buffered=True)
        assert response.status_code == 403, (path, form, response.status_code)

    check()
