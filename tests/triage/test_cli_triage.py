"""`checkin triage eval` and `checkin triage explain`, through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from service.cli.triage import triage_group

HERE = Path(__file__).parent


def test_eval_prints_the_figures() -> None:
    result = CliRunner().invoke(triage_group, ["eval", str(HERE / "holdout.jsonl")])
    assert result.exit_code == 0, result.output
    for label in (
        "confusion",
        "emergency recall:",
        "false-alarm rate:",
        "accuracy [en]:",
        "accuracy [es]:",
    ):
        assert label in result.output


def test_eval_verbose_lists_misses(tmp_path: Path) -> None:
    path = tmp_path / "small.jsonl"
    lines = [
        {"text": "I can't breathe", "language": "en", "expected": "emergency"},
        {"text": "2", "language": "es", "category": "better"},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    quiet = CliRunner().invoke(triage_group, ["eval", str(path)])
    assert quiet.exit_code == 0
    assert "misses:" not in quiet.output
    loud = CliRunner().invoke(triage_group, ["eval", str(path), "-v"])
    assert loud.exit_code == 0
    assert "misses:" in loud.output
    assert "expected better, got same" in loud.output


def test_eval_reads_standard_input() -> None:
    line = json.dumps({"text": "3", "expected": "worse"}) + "\n"
    result = CliRunner().invoke(triage_group, ["eval", "-"], input=line)
    assert result.exit_code == 0
    assert "accuracy: 100.0% (1/1)" in result.output


def test_eval_requires_a_file_and_rejects_bad_json(tmp_path: Path) -> None:
    assert CliRunner().invoke(triage_group, ["eval"]).exit_code != 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{nope\n", encoding="utf-8")
    result = CliRunner().invoke(triage_group, ["eval", str(bad)])
    assert result.exit_code == 2
    assert "line 1" in result.output


def test_explain_emergency() -> None:
    result = CliRunner().invoke(triage_group, ["explain", "1 but I just fainted"])
    assert result.exit_code == 0
    assert "category: emergency" in result.output
    assert "language: en" in result.output
    assert "red flag: fainted" in result.output


def test_explain_spanish_negation_and_opt_out() -> None:
    result = CliRunner().invoke(
        triage_group, ["explain", "no me falta el aire, no más mensajes", "--language", "es"]
    )
    assert result.exit_code == 0
    assert "category: unclear" in result.output
    assert "language: es" in result.output
    assert "needs_review: true" in result.output
    assert "opt_out_intent: true" in result.output
    assert "negated red flag" in result.output


def test_explain_rejects_unknown_language() -> None:
    result = CliRunner().invoke(triage_group, ["explain", "2", "--language", "fr"])
    assert result.exit_code == 2


def test_eval_misses_prints_only_what_went_wrong(tmp_path: Path) -> None:
    path = tmp_path / "small.jsonl"
    lines = [
        {"text": "my arm just hangs there", "language": "en", "expected": "emergency"},
        {"text": "2", "language": "en", "expected": "better"},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(triage_group, ["eval", str(path), "--misses"])
    assert result.exit_code == 0, result.output
    assert "misses: 1 of 2" in result.output
    assert "expected better, got same" in result.output
    assert "confusion" not in result.output and "hangs" not in result.output


def test_eval_misses_says_when_there_are_none() -> None:
    line = json.dumps({"text": "3", "expected": "worse"}) + "\n"
    result = CliRunner().invoke(triage_group, ["eval", "-", "--misses"], input=line)
    assert result.exit_code == 0
    assert "no misses in 1 messages" in result.output


def test_eval_progress_bar_goes_to_standard_error() -> None:
    line = json.dumps({"text": "3", "expected": "worse"}) + "\n"
    result = CliRunner().invoke(triage_group, ["eval", "-", "--progress"], input=line * 3)
    assert result.exit_code == 0
    assert "classifying" in result.stderr
    assert "classifying" not in result.stdout
    assert "accuracy: 100.0% (3/3)" in result.stdout


def test_explain_shows_the_parts_it_combined() -> None:
    result = CliRunner().invoke(
        triage_group, ["explain", "my fingers won't close around the cup since lunch"]
    )
    assert result.exit_code == 0
    assert "body part or function [limb]: fingers" in result.output
    assert "loss or abnormal state [lost]: will not close" in result.output
    assert "onset: since lunch" in result.output
    assert "combined -> emergency: loss of use of a limb" in result.output
