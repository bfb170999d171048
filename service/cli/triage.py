"""`checkin triage ...`: evaluate the classifier on labelled JSONL, explain one message, or
train the learned second reader."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import click

from service.core.triage import classify
from service.core.triage.evaluate import evaluate, format_misses, format_report, read_jsonl
from service.core.triage.explain import pieces
from service.core.triage.learned import FORMAT, normalise_text, read

# From this many records on, `eval` shows a progress bar (on standard error).
PROGRESS_FROM = 500


@click.group("triage")
def triage_group() -> None:
    """Inspect the SMS triage classifier."""


@triage_group.command("eval")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("-v", "--verbose", is_flag=True, help="List every message classified wrongly.")
@click.option("--misses", is_flag=True, help="Print only the messages classified wrongly.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help=f"Progress bar on standard error (default: from {PROGRESS_FROM} records).",
)
def eval_command(file: TextIO, verbose: bool, misses: bool, progress: bool | None) -> None:
    """Evaluate on FILE (JSONL with text, language, expected; '-' reads standard input)."""
    try:
        records = read_jsonl(file)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="FILE") from error
    if progress is None:
        progress = len(records) >= PROGRESS_FROM
    if progress:
        bar: Any
        with click.progressbar(records, label="classifying", file=sys.stderr) as bar:
            report = evaluate(bar)
    else:
        report = evaluate(records)
    click.echo(format_misses(report) if misses else format_report(report, verbose=verbose))


@triage_group.command("explain")
@click.argument("text")
@click.option(
    "--language",
    type=click.Choice(["en", "es"]),
    default="en",
    show_default=True,
    help="The patient's stored language.",
)
def explain_command(text: str, language: str) -> None:
    """Show how TEXT is classified and why."""
    result = classify(text, language)
    click.echo(f"category: {result.category}")
    click.echo(f"language: {result.language}")
    click.echo(f"needs_review: {str(result.needs_review).lower()}")
    click.echo(f"opt_out_intent: {str(result.opt_out_intent).lower()}")
    click.echo("reasons:")
    for reason in result.reasons or ("(none)",):
        click.echo(f"  - {reason}")
    click.echo("read:")
    for line in pieces(text, language):
        click.echo(f"  - {line}")
    reading = read(text)
    click.echo(f"learned reader: {reading.probability:.3f}")
    for gram, share in reading.features[:5]:
        click.echo(f"  - {gram!r} +{share:.3f}")


def training_rows(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The labelled rows of these JSONL files (each must have text and expected)."""
    rows: list[dict[str, Any]] = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            records = read_jsonl(handle)
        for number, record in enumerate(records, start=1):
            if "expected" not in record:
                raise ValueError(f"{path}: record {number} has no 'expected' field")
        rows.extend(records)
    return rows


def fit(rows: Sequence[dict[str, Any]]) -> Any:
    """Train the learned reader's scikit-learn pipeline on labelled rows (sklearn needed)."""
    # Imported here: scikit-learn is a development tool, the service never loads it.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    regression = LogisticRegression(C=16, max_iter=2000, class_weight="balanced")
    pipeline = make_pipeline(make_union(chars, words), regression)
    texts = [normalise_text(str(r["text"])) for r in rows]
    pipeline.fit(texts, [r["expected"] == "emergency" for r in rows])
    return pipeline


def export(pipeline: Any, header: dict[str, Any]) -> dict[str, Any]:
    """The learned reader's data file: n-gram -> [idf, weight] per vectorizer, and intercept."""
    import sklearn

    union, regression = pipeline.steps[0][1], pipeline.steps[1][1]
    weights = [float(w) for w in regression.coef_[0]]
    tables: dict[str, dict[str, list[float]]] = {}
    start = 0
    for name, (_, vectorizer) in zip(("char_wb", "word"), union.transformer_list, strict=True):
        idf = vectorizer.idf_
        vocabulary = vectorizer.vocabulary_
        tables[name] = {
            gram: [float(idf[i]), weights[start + i]] for gram, i in sorted(vocabulary.items())
        }
        start += len(vocabulary)
    return {
        "format": FORMAT,
        "header": {**header, "sklearn": sklearn.__version__},
        "intercept": float(regression.intercept_[0]),
        **tables,
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@triage_group.command("train")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the learned reader's JSON (service/core/triage/vocab/learned.json).",
)
def train_command(files: tuple[str, ...], out: str) -> None:
    """Train the learned reader on FILES (JSONL with text and expected); needs scikit-learn."""
    paths = [Path(f) for f in files]
    try:
        rows = training_rows(paths)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="FILES") from error
    try:
        pipeline = fit(rows)
    except ImportError as error:
        message = "training needs scikit-learn: pip install -e '.[dev]'"
        raise click.ClickException(message) from error
    header = {
        "files": [{"path": p.as_posix(), "sha256": _sha256(p)} for p in paths],
        "rows": len(rows),
        "label": "expected == emergency",
    }
    data = export(pipeline, header)
    Path(out).write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    emergencies = sum(1 for r in rows if r["expected"] == "emergency")
    click.echo(f"trained on {len(rows)} rows ({emergencies} emergencies) from {len(paths)} files")
    click.echo(
        f"wrote {out}: {len(data['char_wb'])} character and {len(data['word'])} word features"
    )
