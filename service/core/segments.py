"""SMS segment counting: what a text costs, as carriers and Twilio bill it.

A text that every character of fits the GSM 03.38 alphabet (its extension table included:
`€ [ ] { } ^ ~ | \\` take two septets each) goes as GSM-7: 160 septets in one segment, 153
per segment once concatenated (7 are taken by the concatenation header). One character
outside it (á, í, ó, ú, an emoji, ...) makes the whole message UCS-2: 70 UTF-16 code units
in one segment, 67 per segment concatenated. The codec is the `gsm0338` package; this module
only counts, so it is pure.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67
_CODEC = "gsm03.38"
_ESCAPE = "\x1b"


@dataclass(frozen=True)
class SegmentCount:
    """How a text is encoded, its length in that encoding's units and its segments."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int
    segments: int


def gsm7_units(text: str) -> int | None:
    """Septets of `text` in GSM-7, or None when some character is not in the alphabet."""
    if _ESCAPE in text:
        return None  # the escape itself is no character a text may hold
    try:
        return len(text.encode(_CODEC))
    except UnicodeEncodeError:
        return None


def count_segments(text: str) -> SegmentCount:
    """The encoding and number of segments `text` takes as one SMS."""
    septets = gsm7_units(text)
    if septets is not None:
        single, multi, encoding, units = GSM7_SINGLE, GSM7_MULTI, "GSM-7", septets
    else:
        # UTF-16 code units: a character beyond the BMP (an emoji) costs two.
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = UCS2_SINGLE, UCS2_MULTI, "UCS-2"
    segments = 1 if units <= single else math.ceil(units / multi)
    return SegmentCount(encoding=encoding, units=units, segments=segments)


def non_gsm7(text: str) -> list[str]:
    """The characters of `text` that force UCS-2, in order of first appearance."""
    seen: list[str] = []
    for char in text:
        if char not in seen and gsm7_units(char) is None:
            seen.append(char)
    return seen


def fold_to_gsm7(text: str) -> str:
    """`text` in the basic GSM-7 alphabet: accents dropped where needed, others replaced.

    Used for names put into texts (a clinic's name): "Clínica" becomes "Clinica", so one
    accented name cannot turn every message into UCS-2. Extension-table characters become
    their plain look-alikes so that each character costs one septet, and what has no
    look-alike becomes "?".
    """
    out: list[str] = []
    for char in text:
        if _basic(char):
            out.append(char)
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        plain = "".join(_LOOKALIKE.get(c, c) for c in plain)
        out.append(plain if plain and all(_basic(c) for c in plain) else "?")
    return "".join(out)


_LOOKALIKE = {
    "[": "(",
    "]": ")",
    "{": "(",
    "}": ")",
    "~": "-",
    "^": "'",
    "|": "/",
    "\\": "/",
    "€": "E",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "`": "'",
}


def _basic(char: str) -> bool:
    """True for a character of the basic GSM-7 alphabet (one septet, no escape)."""
    return gsm7_units(char) == 1 and char not in "\r\n\x0c"
