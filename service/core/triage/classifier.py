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

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from service.core.triage import learned
from service.core.triage.compose import Reading
from service.core.triage.doubt import Talk, doubt_talk, told_after, unread_body_talk
from service.core.triage.findings import Finding, read_findings
from service.core.triage.keywords import match_keyword
from service.core.triage.negation import (
    CONTRASTS,
    STATUS_PRE_WINDOW,
    Context,
    Span,
    scan,
    scan_every_start,
)
from service.core.triage.normalise import normalise
from service.core.triage.vocab import LANGUAGES, Language, vocabulary

Category = Literal["emergency", "worse", "same", "better", "unclear"]
MENU: dict[str, Category] = {"1": "better", "2": "same", "3": "worse"}
SEVERITY: dict[Category, int] = {"better": 1, "same": 2, "worse": 3}
_SPANISH_MARKS = frozenset("áéíóúñ¿¡ü")
_PERSISTS = frozenset({"still", "sigue", "todavia", "aun"})
_SET_APART = frozenset({".", ",", "!", ";", ":", "-"})  # punctuation after a lone menu answer
_SET_APART_TUPLES = frozenset((p,) for p in _SET_APART)
_SENTENCE_END = frozenset({".", "!", ";"})
# Words that make a worse phrase a change, which a long-standing marker does not undo.
_CHANGE = frozenset(
    {"worse", "worsening", "weaker", "more", "harder", "getting", "peor", "mas", "empeorando"}
)
# Chronic markers a worse word is compared with ("weaker than usual"), not told as.
_CHRONIC_COMPARED = frozenset({"usual", "always", "every day", "every morning", "every night"})
# Words that may follow a menu digit opening a sentence ("lol. 1 feeling strong", "2 for me").
_AFTER_ANSWER = frozenset({"", "for", "feeling", "feel", "today", "tonight"})
# The learned reader's probability from which a message the rules did not call an emergency
# becomes one (with review): 100% recall on sets held out of its training, at a cost in false
# alarms (bench/triage_learned.py).
LEARNED_THRESHOLD = 0.7
# When the rules read a red flag and set it aside (negated, someone else's, past, an idiom...),
# the learned reader must be surer to overrule them: it reads negation poorly ("no me falta el
# aire" is 0.58), while the double negatives and misattributions it rightly caught on sets held
# out of its training scored 0.94 and above (bench/triage_learned.py).
LEARNED_THRESHOLD_SET_ASIDE = 0.92
# How many of the learned reader's word features a reason names.
LEARNED_WORDS = 3
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Triage:
    """The outcome of classifying one reply."""

    category: Category
    reasons: tuple[str, ...]
    language: Language
    needs_review: bool
    opt_out_intent: bool


@dataclass
class _StatusHit:
    category: Category
    strong: bool
    position: int
    text: str


@dataclass
class _LanguageResult:
    language: Language
    findings: list[Finding] = field(default_factory=list)
    status: list[_StatusHit] = field(default_factory=list)
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


def _worse_is_news(ctx: Context, span: Span) -> bool:
    """A worse word not said of an object ("el carro ... quedó sin fuerza") and, unless it is a
    change ("worse", "weaker"), not told as long-standing ("wobbly like they've been for
    months")."""
    if ctx.other_subject(span):
        return False
    if any(t in _CHANGE for t in ctx.tokens[span.first : span.last]):
        return True
    marker = ctx.chronic_marker(span)
    return not marker or marker in _CHRONIC_COMPARED


def _status(ctx: Context) -> list[_StatusHit]:
    """Better/same/worse phrases in one language, after negation and conditionals."""
    vocab = ctx.vocab
    hits: list[_StatusHit] = []
    for span in scan(vocab.status, ctx.norm):
        entry = vocab.status_entries[span.index]
        text = ctx.norm.text(span.first, span.last)
        status_trap = ctx.overlapping(ctx.status_traps, span)
        if status_trap is not None and status_trap.first <= span.first:
            continue  # "igual gracias" is a thank-you, but "sigo igual gracias a Dios" is same
        if ctx.overlapping(ctx.traps, span):
            continue
        if any(
            c.first < span.first and ctx.same_sentence(c.first, span.first)
            for c in ctx.conditionals
        ):
            continue  # "if it gets worse" is not a report of getting worse
        category: Category = entry.category
        strong = entry.strong
        literals = vocab.status.literals[span.index]
        if category == "worse" and not _worse_is_news(ctx, span):
            continue  # "legs still wobbly like they've been for months": no change, no worse
        if not ctx.inherent_negation(span, literals):
            cue = ctx.pre_negated(span.first, STATUS_PRE_WINDOW, cross_commas=False)
            if cue:
                if category == "same":
                    continue
                category, strong, text = "same", False, f"{cue} {text}"
        hits.append(_StatusHit(category, strong, span.first, text))
    for trap in ctx.traps:
        implied = vocab.trap_entries[trap.index].implies
        if implied in SEVERITY:
            text = ctx.norm.text(trap.first, trap.last)
            hits.append(_StatusHit(implied, True, trap.first, text))
    return hits


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
        for h in _status(ctx)
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


def _menu(ctx: Context) -> tuple[list[str], list[str]]:
    """Menu digits that answer the check-in, and other bare numbers (for the reasons)."""
    en, es = vocabulary("en"), vocabulary("es")
    number_words = {**en.number_words, **es.number_words}
    units = en.number_units | es.number_units
    prepositions = en.number_prepositions | es.number_prepositions
    prefixes = en.menu_prefixes | es.menu_prefixes
    tokens = ctx.tokens
    words = [i for i, t in enumerate(tokens) if t[0].isalnum()]
    if len(words) == 1 and tokens[words[0]] in number_words:
        return [number_words[tokens[words[0]]]], []
    digits: list[str] = []
    first = words[0] if words else 0
    opening = tokens[first] if words else ""
    # "Three. Arms tire out ...", "uno, me siento ...": a number word set apart opens the answer.
    if opening in number_words and tokens[first + 1 : first + 2] in _SET_APART_TUPLES:
        digits.append(number_words[opening])
    others: list[str] = []
    for order, i in enumerate(words):
        token = tokens[i]
        if not token.isdigit():
            continue
        before = tokens[i - 1] if i > 0 else ""
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        joined_before = before in "-/:.,=" and before != "" and i > 1 and tokens[i - 2].isdigit()
        joined_after = (
            after in "-/:.,=" and after != "" and i + 2 < len(tokens) and tokens[i + 2].isdigit()
        )
        if joined_before or joined_after:
            continue
        if token not in MENU:
            if len(words) == 1:
                others.append(token)
            continue
        previous_word = tokens[words[order - 1]] if order > 0 else ""
        next_word = tokens[words[order + 1]] if order + 1 < len(words) else ""
        if previous_word in prefixes and next_word not in units:
            # "grandad says 1" relays the answer; "the doctor says 2 weeks" does not
            digits.append(token)
            continue
        if next_word in units or (previous_word in prepositions and before not in _SENTENCE_END):
            continue  # "2 days", "for 2"; but "... felt since. 1" answers the menu
        if order == 0 or order == len(words) - 1 or len(words) <= 3:
            digits.append(token)
        elif before in _SENTENCE_END and (after in _SET_APART or after in _AFTER_ANSWER):
            # "... darts league lol. 1, hands steadier", "... 2 for me": a digit that opens a
            # sentence alone, or for whom it is said.
            digits.append(token)
    return digits, others


def _most_severe(categories: list[Category]) -> Category:
    return max(categories, key=SEVERITY.__getitem__)


def _decide_status(
    hits: list[_StatusHit], contrasts: list[int], digits: list[str]
) -> tuple[Category, list[str]]:
    reasons: list[str] = []
    word_category: Category | None = None
    strong = [h for h in hits if h.strong]
    pool = strong or hits
    if pool:
        for contrast in reversed(contrasts):
            before = [h for h in pool if h.position < contrast]
            after = [h for h in pool if h.position > contrast]
            if before and after and {h.category for h in before} != {h.category for h in after}:
                pool = after
                break
        word_category = _most_severe([h.category for h in pool])
        reasons.extend(f"{h.category}: {h.text}" for h in pool)
    distinct = sorted(set(digits))
    menu_category: Category | None = None
    if len(distinct) == 1:
        menu_category = MENU[distinct[0]]
        reasons.insert(0, f"menu: {distinct[0]}")
    elif len(distinct) > 1:
        reasons.insert(0, f"several menu numbers: {', '.join(distinct)}")
    if menu_category is not None and word_category is not None:
        if not strong:
            return menu_category, reasons
        worst = (
            word_category if SEVERITY[word_category] > SEVERITY[menu_category] else menu_category
        )
        return worst, reasons
    if menu_category:
        return menu_category, reasons
    if word_category:
        return word_category, reasons
    return "unclear", reasons


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


def _classify(text: str, language: str) -> Triage:
    stored = _stored_language(language)
    results: dict[Language, _LanguageResult] = {}
    contexts: dict[Language, Context] = {}
    for lang in LANGUAGES:
        results[lang], contexts[lang] = _analyse(text, lang)
    chosen = _pick_language(text, stored, results)

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
    digits, others = _menu(contexts["en"])
    tokens = contexts["en"].tokens
    if digits and contexts["en"].conditionals and "?" in tokens:
        # "if my breathing gets weak, is that a 3?": a question about the menu, not an answer;
        # but a digit after the last question ("... call you first? ... normal, 2") answers it.
        last_question = max(i for i, t in enumerate(tokens) if t == "?")
        if not any(t in MENU for t in tokens[last_question + 1 :]):
            digits = []
    category, reasons = _decide_status(hits, contrasts, digits)
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
    elif doubts and hits and all(h.text in _PERSISTS for h in hits):
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


def _free_text(text: str) -> bool:
    """Two words with letters at least: not a menu digit ("option 1") nor a keyword ("ACK 12")."""
    if match_keyword(text) is not None:
        return False
    words = [w for w in _WORD.findall(text) if any(ch.isalpha() for ch in w)]
    return len(words) >= 2


def _second_reading(text: str, rules: Triage) -> Triage:
    """The rules' result, made an emergency for review if the learned reader is confident."""
    if rules.category == "emergency" or not _free_text(text):
        return rules
    set_aside = any(reason.startswith(_SET_ASIDE) for reason in rules.reasons)
    threshold = LEARNED_THRESHOLD_SET_ASIDE if set_aside else LEARNED_THRESHOLD
    if learned.probability(text) < threshold:
        return rules
    reading = learned.read(text)
    words = ", ".join(f"'{w}'" for w in reading.top(LEARNED_WORDS))
    reason = (
        f"unsure: reads like an emergency to the learned reader ({reading.probability:.2f})"
        + (f": {words}" if words else "")
    )
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


def classify(text: str, language: str = "en") -> Triage:
    """Classify one SMS reply; never raises (odd input gives an unclear Triage)."""
    return _guarded(text, language, learned=True)


def classify_rules(text: str, language: str = "en") -> Triage:
    """Classify one SMS reply by the rules alone, without the learned second reader."""
    return _guarded(text, language, learned=False)
