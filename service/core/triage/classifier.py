"""classify(): read a patient's SMS reply and decide emergency / worse / same / better / unclear.

Order of precedence, safest first:

1. A red flag anywhere (English or Spanish vocabulary, whatever the stored language) makes the
   message an emergency, even after "better" or a menu digit ("1 but I just fainted").
2. A red flag that is negated ("no numbness"), hypothetical ("I'll call 911 if it gets bad"),
   historical ("had a stroke in 2018"), chronic ("my usual numbness"), about a pet or object,
   or part of an idiom ("stroke of luck") does not make an emergency. It is reported in
   ``reasons``. ``needs_review`` is set when staff should read the message:
   - negated red flags: always (PITFALLS: negation detection is only ~78% sensitive);
   - hypothetical symptoms ("if I get short of breath I'll call"): yes, a symptom is being
     talked about; hypothetical actions ("I'll call 911 if needed"): no;
   - history in weeks ("passed out last week"): yes; months/years ("stroke in 2018",
     "since my stroke"): no, these patients mention old strokes all the time;
   - chronic ("always numb", "as usual"): yes;
   - idioms and pets/objects: no.
   Hedges ("maybe", "I think", "not sure") never weaken a red flag.
3. Otherwise better/same/worse words and the menu digit decide. Negated status words are
   weak ("not worse" -> same) and lose to plain ones ("not worse, actually improving" ->
   better). When plain words disagree, what follows the last "but"/"pero" wins, else the more
   severe category. A menu digit and words that disagree give the more severe category.
4. Anything else is unclear.
5. The learned second reader (learned.py) reads free text the rules did not call an
   emergency: at LEARNED_THRESHOLD or above the message becomes an emergency that a person
   reviews, with the words that weighed most. It only ever adds an emergency; bare menu
   answers and one-word keywords ("2", "STOP", "ACK 12") are not given to it.

Free-text opt-out wording sets ``opt_out_intent``; it never changes the category.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field

from service.core.triage.compose import Reading
from service.core.triage.doubt import Talk, doubt_talk, told_after, unread_body_talk
from service.core.triage.findings import Finding, read_findings
from service.core.triage.negation import CONTRASTS, Context
from service.core.triage.normalise import normalise
from service.core.triage.second_reading import learned_reason
from service.core.triage.spans import scan, scan_every_start
from service.core.triage.status import (
    MENU,
    PERSISTS,
    SEVERITY,
    Category,
    StatusHit,
    decide_status,
    read_menu,
    read_status,
)
from service.core.triage.vocab import LANGUAGES, Language, vocabulary

_SPANISH_MARKS = frozenset("áéíóúñ¿¡ü")
# Replies up to this many characters are classified once per process ("2", "STOP", "igual").
SHORT_TEXT = 20


@dataclass(frozen=True)
class Triage:
    """The outcome of classifying one reply."""

    category: Category
    reasons: tuple[str, ...]
    language: Language
    needs_review: bool
    opt_out_intent: bool


@dataclass
class _LanguageResult:
    language: Language
    findings: list[Finding] = field(default_factory=list)
    status: list[StatusHit] = field(default_factory=list)
    opt_out: list[str] = field(default_factory=list)
    hints: int = 0
    contrasts: list[int] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    breath: list[str] = field(default_factory=list)
    onset: str = ""
    asked_or_other: bool = False
    benign: bool = False  # body words read with confidence ("my hands are cold")


def _stored_language(language: object) -> Language:
    code = str(language or "").strip().lower()[:2]
    return "es" if code == "es" else "en"


def _analyse(text: str, language: Language) -> tuple[_LanguageResult, Context]:
    vocab = vocabulary(language)
    norm = normalise(text, language)
    ctx = Context(norm, vocab)
    reading = Reading(ctx, language)
    result = _LanguageResult(language)
    result.findings = read_findings(ctx, reading)
    result.body = reading.body_talk()
    result.breath = reading.body_talk(("breath",))
    result.onset = reading.text(reading.onsets[0]) if reading.onsets else ""
    result.asked_or_other = bool(reading.others or reading.questions or reading.questions_after)
    result.benign = bool(scan_every_start(reading.grammar.benign, norm))
    # "my dog's legs gave out": a status word inside someone else's symptom is not the patient's.
    elsewhere = [f.span for f in result.findings if f.state in ("other", "person")]
    result.status = [
        h
        for h in read_status(ctx)
        if not any(s.first <= h.position < s.last for s in elsewhere)
        and not reading.asked(h.position)
    ]
    # "my husband has a bad cold, I'm the same": a status told of someone else yields to the
    # patient's own.
    own = [h for h in result.status if not reading.told_of_other(h.position)]
    if own and len(own) < len(result.status):
        result.status = own
    for span in scan(vocab.opt_out, norm):
        literals = vocab.opt_out.literals[span.index]
        if ctx.inherent_negation(span, literals) or not ctx.pre_negated(span.first, 2, False):
            result.opt_out.append(norm.text(span.first, span.last))
    result.hints = sum(1 for t in norm.tokens if t in vocab.language_hints)
    result.contrasts = [i for i, t in enumerate(norm.tokens) if t in CONTRASTS]
    return result, ctx


def _pick_language(
    text: str, stored: Language, results: dict[Language, _LanguageResult]
) -> Language:
    score = {lang: r.hints for lang, r in results.items()}
    score["es"] += 2 * min(1, sum(1 for ch in text.casefold() if ch in _SPANISH_MARKS))
    if score["en"] > score["es"]:
        return "en"
    if score["es"] > score["en"]:
        return "es"
    return stored


_PREFIX = {
    "negated": "negated red flag",
    "conditional": "conditional red flag",
    "history": "past red flag",
    "chronic": "chronic red flag",
    "other": "red flag about a pet or object",
    "person": "red flag about someone else",
    "question": "question about a red flag",
    "idiom": "not a red flag",
}
_SET_ASIDE = tuple(_PREFIX.values())


@dataclass(frozen=True)
class _Read:
    """A message read in every language: the costly part of triage."""

    results: dict[Language, _LanguageResult]
    contexts: dict[Language, Context]


def _read(text: str) -> _Read:
    results: dict[Language, _LanguageResult] = {}
    contexts: dict[Language, Context] = {}
    for lang in LANGUAGES:
        results[lang], contexts[lang] = _analyse(text, lang)
    return _Read(results, contexts)


def _classify(text: str, language: str) -> Triage:
    read = _read(text)
    return _decide(text, _pick_language(text, _stored_language(language), read.results), read)


def _decide(text: str, chosen: Language, read: _Read) -> Triage:
    """The rules' category once the language is chosen (the stored one only breaks a tie)."""
    results, contexts = read.results, read.contexts
    affirmed: list[str] = []
    worse: list[str] = []
    doubts: list[str] = []
    notes: list[str] = []
    needs_review = False
    seen: set[str] = set()
    for lang in (chosen, *(x for x in LANGUAGES if x != chosen)):
        texts = {f.text for f in results[lang].findings}
        for finding in results[lang].findings:
            if finding.text in seen:
                # Shared words ("911", "sos") are judged in the language the patient wrote.
                continue
            if finding.state == "affirmed":
                needs_review = needs_review or finding.review
                bucket, prefix = {
                    "emergency": (affirmed, "red flag"),
                    "worse": (worse, "staff to read, worse"),
                    "doubt": (doubts, "unsure"),
                }[finding.severity]
                reason = f"{prefix}: {finding.text}"
                if reason not in bucket:
                    bucket.append(reason)
                continue
            needs_review = needs_review or finding.review
            detail = f" ({finding.detail})" if finding.detail else ""
            note = f"{_PREFIX[finding.state]}: {finding.text}{detail}"
            if note not in notes:
                notes.append(note)
        seen |= texts
    opt_out = [o for lang in LANGUAGES for o in results[lang].opt_out]
    opt_notes = [f"opt-out wording: {o}" for o in dict.fromkeys(opt_out)]

    if affirmed:
        return Triage(
            "emergency", tuple(affirmed + notes + opt_notes), chosen, needs_review, bool(opt_out)
        )

    primary = results[chosen]
    other = results["es" if chosen == "en" else "en"]
    hits, contrasts = primary.status, primary.contrasts
    if not hits:
        hits, contrasts = other.status, other.contrasts
    digits, others = read_menu(contexts["en"])
    tokens = contexts["en"].tokens
    if digits and contexts["en"].conditionals and "?" in tokens:
        # "if my breathing gets weak, is that a 3?": a question about the menu, not an answer;
        # but a digit after the last question ("... call you first? ... normal, 2") answers it.
        last_question = max(i for i, t in enumerate(tokens) if t == "?")
        if not any(t in MENU for t in tokens[last_question + 1 :]):
            digits = []
    category, reasons = decide_status(hits, contrasts, digits)
    ctx = contexts[chosen]
    later = None
    if primary.status and not (ctx.traps or "?" in ctx.tokens or primary.asked_or_other):
        later = told_after(ctx.tokens, chosen, max(h.position for h in primary.status))
    if later is not None and not (worse or doubts or notes):
        # "igual que ayer. bueno, hace rato ...": a status first does not hide what follows.
        reason = f"red flag: unsure, about {later[0]} after a status: {later[1]}"
        return Triage("emergency", (reason, *reasons, *opt_notes), chosen, True, bool(opt_out))
    if category == "unclear" and others:
        reasons.append(f"number outside the menu: {others[0]}")
    if worse or (doubts and category == "unclear"):
        # Doubt resolves toward safety: talk about the body that cannot be read with
        # confidence is never a silent unclear; it is at least worse, and a person reads it.
        needs_review = True
        if SEVERITY.get(category, 0) < SEVERITY["worse"]:
            category = "worse"
        reasons = worse + doubts + reasons
    elif doubts and hits and all(h.text in PERSISTS for h in hits):
        # Only a bare "still" ("it still hasn't woken up"): it says the doubt persists, so a
        # person reads it.
        needs_review = True
        category = "worse"
        reasons = doubts + reasons
    elif doubts:
        # The status words decided ("legs weak, same as yesterday"): the doubt is only noted.
        notes.extend(d.replace("unsure: ", "also read: ", 1) for d in doubts)
    if (
        category in ("unclear", "worse")
        and not notes
        and not affirmed
        and results[chosen].breath
        and (doubt_talk(contexts[chosen].tokens, chosen) or ("",))[0] != "_veto"
        and not any(d.startswith("unsure: ") and "breath" not in d for d in doubts)
    ):
        # Breathing talked about that cannot be read with confidence ("like breathing through a
        # coffee straw"): for these patients worsening breathing is an emergency.
        part = results[chosen].breath[0]
        reason = f"red flag: unsure about breathing, talks about the {part}"
        return Triage("emergency", (reason, *worse, *opt_notes), chosen, True, bool(opt_out))
    if not (worse or doubts) and category == "unclear" and not notes and not reasons:
        # Doubt resolves toward safety: free text about the body, movement, speech,
        # understanding, awareness, falls or breathing that nothing above could read is
        # answered and paged as an emergency, and a person reads it.
        result, ctx = results[chosen], contexts[chosen]
        blocked = bool(ctx.traps) or "?" in ctx.tokens or result.asked_or_other
        about = unread_body_talk(
            ctx.tokens, chosen, Talk(result.body, result.onset, blocked, result.benign)
        )
        if about is not None and about[0] == "_worse":
            category, needs_review = "worse", True
            reasons = [f"unsure, reads as worse: {about[1]}"]
        elif about is not None and about[0] == "_body":
            category, needs_review = "worse", True
            reasons = [f"unsure: talks about the {about[1]}"]
        elif about is not None and about[0] != "_veto":
            reason = f"red flag: unsure, about {about[0]}: {about[1]}"
            return Triage("emergency", (reason, *opt_notes), chosen, True, bool(opt_out))
    return Triage(category, tuple(reasons + notes + opt_notes), chosen, needs_review, bool(opt_out))


def _second_reading(text: str, rules: Triage) -> Triage:
    """The rules' result, made an emergency for review if the learned reader is confident."""
    if rules.category == "emergency":
        return rules
    set_aside = any(reason.startswith(_SET_ASIDE) for reason in rules.reasons)
    reason = learned_reason(text, set_aside)
    if reason is None:
        return rules
    return Triage("emergency", (reason, *rules.reasons), rules.language, True, rules.opt_out_intent)


def _guarded(text: str, language: str, learned: bool) -> Triage:
    stored = _stored_language(language)
    try:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if not unicodedata.normalize("NFKC", text).strip():
            return Triage("unclear", ("empty message",), stored, False, False)
        rules = _classify(text, language)
        return _second_reading(text, rules) if learned else rules
    except Exception:  # a reply must always get an answer; staff look at the message
        return Triage("unclear", ("could not read the message",), stored, True, False)


class Look:
    """One reply read once, classified for any stored language (`triage`).

    Reading the text in both languages is the cost; the stored language only breaks a tie
    between them (`_pick_language`). So the webhook reads a reply once, before any I/O (the
    emergency fail-safe), and classifies it again for the patient's language at no cost:
    the same words give the same result, and a tie is decided once more from the same
    reading. Short replies ("2", "STOP", "mejor"), most of them, are classified once per
    process (`_short`): triage is a pure function of the text and the stored language.
    """

    def __init__(self, text: object) -> None:
        self._unreadable = False
        try:
            self.text = text if isinstance(text, str) else "" if text is None else str(text)
        except Exception:  # an object whose str() fails is read as nothing, and said so
            self.text, self._unreadable = "", True
        self._read: _Read | None = None
        self._decided: dict[Language, Triage] = {}

    def triage(self, language: str = "en") -> Triage:
        """`classify(text, language)`; never raises."""
        stored = _stored_language(language)
        if len(self.text) <= SHORT_TEXT and not self._unreadable:
            return _short(self.text, stored)
        return self._triage(stored)

    def _triage(self, stored: Language) -> Triage:
        try:
            if self._unreadable:
                raise ValueError("unreadable text")
            if not unicodedata.normalize("NFKC", self.text).strip():
                return Triage("unclear", ("empty message",), stored, False, False)
            if self._read is None:
                self._read = _read(self.text)
            chosen = _pick_language(self.text, stored, self._read.results)
            found = self._decided.get(chosen)
            if found is None:
                found = _second_reading(self.text, _decide(self.text, chosen, self._read))
                self._decided[chosen] = found
            return found
        except Exception:  # a reply must always get an answer; staff look at the message
            return Triage("unclear", ("could not read the message",), stored, True, False)


@functools.lru_cache(maxsize=1024)
def _short(text: str, stored: Language) -> Triage:
    """A short reply's triage, kept for the process (Triage is immutable)."""
    return Look(text)._triage(stored)


def warm_up() -> None:
    """Compile both vocabularies and load the learned reader now (an app factory's start).

    A real reading, past the short-reply cache: a cached result would compile nothing.
    """
    Look("warm up the reading")._triage("en")


def classify(text: str, language: str = "en") -> Triage:
    """Classify one SMS reply; never raises (odd input gives an unclear Triage)."""
    return Look(text).triage(language)


def classify_rules(text: str, language: str = "en") -> Triage:
    """Classify one SMS reply by the rules alone, without the learned second reader."""
    return _guarded(text, language, learned=False)
