"""The text catalogue: every word the service says to patients and staff, per language.

Texts live in `en.json` and `es.json` beside this file, not in code. Placeholders use
str.format names: {clinic}, {emergency}, {patient}, {escalation}, {time}.

Every text is an SMS except the spoken ones (a key with a part `voice` or `voice_…`).
SMS texts must fit two segments (tests/core/test_segments.py counts them): Spanish is
worded without á, í, ó, ú, which GSM-7 lacks, and names (the clinic's, initials) go into
an SMS folded to basic GSM-7, so that "Clínica" cannot turn every message into UCS-2.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from service.core.segments import fold_to_gsm7

LANGUAGES = ("en", "es")
# Names put into an SMS, folded to GSM-7 (one accented letter would make it UCS-2).
_NAMES = ("clinic", "initials")


@cache
def _catalogue(language: str) -> dict[str, str]:
    raw = files(__package__).joinpath(f"{language}.json").read_text(encoding="utf-8")
    loaded: dict[str, str] = json.loads(raw)
    return loaded


def text(key: str, language: str = "en", **values: Any) -> str:
    """The text `key` in `language` (English when unknown), with placeholders filled in."""
    lang = language if language in LANGUAGES else "en"
    template = _catalogue(lang).get(key) or _catalogue("en")[key]
    if not is_spoken(key):
        for name in _NAMES:
            if name in values:
                values[name] = fold_to_gsm7(str(values[name]))
    return template.format(**values)


def is_spoken(key: str) -> bool:
    """True for a text read out in a call (no SMS segment budget applies)."""
    return any(part == "voice" or part.startswith("voice_") for part in key.split("."))


def keys(language: str = "en") -> frozenset[str]:
    """Every key of the catalogue in `language`."""
    return frozenset(_catalogue(language))
