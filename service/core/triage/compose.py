"""Reading by meaning: red flags composed from their parts, not looked up as whole phrases.

Patients rarely name a red flag ("numbness", "slurred"); they describe it: "my fingers won't
close around the cup", "her words run together", "getting harder to breathe since lunch".
Each language's vocabulary (``compose`` in vocab/<lang>.json) lists:

- ``parts``: body parts and functions, by family (limb, face, speech, breath, saliva, ...);
- ``states``: losses and abnormal states, by kind (lost, weak, droop, garbled, hard, odd ...);
- ``frames``: which families pair with which kinds, and what the onset must be:

  - ``any``: the pair is a red flag whatever the onset ("the arm just hangs there");
  - ``needed``: a red flag only with an onset marker in the message ("since 3", "after my
    nap", "de golpe"); a gradual marker in the sentence ("this week", "anymore") cancels it;
  - ``worse``: the pair is a worsening that staff should read (food sticking on the way down);
  - ``doubt``: the body is talked about but the words are vague ("my face feels funny"):
    the classifier resolves it toward safety.

- ``onset`` and ``gradual`` markers, ``others`` (people and stories that are not the
  patient), ``questions`` (asking about a symptom, not reporting it) and ``pretend`` (double
  negatives that affirm: "I won't pretend I can feel my foot").

A part and a state pair when they sit in the same sentence within a few tokens (either
order), or further when the state points back at the part ("... but I can't boss it around").
The pair then goes through the same context rules as a listed red flag (negation, history,
hypotheticals, another person, idioms): see classifier.py.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from service.core.triage.negation import Context
from service.core.triage.patterns import Compiled, compile_list
from service.core.triage.scope import SCOPE_WINDOW, Scope, overlaps
from service.core.triage.spans import Span, scan_every_start
from service.core.triage.vocab import Language, raw_vocabulary
from service.core.triage.whose import ME

Onset = Literal["any", "needed", "sudden", "worse", "doubt"]
Severity = Literal["emergency", "worse", "doubt"]
PAIR_WINDOW = 8  # tokens between a part and its state
BACK_WINDOW = 14  # a state with a pronoun ("it", "la") may point back this far
_POINTERS = frozenset({"it", "them", "they", "la", "lo", "las", "los", "le", "les"})
_LOSSES = ("lost", "garbled", "droop", "hard", "saliva_lost", "swallow_none", "vision_lost")
_BODY = ("limb", "face", "breath", "saliva")  # families whose mere mention is body talk
_FILLER = frozenset({"the", "a", "so", "that", "very", "really", "all", "was", "fue", "tan", "muy"})
_SIMILE = frozenset({"like", "through", "thru", "as", "como"})
_BREATHING = ("breath", "lung", "air", "oxygen", "respir", "aire", "pulmon")
# "arms less tired", "menos trabada": a state said to ease is an improvement, not a loss.
_EASED = frozenset({"less", "menos"})
# Words without which a message cannot name its patient (the "named" phrases).
_NAMING = frozenset({"patient", "paciente", "behalf", "writing", "texting", "answering"})
_NAMING |= {"replying", "messaging", "responding", "escribo", "contesto", "respondo"}
_NAMING |= {"escribiendo", "contestando", "respondiendo"}
# "they said it was a TIA", "el doctor dijo": what others said, not the patient's speech.
_HEARSAY = frozenset(
    {"they", "doctor", "doctors", "dr", "nurse", "neurologist", "doc", "ellos", "doctora", "vet"}
)
_REPORTED = frozenset({"said", "says", "say", "dijo", "dijeron", "dice", "dicen"})


@dataclass(frozen=True)
class Frame:
    """Which part families pair with which state kinds, and the onset the pair needs."""

    label: str
    parts: frozenset[str]
    states: frozenset[str]
    onset: Onset
    gradual_lowers: bool
    window: int  # tokens allowed between the part and its state


@dataclass(frozen=True)
class Grammar:
    """One language's composition vocabulary, compiled."""

    parts: dict[str, Compiled]
    states: dict[str, Compiled]
    frames: tuple[Frame, ...]
    onset: Compiled
    sudden: Compiled
    gradual: Compiled
    repeats: Compiled
    others: Compiled
    patients: Compiled
    cared_for: Compiled
    household: Compiled
    siblings: Compiled
    children: Compiled
    named: Compiled
    writing: Compiled
    stage: Compiled
    benign: Compiled
    questions: Compiled
    questions_after: Compiled
    pretend: Compiled
    abilities: Compiled


@dataclass(frozen=True)
class Composed:
    """A red flag (or a worsening, or a doubt) read from its parts."""

    label: str
    span: Span
    parts: tuple[str, ...]  # the words combined, in reading order
    onset: str
    severity: Severity
    literals: frozenset[str]
    doubtful: bool = False  # vague words, made an emergency only by their onset
    speech: bool = False  # about speaking or understanding (typing slips excuse it)

    def describe(self) -> str:
        """'label (part + state + onset)', for reasons and `checkin triage explain`."""
        pieces = " + ".join(self.parts + ((self.onset,) if self.onset else ()))
        return f"{self.label} ({pieces})"


# The plain phrase lists of the grammar, each compiled as one list (missing ones are empty).
_LISTS = (
    *("onset", "sudden", "gradual", "repeats", "others", "patients", "cared_for", "household"),
    *("siblings", "children", "named", "writing", "stage", "benign", "questions"),
    *("questions_after", "pretend", "abilities"),
)


def _grouped(
    entries: list[dict[str, Any]], key: str, macros: dict[str, str]
) -> dict[str, Compiled]:
    return {e[key]: compile_list(e["patterns"], macros) for e in entries}


@functools.cache
def grammar(language: Language) -> Grammar:
    """The compiled composition vocabulary of one language (built once per process)."""
    raw = raw_vocabulary(language)
    data: dict[str, Any] = raw["compose"]
    macros = {**raw["macros"], **data.get("macros", {})}
    frames = tuple(
        Frame(
            f["label"],
            frozenset(f["parts"]),
            frozenset(f["states"]),
            f["onset"],
            bool(f.get("gradual_lowers", f["onset"] in ("any", "needed", "sudden"))),
            int(f.get("window", PAIR_WINDOW)),
        )
        for f in data["frames"]
    )
    return Grammar(
        parts=_grouped(data["parts"], "family", macros),
        states=_grouped(data["states"], "kind", macros),
        frames=frames,
        **{name: compile_list(data.get(name, []), macros) for name in _LISTS},
    )


class Reading(Scope):
    """The parts, states and markers of one message in one language."""

    def __init__(self, ctx: Context, language: Language) -> None:
        self.ctx = ctx
        self.grammar = grammar(language)
        g, norm = self.grammar, ctx.norm
        tokens = norm.tokens
        self.parts = {
            k: [
                p
                for p in scan_every_start(c, norm)
                if not (
                    tokens[p.first] in _REPORTED and p.first and tokens[p.first - 1] in _HEARSAY
                )
            ]
            for k, c in g.parts.items()
        }
        self.states = {
            k: [
                s
                for s in scan_every_start(c, norm)
                if not (s.first and tokens[s.first - 1] in _EASED)
            ]
            for k, c in g.states.items()
        }
        if self.states.get("weaker") and self.states.get("weak"):
            # "mas debiles" is a comparison (weaker), not "debiles" with an onset.
            weaker = self.states["weaker"]
            self.states["weak"] = [w for w in self.states["weak"] if not overlaps(w, weaker)]
        # Repeats ("twice", "a veces") mark a loss that comes and goes, within their clause.
        self.repeats = scan_every_start(g.repeats, norm)
        self.gradual = sorted(
            [*scan_every_start(g.gradual, norm), *self.repeats], key=lambda s: s.first
        )
        # "since last week" is gradual, and "not the sudden kind" denies an onset.
        self.onsets = [o for o in scan_every_start(g.onset, norm) if self._onset(o)]
        self.sudden = [o for o in scan_every_start(g.sudden, norm) if self._onset(o)]
        self.others = scan_every_start(g.others, norm)
        self.patients = scan_every_start(g.patients, norm)
        self.cared_for = scan_every_start(g.cared_for, norm)
        self.household = scan_every_start(g.household, norm)
        self.siblings = scan_every_start(g.siblings, norm)
        self.children = scan_every_start(g.children, norm)
        # A relative at home ("mom", "mi suegra") is most likely the patient, told by a carer.
        self.family = [
            p for p in [*self.patients, *self.household] if self.text(p) not in ME | {"myself"}
        ]
        # Cheap guard: only a message with one of these words can name the patient.
        self.named = scan_every_start(g.named, norm) if norm.token_set & _NAMING else []
        self.writing = scan_every_start(g.writing, norm)
        self.stage = scan_every_start(g.stage, norm)
        self.questions = scan_every_start(g.questions, norm)
        self.questions_after = scan_every_start(g.questions_after, norm)

    def _onset(self, marker: Span) -> bool:
        """An onset marker that is neither gradual nor denied ("not the sudden kind")."""
        if overlaps(marker, self.gradual):
            return False
        ctx = self.ctx
        for cue in ctx.pre_cues:
            between = ctx.tokens[cue.last : marker.first]
            if cue.last <= marker.first and len(between) <= 2 and set(between) <= _FILLER:
                return False  # "not the sudden kind", but not "sin fuerza de golpe"
        return True

    def _paired(self, part: Span, state: Span, window: int) -> bool:
        ctx = self.ctx
        if part.first < state.last and state.first < part.last:
            # "can't get water down": the part inside the state's gap counts; a mere overlap
            # ("cannot swallow" as both) does not.
            inside = state.first < part.first and part.last < state.last
            return inside
        if state.first >= part.last:
            gap = state.first - part.last
            between = range(part.last, state.first)
        else:
            gap = part.first - state.last
            between = range(state.last, part.first)
        if gap <= window and not any(ctx.hard[i] for i in between):
            return True
        # "... but I can't boss it around", "... but it comes out wrong"
        tokens = ctx.tokens[max(state.first - 3, 0) : state.last + 2]
        pointing = state.first >= part.last and any(t in _POINTERS for t in tokens)
        sentence_end = any(ctx.tokens[i] in (".", "!", "?", ";") for i in between)
        return pointing and window >= PAIR_WINDOW and gap <= BACK_WINDOW and not sentence_end

    def onset_for(self, span: Span) -> str:
        """An onset marker anywhere in the message (the time is often a sentence apart)."""
        for marker in self.onsets:
            if not (marker.first < span.last and span.first < marker.last):
                return self.text(marker)
        return ""

    def gradual_for(self, span: Span) -> str:
        """A gradual marker in the sentence of a finding ("this week", "anymore")."""
        ctx = self.ctx
        for marker in self.gradual:
            sentence = ctx.same_sentence(marker.first, span.first) or ctx.same_sentence(
                marker.first, span.last - 1
            )
            if marker in self.repeats:
                # "dropped my fork twice and now my side feels like someone else's": the
                # repeated drop is the event, not a sign that the loss comes and goes.
                after = marker.first >= span.last
                sentence = sentence and (after or ctx.same_clause(marker.first, span.first))
            if sentence:
                return self.text(marker)
        return ""

    def compose(self) -> list[Composed]:
        """Every frame whose part and state pair up, nearest state first for each part."""
        found: list[Composed] = []
        for frame in self.grammar.frames:
            for family in sorted(frame.parts):
                for part in self.parts.get(family, []):
                    states = [
                        (s, kind)
                        for kind in sorted(frame.states)
                        for s in self.states.get(kind, [])
                        if self._paired(part, s, frame.window)
                    ]
                    if not states:
                        continue
                    state, kind = min(states, key=lambda sk: abs(sk[0].first - part.first))
                    composed = self._build(frame, family, part, state, kind)
                    if all(c.span != composed.span for c in found):  # first frame wins
                        found.append(composed)
        return found

    def _build(self, frame: Frame, family: str, part: Span, state: Span, kind: str) -> Composed:
        first, last = min(part.first, state.first), max(part.last, state.last)
        span = Span(first, last, -1)
        ordered = sorted((part, state), key=lambda s: s.first)
        words = tuple(self.text(s) for s in ordered)
        g = self.grammar
        literals = g.parts[family].literals[part.index] | g.states[kind].literals[state.index]
        onset = self.onset_for(span)
        if frame.onset == "sudden":
            # "weaker since yesterday" is a worsening; "weaker all of a sudden" is not.
            onset = next((self.text(m) for m in self.sudden if not overlaps(m, [span])), "")
        gradual = self.gradual_for(span) if frame.gradual_lowers else ""
        severity: Severity
        # An onset ("since lunch") outweighs a gradual marker ("won't hold it no more").
        if frame.onset == "any":
            severity = "worse" if gradual and not onset else "emergency"
        elif frame.onset in ("needed", "sudden"):
            # "legs weaker" alone is for the status words; a person reads it if nothing else is.
            severity = "emergency" if onset else "doubt"
            if frame.onset == "sudden" and gradual:
                # "now weaker in the legs than last week": a comparison, so a worsening.
                severity = "doubt"
        elif frame.onset == "worse":
            severity = "worse"
        else:
            severity = "emergency" if onset else "doubt"
        if severity != "emergency":
            onset = gradual or ""
        doubtful = frame.onset == "doubt" or kind == "odd"  # vague words: staff read them
        speech = family in ("speech", "understanding")
        return Composed(frame.label, span, words, onset, severity, literals, doubtful, speech)

    def pretended(self, flags: list[Span]) -> list[Composed]:
        """Double negatives that affirm a loss: "I won't pretend I can feel my foot"."""
        ctx, g = self.ctx, self.grammar
        cues = scan_every_start(g.pretend, ctx.norm)
        if not cues:
            return []
        targets = [
            *scan_every_start(g.abilities, ctx.norm),
            *flags,
            *(s for spans in self.parts.values() for s in spans),
            # Losses only: "it's not that I'm worse" denies a status, it admits nothing.
            *(s for kind in _LOSSES for s in self.states.get(kind, [])),
        ]
        found = []
        for cue in cues:
            after = [
                t
                for t in targets
                if cue.last <= t.first <= cue.last + SCOPE_WINDOW
                and ctx.same_sentence(cue.first, t.first)
            ]
            if after:
                target = min(after, key=lambda t: t.first)
                span = Span(cue.first, target.last, -1)
                found.append(
                    Composed(
                        "a double negative that admits a loss",
                        span,
                        (self.text(cue), self.text(target)),
                        "",
                        "emergency",
                        frozenset(ctx.tokens[cue.first : target.last]),
                    )
                )
        return found

    def states_spans(self) -> tuple[Span, ...]:
        """Every state span: negation words inside them ("won't", "no me") negate nothing."""
        return tuple(s for spans in self.states.values() for s in spans)

    def _plain(self, benign: Span, part: Span) -> bool:
        """A benign word said of a part in its sentence, outside a simile ("like", "through")."""
        ctx = self.ctx
        near = abs(benign.first - part.first) <= PAIR_WINDOW  # "... but ok"
        if not (near or ctx.same_sentence(benign.first, part.first)):
            return False
        start = min(benign.first, part.first)
        return not any(t in _SIMILE for t in ctx.tokens[start : benign.first])

    def body_talk(self, families: tuple[str, ...] = _BODY) -> list[str]:
        """Limbs, face and breath talked about by the patient (doubt needs something to doubt).

        Nothing when another person, a story or a question is in the message: the words
        are then about someone or something else.
        """
        if self.others or self.questions or self.questions_after or self.ctx.traps:
            return []  # "hold my breath", "the appointment is still on (en pie)"
        benign = scan_every_start(self.grammar.benign, self.ctx.norm)
        spans = [s for family in families for s in self.parts.get(family, [])]
        if families == ("breath",):
            # Breathing itself, not "chest" or "wind" (a chest cold, winded by the stairs), and
            # read with confidence by words of its sentence ("breathing is different with the
            # new inhaler but ok"), not by those of a simile ("through a wet sock").
            return [
                self.text(s)
                for s in spans
                if self.text(s).startswith(_BREATHING)
                and not any(self._plain(b, s) for b in benign)
            ]
        if benign:
            return []  # read with confidence: "hand surgery went well", "my hands are cold"
        return [self.text(s) for s in spans]
