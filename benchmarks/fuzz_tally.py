"""Tally the SQS ledger fuzz for the closing note: patterns, items, lost, double-ended, crashes, hangs.

    python benchmarks/fuzz_tally.py [N]      # N patterns (default 1,000), same draws as the test

It runs ``tests/test_ledger_properties.py``'s ``sqs_patterns``/``run_sqs`` and counts instead of
asserting. lost: a sent message with no ending (or still pending); double-ended: a message with two
first-copy rows, or a LedgerError; library crash: any other exception out of the lab; hang: the
scheduler still busy after ``MAX_STEPS`` steps (a spin at one instant) or not idle after 7 days;
order: FIFO groups whose first successful processing broke send order; dlq: DLQ differs from the ledger.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import test_ledger_properties as props  # noqa: E402

from lambda_lab import Lab  # noqa: E402
from lambda_lab.ledger import LedgerError  # noqa: E402

MAX_STEPS = 200_000  # scheduler steps per pattern; a real pattern needs a few hundred


class Spin(Exception):
    """The scheduler ran MAX_STEPS steps in one pattern."""


def bound_steps(lab: Lab) -> Counter:
    """Make ``lab.scheduler.run_next`` raise ``Spin`` past MAX_STEPS steps since the last reset."""
    steps = Counter()
    run_next = lab.scheduler.run_next

    def counted() -> bool:
        steps["n"] += 1
        if steps["n"] > MAX_STEPS:
            raise Spin()
        return run_next()

    lab.scheduler.run_next = counted
    return steps


def tally(n: int) -> Counter:
    """Run ``n`` SQS patterns; return the counts."""
    counts = Counter()
    with Lab(seed=0) as lab:
        steps = bound_steps(lab)

        @settings(max_examples=n, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(props.sqs_patterns())
        def one(pattern: dict) -> None:
            steps["n"] = 0
            counts["patterns"] += 1
            counts["items"] += len(pattern["fails"])
            try:
                summary, rows, ids, url, dlq, listed, succeeded = props.run_sqs(lab, pattern)
            except Spin:
                counts["hangs"] += 1
                _clear(lab)
                return
            except LedgerError:
                counts["double-ended"] += 1
                _clear(lab)
                return
            except Exception as error:  # noqa: BLE001 - a tally counts every crash
                counts["library crashes"] += 1
                counts[f"crash: {type(error).__name__}"] += 1
                _clear(lab)
                return
            counts["hangs"] += not summary.idle
            firsts = rows[rows["copy"] == 1]
            ended = set(firsts.loc[firsts["ending"] != "pending", "item"])
            counts["lost"] += sum(1 for i in ids if i not in ended)
            counts["double-ended"] += int(firsts.duplicated(["item"]).sum())
            dead = sorted(m["MessageId"] for m in props.dead_letters(lab, dlq))
            counts["dlq mismatches"] += dead != sorted(rows.loc[rows["ending"] == "dead_letter", "item"])
            if pattern["fifo"]:
                try:
                    props.check_fifo_order(succeeded, pattern)
                except AssertionError:
                    counts["fifo order violations"] += 1

        one()
    return counts


def _clear(lab: Lab) -> None:
    """Stop whatever the failed pattern left running so the next starts clean."""
    for source in list(lab.sources):
        source.stop()
        lab.sources.remove(source)
    for task in list(lab.scheduler._heap):
        task.cancel()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    counts = tally(n)
    print(f"SQS fuzz, {n} patterns requested ({time.perf_counter() - started:.0f} s)")
    for key in ("patterns", "items", "lost", "double-ended", "library crashes", "hangs", "dlq mismatches",
                "fifo order violations"):
        print(f"  {key:24} {counts[key]}")
    for key in sorted(k for k in counts if k.startswith("crash: ")):
        print(f"  {key:24} {counts[key]}")


if __name__ == "__main__":
    main()
