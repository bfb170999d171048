"""Compare medspaCy's ConText with triage's own context rules (negation.py, findings.py).

Both judge the same red flags: those triage finds (listed or composed, compose.py), on the
same normalised tokens. Idioms and pets/objects stay as triage reads them (ConText has no
such rules); everything else, negation, history, hypotheticals and another person, is
decided once by triage and once by ConText's default rules (NEGATED_EXISTENCE, HISTORICAL,
HYPOTHETICAL, FAMILY; POSSIBLE_EXISTENCE keeps a red flag, as a hedge does in triage).
A message is an emergency when one red flag stays affirmed.

medspaCy is not a dependency of the service: run this from a scratch virtualenv.

    python3 -m venv /tmp/ctx-venv && /tmp/ctx-venv/bin/pip install medspacy
    /tmp/ctx-venv/bin/python bench/context_compare.py [FILE.jsonl ...]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import medspacy  # type: ignore[import-not-found]
from spacy.tokens import Doc, Span  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.core.triage import classify  # noqa: E402
from service.core.triage.classifier import _analyse, _pick_language  # noqa: E402
from service.core.triage.vocab import LANGUAGES  # noqa: E402

KEPT = {"idiom", "other"}  # triage's own traps, outside what ConText models


def _context_judge(nlp: object) -> Callable[[str, str], str]:
    sentences = nlp.get_pipe("medspacy_pyrush")  # type: ignore[attr-defined]
    context = nlp.get_pipe("medspacy_context")  # type: ignore[attr-defined]

    def judge(text: str, language: str) -> str:
        results = {lang: _analyse(text, lang) for lang in LANGUAGES}
        chosen = _pick_language(text, language, {k: v[0] for k, v in results.items()})
        for lang in (chosen, *(x for x in LANGUAGES if x != chosen)):
            result, ctx = results[lang]
            if not result.findings:
                continue
            doc = Doc(nlp.vocab, words=list(ctx.tokens))  # type: ignore[attr-defined]
            doc = context(sentences(doc))
            for finding in result.findings:
                if finding.severity != "emergency":
                    continue
                if finding.state in KEPT:
                    continue
                span = Span(doc, finding.span.first, finding.span.last, label="RED_FLAG")
                doc.ents = (span,)
                doc = context(doc)
                flagged = doc.ents[0]
                denied = (
                    flagged._.is_negated
                    or flagged._.is_historical
                    or flagged._.is_hypothetical
                    or flagged._.is_family
                )
                if not denied:
                    return "emergency"
        return "not emergency"

    return judge


def _score(name: str, records: list[dict[str, str]], judge: Callable[[str, str], str]) -> str:
    emergencies = hits = others = alarms = 0
    for record in records:
        got = judge(record["text"], record.get("language", "en"))
        if record["expected"] == "emergency":
            emergencies += 1
            hits += got == "emergency"
        else:
            others += 1
            alarms += got == "emergency"
    return (
        f"{name:12} recall {hits / emergencies:6.1%} ({hits}/{emergencies})  "
        f"false alarms {alarms / others:5.1%} ({alarms}/{others})"
    )


def main() -> int:
    """Print recall and false alarms of both context judges on each file."""
    files = [Path(a) for a in sys.argv[1:]] or [
        ROOT / "tests/triage/blind/setA.jsonl",
        ROOT / "tests/triage/blind/setB.jsonl",
        ROOT / "tests/triage/holdout.jsonl",
        ROOT / "tests/triage/corpus.jsonl",
    ]
    try:  # PyRuSH logs every sentence at DEBUG through loguru
        from loguru import logger  # type: ignore[import-not-found]

        logger.remove()
    except ImportError:
        pass
    nlp = medspacy.load(enable=["medspacy_pyrush", "medspacy_context"])
    context_judge = _context_judge(nlp)

    def ours(text: str, language: str) -> str:
        category = classify(text, language).category
        return "emergency" if category == "emergency" else "not emergency"

    for path in files:
        records = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
        for language in ("en", "es"):
            subset = [r for r in records if r.get("language", "en") == language]
            print(f"{path.name} [{language}] ({len(subset)} messages)")
            print("  " + _score("triage", subset, ours))
            print("  " + _score("ConText", subset, context_judge))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
