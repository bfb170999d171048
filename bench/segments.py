"""SMS cost of every text: encoding, length and segments per template, both languages.

Worst case as tests/core/test_segments.py renders it (the longest clinic name allowed,
longest ids and link). Run: .venv/bin/python bench/segments.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.core.segments import count_segments
from service.core.texts import LANGUAGES, is_spoken
from tests.core.test_segments import _catalogue, _fragment, _render


def main() -> None:
    """Print one line per SMS template and language, and the totals."""
    total = {language: 0 for language in LANGUAGES}
    print(f"{'template':32} {'lang':4} {'encoding':8} {'units':>5} {'segments':>8}")
    for language in LANGUAGES:
        for key in sorted(_catalogue(language)):
            if is_spoken(key) or _fragment(key):
                continue
            counted = count_segments(_render(language, key))
            total[language] += counted.segments
            print(
                f"{key:32} {language:4} {counted.encoding:8} {counted.units:>5} "
                f"{counted.segments:>8}"
            )
    for language, segments in total.items():
        print(f"total {language}: {segments} segments")


if __name__ == "__main__":
    main()
