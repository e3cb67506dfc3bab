"""Wall time of each chapter under strict nbval, one notebook at a time (with kernel start).

Prints a table; the pass/fail budget lives in tools/nb_budget.py, not here.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    print(f"{'notebook':<28} {'seconds':>8}  result")
    for nb in notebooks:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-q", "--color=no",
             "-p", "no:cacheprovider", "--nbval-sanitize-with", "notebooks/nbval_sanitize.cfg", str(nb)],
            cwd=ROOT, capture_output=True, text=True,
        )
        seconds = time.perf_counter() - start
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "no output"
        print(f"{nb.name:<28} {seconds:8.1f}  {last}")


if __name__ == "__main__":
    main()
