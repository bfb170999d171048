"""The learned second reader: exact to scikit-learn, the committed data from its sources, and
what classify() lets it do (only add an emergency, for review)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sklearn.feature_extraction.text import TfidfVectorizer

from service.cli.triage import fit, training_rows, triage_group
from service.core.triage import classify, classify_rules, learned
from service.core.triage.second_reading import LEARNED_THRESHOLD

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
COMMITTED = ROOT / "service" / "core" / "triage" / "vocab" / "learned.json"
BLIND = [HERE / "blind" / f"set{k}.jsonl" for k in "ABCDEFGHIJKLMN"]


def _committed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(COMMITTED.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def retrained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What `checkin triage train` writes from the files the committed header names."""
    out = tmp_path_factory.mktemp("learned") / "learned.json"
    files = [f["path"] for f in _committed()["header"]["files"]]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        result = CliRunner().invoke(triage_group, ["train", *files, "--out", str(out)])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_the_committed_data_is_trained_on_the_tuning_sets_only() -> None:
    header = _committed()["header"]
    paths = sorted(f["path"] for f in header["files"])
    expected = [f"tests/triage/blind/set{k}.jsonl" for k in "ABCDEFGHIJKLMN"]
    # written.jsonl: the rule tests' own sentences, labelled by the rules (export_written.py).
    own = ["tests/triage/corpus.jsonl", "tests/triage/written.jsonl"]
    assert paths == sorted([*expected, *own])
    assert header["rows"] == len(training_rows([ROOT / p for p in paths]))


def test_the_committed_data_is_what_train_produces(retrained: dict[str, Any]) -> None:
    committed = _committed()
    assert retrained["header"] == committed["header"]  # same files, same sha256, same sklearn
    assert retrained["intercept"] == pytest.approx(committed["intercept"], abs=1e-9)
    for table in ("char_wb", "word"):
        assert retrained[table].keys() == committed[table].keys(), table
        for gram, (idf, weight) in committed[table].items():
            assert retrained[table][gram][0] == pytest.approx(idf, abs=1e-12), gram
            assert retrained[table][gram][1] == pytest.approx(weight, abs=1e-6), gram


def test_pure_inference_equals_scikit_learn_on_every_row() -> None:
    paths = [ROOT / f["path"] for f in _committed()["header"]["files"]]
    pipeline = fit(training_rows(paths))
    rows = training_rows(BLIND)
    texts = [str(r["text"]) for r in rows]
    expected = pipeline.predict_proba([learned.normalise_text(t) for t in texts])[:, 1]
    model = learned.model()
    worst = max(abs(model.probability(t) - float(p)) for t, p in zip(texts, expected, strict=True))
    assert worst <= 1e-6


@pytest.mark.parametrize(
    "text",
    [
        "a",
        "I  can't\tmove   my arm",
        "ok",
        "no puedo más, ¿qué hago?",
        "x y zz abc abcd abcde abcdef",
        "911!!! help",
        "   leading and trailing   ",
        "",
    ],
)
def test_n_grams_are_scikit_learns(text: str) -> None:
    document = learned.normalise_text(text).lower()
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2)).build_analyzer()
    assert learned.char_wb_ngrams(document) == chars(document)
    assert learned.word_ngrams(document) == words(document)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Sé  QUE\tno", "se que no"),
        ("ﬁne", "fine"),
        ("Ñandú\n\nok", "nandu ok"),
    ],
)
def test_normalise_text(text: str, folded: str) -> None:
    assert learned.normalise_text(text) == folded


@pytest.mark.parametrize(
    ("text", "language"),
    [
        # Written for this test, read by the rules as worse.
        ("my legs turned to jelly and I ended up sat on the floor at the bus stop", "en"),
        ("la mitad de mi cuerpo no me hace caso", "es"),
    ],
)
def test_the_learned_reader_adds_an_emergency_for_review(text: str, language: str) -> None:
    rules = classify_rules(text, language)
    result = classify(text, language)
    assert rules.category != "emergency"
    assert learned.probability(text) >= LEARNED_THRESHOLD
    assert (result.category, result.needs_review) == ("emergency", True)
    reason = result.reasons[0]
    assert reason.startswith("unsure: reads like an emergency to the learned reader (0.")
    for word in learned.read(text).top(3):
        assert f"'{word}'" in reason
    assert result.reasons[1:] == rules.reasons
    assert (result.language, result.opt_out_intent) == (rules.language, rules.opt_out_intent)


@pytest.mark.parametrize(
    "text",
    ["1", "2", "3.", "option 1", "STOP", "stop", "ACK", "ACK 12", "ack #7", "AYUDA", "help"],
)
def test_menu_answers_and_keywords_are_not_given_to_the_learned_reader(text: str) -> None:
    assert classify(text) == classify_rules(text)


@pytest.mark.parametrize("path", BLIND, ids=lambda p: p.stem)
def test_a_rule_emergency_is_left_as_the_rules_made_it(path: Path) -> None:
    for row in training_rows([path]):
        rules = classify_rules(row["text"], row["language"])
        if rules.category == "emergency":
            assert classify(row["text"], row["language"]) == rules


def test_a_calm_reply_stays_as_the_rules_read_it() -> None:
    text = "feeling good today, thanks"
    assert learned.probability(text) < LEARNED_THRESHOLD
    assert classify(text) == classify_rules(text)


def test_explain_shows_the_learned_reading() -> None:
    result = CliRunner().invoke(triage_group, ["explain", "my hand feels funny"])
    assert result.exit_code == 0, result.output
    assert "learned reader: 0." in result.output
    assert "'hand'" in result.output


def test_train_refuses_rows_without_expected(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"text": "hi", "category": "better"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.json"
    result = CliRunner().invoke(triage_group, ["train", str(path), "--out", str(out)])
    assert result.exit_code != 0
    assert "expected" in result.output
    assert not out.exists()
