"""A tiny phrase language for the vocabulary files, compiled to regular expressions.

Vocabulary phrases are written as space-separated items matched against normalised text
(tokens joined by single spaces, padded with one space at each end):

- ``word``           the literal token (accents and case are folded when compiling);
- ``a|b c|d``        alternatives separated by ``|``, each may be several words: wrap them in
                     parentheses, e.g. ``(can not|unable to) move``;
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
    """One vocabulary list compiled to a single scanning regex."""

    regex: re.Pattern[str] | None
    literals: tuple[frozenset[str], ...]  # the literal words of each phrase, by phrase index
    order: tuple[int, ...] = ()  # phrase index of capturing group 1, 2, ...

    def index(self, match: re.Match[str]) -> int:
        """Index (in the vocabulary list) of the phrase that produced this match."""
        group = match.lastindex
        assert group is not None
        return self.order[group - 1]


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

    def group(self, body: str, depth: int) -> str:
        """Regex for alternatives, longest first so the longer phrase wins at one position."""
        alternatives = sorted(_split_alternatives(body), key=len, reverse=True)
        return "(?:" + "|".join(self.phrase(alt, depth) for alt in alternatives) + ")"


def compile_list(phrases: Sequence[str], macros: Mapping[str, str]) -> Compiled:
    """Compile phrases into one regex with a capturing group per phrase, in the given order."""
    if not phrases:
        return Compiled(None, (), ())
    # Longest phrase first: at one position the regex takes the first alternative that fits.
    order = sorted(range(len(phrases)), key=lambda i: len(phrases[i]), reverse=True)
    parts: list[str] = []
    literals: dict[int, frozenset[str]] = {}
    for index in order:
        builder = _Builder(macros)
        parts.append("(" + builder.phrase(phrases[index]) + ")")
        literals[index] = frozenset(builder.literals)
    regex = re.compile("(?<= )(?:" + "|".join(parts) + ")(?= )")
    return Compiled(regex, tuple(literals[i] for i in range(len(phrases))), tuple(order))
