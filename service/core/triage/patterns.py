"""A tiny phrase language for the vocabulary files, compiled to regular expressions.

Vocabulary phrases are written as space-separated items matched against normalised text
(tokens joined by single spaces, padded with one space at each end):

- ``word``           the literal token (accents and case are folded when compiling);
- ``a|b``            alternatives; ``(can not|unable to) move`` groups several words; a bar
                     outside parentheses splits the whole phrase (``a b|c d``);
- ``word*``          a token starting with ``word`` (``numb*`` matches numb, numbness);
- ``*`` / ``**``     a gap of 0-3 / 0-6 tokens inside one clause (no punctuation, no "but");
- ``~``              a gap of 0-1 token;
- ``{NAME}``         a macro from the file's ``macros`` table (itself a phrase);
- ``item?``          the item is optional (works on words, groups and macros);
- ``#NUM`` ``#YEAR`` any number, a year 1900-2099;
- ``^`` / ``$``      start / end of a clause (text edge or punctuation).

Every compiled phrase sits in one alternation per list so that a list is scanned in a single
pass; each phrase keeps its own capturing group so the scanner knows which one matched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# A gap token never crosses punctuation or a contrast word: scope must stay inside a clause.
_GAP_TOKEN = r"(?: (?!(?:but|however|pero|aunque|although|though)(?= ))[^ .,;:!?]+)"
_CLAUSE_EDGE_BEFORE = r"(?:(?<=^ )|(?<=[.,;:!?] ))"
_CLAUSE_EDGE_AFTER = r"(?= (?:[.,;:!?] |$))"
_SPECIAL = {
    "#NUM": r"[0-9]+",
    "#YEAR": r"(?:19|20)[0-9]{2}",
}


def fold(word: str) -> str:
    """Lower-case a vocabulary word and strip its accents, as the normaliser does to text."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Compiled:
    """One vocabulary list, compiled for scanning.

    Each phrase has its own regex, tried only at tokens that can start it (``by_first``), or
    at every token when its first word is not a plain word (``anywhere``). This keeps a scan
    linear in the message length and cheap in the vocabulary size.
    """

    regexes: tuple[re.Pattern[str], ...]
    literals: tuple[frozenset[str], ...]  # the literal words of each phrase, by phrase index
    # first token -> phrase indices to try there (including ``anywhere``), longest phrase first
    by_first: dict[str, tuple[int, ...]]
    anywhere: tuple[int, ...]  # phrases whose first token is not a known word

    def candidates(self, token: str) -> tuple[int, ...]:
        """Phrase indices that may match at a token, longest phrase first."""
        return self.by_first.get(token, self.anywhere)

    def may_match(self, tokens: frozenset[str]) -> bool:
        """False when no phrase of the list can start at any of these tokens."""
        return bool(self.anywhere) or not self.by_first.keys().isdisjoint(tokens)

    def match_at(self, padded: str, offset: int, token: str) -> tuple[int, int] | None:
        """(phrase index, end offset) of the first phrase matching at ``offset``, if any."""
        for index in self.by_first.get(token, self.anywhere):
            match = self.regexes[index].match(padded, offset)
            if match is not None:
                return index, match.end()
        return None


def _split_items(phrase: str) -> list[str]:
    """Split a phrase into items, keeping parenthesised groups whole."""
    items: list[str] = []
    depth = 0
    current = ""
    for ch in phrase.strip():
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == " " and depth == 0:
            if current:
                items.append(current)
            current = ""
        else:
            current += ch
    if depth != 0:
        raise ValueError(f"unbalanced parentheses in vocabulary phrase: {phrase!r}")
    if current:
        items.append(current)
    return items


def _split_alternatives(body: str) -> list[str]:
    """Split ``a|b (c|d)`` on top-level bars."""
    parts: list[str] = []
    depth = 0
    current = ""
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


class _Builder:
    """Compiles phrases with one macro table, collecting the literal words of each phrase."""

    def __init__(self, macros: Mapping[str, str]) -> None:
        self.macros = macros
        self.literals: set[str] = set()

    def phrase(self, phrase: str, depth: int = 0) -> str:
        """Regex for a whole phrase (no leading or trailing space)."""
        if depth > 8:
            raise ValueError(f"macro recursion too deep in {phrase!r}")
        if len(_split_alternatives(phrase)) > 1:
            # "a b|c d" at top level means "(a b)|(c d)".
            return self.group(phrase, depth + 1)
        out = ""
        started = False  # a required token has been emitted: later tokens need a space first
        for item in _split_items(phrase):
            if item in ("*", "**", "~"):
                if not started:
                    raise ValueError(f"phrase cannot start with a gap: {phrase!r}")
                width = {"*": "{0,3}", "**": "{0,6}", "~": "?"}[item]
                out += _GAP_TOKEN + width
                continue
            if item == "^":
                if started:
                    raise ValueError(f"^ must open the phrase: {phrase!r}")
                out += _CLAUSE_EDGE_BEFORE
                continue
            if item == "$":
                out += _CLAUSE_EDGE_AFTER
                continue
            optional = item.endswith("?") and len(item) > 1
            body = self.item(item[:-1] if optional else item, depth)
            if optional:
                out += f"(?: {body})?" if started else f"(?:{body} )?"
            else:
                out += f" {body}" if started else body
                started = True
        if not started:
            raise ValueError(f"phrase has no required word: {phrase!r}")
        return out

    def item(self, item: str, depth: int) -> str:
        """Regex for one item: a word, a prefix, a macro, a special or a group."""
        if item.startswith("{") and item.endswith("}"):
            name = item[1:-1]
            if name not in self.macros:
                raise ValueError(f"unknown macro {{{name}}}")
            return self.group(self.macros[name], depth + 1)
        if item.startswith("(") and item.endswith(")"):
            return self.group(item[1:-1], depth + 1)
        if "|" in item:
            return self.group(item, depth + 1)
        if item in _SPECIAL:
            return _SPECIAL[item]
        if item.endswith("*") and len(item) > 1:
            word = fold(item[:-1])
            return re.escape(word) + r"[^ ]*"
        word = fold(item)
        self.literals.add(word)
        return re.escape(word)

    def first_words(self, phrase: str, depth: int = 0) -> set[str] | None:
        """Words a phrase can start with; None when it may start with any token."""
        if depth > 8:
            return None
        alternatives = _split_alternatives(phrase)
        if len(alternatives) > 1:
            return self._union(alternatives, depth)
        words: set[str] = set()
        for item in _split_items(phrase):
            if item in ("^", "$"):
                continue
            optional = item.endswith("?") and len(item) > 1
            found = self._item_first(item[:-1] if optional else item, depth)
            if found is None:
                return None
            words |= found
            if not optional:
                return words
        return None

    def _union(self, alternatives: list[str], depth: int) -> set[str] | None:
        words: set[str] = set()
        for alternative in alternatives:
            found = self.first_words(alternative, depth + 1)
            if found is None:
                return None
            words |= found
        return words

    def _item_first(self, item: str, depth: int) -> set[str] | None:
        if item.startswith("{") and item.endswith("}"):
            return self.first_words(self.macros[item[1:-1]], depth + 1)
        if item.startswith("(") and item.endswith(")"):
            return self._union(_split_alternatives(item[1:-1]), depth)
        if "|" in item:
            return self._union(_split_alternatives(item), depth)
        if item in _SPECIAL or item.endswith("*") or item == "~":
            return None
        return {fold(item)}

    def group(self, body: str, depth: int) -> str:
        """Regex for alternatives, longest first so the longer phrase wins at one position."""
        alternatives = sorted(_split_alternatives(body), key=len, reverse=True)
        return "(?:" + "|".join(self.phrase(alt, depth) for alt in alternatives) + ")"


def compile_list(phrases: Sequence[str], macros: Mapping[str, str]) -> Compiled:
    """Compile phrases; at one token the longest phrase (in characters) is tried first."""
    regexes: list[re.Pattern[str]] = []
    literals: list[frozenset[str]] = []
    by_first: dict[str, list[int]] = {}
    anywhere: list[int] = []
    for index, phrase in enumerate(phrases):
        builder = _Builder(macros)
        regexes.append(re.compile("(?:" + builder.phrase(phrase) + ")(?= )"))
        literals.append(frozenset(builder.literals))
        first = builder.first_words(phrase)
        if first is None:
            anywhere.append(index)
        else:
            for word in first:
                by_first.setdefault(word, []).append(index)
    # Phrase indices are renumbered so that a lower index means a longer phrase.
    order = sorted(range(len(phrases)), key=lambda i: (-len(phrases[i]), i))
    rank = {index: position for position, index in enumerate(order)}
    return Compiled(
        regexes=tuple(regexes),
        literals=tuple(literals),
        by_first={
            word: tuple(sorted(indices + anywhere, key=rank.__getitem__))
            for word, indices in by_first.items()
        },
        anywhere=tuple(sorted(anywhere, key=rank.__getitem__)),
    )
