"""Red flags in one message and one language, each judged by its context.

A red flag is found two ways: listed in the vocabulary ("numbness", "no puedo respirar") or
composed from its parts (compose.py: "arm" + "won't lift" + "since lunch"). Both then go
through the same context rules, in this order: an idiom or a degree phrase ("can't walk as
far"), a pet or object as subject, another person or a story ("my neighbour", "on the news"),
negation, a question about the symptom, a hypothetical, history, chronic.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.core.triage.compose import Composed, Reading
from service.core.triage.negation import Context
from service.core.triage.spans import Span, scan_every_start

# Dialect "won't hold my cup no more" means "anymore": not a denial of the symptom.
_ANYMORE = frozenset({"no more", "not anymore", "ya no", "no mas"})


@dataclass
class Finding:
    """One red flag (listed or composed) and the state its context gives it."""

    text: str
    span: Span
    kind: str
    state: str = "affirmed"  # or negated, conditional, history, chronic, other, idiom
    review: bool = False
    detail: str = ""
    severity: str = "emergency"  # or "worse" (staff read it) or "doubt"


def _judge(
    ctx: Context,
    reading: Reading,
    finding: Finding,
    literals: frozenset[str],
    action: bool,
    others: tuple[Span, ...],
    actions: list[Span],
    composed: bool = False,
    speech: bool = False,
) -> None:
    """Give a finding the state its context gives it (idiom, other, negated, ...)."""
    span = finding.span
    typing = reading.about_writing(span) if speech else ""
    if typing:
        finding.state, finding.detail = "idiom", typing
        return
    trap = ctx.overlapping(ctx.traps, span)
    # A degree phrase ("can't hold a cup") is a worsening, unless it began at a time
    # ("since 10"); a composed finding judges degree by its own onset rules.
    entry = ctx.vocab.trap_entries[trap.index] if trap is not None else None
    degree = entry is not None and entry.implies is not None
    timed = bool(reading.onset_for(span)) and not (entry is not None and entry.whatever_onset)
    if degree and (composed or timed):
        trap = None
    if trap is not None:
        trap_entry = ctx.vocab.trap_entries[trap.index]
        finding.state, finding.review = "idiom", trap_entry.review
        finding.detail = ctx.norm.text(trap.first, trap.last)
        return
    if ctx.other_subject(span):
        finding.state = "other"
        return
    person = reading.other_person(span)
    if person:
        # Someone else's symptom: staff read it, the answer carries the emergency line.
        finding.state, finding.review, finding.detail = "person", True, person
        return
    inherent = ctx.inherent_negation(span, literals)
    cue = ctx.gap_negated(span, literals) or ctx.post_negated(span.last)
    if inherent and cue in _ANYMORE:
        cue = ""  # "won't hold my cup no more": dialect for "anymore", not a denial
    if not cue and not inherent:
        cue = ctx.pre_negated(span.first, exclude=others)
    if cue:
        finding.state, finding.review, finding.detail = "negated", True, cue
        return
    question = reading.question(span)
    if question and reading.told_after_question(
        span, reading.onsets, reading.states.get("worsening", [])
    ):
        # "Is it normal that ...? It's gotten worse since this morning": asked, then reported.
        question = ""
    if not question and action and reading.in_question(span):
        question = "asked"  # "call you or 911?": asking what to do, not saying it was done
    if question:
        finding.state, finding.review, finding.detail = "question", not action, question
        return
    if ctx.conditional(span, action, actions) and not _told_apart(ctx, reading, span, action):
        finding.state, finding.review = "conditional", not action
        return
    history = ctx.history(span)
    if history:
        finding.state, finding.review = "history", history == "recent"
        return
    chronic = ctx.chronic_marker(span)
    if chronic:
        finding.state, finding.review, finding.detail = "chronic", True, chronic


def _told_apart(ctx: Context, reading: Reading, span: Span, action: bool) -> bool:
    """A symptom with its own onset in a clause the 'if' does not open ("I'll call 911 if it
    gets worse, my face is drooping since lunch"): a report, not a hypothetical."""
    if action:
        return False
    timed = any(ctx.same_clause(o.first, span.first) for o in reading.onsets)
    opened = any(ctx.same_clause(c.first, span.first) for c in ctx.conditionals)
    return timed and not opened


_WORSENING = frozenset(
    {"harder", "worse", "worsening", "more", "shorter", "heavier", "tighter", "thinner"}
    | {"peor", "mas", "cuesta", "empeora", "empeorando"}
)


def _any_pace(reading: Reading, composed: Composed) -> bool:
    """A red flag whose frame no pace lowers, told as getting worse."""
    if not any(
        f.label == composed.label and f.onset == "any" and not f.gradual_lowers
        for f in reading.grammar.frames
    ):
        return False
    tokens = reading.ctx.tokens
    span = composed.span
    return any(t in _WORSENING for t in tokens[span.first : span.last])


def read_findings(ctx: Context, reading: Reading) -> list[Finding]:
    """Red flags in one language, listed or composed, each with the state its context gives."""
    vocab = ctx.vocab
    spans = scan_every_start(vocab.red_flags, ctx.norm)
    actions = [s for s in spans if vocab.red_flag_entries[s.index].kind == "action"]
    findings = []
    for span in spans:
        entry = vocab.red_flag_entries[span.index]
        finding = Finding(ctx.norm.text(span.first, span.last), span, entry.kind)
        onset = reading.onset_for(span)
        if entry.severity == "worse" or (
            entry.gradual_lowers and reading.gradual_for(span) and not onset
        ):
            finding.severity, finding.review = "worse", True
        elif entry.severity == "doubt":
            finding.severity, finding.review = ("emergency", True) if onset else ("doubt", True)
        if entry.severity == "doubt" or entry.review:
            finding.review = True
            finding.text = f"{entry.label}: {finding.text}" + (f" + {onset}" if onset else "")
            if finding.severity == "emergency":
                finding.text = f"unsure but sudden, {finding.text}"
        findings.append(finding)
        others = tuple(s for s in spans if s is not span)
        literals = vocab.red_flags.literals[span.index]
        action = entry.kind == "action"
        speech = entry.writing_excuses
        _judge(ctx, reading, finding, literals, action, others, actions, speech=speech)
    states = reading.states_spans()
    for composed in reading.compose() + reading.pretended(spans):
        finding = Finding(composed.describe(), composed.span, "symptom", severity=composed.severity)
        if composed.doubtful:
            finding.review = True
            if composed.severity == "emergency":
                finding.text = f"unsure but sudden, {finding.text}"
        findings.append(finding)
        exclude = tuple(spans) + states
        # Negation words inside the states it spans ("can't finish") belong to them.
        literals = composed.literals | frozenset(
            t
            for st in states
            if composed.span.first <= st.first and st.last <= composed.span.last
            for t in ctx.tokens[st.first : st.last]
        )
        _judge(
            ctx,
            reading,
            finding,
            literals,
            False,
            exclude,
            actions,
            composed=True,
            speech=composed.speech,
        )
        if finding.state == "chronic" and _any_pace(reading, composed):
            # Breathing (or saliva) that gets worse at any pace is an emergency for these
            # patients (myasthenic crisis, Guillain-Barre): "a little harder every day".
            finding.state, finding.review = "affirmed", True
            finding.text = f"{finding.text}, getting worse ({finding.detail})"
    if reading.family:
        # A relative's red flag is read as the patient's, and a person confirms who it is.
        for finding in findings:
            if finding.state == "affirmed":
                finding.review = True
    return findings
