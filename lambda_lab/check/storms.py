"""Checks for the exercises of chapter 07_event_storms.

Each exercise asks for a function of the storm's parameters. The check calls it with
scenarios of its own, computes the right answer for each from :mod:`lambda_lab.sim` and
compares, so a number typed in for the chapter's example cannot pass. A check stops at the first
scenario that goes wrong and says what is wrong with it. Every scenario is small: a check runs in
a fraction of a second.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

from ..sim import params as P
from ..sim import simulate_storm, theory
from . import Verdict, is_real_number, is_whole_number, report

#: How far a duplicate fraction may be from the closed form (absolute): the closed form is exact,
#: and a simulation of 20,000 messages lands within it. Taking the CV as the lognormal's sigma is
#: 0.013 off at the chapter's (1.5, 0.5) and 0.044 off at (2.5, 1), so it fails.
FRACTION_TOLERANCE = 0.01

#: (calls, reserved, account_limit) for Exercise 1: the chapter's storm; fewer calls than the
#: reservation; no reservation (the account's limit caps); a raised account limit and a large
#: reservation (the 1,000 new environments a function may add at once cap).
SYNC_STORMS = ((5_000, 300, 1_000), (250, 300, 1_000), (2_000, None, 1_000), (5_000, 2_500, 3_000))

#: (V / median D, CV) for Exercise 2: the chapter's case, a wider spread, and V below the median.
DUPLICATE_CASES = ((1.5, 0.5), (2.5, 1.0), (0.8, 0.3))

#: (files, connections, deadline_s) for Exercise 3: two storms a cap at the connections drains in
#: time (with different connections, so one typed-in cap fails), one it cannot drain in time, and
#: one that a back-of-the-envelope N x duration / cap says fits but the pollers' ramp (5 batches,
#: +300 per minute) makes too slow.
QUEUE_STORMS = ((20_000, 100, 60.0), (10_000, 40, 60.0), (15_000, 30, 60.0), (10_000, 500, 20.0))


def _call(name: str, **args: Any) -> str:
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in args.items())})"


def _first_problem(exercise: str, fn: Any, signature: str, scenarios, one: Callable[..., list[str]]) -> Verdict:
    if not callable(fn):
        return report(exercise, [f"define `{signature}` first"])
    for scenario in scenarios:
        problems = one(fn, *scenario)
        if problems:
            return report(exercise, problems)
    return report(exercise, [])


# --- Exercise 1 ---------------------------------------------------------------------------------

HOW_1 = "simulate the burst with sim.simulate_storm(mode=\"sync\", ...) and read its summary"


def ex1(sync_successes: Any) -> Verdict:
    """Exercise 1: ``sync_successes(calls, reserved, account_limit)``, how many of ``calls``
    synchronous calls at t = 0 succeed, for each storm of :data:`SYNC_STORMS`."""
    return _first_problem("Exercise 1", sync_successes, "sync_successes(calls, reserved, account_limit)",
                          SYNC_STORMS, _sync_problems)


def _sync_problems(fn: Callable[..., Any], calls: int, reserved: int | None, limit: int) -> list[str]:
    call = _call("sync_successes", calls=calls, reserved=reserved, account_limit=limit)
    try:
        answer = fn(calls, reserved, limit)
    except Exception as err:  # the learner's code: report, never raise
        note = " (reserved=None: the function has no reserved concurrency)" if reserved is None else ""
        return [f"{call} raised {type(err).__name__}: {err}{note}"]
    if answer is None:
        return [f"{call} returned None: return the number of calls that succeeded; {HOW_1}"]
    if not is_whole_number(answer):
        return [f"{call} should return a whole number, got {answer!r}"]
    s = simulate_storm(mode="sync", events=calls, reserved=reserved, limit=limit, seed=0).summary
    if answer == s.invocations:
        return []
    if answer == calls:
        hint = ("not every call succeeds: a synchronous call that finds no free concurrency is throttled "
                "(429) and nobody retries it; simulate mode=\"sync\" (the default is \"async\")")
    elif answer == calls - s.invocations:
        hint = "that is the number throttled; count the invocations"
    elif answer == min(calls, reserved if reserved is not None else limit):
        hint = ("reserved concurrency and the account's limit are not the only caps: a function adds at "
                "most 1,000 new execution environments every 10 seconds")
    else:
        hint = ("a burst at t = 0 can use at most the reserved concurrency (the account's limit without "
                f"one), and no more than 1,000 new environments at once; {HOW_1}")
    return [f"{call} returned {answer}, which is not what the simulation reports: {hint}"]


# --- Exercise 2 ---------------------------------------------------------------------------------

def ex2(duplicate_fraction: Any) -> Verdict:
    """Exercise 2: ``duplicate_fraction(v_over_d, cv)``, the fraction of messages processed more
    than once when the visibility timeout is ``v_over_d`` times the median processing time and
    processing times are lognormal with coefficient of variation ``cv`` (maxReceiveCount >= 2)."""
    return _first_problem("Exercise 2", duplicate_fraction, "duplicate_fraction(v_over_d, cv)",
                          DUPLICATE_CASES, _duplicate_problems)


def _duplicate_problems(fn: Callable[..., Any], v_over_d: float, cv: float) -> list[str]:
    call = f"duplicate_fraction(v_over_d={v_over_d}, cv={cv})"
    try:
        answer = fn(v_over_d, cv)
    except Exception as err:
        return [f"{call} raised {type(err).__name__}: {err}"]
    if answer is None:
        return [f"{call} returned None: return the fraction of messages processed more than once, "
                "a number between 0 and 1"]
    if not is_real_number(answer):
        return [f"{call} should return a fraction between 0 and 1, got {answer!r}"]
    if not 0 <= answer <= 1:
        return [f"{call} returned {answer:.4g}: a fraction is between 0 and 1 (not a percentage)"]
    expected = theory.p_exceeds_lognormal(v_over_d, 1.0, theory.lognormal_sigma(cv))
    if abs(answer - expected) <= FRACTION_TOLERANCE:
        return []
    if abs(answer - (1 - expected)) <= FRACTION_TOLERANCE:
        hint = "that is P(D <= V), the messages processed once; the duplicates are the others"
    elif abs(answer - theory.p_exceeds_lognormal(v_over_d, 1.0, cv)) <= FRACTION_TOLERANCE:
        hint = "the CV is not the lognormal's sigma: sim.theory.lognormal_sigma(cv) converts it"
    else:
        hint = ("a message is processed again when its processing time D exceeds the visibility timeout V, "
                "so the answer is P(D > V) for D lognormal with median 1 and this CV: sim.theory has "
                "p_exceeds_lognormal and lognormal_sigma")
    return [f"{call} returned {answer:.3f}, which is off: {hint}"]


# --- Exercise 3 ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _queue_storm(files: int, cap: int) -> Any:
    """The chapter's SQS storm (200 ms per file, batches of 10) with ``MaximumConcurrency`` cap."""
    return simulate_storm(mode="sqs", events=files, duration_ms=200, max_concurrency=cap, seed=0).summary


def ex3(choose_max_concurrency: Any) -> Verdict:
    """Exercise 3: ``choose_max_concurrency(files, connections, deadline_s)``, a MaximumConcurrency
    that never lets more invocations run than the database has ``connections`` and still drains
    ``files`` within ``deadline_s``, or None when no setting can, for each storm of :data:`QUEUE_STORMS`."""
    return _first_problem("Exercise 3", choose_max_concurrency,
                          "choose_max_concurrency(files, connections, deadline_s)", QUEUE_STORMS, _cap_problems)


def _cap_problems(fn: Callable[..., Any], files: int, connections: int, deadline_s: float) -> list[str]:
    call = _call("choose_max_concurrency", files=files, connections=connections, deadline_s=deadline_s)
    try:
        cap = fn(files, connections, deadline_s)
    except Exception as err:
        return [f"{call} raised {type(err).__name__}: {err}"]
    best = min(connections, P.SQS_MAX_CONCURRENCY_MAX)
    fastest = _queue_storm(files, best).completion_s if best >= P.SQS_MAX_CONCURRENCY_MIN else math.inf
    possible = fastest <= deadline_s
    if cap is None:
        if possible:
            return [f"{call} returned None, but a MaximumConcurrency of at most {connections} can drain "
                    f"{files:,} files within {deadline_s:g} s: return one, and check it with "
                    "sim.simulate_storm(mode=\"sqs\", events=files, max_concurrency=...)"]
        return []
    if not is_whole_number(cap):
        return [f"{call} should return a whole number (or None), got {cap!r}"]
    if cap > connections:
        return [f"{call} returned {cap}: up to {cap} invocations would each hold a connection, and the "
                f"database has {connections}"]
    try:
        s = _queue_storm(files, int(cap))
    except ValueError as err:
        return [f"{call} returned {cap}: {err}"]
    if s.completion_s <= deadline_s:
        return []
    if possible:
        return [f"{call} returned {cap}: the queue drains in {s.completion_s:.0f} s, after the "
                f"{deadline_s:g} s deadline; a larger cap, up to {connections}, drains it faster"]
    return [f"{call} returned {cap}, but no MaximumConcurrency up to {connections} drains {files:,} files "
            f"within {deadline_s:g} s (even {best} takes {fastest:.0f} s: the pollers start at 5 batches and add "
            "300 per minute): return None"]
