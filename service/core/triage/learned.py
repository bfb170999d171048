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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
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
    low, high = CHAR_NGRAMS
    grams: list[str] = []
    for word in _RUNS.sub(" ", document).split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            offset = 0
            grams.append(padded[offset : offset + n])
            while offset + n < length:
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # a short word (shorter than n) is counted once
                break
    return grams


def word_ngrams(document: str) -> list[str]:
    """scikit-learn's word analyzer: `(?u)\\b\\w\\w+\\b` tokens, then their 1- and 2-grams."""
    tokens = _TOKEN.findall(document)
    low, high = WORD_NGRAMS
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high + 1, len(tokens) + 1)):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


@dataclass(frozen=True)
class Vectorizer:
    """One vectorizer's vocabulary: n-gram -> (idf, idf * weight), weight from the regression."""

    features: Mapping[str, tuple[float, float]]

    def score(self, grams: Iterable[str]) -> tuple[float, dict[str, float]]:
        """w.x for these n-grams (sublinear tf, idf, L2 norm) and each feature's share of it."""
        counts = Counter(g for g in grams if g in self.features)
        if not counts:
            return 0.0, {}
        squares = 0.0
        shares: dict[str, float] = {}
        for gram, count in counts.items():
            idf, idf_weight = self.features[gram]
            tf = 1.0 + math.log(count)
            squares += (tf * idf) ** 2
            shares[gram] = tf * idf_weight
        norm = math.sqrt(squares)
        return sum(shares.values()) / norm, {g: s / norm for g, s in shares.items()}


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
            return Vectorizer({g: (idf, idf * weight) for g, (idf, weight) in table.items()})

        return cls(vectorizer(data["char_wb"]), vectorizer(data["word"]), data["intercept"])

    def read(self, text: str) -> Reading:
        """The probability that TEXT reports an emergency, and the word features behind it."""
        document = normalise_text(text).lower()  # scikit-learn lower-cases again: so do we
        char_score, _ = self.chars.score(char_wb_ngrams(document))
        word_score, shares = self.words.score(word_ngrams(document))
        logit = char_score + word_score + self.intercept
        probability = 1.0 / (1.0 + math.exp(-logit)) if logit >= 0 else _low(logit)
        ranked = sorted(shares.items(), key=lambda item: (-item[1], item[0]))
        return Reading(probability, tuple((g, s) for g, s in ranked if s > 0))


def _low(logit: float) -> float:
    """The sigmoid of a negative logit without overflowing exp()."""
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


def read(text: str) -> Reading:
    """The committed learned reader's reading of TEXT."""
    return model().read(text)
