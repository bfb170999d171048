"""The learned second reader's part in classify(): when it may add an emergency, and the
reason a nurse reads (pure, no I/O)."""

from __future__ import annotations

import re

from service.core.triage import learned
from service.core.triage.keywords import match_keyword

# The learned reader's probability from which a message the rules did not call an emergency
# becomes one (with review): 100% recall on sets held out of its training, at a cost in false
# alarms (bench/triage_learned.py).
LEARNED_THRESHOLD = 0.7
# When the rules read a red flag and set it aside (negated, someone else's, past, an idiom...),
# the learned reader must be surer to overrule them: it reads negation poorly ("no me falta el
# aire" is 0.58), while the double negatives and misattributions it rightly caught on sets held
# out of its training scored 0.94 and above (bench/triage_learned.py).
LEARNED_THRESHOLD_SET_ASIDE = 0.92
LEARNED_MIN_WORDS = 3
# How many of the learned reader's word features a reason names.
LEARNED_WORDS = 3
_WORD = re.compile(r"\w+")


def _free_text(text: str) -> bool:
    """Three words of three letters at least: not a menu digit ("option 1"), a keyword ("ACK 12")
    nor two words the learned reader cannot weigh ("no help" leans on "help" alone; no blind
    set's emergency of two words or fewer is left to it)."""
    if match_keyword(text) is not None:
        return False
    # Words of three letters or more: "no sé no idea" is not four words to weigh.
    words = [w for w in _WORD.findall(text) if sum(ch.isalpha() for ch in w) >= 3]
    return len(words) >= LEARNED_MIN_WORDS


def learned_reason(text: str, set_aside: bool) -> str | None:
    """The reason to call free text an emergency for review, if the learned reader is confident
    (surer when the rules read a red flag and set it aside), else None."""
    if not _free_text(text):
        return None
    threshold = LEARNED_THRESHOLD_SET_ASIDE if set_aside else LEARNED_THRESHOLD
    if learned.probability(text) < threshold:
        return None
    reading = learned.read(text)
    words = ", ".join(f"'{w}'" for w in reading.top(LEARNED_WORDS))
    return f"unsure: reads like an emergency to the learned reader ({reading.probability:.2f})" + (
        f": {words}" if words else ""
    )
