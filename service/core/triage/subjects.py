"""A pet or object as the subject of a finding ("my dog passed out", "the cow went down and
couldn't get up"), read over one message's Context (pure, no I/O)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from service.core.triage.spans import Span

if TYPE_CHECKING:
    from service.core.triage.negation import Context

_SUBJECTS = frozenset({"i", "my", "me", "he", "she", "his", "her", "we", "they", "you", ",", ";"})
# Words before a pet or object that make it the object of a verb, not the subject.
_OBJECT_OF = frozenset(
    {"at", "to", "with", "into", "toward", "towards", "con", "hacia"}
    # "got out of the car, my legs ...": a place one is in or leaves is no subject either
    | {"of", "in", "from", "onto", "inside", "en", "del", "desde"}
    # "like a heifer is standing on my chest": an animal in a simile is no subject
    | {"like", "como"}
)
# People who can take over a sentence that began with an animal ("the cow fell and mom ..."),
# and object pronouns: "the dog knocked her over" puts a person in the story.
_PEOPLE = frozenset(
    {"i", "me", "my", "myself", "we", "us", "our", "him", "her", "mom", "mum", "dad", "husband"}
    | {"wife", "hubby", "son", "daughter", "grandma", "grandpa", "yo", "mi", "nosotros", "mama"}
    | {"papa", "mami", "papi", "esposo", "esposa", "marido", "hijo", "hija", "abuela", "abuelo"}
)
_IT = frozenset({"she", "he", "it", "they"})
_THE_ONE = frozenset({"la", "el", "one", "los", "las"})
_WHO = frozenset({"que", "who", "that"})
_WAS = frozenset({"was", "is", "era", "es", "fue"})
ANIMAL_STORY = 16


def other_subject(ctx: Context, span: Span) -> bool:
    """A pet or object is the subject ("my dog passed out", "phone died")."""
    near = any(
        o.last <= span.first
        and (
            (span.first - o.last <= 4 and ctx.same_clause(o.first, span.first))
            # "the cow is down and won't get up": no new subject after "and"; but "mom
            # was feeding the chickens and collapsed" is mom's
            or (_shared_subject(ctx, o.last, span.first) and not _person_before(ctx, o))
        )
        # "staring at the tv remote like she has never seen one": the remote is no subject
        and not _object_of(ctx, o)
        for o in ctx.other_subjects
    )
    return near or any(
        (_animal_story(ctx, a, span) or _cleft(ctx, a, span)) and not _object_of(ctx, a)
        for a in ctx.animals
    )


def _person_before(ctx: Context, subject: Span) -> bool:
    """A person earlier in the clause of a pet or object: the person is the subject."""
    start = subject.first
    while start > 0 and ctx.same_clause(start - 1, subject.first):
        start -= 1
    before = ctx.tokens[start : subject.first]
    # "se me cayó una vaca": "me" after "se" is whom it befell, the animal is the subject
    return any(
        (t in _PEOPLE or t in _IT) and not (t == "me" and before[k - 1 : k] == ("se",))
        for k, t in enumerate(before)
    )


def _object_of(ctx: Context, subject: Span) -> bool:
    """The pet or object follows 'at', 'with', 'to': it is acted on, not the subject."""
    return subject.first > 0 and ctx.tokens[subject.first - 1] in _OBJECT_OF


def _cleft(ctx: Context, subject: Span, span: Span) -> bool:
    """'the one who couldn't stand was the cow': the animal named after the finding."""
    tokens = ctx.tokens
    opening = tokens[max(span.first - 3, 0) : span.first]
    cleft = any(a in _THE_ONE and b in _WHO for a, b in itertools.pairwise(opening))
    between = tokens[span.last : subject.first]
    return (
        cleft
        and subject.first >= span.last
        and ctx.same_sentence(span.first, subject.first)
        and any(t in _WAS for t in between)
        and len(between) <= 4
    )


def _animal_story(ctx: Context, subject: Span, span: Span) -> bool:
    """The sentence goes on about the animal ("lost a ewe, she went down and couldn't get
    up") with no person named or acted on in between."""
    if subject.last > span.first or span.first - subject.last > ANIMAL_STORY:
        return False
    if not ctx.same_sentence(subject.first, span.first):
        return False
    between = ctx.tokens[subject.last : span.last]
    if between[:1] in (("de",), ("of",), ("del",)):
        between = between[3:]  # "el perico de mi abuela": whose animal, not a new subject
    if any(t in _PEOPLE for t in between):
        return False
    opens = subject.first == 0 or not ctx.same_clause(subject.first - 1, subject.first)
    # "mom was feeding the chickens and collapsed": an animal inside the clause is an
    # object; only a pronoun ("lost a ewe, she went down") carries the story to it.
    return opens or any(t in _IT for t in between)


def _shared_subject(ctx: Context, start: int, end: int) -> bool:
    """Tokens start..end-1 are a short verb phrase and "and": the subject carries over."""
    between = ctx.tokens[start:end]
    clean = not any(ctx.hard[i] or ctx.tokens[i] in _SUBJECTS for i in range(start, end))
    return 0 < len(between) <= 7 and between[-1] in ("and", "y") and clean
