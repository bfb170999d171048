"""The service's own answers are kept as outbound messages; keywords get their own category."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import ClinicHandle

EMERGENCY = "my face is drooping and I can't lift my arm"


def messages(client: FlaskClient, clinic: ClinicHandle, pid: int) -> list[dict[str, Any]]:
    """The patient's messages as the API shows them."""
    items: list[dict[str, Any]] = client.get(
        f"/api/v1/patients/{pid}/messages", headers=clinic.headers
    ).get_json()["items"]
    return items


@pytest.mark.parametrize(
    ("text", "category", "said"),
    [
        (EMERGENCY, "emergency", "911"),
        ("STOP", "stop", None),
        ("HELP", "help", "911"),
        ("3", "worse", None),
        ("banana", "unclear", "1"),
    ],
)
def test_the_answer_is_stored_after_the_reply(
    client: FlaskClient,
    clinic: ClinicHandle,
    make_patient: Callable[..., dict[str, Any]],
    text_in: Any,
    text: str,
    category: str,
    said: str | None,
) -> None:
    """Measured: the 911 instruction and the opt-out confirmation were missing; STOP unclear."""
    pid = make_patient()["id"]
    response = text_in(text)
    twiml = response.get_data(as_text=True)
    inbound, answer = messages(client, clinic, pid)
    assert inbound["direction"] == "inbound" and inbound["category"] == category
    assert answer["direction"] == "outbound" and answer["status"] == "sent"
    assert answer["to"] == inbound["from"] and answer["from"] == inbound["to"]
    body = answer["body"].replace("'", "&apos;").replace('"', "&quot;")
    assert body in twiml or answer["body"] in twiml
    if said:
        assert said in answer["body"]


def test_start_after_stop_is_stored_as_start(
    client: FlaskClient,
    clinic: ClinicHandle,
    make_patient: Callable[..., dict[str, Any]],
    text_in: Any,
) -> None:
    pid = make_patient()["id"]
    text_in("STOP")
    text_in("START")
    items = messages(client, clinic, pid)
    assert [m.get("category") for m in items if m["direction"] == "inbound"] == ["stop", "start"]
    assert [m["direction"] for m in items] == ["inbound", "outbound"] * 2


def test_a_replay_stores_no_second_answer(
    client: FlaskClient,
    clinic: ClinicHandle,
    make_patient: Callable[..., dict[str, Any]],
    text_in: Any,
) -> None:
    pid = make_patient()["id"]
    text_in("3", sid="SM" + "1" * 32)
    text_in("3", sid="SM" + "1" * 32)
    assert len(messages(client, clinic, pid)) == 2


def test_an_empty_answer_stores_nothing(
    client: FlaskClient,
    clinic: ClinicHandle,
    make_patient: Callable[..., dict[str, Any]],
    text_in: Any,
) -> None:
    pid = make_patient()["id"]
    text_in("STOP")
    text_in("hello?")  # opted out: an empty <Response/>
    items = messages(client, clinic, pid)
    assert [m["direction"] for m in items] == ["inbound", "outbound", "inbound"]
