"""The labelled corpora: no missed emergency, few false alarms, good accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.core.triage.evaluate import Report, evaluate, format_report, read_jsonl

HERE = Path(__file__).parent
FILES = {"corpus": (HERE / "corpus.jsonl", 420), "holdout": (HERE / "holdout.jsonl", 120)}


def _load(name: str) -> list[dict[str, object]]:
    path, _ = FILES[name]
    with path.open(encoding="utf-8") as handle:
        return read_jsonl(handle)


@pytest.fixture(scope="module", params=sorted(FILES))
def named_report(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, object]], Report]:
    records = _load(request.param)
    return request.param, records, evaluate(records)


def test_composition(named_report: tuple[str, list[dict[str, object]], Report]) -> None:
    name, records, _ = named_report
    minimum = FILES[name][1]
    assert len(records) >= minimum
    spanish = sum(r["language"] == "es" for r in records) / len(records)
    traps = sum(str(r["note"]).startswith("trap") for r in records) / len(records)
    assert 0.25 <= spanish <= 0.35, spanish
    assert traps >= 0.10, traps
    assert {r["expected"] for r in records} == {"emergency", "worse", "same", "better", "unclear"}
    for record in records:
        assert set(record) == {"text", "language", "expected", "note"}
        assert record["language"] in ("en", "es")


def test_no_missed_emergency(named_report: tuple[str, list[dict[str, object]], Report]) -> None:
    _, _, report = named_report
    missed = [(m.text, m.got.category, m.got.reasons) for m in report.missed_emergencies]
    assert not missed, format_report(report, verbose=True)


def test_false_alarm_rate(named_report: tuple[str, list[dict[str, object]], Report]) -> None:
    _, _, report = named_report
    assert report.false_alarm_rate <= 0.03, format_report(report, verbose=True)


def test_accuracy(named_report: tuple[str, list[dict[str, object]], Report]) -> None:
    _, _, report = named_report
    assert report.accuracy >= 0.92, format_report(report, verbose=True)
    for language in ("en", "es"):
        assert report.language_accuracy(language) >= 0.92, format_report(report, verbose=True)


def test_evaluate_counts_and_aliases() -> None:
    records = [
        {"text": "I can't breathe", "expected": "emergency"},
        {"text": "2", "language": "es", "category": "same"},
        {"text": "stroke of luck", "expected": "emergency"},
        {"text": "3", "expected": "better"},
        {"text": "I fainted", "expected": "unclear"},
    ]
    report = evaluate(records)
    assert report.total == 5
    assert report.correct == 2
    assert report.emergencies == 2
    assert report.emergency_recall == 0.5
    assert report.false_alarms == 1
    assert report.false_alarm_rate == pytest.approx(1 / 3)
    assert report.per_language == {"en": [1, 4], "es": [1, 1]}
    assert report.confusion["better"]["worse"] == 1
    assert [m.text for m in report.missed_emergencies] == ["stroke of luck"]
    text = format_report(report, verbose=True)
    assert "emergency recall: 50.0% (1/2)" in text
    assert "false-alarm rate: 33.3% (1/3)" in text
    assert "misses:" in text and "stroke of luck" in text


def test_read_jsonl_rejects_bad_lines() -> None:
    with pytest.raises(ValueError, match="line 2"):
        read_jsonl(['{"text": "1", "expected": "better"}', "not json"])
    with pytest.raises(ValueError, match="line 1"):
        read_jsonl([json.dumps({"text": "1", "expected": "fine"})])
    assert read_jsonl(["", json.dumps({"text": "1", "expected": "better"}), "  "]) == [
        {"text": "1", "expected": "better"}
    ]
