"""Properties of classify() over generated replies (hypothesis)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.core.triage import classify_rules
from service.triage import classify

HERE = Path(__file__).parent
RED_FLAGS = [
    ("I can't breathe.", "en"),
    ("My face is drooping on one side.", "en"),
    ("I suddenly can't move my left arm.", "en"),
    ("My husband passed out and won't wake up.", "en"),
    ("Her speech is slurred since 10 minutes ago.", "en"),
    ("No puedo respirar.", "es"),
    ("Se me torció la boca de repente.", "es"),
    ("Mi esposo se desmayó y no responde.", "es"),
]
# Words that name no symptom: "no" before them must not make an emergency.
PLAIN_WORDS = (  # noqa: SIM905 - a word list reads better as one string
    "coffee problem problems change news worries appointment rain way idea thanks doubt luck "
    "pain fever time car phone money help questions sleep appetite visitors complaints issues "
    "cambio problema dolor fiebre cita gracias tiempo dinero noticias sueño hambre"
).split()


def _texts(name: str) -> list[str]:
    with (HERE / name).open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()]


REPLIES = _texts("corpus.jsonl") + _texts("holdout.jsonl")
CALM = [
    json.loads(line)["text"]
    for name in ("corpus.jsonl", "holdout.jsonl")
    for line in (HERE / name).read_text(encoding="utf-8").splitlines()
    if line.strip() and json.loads(line)["expected"] != "emergency"
]
ANY_TEXT = st.one_of(st.sampled_from(REPLIES), st.text(max_size=200))
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(reply=ANY_TEXT, flag=st.sampled_from(RED_FLAGS), stored=st.sampled_from(["en", "es"]))
def test_a_clear_red_flag_sentence_appended_is_always_an_emergency(
    reply: str, flag: tuple[str, str], stored: str
) -> None:
    sentence, _ = flag
    assert classify(f"{reply}\n{sentence}", stored).category == "emergency"


@FAST
@given(
    before=st.sampled_from(CALM),
    word=st.sampled_from(PLAIN_WORDS),
    stored=st.sampled_from(["en", "es"]),
)
def test_no_before_a_plain_word_never_creates_an_emergency(
    before: str, word: str, stored: str
) -> None:
    plain = classify(f"{before} {word}", stored).category
    negated = classify(f"{before} no {word}", stored).category
    if plain != "emergency":
        assert negated != "emergency", (before, word)


@FAST
@given(text=st.text(max_size=400), stored=st.text(max_size=5))
def test_classify_never_raises_and_never_falls_back(text: str, stored: str) -> None:
    result = classify(text, stored)
    assert result.category in ("emergency", "worse", "same", "better", "unclear")
    # The catch-all in classify() is for bugs: generated input must never reach it.
    assert result.reasons != ("could not read the message",), text


@FAST
@given(
    reply=ANY_TEXT,
    flag=st.one_of(st.just(""), st.sampled_from([s for s, _ in RED_FLAGS])),
    stored=st.sampled_from(["en", "es"]),
)
def test_the_learned_reader_only_adds_an_emergency(reply: str, flag: str, stored: str) -> None:
    text = f"{reply}\n{flag}" if flag else reply
    rules = classify_rules(text, stored)
    result = classify(text, stored)
    if rules.category == "emergency":
        assert result == rules  # monotone: a rule emergency is never removed nor changed
    elif result != rules:
        assert (result.category, result.needs_review) == ("emergency", True)
        assert result.reasons[1:] == rules.reasons
