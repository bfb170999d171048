"""Carrier keywords: a message that is exactly one opt-out/opt-in/help word.

English words are the carrier's list (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT,
REVOKE; START, UNSTOP, YES; HELP, INFO). Spanish single words are accepted too:
PARAR, ALTO, BAJA and CANCELAR mean "stop sending" in every Spanish-speaking market and are
what a Spanish speaker types at a check-in they no longer want; since April 2025 the FCC lets
a patient revoke consent "in any reasonable manner", so honouring them is the safe reading.
AYUDA maps to HELP, whose answer carries the emergency line anyway. Spanish "SI"/"SÍ" is not
mapped to START: it is an ordinary answer to a question and must not re-subscribe anyone.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class Keyword(StrEnum):
    """What a carrier keyword asks for."""

    STOP = "stop"
    START = "start"
    HELP = "help"


_KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(
        ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"),
        Keyword.STOP,
    ),
    **dict.fromkeys(("start", "unstop", "yes"), Keyword.START),
    **dict.fromkeys(("help", "info"), Keyword.HELP),
    # Spanish single words; see the module docstring for why these are safe.
    **dict.fromkeys(("parar", "alto", "baja", "cancelar"), Keyword.STOP),
    "ayuda": Keyword.HELP,
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def match_keyword(text: str) -> Keyword | None:
    """The carrier keyword a whole message is, ignoring case, spaces and surrounding punctuation."""
    if not isinstance(text, str):
        return None
    folded = _fold(unicodedata.normalize("NFKC", text))
    start, end = 0, len(folded)
    while start < end and not folded[start].isalnum():
        start += 1
    while end > start and not folded[end - 1].isalnum():
        end -= 1
    word = folded[start:end]
    if not word.isascii() or not word.isalpha():
        return None
    return _KEYWORDS.get(word)
