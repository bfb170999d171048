"""Vocabulary matches over a normalised message: token ranges and the scans that find them."""

from __future__ import annotations

from dataclasses import dataclass

from service.core.triage.normalise import Normalised
from service.core.triage.patterns import Compiled


@dataclass(frozen=True)
class Span:
    """A vocabulary match: tokens [first, last) and the index of the phrase that matched."""

    first: int
    last: int
    index: int


def scan(compiled: Compiled, norm: Normalised) -> list[Span]:
    """Non-overlapping matches of one compiled list, left to right."""
    spans: list[Span] = []
    if not compiled.may_match(norm.token_set):
        return spans
    i = 0
    count = len(norm.tokens)
    while i < count:
        found = compiled.match_at(norm.padded, norm.starts[i], norm.tokens[i])
        if found is None:
            i += 1
            continue
        index, end = found
        last = norm.token_span(end, end)[0]
        spans.append(Span(i, last, index))
        i = max(last, i + 1)
    return spans


def scan_every_start(compiled: Compiled, norm: Normalised) -> list[Span]:
    """Matches starting at every token, so one long match cannot hide a later one."""
    spans: list[Span] = []
    if not compiled.may_match(norm.token_set):
        return spans
    covered_until = -1
    for i, token in enumerate(norm.tokens):
        found = compiled.match_at(norm.padded, norm.starts[i], token)
        if found is None:
            continue
        index, end = found
        last = norm.token_span(end, end)[0]
        if last > covered_until:  # a match inside an earlier one is the same finding
            spans.append(Span(i, last, index))
            covered_until = last
    return spans
