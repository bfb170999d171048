"""The SMS answer's TwiML: a string template, byte for byte what twilio's builder writes."""

from __future__ import annotations

import random

import pytest
from twilio.twiml.messaging_response import MessagingResponse

from service.core.texts import text
from service.twiml import sms_answer
from tests.twiml import Twiml


def built(said: str | None) -> str:
    """What twilio's own MessagingResponse writes for the same answer."""
    response = MessagingResponse()
    if said:
        response.message(said)
    return str(response)


ODD = [
    None,
    "",
    "Call 911 now.",
    "Tom & Jerry's <clinic> \"quoted\" 'single' ]]>",
    "&amp; already escaped",
    "é ñ ü ¿¡ 日本 🙂",
    "line\nbreak\r\ttab",
    "control \x00\x01\x1f characters",
    "a lone surrogate \ud800 and \udfff",
]


@pytest.mark.parametrize("said", ODD)
def test_the_template_writes_what_the_builder_writes(said: str | None) -> None:
    assert sms_answer(said) == built(said)


def test_random_texts_are_written_alike() -> None:
    rng = random.Random(11)
    alphabet = "ab <>&\"';]\n\r\té\x00\x1f\ud800\U0001f600"
    for _ in range(3000):
        said = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert sms_answer(said) == built(said), repr(said)


@pytest.mark.parametrize("language", ["en", "es"])
def test_an_answer_reads_back_as_its_text(language: str) -> None:
    said = text("emergency_line", language, emergency="911") + " & <Clinic>"
    document = Twiml(sms_answer(said))
    assert document.verbs() == ["Message"]
    message = document.root.find("Message")
    assert message is not None and message.text == said
