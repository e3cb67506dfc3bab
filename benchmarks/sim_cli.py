"""Wall time of the storm command line, from process start to exit, against its targets.

    .venv/bin/python benchmarks/sim_cli.py [repeats]

Each command runs ``repeats`` times (default 7) in a fresh ``sys.executable`` process; the
table shows the median and the fastest run in seconds, the target and median / target
(above 1.00 is slower than the target). The targets, from the issue: ``storm --help`` in
under 0.3 s, and an asynchronous storm of 10^6 events (all at t = 0, printed as JSON) in
under 1.5 s. The bare interpreter and ``import lambda_lab.sim`` are shown for scale.

A measurement, not a test: slowness never fails it; a command that crashes or prints a
wrong summary does. With ``PYTHONDONTWRITEBYTECODE`` set, every start also recompiles the
package's modules (tens of ms), which the table includes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 1_000_000
STORM = ["-m", "lambda_lab.sim", "storm", "--events", str(EVENTS), "--mode", "async", "--json", "--no-progress"]

#: label -> (interpreter arguments, target in seconds or None)
COMMANDS = {
    "python -c pass": (["-c", "pass"], None),
    "import lambda_lab.sim": (["-c", "import lambda_lab.sim"], None),
    "storm --help": (["-m", "lambda_lab.sim", "storm", "--help"], 0.3),
    "storm, 10^6 events, async": (STORM, 1.5),
}


def run_once(args: list[str]) -> tuple[float, str]:
    """Seconds from process start to exit, and what the process printed."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def check_storm(stdout: str) -> None:
    """Refuse a storm that did not run to the end: every event invoked, nothing dropped."""
    summary = json.loads(stdout)
    if summary["events"] != EVENTS or summary["invocations"] != EVENTS or summary["dropped"]:
        raise SystemExit(f"unexpected storm summary: {summary}")


def main(repeats: int = 7) -> None:
    print(f"{sys.executable} on {os.cpu_count()} CPUs, {repeats} runs each, seconds from process start to exit\n")
    print(f"{'command':<28} {'median s':>9} {'fastest s':>10} {'target s':>9} {'median/target':>14}")
    for label, (args, target) in COMMANDS.items():
        times = []
        for _ in range(repeats):
            seconds, stdout = run_once(args)
            times.append(seconds)
            if args is STORM:
                check_storm(stdout)
        median = statistics.median(times)
        goal = f"{target:9.2f} {median / target:13.2f}x" if target else f"{'':9} {'':14}"
        print(f"{label:<28} {median:9.3f} {min(times):10.3f} {goal}".rstrip())


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
