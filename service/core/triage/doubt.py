"""The safety net for doubt: free text about the body that nothing could read.

A reply that no red flag, status word or menu digit decided, and that talks about the
patient's body, movement, speech, understanding, awareness, falls, swallowing or breathing
("I ask her something simple and she just stares"), is not a silent unclear: it is answered
as an emergency and a person reads it. The word classes are broad and cheap (token sets and
short phrases in vocab/doubt.json); questions, traps and stories of others are left alone
because the words are then about something else.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, cast

from service.core.triage.vocab import Language

# Families that, named without an onset, are discomfort more often than loss.
PLAIN_BODY = frozenset({"movement", "face"})
# Families that outweigh a status word said before them ("same. but I went down").
AFTER_STATUS = frozenset({"awareness", "fall", "understanding"})


@dataclass(frozen=True)
class Talk:
    """What the reading already knows of a message the fallback looks at."""

    body: list[str]  # limbs, face, breath named (Reading.body_talk)
    onset: str  # "since lunch", "" when none
    blocked: bool  # a question, a trap or another person: the words are about something else
    benign: bool  # body words read with confidence ("my hands are cold")


@dataclass(frozen=True)
class Classes:
    """One language's doubt word classes: single words and phrases per family."""

    words: dict[str, str]  # word -> family
    phrases: tuple[tuple[str, str], ...]  # (" padded phrase ", family)


@functools.cache
def classes(language: Language) -> Classes:
    """The compiled doubt word classes of one language (built once per process)."""
    text = resources.files("service.core.triage").joinpath("vocab/doubt.json")
    raw = cast(dict[str, Any], json.loads(text.read_text(encoding="utf-8")))[language]
    words: dict[str, str] = {}
    phrases: list[tuple[str, str]] = []
    for family, items in raw.items():
        for item in items:
            if " " in item:
                phrases.append((f" {item} ", family))
            else:
                words.setdefault(item, family)
    return Classes(words, tuple(phrases))


def doubt_talk(tokens: list[str] | tuple[str, ...], language: Language) -> tuple[str, str] | None:
    """The first (family, words) of body talk in the tokens, or None.

    The family is "_veto" when words say the message is about something else, and "_worse"
    when they say the body talk is a comparison (a worsening).
    """
    found = classes(language)
    joined = f" {' '.join(tokens)} "
    for special in ("_veto", "_worse"):
        # "no entiendo el mensaje", "years ago": read with confidence as something else;
        # "less push than before": a worsening a person reads, not an alarm.
        for phrase, family in found.phrases:
            if family == special and phrase in joined:
                return family, phrase.strip()
        for token in tokens:
            if found.words.get(token) == special:
                return special, token
    for phrase, family in found.phrases:
        if phrase in joined:
            return family, phrase.strip()
    for token in tokens:
        word_family = found.words.get(token)
        if word_family is not None:
            return word_family, token
    return None


def unread_body_talk(
    tokens: list[str] | tuple[str, ...], language: Language, talk: Talk
) -> tuple[str, str] | None:
    """What a free-text reply nothing could read says about the body, if anything.

    ("_veto", w): read with confidence as something else; ("_worse", w): a comparison;
    ("_body", part): a limb or face named without an onset, a person reads it; otherwise
    (about, words): an emergency a person reads.
    """
    about = doubt_talk(tokens, language)
    if about is not None and about[0].startswith("_"):
        return about
    if talk.blocked:
        return None
    if talk.body:
        part = talk.body[0]
        if talk.onset:
            return f"the {part} + {talk.onset}", part
        if about is not None and about[0] not in PLAIN_BODY:
            return about
        return "_body", part  # "my arm is bothering me": a person reads it, no alarm
    if about is not None and about[0] in PLAIN_BODY:
        if talk.benign:
            return None
        if not talk.onset:
            return "_body", about[1]
    return about


def told_after(
    tokens: list[str] | tuple[str, ...], language: Language, last_status: int
) -> tuple[str, str] | None:
    """Awareness, a fall or not understanding told after the last status word, if anything."""
    about = doubt_talk(tokens[last_status + 1 :], language)
    if about is not None and about[0] in AFTER_STATUS:
        return about
    return None
