"""The pieces triage found in one message, for `checkin triage explain` (pure, no I/O)."""

from __future__ import annotations

from service.core.triage.classifier import classify
from service.core.triage.compose import Reading
from service.core.triage.negation import Context
from service.core.triage.normalise import normalise
from service.core.triage.vocab import Language, vocabulary


def pieces(text: str, language: str = "en") -> list[str]:
    """One line per piece read in the message's language: parts, states, onset, context."""
    chosen: Language = classify(text, language).language
    norm = normalise(text, chosen)
    reading = Reading(Context(norm, vocabulary(chosen)), chosen)
    lines = [f"words ({chosen}): {' '.join(norm.tokens)}"]
    for family, spans in reading.parts.items():
        lines += [f"body part or function [{family}]: {reading.text(s)}" for s in spans]
    for kind, spans in reading.states.items():
        lines += [f"loss or abnormal state [{kind}]: {reading.text(s)}" for s in spans]
    for label, spans in (
        ("onset", reading.onsets),
        ("gradual", reading.gradual),
        ("someone else", reading.others),
        ("question", reading.questions + reading.questions_after),
    ):
        lines += [f"{label}: {reading.text(s)}" for s in spans]
    for composed in reading.compose():
        lines.append(f"combined -> {composed.severity}: {composed.describe()}")
    return lines
