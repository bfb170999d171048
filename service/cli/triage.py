"""`checkin triage ...`: evaluate the classifier on labelled JSONL, or explain one message."""

from __future__ import annotations

import sys
from typing import Any, TextIO

import click

from service.core.triage import classify
from service.core.triage.evaluate import evaluate, format_misses, format_report, read_jsonl
from service.core.triage.explain import pieces

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
