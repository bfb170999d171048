"""Round 4 of issue #7: rules that must hold generally, and the safety net for doubt."""

from __future__ import annotations

import pytest

# These rows pin the rules' reading; the learned second reader, which may only add an
# emergency on top of it, is tested in test_learned.py.
from service.core.triage import classify_rules


@pytest.mark.parametrize(
    ("text", "language"),
    [
        # Breathing that gets harder at any pace (myasthenic crisis, Guillain-Barre).
        ("breathing's a little harder every day this week, figured it'd pass", "en"),
        ("my breathing gets a bit worse every day", "en"),
        # "ni" as "not even" does not deny the symptom.
        ("no me pasa ni la saliva, se me sale por la boca", "es"),
        # Double negatives that affirm.
        ("didnt not pass out. I did. couple seconds in the kitchen just now", "en"),
        ("wouldn't be honest saying I can move my arm. Can't, not since 6", "en"),
        # A status word first and a red flag later: the red flag wins.
        ("igual q ayer. bueno, hace rato me quedé sin poder hablar unos minutos", "es"),
        ("same as yesterday. oh and earlier I went down and didn't answer for a minute", "en"),
    ],
)
def test_rules_that_hold_generally(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "emergency"


@pytest.mark.parametrize(
    ("text", "language", "about"),
    [
        ("I ask her something simple and she just stares", "en", "understanding"),
        ("Grandpa's talking but it's just sounds, not real words", "en", "speech"),
        ("Grandma went down in the hallway and didn't answer us for maybe a minute", "en", ""),
        ("lost a chunk of time this morning, I was at the sink then on the floor", "en", ""),
        ("dad all of a sudden cant work the remote or his phone, just stares", "en", ""),
        ("me fui al suelo en el baño y no supe de mí hasta q me hablaron", "es", ""),
        ("mi papá se queda mirando la nada y no sabe qué hacer con la cuchara", "es", ""),
    ],
)
def test_doubt_about_the_body_is_an_emergency_a_person_reads(
    text: str, language: str, about: str
) -> None:
    result = classify_rules(text, language)
    assert (result.category, result.needs_review) == ("emergency", True), result
    assert result.reasons[0].startswith("red flag: unsure"), result
    assert f"about {about}" in result.reasons[0], result


@pytest.mark.parametrize(
    ("text", "language", "category"),
    [
        ("no entiendo el mensaje", "es", "unclear"),
        ("i dont understand this text", "en", "unclear"),
        ("who do i talk to about my bill", "en", "unclear"),
        ("hace dos años me quedé sin poder hablar un rato pero ya pasó", "es", "unclear"),
        ("dropped my phone in the toilet", "en", "unclear"),
        ("my breathing is hard every day, as usual", "en", "unclear"),
        ("legs got less push in them today than before", "en", "worse"),
        ("se me atraganta la comida más q antes", "es", "worse"),
        ("my arm is bothering me", "en", "worse"),
    ],
)
def test_doubt_spares_what_is_read_with_confidence(text: str, language: str, category: str) -> None:
    assert classify_rules(text, language).category == category
