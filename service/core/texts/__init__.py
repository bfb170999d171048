"""The text catalogue: every word the service says to patients and staff, per language.

Texts live in `en.json` and `es.json` beside this file, not in code. Placeholders use
str.format names: {clinic}, {emergency}, {patient}, {escalation}, {time}.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

LANGUAGES = ("en", "es")


@cache
def _catalogue(language: str) -> dict[str, str]:
    raw = files(__package__).joinpath(f"{language}.json").read_text(encoding="utf-8")
    loaded: dict[str, str] = json.loads(raw)
    return loaded


def text(key: str, language: str = "en", **values: Any) -> str:
    """The text `key` in `language` (English when unknown), with placeholders filled in."""
    lang = language if language in LANGUAGES else "en"
    template = _catalogue(lang).get(key) or _catalogue("en")[key]
    return template.format(**values)


def keys(language: str = "en") -> frozenset[str]:
    """Every key of the catalogue in `language`."""
    return frozenset(_catalogue(language))
