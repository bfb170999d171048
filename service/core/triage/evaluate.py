"""Measure classify() against labelled messages: confusion matrix, recall, false alarms.

Records are mappings with "text", an optional "language" (the patient's stored language,
default "en") and "expected" (or "category" as an alias). ``evaluate`` is pure; reading JSONL
and printing are separate so the CLI and the tests share the same figures.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from service.core.triage.classifier import Triage, classify
from service.core.triage.status import Category

CATEGORIES: tuple[Category, ...] = ("emergency", "worse", "same", "better", "unclear")


@dataclass(frozen=True)
class Miss:
    """One record whose predicted category differs from the expected one."""

    text: str
    language: str
    expected: Category
    got: Triage
    note: str = ""


@dataclass
class Report:
    """Figures for one evaluation run."""

    total: int = 0
    correct: int = 0
    confusion: dict[Category, dict[Category, int]] = field(
        default_factory=lambda: {e: dict.fromkeys(CATEGORIES, 0) for e in CATEGORIES}
    )
    per_language: dict[str, list[int]] = field(default_factory=dict)  # lang -> [correct, total]
    misses: list[Miss] = field(default_factory=list)

    @property
    def emergencies(self) -> int:
        """Records expected to be emergencies."""
        return sum(self.confusion["emergency"].values())

    @property
    def emergency_hits(self) -> int:
        """Expected emergencies classified as emergencies."""
        return self.confusion["emergency"]["emergency"]

    @property
    def missed_emergencies(self) -> list[Miss]:
        """Expected emergencies classified as anything else."""
        return [m for m in self.misses if m.expected == "emergency"]

    @property
    def emergency_recall(self) -> float:
        """Share of emergencies found (1.0 when there are none)."""
        return self.emergency_hits / self.emergencies if self.emergencies else 1.0

    @property
    def non_emergencies(self) -> int:
        """Records not expected to be emergencies."""
        return self.total - self.emergencies

    @property
    def false_alarms(self) -> int:
        """Non-emergencies classified as emergencies."""
        return sum(self.confusion[e]["emergency"] for e in CATEGORIES if e != "emergency")

    @property
    def false_alarm_rate(self) -> float:
        """False alarms over non-emergencies."""
        return self.false_alarms / self.non_emergencies if self.non_emergencies else 0.0

    @property
    def accuracy(self) -> float:
        """Share of records classified as expected."""
        return self.correct / self.total if self.total else 0.0

    def language_accuracy(self, language: str) -> float:
        """Accuracy over the records with that stored language."""
        correct, total = self.per_language.get(language, [0, 0])
        return correct / total if total else 0.0


def _expected(record: Mapping[str, Any]) -> Category:
    value = record.get("expected", record.get("category"))
    if value not in CATEGORIES:
        raise ValueError(f"expected category must be one of {CATEGORIES}, got {value!r}")
    return cast(Category, value)


def evaluate(records: Iterable[Mapping[str, Any]]) -> Report:
    """Classify every record and compare with its expected category."""
    report = Report()
    for record in records:
        text = str(record.get("text", ""))
        language = str(record.get("language") or "en")
        expected = _expected(record)
        got = classify(text, language)
        report.total += 1
        report.confusion[expected][got.category] += 1
        tally = report.per_language.setdefault(language, [0, 0])
        tally[1] += 1
        if got.category == expected:
            report.correct += 1
            tally[0] += 1
        else:
            report.misses.append(Miss(text, language, expected, got, str(record.get("note", ""))))
    return report


def read_jsonl(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Parse JSONL (blank lines skipped); raises ValueError naming the bad line."""
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"line {number}: not JSON ({error.msg})") from error
        if not isinstance(record, dict) or "text" not in record:
            raise ValueError(f"line {number}: expected an object with a 'text' field")
        try:
            _expected(record)
        except ValueError as error:
            raise ValueError(f"line {number}: {error}") from error
        records.append(record)
    return records


def _short(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _miss_line(miss: Miss) -> str:
    return (
        f"  [{miss.language}] expected {miss.expected}, got {miss.got.category}: "
        f"{_short(miss.text)!r}"
        + (f" ({miss.note})" if miss.note else "")
        + (f" reasons={list(miss.got.reasons)}" if miss.got.reasons else "")
    )


def format_misses(report: Report) -> str:
    """Only what went wrong: missed emergencies first, then false alarms, then the rest."""
    if not report.misses:
        return f"no misses in {report.total} messages"
    order = sorted(
        report.misses,
        key=lambda m: (m.expected != "emergency", m.got.category != "emergency"),
    )
    return "\n".join(
        [f"misses: {len(report.misses)} of {report.total}"] + [_miss_line(m) for m in order]
    )


def format_report(report: Report, verbose: bool = False) -> str:
    """Human-readable report; with ``verbose`` every miss is listed."""
    lines = [f"messages: {report.total}", "", "confusion (rows expected, columns got):"]
    header = "".ljust(11) + "".join(c[:9].rjust(10) for c in CATEGORIES)
    lines.append(header)
    for expected in CATEGORIES:
        row = report.confusion[expected]
        lines.append(expected.ljust(11) + "".join(str(row[c]).rjust(10) for c in CATEGORIES))
    lines += [
        "",
        f"emergency recall: {report.emergency_recall:.1%} "
        f"({report.emergency_hits}/{report.emergencies})",
        f"false-alarm rate: {report.false_alarm_rate:.1%} "
        f"({report.false_alarms}/{report.non_emergencies})",
        f"accuracy: {report.accuracy:.1%} ({report.correct}/{report.total})",
    ]
    for language in sorted(report.per_language):
        correct, total = report.per_language[language]
        lines.append(f"accuracy [{language}]: {correct / total:.1%} ({correct}/{total})")
    if verbose and report.misses:
        lines += ["", "misses:"]
        lines.extend(_miss_line(miss) for miss in report.misses)
    return "\n".join(lines)
