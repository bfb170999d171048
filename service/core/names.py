"""Names that go into texts: a clinic's name is part of every SMS, so it has a limit."""

from __future__ import annotations

# The segment budgets (tests/core/test_segments.py) are counted with a name this long.
CLINIC_NAME_MAX_LENGTH = 30


def valid_clinic_name(raw: str) -> str:
    """The clinic name trimmed; ValueError when it is empty, too long or holds a line break."""
    name = " ".join(raw.split())
    if not name:
        raise ValueError("must not be empty")
    if len(name) > CLINIC_NAME_MAX_LENGTH:
        raise ValueError(
            f"at most {CLINIC_NAME_MAX_LENGTH} characters (it starts every SMS); got {len(name)}"
        )
    return name
