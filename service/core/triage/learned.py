"""The learned second reader: a small text classifier that may only ADD an emergency.

The rules score 100% on every set they were tuned on but about 91% emergency recall on sets
written fresh (issue #7). A logistic regression over character and word n-grams, trained on
the same labelled sets by `checkin triage train`, reads the wording the rules have not seen.
classify() asks it only when the rules did not say emergency, and what it adds is flagged for
a person to read.

This module reproduces scikit-learn's inference with the standard library (no numpy, no
scikit-learn at run time): the FeatureUnion of two TfidfVectorizer (char_wb 2-5 with
sublinear tf, word 1-2 with the default token pattern), each L2-normalised, then the logistic
regression's sigmoid(w.x + b). The weights are read from vocab/learned.json on first use.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import chain
from operator import mul
from typing import Any

DATA_FILE = "vocab/learned.json"
FORMAT = 1
CHAR_NGRAMS = (2, 5)
WORD_NGRAMS = (1, 2)
# scikit-learn's default token_pattern for the word vectorizer.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SPACES = re.compile(r"\s+")
# scikit-learn collapses runs of whitespace before char_wb n-grams (its `_white_spaces`).
_RUNS = re.compile(r"\s\s+")


def normalise_text(text: str) -> str:
    """Lower-case, NFKD, combining marks removed, whitespace collapsed (training and reading)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare)


def char_wb_ngrams(document: str) -> list[str]:
    """scikit-learn's `_char_wb_ngrams`: n-grams inside words, padded with a space each side."""
    return list(chain.from_iterable(map(_word_char_ngrams, _RUNS.sub(" ", document).split())))


@lru_cache(maxsize=8192)  # replies reuse their words; this is most of the n-gram cost
def _word_char_ngrams(word: str) -> tuple[str, ...]:
    low, high = CHAR_NGRAMS
    padded = f" {word} "
    length = len(padded)
    grams: list[str] = []
    for n in range(low, high + 1):
        if n >= length:  # a word no longer than n is counted once, and longer n-grams stop
            grams.append(padded)
            break
        grams.extend([padded[i : i + n] for i in range(length - n + 1)])
    return tuple(grams)


def word_ngrams(document: str) -> list[str]:
    """scikit-learn's word analyzer: `(?u)\\b\\w\\w+\\b` tokens, then their 1- and 2-grams."""
    tokens = _TOKEN.findall(document)
    low, high = WORD_NGRAMS
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high + 1, len(tokens) + 1)):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


class _SublinearTf(dict[int, float]):
    """count -> 1 + log(count), computed once per count."""

    def __missing__(self, count: int) -> float:
        tf = self[count] = 1.0 + math.log(count)
        return tf


_TF = _SublinearTf()


@dataclass(frozen=True)
class Vectorizer:
    """One vectorizer's vocabulary, with what inference needs precomputed per n-gram."""

    idf_squared: Mapping[str, float]
    idf_weight: Mapping[str, float]  # idf times the n-gram's weight in the regression

    def _present(self, grams: list[str]) -> tuple[list[str], list[float], float]:
        """The known n-grams, their sublinear tf (1 + log count), and the L2 norm of tf * idf."""
        counts = Counter(grams)
        known = list(counts.keys() & self.idf_weight.keys())
        # map() over C-level lookups: this runs for every free-text reply (p99 < 1 ms).
        tfs = list(map(_TF.__getitem__, map(counts.__getitem__, known)))
        squares: float = sum(map(mul, map(mul, tfs, tfs), map(self.idf_squared.__getitem__, known)))
        return known, tfs, math.sqrt(squares)

    def score(self, grams: list[str]) -> float:
        """w.x for these n-grams: sublinear tf, idf, L2-normalised, dotted with the weights."""
        known, tfs, norm = self._present(grams)
        if not known:
            return 0.0
        dot: float = sum(map(mul, tfs, map(self.idf_weight.__getitem__, known)))
        return dot / norm

    def shares(self, grams: list[str]) -> dict[str, float]:
        """Each known n-gram's term of w.x."""
        known, tfs, norm = self._present(grams)
        return {g: tf * self.idf_weight[g] / norm for g, tf in zip(known, tfs, strict=True)}


@dataclass(frozen=True)
class Model:
    """The learned reader: two vectorizers and the regression's intercept."""

    chars: Vectorizer
    words: Vectorizer
    intercept: float

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Model:
        """Build from the JSON written by `checkin triage train`."""
        if data.get("format") != FORMAT:
            raise ValueError(f"learned reader: unknown format {data.get('format')!r}")

        def vectorizer(table: Mapping[str, list[float]]) -> Vectorizer:
            return Vectorizer(
                {g: idf * idf for g, (idf, _) in table.items()},
                {g: idf * weight for g, (idf, weight) in table.items()},
            )

        return cls(vectorizer(data["char_wb"]), vectorizer(data["word"]), data["intercept"])

    def probability(self, text: str) -> float:
        """The probability that TEXT reports an emergency."""
        document = normalise_text(text).lower()  # scikit-learn lower-cases again: so do we
        logit = (
            self.chars.score(char_wb_ngrams(document))
            + self.words.score(word_ngrams(document))
            + self.intercept
        )
        return _sigmoid(logit)

    def read(self, text: str) -> Reading:
        """The probability, and the word features that pushed toward emergency, most first."""
        shares = self.words.shares(word_ngrams(normalise_text(text).lower()))
        ranked = sorted(shares.items(), key=lambda item: (-item[1], item[0]))
        return Reading(self.probability(text), tuple((g, s) for g, s in ranked if s > 0))


def _sigmoid(logit: float) -> float:
    """1 / (1 + exp(-logit)), without overflowing exp() either way."""
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    e = math.exp(logit)
    return e / (1.0 + e)


@dataclass(frozen=True)
class Reading:
    """What the learned reader made of one message."""

    probability: float
    features: tuple[tuple[str, float], ...]  # word features that pushed toward emergency

    def top(self, count: int = 3) -> tuple[str, ...]:
        """The word features that weighed most toward emergency."""
        return tuple(g for g, _ in self.features[:count])


@cache
def model() -> Model:
    """The committed model (vocab/learned.json), loaded once on first use."""
    text = resources.files("service.core.triage").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return Model.from_data(json.loads(text))


def probability(text: str) -> float:
    """The committed learned reader's probability that TEXT reports an emergency."""
    return model().probability(text)


def read(text: str) -> Reading:
    """The committed learned reader's probability and word features for TEXT."""
    return model().read(text)
