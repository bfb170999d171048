"""Whose red flag it is when several people are named: clefts ("the one who fainted was my
dad"), the person whose status the message gives, and a writer who gives their own (pure)."""

from __future__ import annotations

import functools
import itertools

from service.core.triage.negation import Context
from service.core.triage.spans import Span, scan

ME = frozenset({"me", "i", "my", "mi", "yo"})
# The writer's own status after "Me?", "as for me", "yo sigo": the writer is the patient.
_OWN_STATUS = frozenset(
    {"better", "same", "worse", "weaker", "stronger", "1", "2", "3"}
    | {"mejor", "igual", "peor", "igualito", "mejorcito", "1", "2", "3"}
)
_THEY_ARE = frozenset({"is", "are", "was", "seems"})
_FINE = frozenset({"fine", "ok", "okay", "good", "alright", "better"})
_IN_CARE = frozenset(
    {"hospital", "hospitalized", "admitted", "airlifted", "flew", "ambulance", "er", "icu"}
    | {"internada", "internado", "hospitalizada", "hospitalizado", "ambulancia", "urgencias"}
)
_WRITER = frozenset({"me", "i", "yo", "my", "mi"})
_TO_OWN_STATUS = frozenset(
    {"?", ",", ":", "-", "am", "feel", "still", "the", "a", "bit", "little", "about", "much"}
    | {"sigo", "estoy", "ando", "me", "siento", "un", "poco", "mucho", "muy"}
    # "my weakness is same", "mis piernas están igual"
    | {"weakness", "legs", "arms", "strength", "is", "are", "debilidad", "piernas", "brazos"}
    | {"fuerza", "es", "de", "las", "los", "la", "estan"}
)
# Words between a person and a status phrase said of them ("Irene's about the same").
_HOLDING = frozenset(
    {"is", "are", "was", "seems", "still", "about", "the", "doing", "feeling", "s", "just"}
    | {"esta", "sigue", "anda", "se", "siente", "ha", "estado", "igual"}
)
_SHE_HE = frozenset({"she", "he", "ella", "el"})
# "the one who fainted was my dad", "la que se desmayó fue mi tía": the cleft names who.
_CLEFT_OPENINGS = (("the", "one", "who"), ("the", "one", "that"), ("el", "que"), ("la", "que"))
_CLEFT_FILLERS = frozenset((w,) for w in ("se", "anda", "esta", "is", "was", "got", "had"))
_CLEFT_VERBS = frozenset({"was", "is", "fue", "era", "es"})


class Whose:
    """The people of one message and whose red flag it is; mixed into ``scope.Scope``."""

    ctx: Context
    others: list[Span]
    family: list[Span]
    siblings: list[Span]
    children: list[Span]
    named: list[Span]

    def text(self, span: Span) -> str:
        """The words of a span."""
        return self.ctx.norm.text(span.first, span.last)

    @functools.cached_property
    def _holders(self) -> frozenset[str]:
        """Who the message gives a status of ("mi papá está igual", "Irene's about the same"):
        the people named just before a status phrase in its clause."""
        ctx = self.ctx
        holders = set()
        for status in scan(ctx.vocab.status, ctx.norm):
            for person in self._people:
                between = ctx.tokens[person.last : status.first]
                if person.last <= status.first and len(between) <= 3 and set(between) <= _HOLDING:
                    holders.add(self.text(person))
            before = ctx.tokens[max(status.first - 4, 0) : status.first]
            for k, token in enumerate(before):
                if token in _SHE_HE and set(before[k + 1 :]) <= _HOLDING:
                    holders.add(token)  # "she's doing better": the patient, unnamed
        return frozenset(holders)

    def _other_than_holder(self, span: Span) -> str:
        """A relative's red flag when the message gives the status of another person ("mi papá
        está igual. A mi tía se le torció la boca"): the patient is the one whose status it is."""
        holders = self._holders
        if not holders or not self._fine_again(span):
            return ""
        nearest = self._told_of(span, self._people)
        if nearest is None or self.text(nearest) in holders:
            return ""
        return self.text(nearest)

    def _not_the_patient(self, person: Span) -> str:
        """A person a cleft names, unless a relative who may be the patient: "the one who fainted
        was my dad" is dad's emergency, unless the status of someone else is given too."""
        if person in self.others:
            return self.text(person)
        if self.named or self._own_status_elsewhere(person) or self._holders - {self.text(person)}:
            return self.text(person)
        return ""

    def _relative_beside_own_status(self, span: Span) -> str:
        """A relative's red flag told by a writer who gives their own status in another sentence
        ("my son passed out giving blood, he's fine. Me? same"): the writer is the patient."""
        if not self._own_status_elsewhere(span) or not self._fine_again(span):
            return ""
        nearest = self._told_of(span, [*self.family, *self.siblings, *self.children])
        return self.text(nearest) if nearest is not None else ""

    def _told_of(self, span: Span, people: list[Span]) -> Span | None:
        """The nearest of these people before the finding in its sentence, unless the writer
        speaks of themselves in between ("my son came by, I fainted on the porch")."""
        ctx = self.ctx
        before = [
            p for p in people if p.last <= span.first and ctx.same_sentence(p.first, span.first)
        ]
        if not before:
            return None
        nearest = max(before, key=lambda p: p.last)
        if any(t in ME for t in ctx.tokens[nearest.last : span.first]):
            return None
        return nearest

    @functools.cached_property
    def _people(self) -> list[Span]:
        """Everyone the message names: relatives, children, siblings and others."""
        return [*self.family, *self.others, *self.children, *self.siblings]

    def _fine_again(self, span: Span) -> bool:
        """Someone is told fine again or in care after the finding ("he's fine now", "ya está
        bien", "está en el hospital", "they flew her"): a relative who passed out and won't
        wake is still an emergency, whoever writes."""
        after = self.ctx.tokens[span.last :]
        return any(t in _IN_CARE for t in after) or any(
            (a in _THEY_ARE and b in _FINE) or (a, b) == ("esta", "bien")
            for a, b in itertools.pairwise(after)
        )

    def _own_status_elsewhere(self, span: Span) -> bool:
        """The writer gives their own status ("Me? same", "yo sigo igual") outside the finding's
        sentence; "I'm scared" is no status."""
        ctx = self.ctx
        tokens = ctx.tokens
        for i, token in enumerate(tokens):
            if token not in _WRITER or ctx.same_sentence(i, span.first):
                continue
            for j in range(i + 1, min(i + 5, len(tokens))):
                if tokens[j] in _OWN_STATUS:
                    return True
                if tokens[j] not in _TO_OWN_STATUS:
                    break
        return False

    def _cleft_of(self, span: Span) -> str:
        """The person a cleft names ("the one who fainted was my dad", "my husband's the one who
        fainted"), or ''; "I'm the one who fainted" is the writer's own."""
        ctx = self.ctx
        tokens = ctx.tokens
        start = span.first
        while start > span.first - 2 and tokens[start - 1 : start] in _CLEFT_FILLERS:
            start -= 1  # "la que se desmayó", "el que anda confundido"
        opening = next(
            (o for o in _CLEFT_OPENINGS if tokens[max(start - len(o), 0) : start] == o), None
        )
        if opening is None:
            return ""
        named = self._people
        head = start - len(opening)
        verb = 1 if tokens[head - 1 : head] and tokens[head - 1] in _CLEFT_VERBS else 0
        before = [p for p in named if p.last == head - verb]  # "husband's" lost its "'s"
        if before:
            return self._not_the_patient(before[0])
        for k in range(span.last, min(span.last + 5, len(tokens))):
            if tokens[k] in _CLEFT_VERBS and ctx.same_sentence(k, span.first):
                person = next((p for p in named if k < p.first <= k + 2), None)
                return self._not_the_patient(person) if person is not None else ""
        return ""
