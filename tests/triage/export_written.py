"""A pytest plugin writing the rule tests' sentences as training rows for the learned reader.

The engineers' paraphrases in tests/triage/test_reading*.py and test_classify.py are labelled
data too: the learned reader trained without them paged calm sentences the rules read right
("i need help with my insurance", "never fainted in my life"). Each row is labelled by the
rules, which those tests pin. Regenerate tests/triage/written.jsonl after changing them:

    PYTHONPATH=. .venv/bin/pytest -p tests.triage.export_written --collect-only -q \
        tests/triage/test_reading*.py tests/triage/test_classify.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "written.jsonl"


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    """Write every parametrised `text` (with its language) and the rules' category."""
    from service.core.triage.classifier import classify_rules

    rows: dict[str, dict[str, str]] = {}
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        text = params.get("text")
        if not isinstance(text, str) or len(text.strip()) < 3:
            continue
        language = params.get("language") if params.get("language") in ("en", "es") else "en"
        category = classify_rules(text, language).category
        rows[text] = {"text": text, "language": language, "expected": category}
    with OUT.open("w", encoding="utf-8") as handle:
        for row in rows.values():
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
