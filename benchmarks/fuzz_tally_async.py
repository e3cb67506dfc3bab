"""Tally of the async and S3 ledger fuzz: what N patterns did, crashes and hangs included.

Draws the same patterns as ``tests/test_ledger_properties.py`` (``async_patterns``,
``s3_patterns``, derandomized), runs each in one shared lab and counts, per source:
patterns, items (ledger rows, duplicates included), lost (rows still pending after the run,
or a sent item with no row), double-ended (``LedgerError``, or an item with two first
copies), library crashes (any other exception out of the run) and hangs
(``run_until_idle`` not idle after 7 virtual days). A measurement, not a test: it never fails.
The SQS tally, if any, is ``benchmarks/fuzz_tally.py``.

    .venv/bin/python benchmarks/fuzz_tally_async.py [patterns]    # default 100
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from hypothesis import HealthCheck, given, settings

from lambda_lab import Lab
from lambda_lab.ledger import LedgerError

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("patterns", "items", "lost", "double-ended", "library crashes", "hangs")


def load_properties() -> Any:
    """``tests/test_ledger_properties.py`` as a module (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location("ledger_properties", ROOT / "tests" / "test_ledger_properties.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tally_rows(tally: Counter, rows: Any, expected_firsts: int) -> None:
    """Count items, lost and double-ended rows of one pattern's ``lab.outcomes(...)``."""
    firsts = rows[rows["copy"] == 1]
    tally["items"] += len(rows)
    tally["lost"] += int((rows["ending"] == "pending").sum()) + max(0, expected_firsts - len(firsts))
    tally["double-ended"] += int(firsts.duplicated(["item"]).sum())


def run_one(tally: Counter, failures: list[str], run: Callable[[], tuple[Any, Any, int]]) -> None:
    """Run one pattern; ``run()`` returns (summary, rows, number of items sent)."""
    tally["patterns"] += 1
    try:
        summary, rows, sent = run()
    except LedgerError:
        tally["double-ended"] += 1
        failures.append(traceback.format_exc(limit=3))
        return
    except Exception:  # noqa: BLE001 - counting crashes is the point
        tally["library crashes"] += 1
        failures.append(traceback.format_exc(limit=3))
        return
    tally["hangs"] += not summary.idle
    tally_rows(tally, rows, sent)


def tally_async(props: Any, lab: Lab, n: int) -> tuple[Counter, list[str]]:
    tally, failures = Counter(), []

    def run(p: dict) -> tuple[Any, Any, int]:
        summary, function, ids, _ = props.run_async(lab, p)
        return summary, lab.outcomes(function), len(ids)

    _drive(props.async_patterns(), n, lambda p: run_one(tally, failures, lambda: run(p)))
    return tally, failures


def tally_s3(props: Any, lab: Lab, n: int) -> tuple[Counter, list[str]]:
    tally, failures = Counter(), []

    def run(p: dict) -> tuple[Any, Any, int]:
        summary, function, writes, _ = props.run_s3(lab, p)
        return summary, lab.outcomes(function), writes

    _drive(props.s3_patterns(), n, lambda p: run_one(tally, failures, lambda: run(p)))
    return tally, failures


def _drive(strategy: Any, n: int, body: Callable[[dict], None]) -> None:
    """Call ``body`` on ``n`` derandomized draws of ``strategy`` (no shrinking: body never fails)."""
    @settings(max_examples=n, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def each(pattern: dict) -> None:
        body(pattern)

    each()


def main(argv: list[str]) -> None:
    n = int(argv[1]) if len(argv) > 1 else 100
    props = load_properties()
    print(f"{'source':<8}" + "".join(f"{f:>17}" for f in FIELDS) + f"{'seconds':>10}")
    for name, tally_fn in (("async", tally_async), ("s3", tally_s3)):
        start = time.perf_counter()
        with Lab(seed=0) as lab:
            tally, failures = tally_fn(props, lab, n)
        elapsed = time.perf_counter() - start
        print(f"{name:<8}" + "".join(f"{tally[f]:>17,}" for f in FIELDS) + f"{elapsed:>10.1f}")
        for failure in failures[:3]:
            print(failure)


if __name__ == "__main__":
    main(sys.argv)
