"""Text normalisation: the one step that turns an SMS into comparable tokens.

``normalise(text, language)`` folds case and accents, expands contractions, squeezes
elongated letters ("sooo", "numbbbb"), applies the language's shorthand/misspelling map and
splits the text into tokens (words, numbers and the punctuation that bounds clauses).
The language only chooses which shorthand map applies ("bn" is "been" in English and "bien"
in Spanish); both languages are always normalised and scanned by the classifier.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass

from service.core.triage.vocab import Language, Vocabulary, vocabulary

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "′": "'"})
# Newlines and similar separators end a sentence just like a full stop does.
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\u0085]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
_CONTRACTIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\b(?:can't|cant't|cann't|can't't)", "cannot"),
        (r"\bwon't\b", "will not"),
        (r"\bain't\b", "is not"),
        (r"n't\b", " not"),
        (r"\bi'm\b", "i am"),
        (r"'re\b", " are"),
        (r"'ve\b", " have"),
        (r"'ll\b", " will"),
        (r"\b(i|you|he|she|we|they)'d\b", r"\1 would"),
        (r"\b(it|he|she|that|there|what|where|who|here)'s\b", r"\1 is"),
        (r"'s\b", ""),
        (r"'", ""),
    )
)
_TOKEN = re.compile(r"[^\W_]+|[.,;:!?/&=-]")
# "2pm", "10min", "3hrs": a number glued to its unit is two words ("since 2 pm").
_GLUED_UNIT = re.compile(r"(?<=\d)(?=(?:am|pm|min|mins|hr|hrs|h|oclock|ish|hs|hora|horas)\b)")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_ELONGATED = re.compile(r"([a-z])\1{2,}")
_PUNCT = frozenset(".,;:!?/&=-")


@dataclass(frozen=True)
class Normalised:
    """Normalised text: tokens, and the same tokens joined with spaces for regex scanning."""

    tokens: tuple[str, ...]
    padded: str  # " tok tok tok " - every token has a space on each side
    starts: tuple[int, ...]  # offset of each token in ``padded``
    token_set: frozenset[str]

    def token_span(self, start: int, end: int) -> tuple[int, int]:
        """Token range [first, last+1) covered by the character range [start, end)."""
        return bisect.bisect_left(self.starts, start), bisect.bisect_left(self.starts, end)

    def text(self, first: int, last: int) -> str:
        """The tokens first..last-1 joined with spaces."""
        return " ".join(self.tokens[first:last])


def strip_accents(text: str) -> str:
    """Remove combining marks (á -> a, ñ -> n, ü -> u)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _one_slip(token: str, targets: frozenset[str]) -> str:
    """The one key word ``token`` is a letter away from (dropped, doubled or swapped), or ''.

    Only for longer words, and only toward the language's ``typo_targets`` ("breahte",
    "swalow", "paralized"), so that ordinary words are never bent into symptoms.
    """
    if len(token) < 5 or not targets:
        return ""
    found = set()
    for i in range(len(token)):
        dropped = token[:i] + token[i + 1 :]  # a letter too many
        if dropped in targets:
            found.add(dropped)
        if i + 1 < len(token):
            swapped = token[:i] + token[i + 1] + token[i] + token[i + 2 :]
            if swapped in targets:
                found.add(swapped)
    for target in targets:  # a letter missing
        if len(target) == len(token) + 1 and any(
            target[:i] + target[i + 1 :] == token for i in range(len(target))
        ):
            found.add(target)
    return found.pop() if len(found) == 1 else ""


_DOUBLED = re.compile(r"([a-z])\1")


def _respell(token: str, vocab: Vocabulary) -> str:
    """A known word hidden by a doubled letter ("armm") or a sound-alike spelling ("boka",
    "braso": the language's ``respell`` pairs), or ''. Unknown words only."""
    known = vocab.lexicon
    for match in _DOUBLED.finditer(token):
        single = token[: match.start()] + token[match.start() + 1 :]
        if single in known or single in vocab.shorthand:
            return single
    for wrong, right in vocab.respell:
        if wrong in token:
            candidate = token.replace(wrong, right)
            if candidate in known or candidate in vocab.shorthand:
                return candidate
    return ""


def _unelongate(token: str, vocab: Vocabulary) -> str:
    """Squeeze runs of 3+ letters, preferring the spelling the vocabulary knows."""
    if not _ELONGATED.search(token):
        return token
    single = _ELONGATED.sub(r"\1", token)
    double = _ELONGATED.sub(r"\1\1", token)
    if single in vocab.lexicon:
        return single
    if double in vocab.lexicon:
        return double
    return single


def _base_tokens(text: str) -> tuple[str, ...]:
    """Language-independent tokens: case folded, contractions expanded, accents kept."""
    text = unicodedata.normalize("NFKC", text)
    text = _LINE_BREAKS.sub(" . ", text)
    text = _CONTROL.sub(" ", text).casefold().translate(_APOSTROPHES)
    text = _GLUED_UNIT.sub(" ", text)
    if "'" in text:
        for pattern, replacement in _CONTRACTIONS:
            text = pattern.sub(replacement, text)
    tokens: list[str] = []
    for raw in _TOKEN.findall(text):
        if raw in _PUNCT and tokens and tokens[-1] == raw:
            continue  # "!!!" or "..." carries no more meaning than one mark
        tokens.append(raw)
    return tuple(tokens)


@functools.lru_cache(maxsize=16384)
def _map_token(language: Language, token: str) -> tuple[str, ...]:
    """One base token in a language: accent map, accents, elongation, shorthand."""
    vocab = vocabulary(language)
    mapped = vocab.pre_accent_map.get(token)
    if mapped is not None:
        return tuple(mapped.split())
    folded = _NON_WORD.sub("", strip_accents(token))
    if not folded:
        return ()
    folded = _unelongate(folded, vocab)
    unknown = folded not in vocab.shorthand and folded not in vocab.lexicon
    if unknown and len(folded) >= 6 and folded.endswith("in"):  # not "thin" -> "thing"
        # A dropped "g" ("slurrin", "breathin"), when the vocabulary knows the -ing word.
        full = folded + "g"
        if full in vocab.shorthand or full in vocab.lexicon:
            folded = full
    if folded not in vocab.shorthand and folded not in vocab.lexicon:
        folded = _respell(folded, vocab) or _one_slip(folded, vocab.typo_targets) or folded
    return tuple(vocab.shorthand.get(folded, folded).split())


def normalise(text: str, language: Language = "en") -> Normalised:
    """Normalise an SMS for matching against the given language's vocabulary."""
    vocab = vocabulary(language)
    if vocab.symbols is not None and vocab.symbols.search(text):
        text = vocab.symbols.sub(lambda m: f" {vocab.symbol_map[m.group(0)]} ", text)
    words: list[str] = []
    for token in _base_tokens(text):
        if token in _PUNCT:
            words.append(token)
        else:
            words.extend(_map_token(language, token))
    padded = " " + " ".join(words) + " "
    for source, target in vocab.phrase_map:
        if f" {source} " in padded:
            padded = padded.replace(f" {source} ", f" {target} ")
    tokens = tuple(padded.split())
    padded = " " + " ".join(tokens) + " "
    starts: list[int] = []
    offset = 1
    for token in tokens:
        starts.append(offset)
        offset += len(token) + 1
    return Normalised(tokens, padded, tuple(starts), frozenset(tokens))
