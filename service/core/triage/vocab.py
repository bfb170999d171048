"""Loading and compiling the vocabulary files (vocab/en.json, vocab/es.json).

The JSON is read lazily, on first use, through importlib.resources so that it ships inside the
package; everything is compiled once and cached for the life of the process.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, cast

from service.core.triage.patterns import Compiled, compile_list, fold

Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = ("en", "es")
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class FlagEntry:
    """One red-flag family: a label for staff and whether it is a symptom or an action word."""

    label: str
    kind: Literal["symptom", "action"]
    severity: Literal["emergency", "worse", "doubt"] = "emergency"
    gradual_lowers: bool = False  # "double vision when I read" is a worsening, not a flag
    review: bool = False  # read with doubt ("not like him at all"): staff read it too
    writing_excuses: bool = False  # "my texts are gibberish" is about typing, not speech


@dataclass(frozen=True)
class TrapEntry:
    """A phrase that looks like a red flag but is not one (idiom, degree, context)."""

    label: str
    kind: str
    review: bool
    implies: str | None
    whatever_onset: bool = False  # "choked on his toast at dinner": still food, not airway


@dataclass(frozen=True)
class StatusEntry:
    """A better/same/worse phrase; weak ones lose to any strong phrase."""

    category: Literal["better", "same", "worse"]
    strong: bool


@dataclass(frozen=True)
class Vocabulary:
    """One language's vocabulary, compiled."""

    language: Language
    shorthand: dict[str, str]
    phrase_map: tuple[tuple[str, str], ...]
    pre_accent_map: dict[str, str]
    symbol_map: dict[str, str]
    symbols: re.Pattern[str] | None
    lexicon: frozenset[str]
    typo_targets: frozenset[str]  # key words a one-letter slip is corrected to
    respell: tuple[tuple[str, str], ...]  # sound-alike spellings ("k" for "c" in Spanish)
    red_flags: Compiled
    red_flag_entries: tuple[FlagEntry, ...]
    traps: Compiled
    trap_entries: tuple[TrapEntry, ...]
    status: Compiled
    status_entries: tuple[StatusEntry, ...]
    status_traps: Compiled
    other_subjects: Compiled
    animals: Compiled
    negation_pre: Compiled
    negation_post: Compiled
    pseudo_negation: Compiled
    hard_terminators: Compiled
    history_pre: Compiled
    history_distant: Compiled
    history_recent: Compiled
    chronic: Compiled
    chronic_after: Compiled  # "not new", "old news": said of the finding before them
    recent_now: Compiled
    resolved: Compiled  # "has not happened again", "ya se me quito": over, told after it
    conditional: Compiled
    opt_out: Compiled
    negation_words: frozenset[str]
    soft_terminators: frozenset[str]
    clause_starters: frozenset[str]
    consequence: frozenset[str]
    language_hints: frozenset[str]
    menu_prefixes: frozenset[str]
    number_units: frozenset[str]
    number_prepositions: frozenset[str]
    number_words: dict[str, str]


@functools.cache
def raw_vocabulary(language: Language) -> dict[str, Any]:
    """The parsed JSON of one vocabulary file."""
    text = resources.files("service.core.triage").joinpath(f"vocab/{language}.json")
    return cast(dict[str, Any], json.loads(text.read_text(encoding="utf-8")))


def _words(items: list[str]) -> frozenset[str]:
    return frozenset(fold(item) for item in items)


def _flatten(entries: list[dict[str, Any]]) -> tuple[list[str], list[int]]:
    """Phrases of grouped entries, with the entry index of each phrase."""
    phrases: list[str] = []
    owners: list[int] = []
    for index, entry in enumerate(entries):
        for phrase in entry["patterns"]:
            phrases.append(phrase)
            owners.append(index)
    return phrases, owners


@functools.cache
def vocabulary(language: Language) -> Vocabulary:
    """The compiled vocabulary of one language (built once per process)."""
    raw = raw_vocabulary(language)
    macros: dict[str, str] = raw["macros"]

    def plain(key: str) -> Compiled:
        return compile_list(raw[key], macros)

    flag_phrases, flag_owner = _flatten(raw["red_flags"])
    flag_entries = tuple(
        FlagEntry(
            e["label"],
            e["kind"],
            e.get("severity", "emergency"),
            bool(e.get("gradual_lowers", False)),
            bool(e.get("review", False)),
            bool(e.get("writing_excuses", False)),
        )
        for e in raw["red_flags"]
    )
    trap_phrases, trap_owner = _flatten(raw["traps"])
    trap_entries = tuple(
        TrapEntry(
            e["label"],
            e["kind"],
            bool(e.get("review", False)),
            e.get("implies"),
            bool(e.get("whatever_onset", False)),
        )
        for e in raw["traps"]
    )
    status_phrases, status_owner = _flatten(raw["status"])
    status_entries = tuple(
        StatusEntry(e["category"], e["weight"] == "strong") for e in raw["status"]
    )
    red_flags = compile_list(flag_phrases, macros)
    traps = compile_list(trap_phrases, macros)
    status = compile_list(status_phrases, macros)
    shorthand = {fold(k): fold(v) for k, v in raw["shorthand"].items()}
    symbol_map: dict[str, str] = {k: v for k, v in raw.get("symbol_map", {}).items() if v}
    lexicon: set[str] = set(shorthand) | {w for v in shorthand.values() for w in v.split()}
    for compiled in (red_flags, status, traps):
        for literals in compiled.literals:
            lexicon |= literals
    # Every word the vocabulary spells out is a known word: "supper" is an onset and "teen"
    # a time of life, not "super" or "ten" typed with a doubled letter.
    spelled = {k: v for k, v in raw.items() if k != "_comment"}
    lexicon |= set(_WORD.findall(fold(json.dumps(spelled, ensure_ascii=False))))
    return Vocabulary(
        language=language,
        shorthand=shorthand,
        phrase_map=tuple((fold(a), fold(b)) for a, b in raw["phrase_map"]),
        pre_accent_map={k.casefold(): v for k, v in raw["pre_accent_map"].items()},
        symbol_map=symbol_map,
        symbols=re.compile("|".join(map(re.escape, symbol_map))) if symbol_map else None,
        lexicon=frozenset(lexicon),
        typo_targets=_words(raw.get("typo_targets", [])),
        respell=tuple((a, b) for a, b in raw.get("respell", [])),
        red_flags=red_flags,
        red_flag_entries=tuple(flag_entries[i] for i in flag_owner),
        traps=traps,
        trap_entries=tuple(trap_entries[i] for i in trap_owner),
        status=status,
        status_entries=tuple(status_entries[i] for i in status_owner),
        status_traps=plain("status_traps"),
        other_subjects=plain("other_subjects"),
        animals=plain("animals"),
        negation_pre=plain("negation_pre"),
        negation_post=plain("negation_post"),
        pseudo_negation=plain("pseudo_negation"),
        hard_terminators=plain("hard_terminators"),
        history_pre=plain("history_pre"),
        history_distant=plain("history_distant"),
        history_recent=plain("history_recent"),
        chronic=plain("chronic"),
        chronic_after=plain("chronic_after"),
        recent_now=plain("recent_now"),
        resolved=plain("resolved"),
        conditional=plain("conditional"),
        opt_out=plain("opt_out"),
        negation_words=_words(raw["negation_words"]),
        soft_terminators=_words(raw["soft_terminators"]),
        clause_starters=_words(raw["clause_starters"]),
        consequence=_words(raw["consequence"]),
        language_hints=_words(raw["language_hints"]) | _distinctive(language),
        menu_prefixes=_words(raw["menu_prefixes"]),
        number_units=_words(raw["number_units"]),
        number_prepositions=_words(raw["number_prepositions"]),
        number_words={fold(k): v for k, v in raw["number_words"].items()},
    )


@functools.cache
def _vocabulary_words(language: Language) -> frozenset[str]:
    """Every plain word the vocabulary of a language spells out."""
    raw = raw_vocabulary(language)
    words: set[str] = set()
    for key in ("red_flags", "status", "traps"):
        for entry in raw[key]:
            for phrase in entry["patterns"]:
                words |= set(_WORD.findall(fold(phrase)))
    for key in ("status_traps", "opt_out", "negation_pre", "conditional", "recent_now"):
        for phrase in raw[key]:
            words |= set(_WORD.findall(fold(phrase)))
    for value in raw["macros"].values():
        words |= set(_WORD.findall(fold(value)))
    return frozenset(words)


def _distinctive(language: Language) -> frozenset[str]:
    """Vocabulary words of one language that the other language never uses: language hints."""
    other: Language = "es" if language == "en" else "en"
    mine = _vocabulary_words(language)
    theirs = _vocabulary_words(other) | set(raw_vocabulary(other)["language_hints"])
    return frozenset(w for w in mine - theirs if len(w) > 2 and not w.isdigit())
