"""Whose words and which mood: another person, a story, a question, typing (pure, no I/O).

The methods of ``Scope`` decide whether a finding or a status word read by ``compose.Reading``
is the patient's own report: "my neighbour passed out" is someone else's, "what do I do if my
arm goes numb" is a question, "my texts are gibberish" is about typing.
"""

from __future__ import annotations

import itertools

from service.core.triage.negation import Context
from service.core.triage.spans import Span
from service.core.triage.whose import ME, Whose

SCOPE_WINDOW = 10  # another person or a question governs a finding this far after it
# The patient's own voice between another person and the finding ("my sister says MY speech
# is slurred"); "me" is left out: "the lady next to me collapsed" is about the lady.
# Spanish drops the pronoun: "mi doña dice que estoy hablando raro" is the patient's own speech.
_FIRST_PERSON = frozenset(
    {"i", "my", "yo", "mi"} | {"estoy", "hablo", "tengo", "ando", "sigo", "siento", "puedo"}
)
# A pronoun that keeps a story about someone else going ("they took him in").
_THIRD = frozenset(
    {"him", "her", "he", "she", "his", "they", "them", "their"}
    | {"le", "les", "lo", "ella", "ellos", "ellas"}
)
# "I think" and "yo creo que" hedge what the writer saw; they do not make it the writer's own.
_HEDGES = frozenset({"think", "guess", "bet", "reckon", "suppose", "creo", "pienso", "supongo"})
# Someone shouting in their own voice: an "I" right after the verb opens their words ("he
# keeps screaming I can't breathe at his game"); "yelling at me, I can't breathe" does not.
_SHOUTS = frozenset(
    {"screaming", "screams", "screamed", "yelling", "yells", "yelled", "shouting", "shouts"}
    | {"shouted", "gritando", "grita", "grito", "gritaba"}
)
_HER_THEM = frozenset({"la", "lo", "las", "los"})
_WE = frozenset({"we", "us", "our", "nosotros"})
_POSSESSIVE = frozenset({"my", "his", "her", "our", "their", "your", "mi", "su", "tu"})
_ASKING = frozenset({"is", "does", "do", "could", "can", "would", "es", "sera", "puede"})
_ASKED = frozenset({"that", "it", "this", "eso", "esto"})
_OF = frozenset({"of", "de", "del"})
_VIEWING = frozenset({"watched", "watching", "saw", "seen", "read", "heard", "viendo", "vi"})
_KIN = frozenset(
    (w,) for w in ("tio", "tia", "primo", "prima", "uncle", "aunt", "cousin", "cunado", "cunada")
)
# "another patient on my route had a stroke": "my" after a preposition is not the patient's
# voice.
_IN_MY = _OF | {"on", "in", "at", "from", "with", "near", "en", "con", "por", "para"}
_TYPISTS = frozenset(
    {"son", "daughter", "wife", "husband", "grandson", "granddaughter", "nurse", "he", "she"}
    | {"hijo", "hija", "nieto", "nieta", "esposa", "esposo", "enfermera"}
)
_TYPING = frozenset({"typing", "texting", "typed", "texted", "writing", "escribiendo"})
_OWN_VERBS = frozenset({"am", "feel", "felt", "was", "estoy", "sigo", "me", "siento"})
# Spanish clitics before "me" make it the subject's own ("se me trababa", "no me sale").
_CLITIC_ME = frozenset({"se", "no", "ya", "que"})
_LAUGHS = frozenset({"lol", "haha", "hahaha", "jaja", "jajaja", "lmao", "jeje", "xd"})
_IN_LAW = frozenset({"in", "politico", "politica"})


def overlaps(span: Span, others: list[Span]) -> bool:
    """Whether a span shares a token with any of ``others``."""
    return any(o.first < span.last and span.first < o.last for o in others)


def _quoted(tokens: tuple[str, ...]) -> bool:
    """Tokens that open a shouted quote ("screaming I can't ...") and do not leave it by "me"."""
    for i, (verb, first) in enumerate(itertools.pairwise(tokens)):
        if verb in _SHOUTS and first in ("i", "yo"):
            return "me" not in tokens[i + 1 :]
    return False


class Scope(Whose):
    """Another person, a story, a question or typing governing a word of the message."""

    ctx: Context
    others: list[Span]
    patients: list[Span]
    cared_for: list[Span]
    household: list[Span]
    siblings: list[Span]
    children: list[Span]
    named: list[Span]
    onsets: list[Span]
    family: list[Span]
    writing: list[Span]
    stage: list[Span]
    questions: list[Span]
    questions_after: list[Span]

    def asked(self, position: int) -> bool:
        """A word inside a question about it ("is that the same thing I have?")."""
        ctx = self.ctx
        tokens = ctx.tokens
        end = position
        while end < len(tokens) and ctx.same_sentence(position, end):
            end += 1
        if end >= len(tokens) or tokens[end] != "?":
            return False
        start = position
        while start > 0 and ctx.same_sentence(start - 1, position):
            start -= 1
        before = tokens[start:position]
        return any(a in _ASKING and b in _ASKED for a, b in itertools.pairwise(before))

    def told_of_other(self, position: int) -> bool:
        """A word in a clause about someone else ("my neighbour is worse")."""
        ctx = self.ctx
        for person in [*self.others, *self.family]:
            near = ctx.same_clause(person.first, position) or (
                # "Mi hermano dice que el carro ... quedó sin fuerza. Yo sigo igual": the
                # whole sentence is his when the patient speaks of themselves elsewhere.
                ctx.same_sentence(person.first, position) and self._patient_speaks()
            )
            if person.last <= position and near:
                between = ctx.tokens[person.last : position]
                if not any(t in _FIRST_PERSON or t == "me" for t in between):
                    return person in self.others or self._patient_speaks()
        return False

    def _patient_speaks(self) -> bool:
        """The patient speaks of themselves ("I'm the same"): relatives are then others."""
        tokens = self.ctx.tokens
        return any(a in ("i", "yo") and b in _OWN_VERBS for a, b in itertools.pairwise(tokens))

    def other_person(self, span: Span) -> str:
        """Someone who is not the patient (or a story) governs the finding, or ''."""
        ctx = self.ctx
        relative = self._other_than_named(span)
        if relative:
            return relative
        for other in self.others:
            if other.first >= span.first or span.first - other.last > SCOPE_WINDOW:
                continue
            if not ctx.same_sentence(other.first, span.first):
                continue
            between = ctx.tokens[other.last - 1 : span.first]
            if any(
                (
                    t in _FIRST_PERSON
                    and before not in _IN_MY
                    and not self._not_own(between, k)
                    and between[k + 1 : k + 2] not in _KIN  # "es mi tío Paco, que ..."
                )
                or (t == "me" and before in _CLITIC_ME)
                for k, (before, t) in enumerate(itertools.pairwise(between), start=1)
            ):
                # "my neighbour drove me in, I can't feel my leg"; but "la amiga de mi mamá"
                # is the friend's.
                continue
            shouted = _quoted(ctx.tokens[other.last : span.first])
            if any(t in ME for t in ctx.tokens[span.first : span.last]) and not shouted:
                continue  # "my neighbour found me on the floor"
            if overlaps(span, self.patients) and not shouted:
                continue  # "our daughter found dad on the floor"
            if any(
                other.last <= f.first
                and f.last <= span.first
                and not overlaps(f, self.others)
                and not any(t in _OF for t in ctx.tokens[max(f.first - 2, 0) : f.first])
                # "my sister's husband": the possessive was dropped, the husband is hers
                and not (f.first == other.last and ctx.tokens[other.first] in _POSSESSIVE)
                for f in self.family
            ):
                continue  # "during the game on TV grandma stopped ...": the nearer one is hers
            if span.first > other.last and any(
                p.last < other.first and ctx.same_sentence(p.first, other.first)
                for p in self.patients
                if p.last < other.first - 1 or ctx.tokens[other.first] not in ("on", "from")
                # "I watched a tiktok about a lady whose face drooped": the lady's
                if not (self.text(p) in ME and ctx.tokens[other.first] in _VIEWING)
            ):
                continue  # "my husband is talking to his brother who passed": the husband
            if any(ctx.same_sentence(c.first, other.first) for c in self.cared_for):
                continue  # "my mother in law who lives with us is slurring"
            if overlaps(other, self.siblings) and self._sibling_cared_for(other):
                continue  # "my brother answers everything backwards since an hour ago"
            if overlaps(other, self.household) and not self._owned_by_other(other):
                # "a mi suegra se le fue el mundo": the household, so the patient; but "mi
                # suegra dice que a su hermana ..." is about the sister.
                later = (o for o in self.others if other.last <= o.first < span.first)
                sister = next((o for o in later if not overlaps(o, self.household)), None)
                if sister is not None:
                    return self.text(sister)
                continue
            return self.text(other)
        return (
            self._cleft_of(span)
            or self._other_than_holder(span)
            or self._relative_beside_own_status(span)
            or self._story_of(span)
        )

    def _other_than_named(self, span: Span) -> str:
        """A relative other than the one the writer named as the patient ("writing for my mom
        (she's the patient). My dad passed out"): that relative's red flag, not the patient's."""
        if not self.named:
            return ""
        named = {
            self.text(f)
            for f in self.family
            if any(n.first <= f.first < n.last or 0 <= n.first - f.last <= 3 for n in self.named)
        }
        ctx = self.ctx
        before = [
            f
            for f in self.family
            if f.last <= span.first and ctx.same_sentence(f.first, span.first)
        ]
        if not named or not before:
            return ""
        nearest = max(before, key=lambda f: f.last)
        between = ctx.tokens[nearest.last : span.first]
        if self.text(nearest) in named or any(t in ME for t in between):
            return ""
        return self.text(nearest)

    @staticmethod
    def _not_own(between: tuple[str, ...], k: int) -> bool:
        """The first person at ``between[k]`` hedges ("I think") or is a shouted quote."""
        after = between[k + 1 : k + 2]
        return bool(after and after[0] in _HEDGES) or _quoted(between[: k + 1])

    def _sibling_cared_for(self, other: Span) -> bool:
        """A brother or sister told with a new onset, in earnest, by someone who says nothing
        of themselves: most likely the patient, cared for by the writer."""
        tokens = self.ctx.tokens
        if tokens[other.last : other.last + 1] and tokens[other.last] in _IN_LAW:
            return False  # "my sister in law", "mi hermano politico"
        if any(t in _LAUGHS for t in tokens) or self._patient_speaks():
            return False
        return bool(self.onsets)

    def _owned_by_other(self, other: Span) -> bool:
        """'my neighbor's mother in law': a relative of someone else."""
        return any(o is not other and o.first < other.first < o.last for o in self.others) or any(
            o.last <= other.first and other.first - o.last <= 1 for o in self.others
        )

    def _story_of(self, span: Span) -> str:
        """The person a story is about, carried on by pronouns ("... they took him in"), or ''."""
        before = [o for o in self.others if o.last <= span.first]
        other = max(before, key=lambda o: o.last) if before else None
        if other is None or overlaps(other, self.household):
            return ""
        if overlaps(other, self.siblings) and self._sibling_cared_for(other):
            return ""
        ctx = self.ctx
        if any(
            other.last <= c.first < span.first and not self._theirs(c)
            for c in [*self.cared_for, *self.family]
        ):
            return ""
        between = ctx.tokens[other.last : span.last]
        own = [
            t
            for k, t in enumerate(between)
            if (t in ME or t in _WE) and not self._not_own(between, k)
        ]
        # "yo creo que se desmayó": a hedge, and "se" before the finding is third person.
        third = (
            any(t in _THIRD for t in between)
            or ctx.tokens[span.first - 1 : span.first] == ("se",)
            # "se la llevaron en ambulancia": "la" after "se" is her, not an article
            or any(a == "se" and b in _HER_THEM for a, b in itertools.pairwise(between))
        )
        if own or not third:
            return ""  # the patient speaks of themselves again, or nothing points back
        opening = [i for i in range(other.first) if ctx.same_sentence(i, other.first)]
        if not ctx.same_sentence(other.first, span.first) and any(
            ctx.tokens[i] in ("i", "yo") for i in opening
        ):
            return ""  # "I can't lift my grandson anymore. Her speech ...": no story of him
        return self.text(other)

    def _theirs(self, relative: Span) -> bool:
        """A relative of the person in the story ("his wife said he couldn't get a word out")."""
        before = self.ctx.tokens[max(relative.first - 1, 0) : relative.first]
        return before in (("his",), ("her",), ("their",))

    def about_writing(self, span: Span) -> str:
        """Typing, or speaking on a stage, in the sentence of a speech finding ("my texts are
        gibberish", "my words would not come out in front of the boss")."""
        tokens = self.ctx.tokens
        for marker in self.writing:
            typist = tokens[max(marker.first - 3, 0) : marker.first]
            verb = tokens[marker.first] in _TYPING
            if verb and (
                tokens[marker.last : marker.last + 1] in (("for",), ("this",))
                or any(t in _TYPISTS for t in typist)
            ):
                # "my son is typing for me", "my daughter is typing this": someone writes for
                # the patient, whose speech is still spoken.
                continue
            if self.ctx.same_sentence(marker.first, span.first):
                return self.text(marker)
        ctx = self.ctx
        for marker in self.stage:
            # "couldn't get my words out presenting to the boss": stage fright, not speech loss;
            # but "... and now my words come out wrong" is still going on.
            still = any(ctx.same_sentence(r.first, span.first) for r in ctx.recent_now)
            if ctx.same_sentence(marker.first, span.first) and not still:
                return self.text(marker)
        return ""

    def in_question(self, span: Span) -> bool:
        """The finding's sentence ends with a question mark ("call you or 911?")."""
        ctx = self.ctx
        end = span.last
        while end < len(ctx.tokens) and ctx.same_sentence(span.first, end):
            end += 1
        return end < len(ctx.tokens) and ctx.tokens[end] == "?"

    def told_after_question(self, span: Span, onsets: list[Span], worse: list[Span]) -> str:
        """An onset or a worsening told in a later sentence that is no question ("Is it normal
        that I'm sipping air? It's gotten worse since this morning"), or ''."""
        ctx = self.ctx
        for marker in sorted([*onsets, *worse], key=lambda m: m.first):
            if marker.first < span.last or ctx.same_sentence(marker.first, span.first):
                continue
            if not self.in_question(marker):
                return self.text(marker)
        return ""

    def question(self, span: Span) -> str:
        """A question about a symptom ("what do I do if ...", "is it normal ...") or ''."""
        for cue in self.questions:
            # Before the finding, or inside a composed one ("said watch for slurred").
            near = cue.first < span.last and span.first - cue.last <= SCOPE_WINDOW
            near = near and not (cue.first <= span.first < cue.last)
            if near and self.ctx.same_sentence(cue.first, span.first):
                return self.text(cue)
        for cue in self.questions_after:  # "is confusion a side effect of ...?"
            if cue.first >= span.last and self.ctx.same_sentence(cue.first, span.last - 1):
                return self.text(cue)
        return ""
