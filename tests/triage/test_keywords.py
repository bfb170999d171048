"""Carrier keywords: the whole message is one word."""

from __future__ import annotations

import pytest

from service.triage import Keyword, classify, match_keyword

STOP_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"]
START_WORDS = ["START", "UNSTOP", "YES"]
HELP_WORDS = ["HELP", "INFO"]


def _variants(word: str) -> list[str]:
    return [
        word,
        word.lower(),
        word.capitalize(),
        f"  {word}  ",
        f"{word}.",
        f"{word}!!!",
        f'"{word}"',
        f"\n{word.lower()}\n",
        f"¡{word}!",
        f"{word} 🛑",
    ]


@pytest.mark.parametrize("text", [v for w in STOP_WORDS for v in _variants(w)])
def test_stop(text: str) -> None:
    assert match_keyword(text) is Keyword.STOP


@pytest.mark.parametrize("text", [v for w in START_WORDS for v in _variants(w)])
def test_start(text: str) -> None:
    assert match_keyword(text) is Keyword.START


@pytest.mark.parametrize("text", [v for w in HELP_WORDS for v in _variants(w)])
def test_help(text: str) -> None:
    assert match_keyword(text) is Keyword.HELP


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("PARAR", Keyword.STOP),
        ("alto", Keyword.STOP),
        ("Baja", Keyword.STOP),
        ("cancelar.", Keyword.STOP),
        ("AYUDA", Keyword.HELP),
        ("ayuda!", Keyword.HELP),
    ],
)
def test_spanish_single_words(text: str, keyword: Keyword) -> None:
    assert match_keyword(text) is keyword


@pytest.mark.parametrize(
    "text",
    [
        "stop texting me",
        "STOP IT",
        "please stop",
        "stop please",
        "S T O P",
        "st0p",
        "stopp",
        "help me",
        "I need help",
        "yes please",
        "sí",
        "si",
        "no",
        "2",
        "",
        "   ",
        "🛑",
        "opt out",
        "end.end",
        "stop-all",
        "no más mensajes",
    ],
)
def test_not_keywords(text: str) -> None:
    assert match_keyword(text) is None


def test_keyword_values() -> None:
    assert [k.value for k in Keyword] == ["stop", "start", "help"]


def test_free_text_opt_out_is_an_intent_not_a_keyword() -> None:
    assert match_keyword("stop texting me") is None
    assert classify("stop texting me").opt_out_intent


def test_odd_input_is_not_a_keyword() -> None:
    assert match_keyword(None) is None  # type: ignore[arg-type]
    assert match_keyword("\x00STOP\x00") is Keyword.STOP
