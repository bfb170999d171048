"""Scope rules (NegEx-style) over one normalised message in one language.

A finding (red flag or status phrase) is a token range [first, last). Around it we look for:

- pre-negation cues ("no", "denies", "sin") in a window before it that stops at a hard
  terminator (".", "but", "pero") and, at a soft one ("," "and" "y"), only continues when the
  text in between looks like a list ("no tingling, numbness") rather than a new clause
  ("no pain, I can't move my leg"); pseudo-negations ("not sure", "no idea", "no ,") never
  count as cues;
- post-negation cues right after it ("numbness gone", "slurred speech? no");
- negation words inside a gap of the phrase itself ("face is not drooping");
- conditional, historical and chronic markers, pets/objects as subject, and trap phrases.

Chapman et al. (2001) report about 78% sensitivity for this family of rules, so the classifier
never lets a negation silently remove a red flag: it reports it for review.
"""

from __future__ import annotations

from functools import cached_property

from service.core.triage.markers import HABIT, ONLY_JUST, STATED, compared
from service.core.triage.normalise import Normalised
from service.core.triage.spans import Span, scan, scan_every_start
from service.core.triage.subjects import other_subject
from service.core.triage.vocab import Vocabulary

PRE_WINDOW = 6
PRE_WINDOW_AFTER_COMMA = 3
POST_WINDOW = 4
STATUS_PRE_WINDOW = 3
CONTEXT_WINDOW = 6
RESOLVED_WINDOW = 12  # "it has gone completely" governs a finding told this far before it
_FULL_STOPS = frozenset(
    {".", "!", "?", ";"}
)  # an animal named first stays the subject of its sentence this far
CONTRASTS = frozenset(
    {"but", "however", "although", "though", "yet", "otherwise"}
    | {"pero", "aunque", "sinembargo", "sino"}
)


class Context:
    """One message in one language, with the scope markers found in it."""

    def __init__(self, norm: Normalised, vocab: Vocabulary) -> None:
        self.norm = norm
        self.vocab = vocab
        self.tokens = norm.tokens

    @cached_property
    def hard(self) -> list[bool]:
        """Whether each token is (part of) a hard terminator."""
        hard = [False] * len(self.tokens)
        for span in scan(self.vocab.hard_terminators, self.norm):
            for i in range(span.first, span.last):
                hard[i] = True
        return hard

    @cached_property
    def pseudo(self) -> list[Span]:
        """Pseudo-negations ("not sure", "no idea"): their cue words negate nothing."""
        return scan(self.vocab.pseudo_negation, self.norm)

    @cached_property
    def pre_cues(self) -> list[Span]:
        """Negation cues that work forwards."""
        return [s for s in scan(self.vocab.negation_pre, self.norm) if not self._masked(s)]

    @cached_property
    def post_cues(self) -> list[Span]:
        """Negation cues that work backwards."""
        return [s for s in scan(self.vocab.negation_post, self.norm) if not self._masked(s)]

    @cached_property
    def _units(self) -> tuple[list[int], list[int]]:
        sentence: list[int] = []
        clause: list[int] = []
        current_sentence = current_clause = 0
        for i, token in enumerate(self.tokens):
            if self.hard[i]:
                current_sentence += 1
                current_clause += 1
            elif token in self.vocab.soft_terminators:
                current_clause += 1
            sentence.append(current_sentence)
            clause.append(current_clause)
        return sentence, clause

    @property
    def sentence(self) -> list[int]:
        """Sentence number of each token."""
        return self._units[0]

    @property
    def clause(self) -> list[int]:
        """Clause number of each token."""
        return self._units[1]

    @cached_property
    def _pseudo_tokens(self) -> frozenset[int]:
        return frozenset(i for p in self.pseudo for i in range(p.first, p.last))

    def _masked(self, cue: Span) -> bool:
        masked = self._pseudo_tokens
        return bool(masked) and any(i in masked for i in range(cue.first, cue.last))

    @cached_property
    def traps(self) -> list[Span]:
        """Trap phrases (idioms, degree words) found in the message."""
        return scan_every_start(self.vocab.traps, self.norm)

    @cached_property
    def status_traps(self) -> list[Span]:
        """Phrases where better/same/worse words do not describe the patient."""
        return scan(self.vocab.status_traps, self.norm)

    @cached_property
    def animals(self) -> list[Span]:
        """Pets and livestock: a sentence that opens on one goes on about it."""
        return scan(self.vocab.animals, self.norm)

    @cached_property
    def other_subjects(self) -> list[Span]:
        """Pets and objects that can 'collapse' or 'pass out' harmlessly."""
        return scan(self.vocab.other_subjects, self.norm)

    @cached_property
    def conditionals(self) -> list[Span]:
        """Conditional cues that are followed by a word in their sentence ('si,' is a yes)."""
        valid = []
        for span in scan(self.vocab.conditional, self.norm):
            following = span.last
            if span.last - span.first > 1 or (
                following < len(self.tokens)
                and not self.hard[following]
                and self.tokens[following] not in self.vocab.soft_terminators
            ):
                valid.append(span)
        return valid

    @cached_property
    def history_pre(self) -> list[Span]:
        """History cues that come before a finding ("since my stroke")."""
        return scan(self.vocab.history_pre, self.norm)

    @cached_property
    def history_distant(self) -> list[Span]:
        """Months/years-ago markers."""
        return scan(self.vocab.history_distant, self.norm)

    @cached_property
    def history_recent(self) -> list[Span]:
        """Weeks-ago markers."""
        return scan(self.vocab.history_recent, self.norm)

    @cached_property
    def chronic(self) -> list[Span]:
        """'always', 'as usual' and the like."""
        return scan(self.vocab.chronic, self.norm)

    @cached_property
    def chronic_after(self) -> list[Span]:
        """'not new', 'old news': a comment on the finding told before it."""
        return scan(self.vocab.chronic_after, self.norm)

    @cached_property
    def recent_now(self) -> list[Span]:
        """'today', 'just now', 'suddenly': these cancel history and chronic markers."""
        return scan(self.vocab.recent_now, self.norm)

    # --- negation -----------------------------------------------------------------------

    def pre_scope_start(self, first: int, window: int, cross_commas: bool) -> int:
        """First token index of the pre-negation scope of a finding starting at ``first``."""
        j = first - 1
        budget = window
        chunk_end = first
        while j >= 0 and budget > 0:
            token = self.tokens[j]
            if self.hard[j]:
                break
            if token in self.vocab.soft_terminators:
                chunk = self.tokens[j + 1 : chunk_end]
                if not cross_commas or len(chunk) > 2:
                    break
                # The finding's own first word counts: "no fever, se me durmió la cara".
                opening = self.tokens[j + 1 : chunk_end + 1] if chunk_end == first else chunk
                if any(t in self.vocab.clause_starters for t in opening):
                    break
                budget = min(budget, PRE_WINDOW_AFTER_COMMA)
                chunk_end = j
                j -= 1
                continue
            budget -= 1
            j -= 1
        return j + 1

    def pre_negated(
        self,
        first: int,
        window: int = PRE_WINDOW,
        cross_commas: bool = True,
        exclude: tuple[Span, ...] = (),
    ) -> str:
        """The negation cue governing a finding that starts at ``first``, or ''.

        Cues inside ``exclude`` (other findings, e.g. the "no" of "no puedo respirar") are
        part of that finding and negate nothing else.
        """
        start = self.pre_scope_start(first, window, cross_commas)
        for cue in self.pre_cues:
            if cue.first >= start and cue.last <= first and not self.overlapping(exclude, cue):
                return self.norm.text(cue.first, cue.last)
        return ""

    def post_negated(self, last: int) -> str:
        """The negation cue right after a finding that ends at ``last``, or ''."""
        end = last
        while end < len(self.tokens) and end < last + POST_WINDOW:
            if self.hard[end] or self.tokens[end] in self.vocab.soft_terminators:
                break
            end += 1
        for cue in self.post_cues:
            if cue.first == last or last <= cue.first < end:
                return self.norm.text(cue.first, cue.last)
        return ""

    def gap_negated(self, span: Span, literals: frozenset[str]) -> str:
        """A negation word inside the match that the phrase itself does not contain."""
        for i in range(span.first, span.last):
            token = self.tokens[i]
            negation = token in self.vocab.negation_words and token not in literals
            if negation and not self._masked(Span(i, i + 1, -1)):
                return token
        return ""

    def inherent_negation(self, span: Span, literals: frozenset[str]) -> bool:
        """True when the matched words themselves carry a negation ("can't", "no puedo")."""
        return any(
            t in self.vocab.negation_words and t in literals
            for t in self.tokens[span.first : span.last]
        )

    # --- context ------------------------------------------------------------------------

    def overlapping(self, spans: list[Span] | tuple[Span, ...], span: Span) -> Span | None:
        """The first of ``spans`` that shares a token with ``span``."""
        for other in spans:
            if other.first < span.last and span.first < other.last:
                return other
        return None

    def same_sentence(self, a: int, b: int) -> bool:
        """Whether tokens a and b are in the same sentence."""
        n = len(self.tokens)
        return 0 <= a < n and 0 <= b < n and self.sentence[a] == self.sentence[b]

    def same_clause(self, a: int, b: int) -> bool:
        """Whether tokens a and b are in the same clause."""
        n = len(self.tokens)
        return 0 <= a < n and 0 <= b < n and self.clause[a] == self.clause[b]

    def conditional(self, span: Span, action: bool, action_spans: list[Span]) -> bool:
        """Whether a finding is hypothetical ("I'll call 911 if it gets bad")."""
        cues = [c for c in self.conditionals if self.same_sentence(c.first, span.first)]
        if not cues:
            return False
        if action:
            return True
        if not any(c.first < span.first for c in cues):
            # "I can't breathe if I walk" describes a real symptom.
            return False
        sentence = self.sentence[span.first]
        for i, token in enumerate(self.tokens):
            if self.sentence[i] != sentence or span.first <= i < span.last:
                continue
            if token in self.vocab.consequence:
                return True
        return any(
            self.same_sentence(a.first, span.first) and a.first != span.first for a in action_spans
        )

    @cached_property
    def resolved(self) -> list[Span]:
        """'has not happened again', 'all gone now': an episode told as over."""
        return scan(self.vocab.resolved, self.norm)

    def resolved_after(self, span: Span) -> bool:
        """The finding's sentence goes on to say it is over, and nothing new follows that."""
        for marker in self.resolved:
            before = self.tokens[max(marker.first - 2, 0) : marker.first]
            if any(t in self.vocab.negation_words for t in before):
                continue  # "it has not gone away", "never cleared up": still there
            between = self.tokens[span.last : marker.first]
            # "se me durmió la pierna pero ya se me quitó": "but" does not end the episode.
            told = marker.first >= span.last and len(between) <= RESOLVED_WINDOW
            if told and not any(t in _FULL_STOPS for t in between):
                later = self.tokens[marker.last :]
                # "... went away but came back an hour ago": a return is news again.
                return not any(
                    r.first >= marker.last
                    and _FULL_STOPS.isdisjoint(later[: r.first - marker.last])
                    for r in self.recent_now
                )
        return False

    def recent(self, span: Span) -> bool:
        """A 'now' marker in the finding's clause: history/chronic markers do not apply.

        The "again" of "has not happened again" says it is over, not that it is back.
        """
        return any(
            self.same_clause(r.first, span.first)
            and not self.overlapping(self.resolved, r)
            and not self._only(r)
            for r in self.recent_now
        )

    def _only(self, marker: Span) -> bool:
        """A bare "just" that means "only" ("just weak legs like usual"), not "just now"."""
        after = self.tokens[marker.last : marker.last + 1]
        return (
            self.tokens[marker.first : marker.last] == ("just",)
            and bool(after)
            and (after[0] in ONLY_JUST)
        )

    def history(self, span: Span) -> str:
        """'distant', 'recent' (weeks) or '' for a finding."""
        if self.recent(span):
            return ""
        if self.resolved_after(span):
            return "distant"
        for cue in self.history_pre:
            if (
                span.first - CONTEXT_WINDOW <= cue.first < span.first
                and cue.last <= span.last
                and self.same_sentence(cue.first, span.first)
            ):
                return "distant"
        for kind, markers in (("distant", self.history_distant), ("recent", self.history_recent)):
            for marker in markers:
                before = self.tokens[max(marker.first - 3, 0) : marker.first]
                if compared(before):
                    continue  # "harder to breathe than last week": a change, not an old episode
                before = before[-2:]
                if any(t in STATED for t in before):
                    # "thinks it is 1970", "his mom who died 30 years ago": what the
                    # patient believes or who they ask for, not when the symptom happened.
                    continue
                after = span.last <= marker.first < span.last + CONTEXT_WINDOW
                if after and self.same_sentence(marker.first, span.first):
                    return kind
                if marker.last <= span.first and self.same_clause(marker.first, span.first):
                    return kind
                if marker.last <= span.first and self._conjoined(marker, span):
                    # "back in 2019 I passed out and couldn't talk": one subject, one episode
                    return kind
        return ""

    def _conjoined(self, marker: Span, span: Span) -> bool:
        """The finding follows a bare "and" that joins it to the marker's clause."""
        first = span.first
        return (
            2 <= first - marker.last <= CONTEXT_WINDOW + 2
            and self.tokens[first - 1] in ("and", "y")
            and self.same_clause(marker.first, first - 2)
        )

    def chronic_marker(self, span: Span) -> str:
        """A chronic marker ('always', 'as usual') in the finding's clause, or ''."""
        if self.recent(span):
            return ""
        for marker in self.chronic:
            if any(t in HABIT for t in self.tokens[max(marker.first - 3, 0) : marker.first]):
                continue  # "lost in the store he's been going to for years": the store's years
            if self.same_clause(marker.first, span.first) or self.same_clause(
                marker.first, span.last - 1
            ):
                return self.norm.text(marker.first, marker.last)
        for marker in self.chronic_after:
            # "hablo arrastrado, no es nuevo": a comment on what was just told
            between = self.tokens[span.last : marker.first]
            if span.last <= marker.first and len(between) <= 12 and not _FULL_STOPS & set(between):
                return self.norm.text(marker.first, marker.last)
        return ""

    def other_subject(self, span: Span) -> bool:
        """A pet or object is the subject ("my dog passed out", "phone died")."""
        return other_subject(self, span)
