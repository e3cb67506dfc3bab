"""pytest plugin: fail the run when a notebook takes longer than its time budget under nbval.

Loaded with ``-p tools.nb_budget``. Sums the setup, call and teardown time of every
cell of each notebook (kernel start is in the first cell's setup).
"""

from __future__ import annotations

import os
from collections import defaultdict

#: Seconds a chapter may take under nbval (issue: any chapter over 30 s fails the run).
BUDGET_S = float(os.environ.get("NB_BUDGET_S", "30"))

_spent: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report) -> None:
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _spent[path] += report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    if not _spent:
        return
    terminalreporter.section(f"notebook time (budget {BUDGET_S:.0f} s each)")
    for path, seconds in sorted(_spent.items()):
        flag = "  OVER BUDGET" if seconds > BUDGET_S else ""
        terminalreporter.write_line(f"{seconds:6.1f} s  {path}{flag}")
    over = [path for path, seconds in _spent.items() if seconds > BUDGET_S]
    if over:
        terminalreporter.write_line(f"FAILED: {len(over)} notebook(s) over the {BUDGET_S:.0f} s budget")


def pytest_sessionfinish(session, exitstatus) -> None:
    if any(seconds > BUDGET_S for seconds in _spent.values()) and session.exitstatus == 0:
        session.exitstatus = 1
