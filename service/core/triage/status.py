"""Better / same / worse: status phrases and menu digits, and how they decide (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from service.core.triage.negation import STATUS_PRE_WINDOW, Context
from service.core.triage.spans import Span, scan
from service.core.triage.vocab import vocabulary

Category = Literal["emergency", "worse", "same", "better", "unclear"]
MENU: dict[str, Category] = {"1": "better", "2": "same", "3": "worse"}
SEVERITY: dict[Category, int] = {"better": 1, "same": 2, "worse": 3}

PERSISTS = frozenset({"still", "sigue", "todavia", "aun"})
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


@dataclass
class StatusHit:
    """A better/same/worse phrase (or a trap implying one) at a token position."""

    category: Category
    strong: bool
    position: int
    text: str


def worse_is_news(ctx: Context, span: Span) -> bool:
    """A worse word not said of an object ("el carro ... quedó sin fuerza") and, unless it is a
    change ("worse", "weaker"), not told as long-standing ("wobbly like they've been for
    months")."""
    if ctx.other_subject(span):
        return False
    if any(t in _CHANGE for t in ctx.tokens[span.first : span.last]):
        return True
    marker = ctx.chronic_marker(span)
    return not marker or marker in _CHRONIC_COMPARED


def read_status(ctx: Context) -> list[StatusHit]:
    """Better/same/worse phrases in one language, after negation and conditionals."""
    vocab = ctx.vocab
    hits: list[StatusHit] = []
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
        if category == "worse" and not worse_is_news(ctx, span):
            continue  # "legs still wobbly like they've been for months": no change, no worse
        if not ctx.inherent_negation(span, literals):
            cue = ctx.pre_negated(span.first, STATUS_PRE_WINDOW, cross_commas=False)
            if cue:
                if category == "same":
                    continue
                category, strong, text = "same", False, f"{cue} {text}"
        hits.append(StatusHit(category, strong, span.first, text))
    for trap in ctx.traps:
        implied = vocab.trap_entries[trap.index].implies
        if implied in SEVERITY:
            text = ctx.norm.text(trap.first, trap.last)
            hits.append(StatusHit(implied, True, trap.first, text))
    return hits


def read_menu(ctx: Context) -> tuple[list[str], list[str]]:
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


def most_severe(categories: list[Category]) -> Category:
    """The most severe of some status categories."""
    return max(categories, key=SEVERITY.__getitem__)


def decide_status(
    hits: list[StatusHit], contrasts: list[int], digits: list[str]
) -> tuple[Category, list[str]]:
    """The status from words and menu digits, with its reasons (words after a contrast win)."""
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
        word_category = most_severe([h.category for h in pool])
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
