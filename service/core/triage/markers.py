"""Words around a time marker that change what it says: a habit, a stated fact, "only",
a comparison (pure, no I/O)."""

from __future__ import annotations

import itertools

HABIT = frozenset(
    {"going", "gone", "lived", "living", "known", "driving", "shopping", "visiting", "married"}
    | {"used", "using", "owned", "had", "cooked", "made", "driven", "played"}
)

STATED = frozenset(
    {"is", "es", "era", "estamos", "died", "away", "retired", "murio", "fallecio", "jubilo"}
    # "y vive ahí hace 40 años": how long someone has lived or been married somewhere
    | {"lived", "lives", "living", "married", "vive", "viven", "vivimos", "casados"}
    # "quiere ir a trabajar y está jubilado hace años": when the routine ended
    | {"jubilado", "jubilada", "retirado", "retirada", "sold", "closed", "cerro"}
)

_MORE = frozenset({"mas", "menos", "peor", "mejor"})

# Words after "just" that make it "only": a degree, not a time.
ONLY_JUST = frozenset(
    {"a", "weak", "tired", "the", "some", "my", "little", "bit", "sore", "stiff", "achy"}
    | {"wobbly", "shaky", "slow", "same", "normal", "usual"}
)


def compared(before: tuple[str, ...]) -> bool:
    """A time marker after "than" or "más que": what the finding is compared with."""
    pairs = itertools.pairwise(before)
    return "than" in before[-2:] or any(a in _MORE and b in ("que", "q") for a, b in pairs)
