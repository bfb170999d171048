"""Leave-one-set-out of the learned reader alone over the blind sets A to N.

For each set, the learned reader is trained exactly as `checkin triage train` trains it, on
the other sets (and tests/triage/corpus.jsonl, as the committed model is, unless
--without-corpus), and reads the held-out set through the pure inference of
service/core/triage/learned.py. Prints, per held-out set and in all, the emergency recall and
the false-alarm rate of the learned reader ALONE at the threshold classify() uses (0.7).
The rules are not in these figures: they were tuned on every set, so no set is fresh to them.
Needs scikit-learn (the `[dev]` extras).

    .venv/bin/python bench/triage_learned.py [--threshold 0.7] [--without-corpus]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.cli.triage import export, fit, training_rows  # noqa: E402
from service.core.triage.learned import Model  # noqa: E402
from service.core.triage.second_reading import LEARNED_THRESHOLD  # noqa: E402

TRIAGE = ROOT / "tests" / "triage"
SETS = {k: TRIAGE / "blind" / f"set{k}.jsonl" for k in "ABCDEFGHIJKLMN"}


def _figure(hits: int, total: int) -> str:
    return f"{hits / total:6.1%} ({hits}/{total})" if total else "     -"


def main() -> int:
    """Train on all sets but one, read that one; print recall and false alarms per held-out set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=LEARNED_THRESHOLD)
    parser.add_argument("--without-corpus", action="store_true")
    args = parser.parse_args()
    extra = [] if args.without_corpus else [TRIAGE / "corpus.jsonl"]
    trained_on = "the other sets" + ("" if args.without_corpus else " + corpus.jsonl")
    print(f"learned reader alone, threshold {args.threshold}, trained on {trained_on}\n")
    print(f"{'held out':9} {'rows':>5}   {'recall':>17}   {'false alarms':>17}   {'fit s':>6}")
    totals = [0, 0, 0, 0]  # emergencies found, emergencies, false alarms, calm rows
    for name, path in SETS.items():
        start = time.perf_counter()
        train = training_rows([p for k, p in SETS.items() if k != name] + extra)
        model = Model.from_data(export(fit(train), {}))
        seconds = time.perf_counter() - start
        held = training_rows([path])
        flags = [(r["expected"] == "emergency", model.probability(r["text"])) for r in held]
        found = sum(1 for urgent, p in flags if urgent and p >= args.threshold)
        urgent = sum(1 for u, _ in flags if u)
        alarms = sum(1 for u, p in flags if not u and p >= args.threshold)
        calm = len(flags) - urgent
        for i, value in enumerate((found, urgent, alarms, calm)):
            totals[i] += value
        print(
            f"set{name:6} {len(held):5}   {_figure(found, urgent):>17}   "
            f"{_figure(alarms, calm):>17}   {seconds:6.1f}"
        )
    print(
        f"{'all':9} {totals[1] + totals[3]:5}   {_figure(totals[0], totals[1]):>17}   "
        f"{_figure(totals[2], totals[3]):>17}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
