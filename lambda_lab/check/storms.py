"""Checks for the exercises of chapter 07_event_storms.

Each check computes the right answer from :mod:`lambda_lab.sim` and compares.
"""

from __future__ import annotations

from typing import Any

from ..sim import simulate_storm, theory
from . import Verdict, is_real_number, is_whole_number, report

#: How far a duplicate fraction may be from the closed form (absolute). The closed form is exact;
#: the likeliest slip, taking the CV as the lognormal's sigma, is 0.013 off and must fail.
FRACTION_TOLERANCE = 0.01


def ex1(answer: Any, *, calls: int = 5_000, reserved: int = 300) -> Verdict:
    """Exercise 1: how many of ``calls`` synchronous calls at t = 0 succeed with ``reserved``?"""
    s = simulate_storm(mode="sync", events=calls, reserved=reserved, seed=0).summary
    problems = []
    if answer is None:
        problems.append("set `answer` to the number of calls that succeeded")
    elif not is_whole_number(answer):
        problems.append(f"`answer` should be a whole number, got {answer!r}")
    elif answer != s.invocations:
        problems.append(
            f"{answer} is not what the simulation reports; a burst at t = 0 can use at most the "
            "reserved concurrency, and no more than 1,000 new environments at once"
        )
    return report("Exercise 1", problems)


def ex2(answer: Any, *, v_over_d: float = 1.5, cv: float = 0.5) -> Verdict:
    """Exercise 2: the fraction of messages processed twice when V = 1.5 x median(D), CV 0.5."""
    expected = theory.p_exceeds_lognormal(v_over_d, 1.0, theory.lognormal_sigma(cv))
    problems = []
    if not is_real_number(answer):
        problems.append(f"`answer` should be a fraction between 0 and 1, got {answer!r}")
    elif not 0 <= answer <= 1:
        problems.append(f"a fraction is between 0 and 1, got {answer}")
    elif abs(answer - expected) > FRACTION_TOLERANCE:
        problems.append(
            f"{answer:.3f} is off; a message is processed again when its processing time D exceeds "
            "the visibility timeout V, so the answer is P(D > V)"
        )
    return report("Exercise 2", problems)


def ex3(max_concurrency: Any, *, files: int = 100_000, connections: int = 100, deadline_s: float = 240.0) -> Verdict:
    """Exercise 3: a MaximumConcurrency that never exceeds the database's connections and
    still drains ``files`` within ``deadline_s``."""
    problems = []
    if not is_whole_number(max_concurrency):
        return report("Exercise 3", [f"`max_concurrency` should be a whole number, got {max_concurrency!r}"])
    try:
        s = simulate_storm(mode="sqs", events=files, max_concurrency=int(max_concurrency), seed=0).summary
    except ValueError as err:
        return report("Exercise 3", [str(err)])
    if s.max_concurrency > connections:
        problems.append(f"{s.max_concurrency} concurrent invocations would each open a connection: "
                        f"the database has {connections}")
    if s.completion_s > deadline_s:
        problems.append(f"the queue drains in {s.completion_s:.0f} s; the deadline is {deadline_s:.0f} s")
    return report("Exercise 3", problems)
