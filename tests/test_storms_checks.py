"""Chapter 07's exercise checks: the starter and plausible wrong answers fail with a reason, the
solutions pass. The starters and solutions here are the notebook's cells, word for word."""

from __future__ import annotations


import numpy as np
import pytest

from lambda_lab import sim
from lambda_lab.check import storms as check

base = sim.StormConfig(events=100_000, duration_ms=200, seed=7)  # the chapter's


# --- Exercise 1 ---------------------------------------------------------------------------------

def starter_sync_successes(calls, reserved, account_limit):
    ...  # your code here


def sync_successes(calls, reserved, account_limit):
    storm = sim.simulate_storm(base, mode="sync", events=calls, reserved=reserved, limit=account_limit)
    return storm.summary.invocations


def _from_the_timeline(calls, reserved, account_limit):  # summed with numpy from the time series
    storm = sim.simulate_storm(mode="sync", events=calls, reserved=reserved, limit=account_limit)
    return np.sum(storm.timeline["started"].to_numpy())


def _closed_form(calls, reserved, account_limit):  # the lesson as a formula: every cap, no simulation
    return min(calls, reserved if reserved is not None else account_limit, 1_000)


@pytest.mark.parametrize("good", [sync_successes, _from_the_timeline, _closed_form],
                         ids=["solution", "numpy-sum-of-the-timeline", "closed-form-with-every-cap"])
def test_exercise_1_passes(good):
    verdict = check.ex1(good)
    assert verdict, repr(verdict)


def test_exercise_1_starter_says_what_to_do():
    verdict = check.ex1(starter_sync_successes)
    text = repr(verdict)
    assert not verdict and "not yet" in text
    assert "returned None: return the number of calls that succeeded" in text and 'mode="sync"' in text


def _hard_coded_300(calls, reserved, account_limit):
    return 300


def _async_by_default(calls, reserved, account_limit):
    return sim.simulate_storm(events=calls, reserved=reserved, limit=account_limit).summary.invocations


def _counts_throttles(calls, reserved, account_limit):
    return sim.simulate_storm(mode="sync", events=calls, reserved=reserved, limit=account_limit).summary.throttles


def _min_calls_and_reserved(calls, reserved, account_limit):
    return min(calls, reserved)


def _forgets_the_scaling_limit(calls, reserved, account_limit):
    return min(calls, reserved if reserved is not None else account_limit)


def _forgets_the_account_limit(calls, reserved, account_limit):
    return sim.simulate_storm(mode="sync", events=calls, reserved=reserved).summary.invocations


def _every_call(calls, reserved, account_limit):
    return sim.simulate_storm(mode="sync", events=calls, reserved=reserved, limit=account_limit).summary.events


def _float_count(calls, reserved, account_limit):
    return float(min(calls, reserved or account_limit, 1_000))


@pytest.mark.parametrize("wrong, reason", [
    (_hard_coded_300, "sync_successes(calls=250, reserved=300, account_limit=1000) returned 300"),
    (_async_by_default, "simulate mode=\"sync\" (the default is \"async\")"),
    (_counts_throttles, "that is the number throttled"),
    (_min_calls_and_reserved, "raised TypeError: '<' not supported between instances of 'NoneType' and 'int' "
                              "(reserved=None: the function has no reserved concurrency)"),
    (_forgets_the_scaling_limit, "a function adds at most 1,000 new execution environments"),
    (_forgets_the_account_limit, "raised ValueError: reserved concurrency 2500 leaves less than 100 unreserved"),
    (_every_call, "not every call succeeds"),
    (_float_count, "should return a whole number, got 300.0"),
    (300, "define `sync_successes(calls, reserved, account_limit)` first"),
], ids=["hard-coded-300", "async-by-default", "counts-throttles", "min-of-calls-and-reserved",
        "forgets-the-scaling-limit", "forgets-the-account-limit", "every-call", "float-count", "a-number"])
def test_exercise_1_refuses_wrong_answers(wrong, reason):
    verdict = check.ex1(wrong)
    assert not verdict and reason in repr(verdict), repr(verdict)


# --- Exercise 2 ---------------------------------------------------------------------------------

def starter_duplicate_fraction(v_over_d, cv):
    ...  # your code here


def duplicate_fraction(v_over_d, cv):
    return sim.theory.p_exceeds_lognormal(v_over_d, 1.0, sim.theory.lognormal_sigma(cv))


def _simulated(v_over_d, cv):  # 20,000 simulated messages land within the tolerance
    return sim.sqs_receives(20_000, v_over_d, 1.0, cv, seed=7)[1].duplicate_fraction


def _in_float32(v_over_d, cv):
    return np.float32(round(duplicate_fraction(v_over_d, cv), 3))


@pytest.mark.parametrize("good", [duplicate_fraction, _simulated, _in_float32],
                         ids=["solution", "simulated-20000", "float32-to-3-places"])
def test_exercise_2_passes(good):
    verdict = check.ex2(good)
    assert verdict, repr(verdict)


def test_exercise_2_starter_says_what_to_do():
    verdict = check.ex2(starter_duplicate_fraction)
    text = repr(verdict)
    assert not verdict and "not yet" in text and "returned None: return the fraction" in text


SOLUTION_AT_1_5 = duplicate_fraction(1.5, 0.5)


def _cv_as_sigma(v_over_d, cv):
    return sim.theory.p_exceeds_lognormal(v_over_d, 1.0, cv)


def _processed_once(v_over_d, cv):
    return 1 - duplicate_fraction(v_over_d, cv)


def _percent(v_over_d, cv):
    return 100 * duplicate_fraction(v_over_d, cv)


def _dead_lettered(v_over_d, cv):  # the dead-letter fraction of maxReceiveCount 5, not the duplicates
    return sim.theory.sqs_dlq_fraction(duplicate_fraction(v_over_d, cv), 5)


def _normal_not_lognormal(v_over_d, cv):  # D normal with mean 1 and sd cv
    from math import erfc, sqrt

    return 0.5 * erfc((v_over_d - 1) / cv / sqrt(2))


@pytest.mark.parametrize("wrong, reason", [
    (lambda v_over_d, cv: SOLUTION_AT_1_5, "duplicate_fraction(v_over_d=2.5, cv=1.0) returned 0.195"),
    (_cv_as_sigma, "the CV is not the lognormal's sigma"),
    (_processed_once, "that is P(D <= V)"),
    (_percent, "a fraction is between 0 and 1"),
    (_dead_lettered, "is off: a message is processed again"),
    (_normal_not_lognormal, "is off: a message is processed again"),
    (lambda v_over_d, cv: "0.195", "should return a fraction between 0 and 1, got '0.195'"),
    (SOLUTION_AT_1_5, "define `duplicate_fraction(v_over_d, cv)` first"),
], ids=["hard-coded-0.195", "cv-as-sigma", "processed-once", "percent", "dead-lettered-fraction",
        "normal-not-lognormal", "text", "a-number"])
def test_exercise_2_refuses_wrong_answers(wrong, reason):
    verdict = check.ex2(wrong)
    assert not verdict and reason in repr(verdict), repr(verdict)


# --- Exercise 3 ---------------------------------------------------------------------------------

def starter_choose_max_concurrency(files, connections, deadline_s):
    ...  # your code here


def choose_max_concurrency(files, connections, deadline_s):
    cap = min(connections, 1_000)  # one connection per invocation; 1,000 is the most a mapping allows
    storm = sim.simulate_storm(base, mode="sqs", events=files, max_concurrency=cap)
    return cap if storm.summary.completion_s <= deadline_s else None


def _smallest_that_fits(files, connections, deadline_s):  # leaves connections for others: also right
    def fits(cap):
        storm = sim.simulate_storm(base, mode="sqs", events=files, max_concurrency=cap)
        return storm.summary.completion_s <= deadline_s

    low, high = 2, min(connections, 1_000)
    if not fits(high):
        return None
    while low < high:  # bisect: the smallest cap that still drains in time
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle + 1, high)
    return low


@pytest.mark.parametrize("good", [choose_max_concurrency, _smallest_that_fits],
                         ids=["solution", "smallest-cap-that-fits"])
def test_exercise_3_passes(good):
    verdict = check.ex3(good)
    assert verdict, repr(verdict)


def test_exercise_3_starter_says_what_to_do():
    verdict = check.ex3(starter_choose_max_concurrency)
    text = repr(verdict)
    assert not verdict and "not yet" in text
    assert "returned None, but a MaximumConcurrency of at most 100 can drain 20,000 files within 60 s" in text


def _hard_coded_100(files, connections, deadline_s):
    return 100


def _account_concurrency(files, connections, deadline_s):
    return 1_000


def _connections_without_the_deadline(files, connections, deadline_s):
    return connections


def _drain_lower_bound(files, connections, deadline_s):  # N x duration / cap: forgets the pollers' ramp
    fits = sim.theory.drain_lower_bound_s(files, 0.2, connections) <= deadline_s
    return connections if fits else None


def _batches_not_invocations(files, connections, deadline_s):  # connections / BatchSize
    return connections // 10


def _rate_needed(files, connections, deadline_s):  # the files per second the deadline needs
    return int(files / deadline_s)


def _below_the_minimum(files, connections, deadline_s):
    return 1


@pytest.mark.parametrize("wrong, reason", [
    (_hard_coded_100, "connections=40, deadline_s=60.0) returned 100: up to 100 invocations"),
    (_account_concurrency, "returned 1000: up to 1000 invocations would each hold a connection"),
    (_connections_without_the_deadline, "connections=30, deadline_s=60.0) returned 30, but no MaximumConcurrency"),
    (_drain_lower_bound, "connections=500, deadline_s=20.0) returned 500, but no MaximumConcurrency"),
    (_batches_not_invocations, "returned 10: the queue drains in 401 s, after the 60 s deadline"),
    (_rate_needed, "returned 333: up to 333 invocations"),
    (_below_the_minimum, "MaximumConcurrency"),
    (lambda files, connections, deadline_s: float(connections), "whole number (or None), got 100.0"),
    (100, "define `choose_max_concurrency(files, connections, deadline_s)` first"),
], ids=["hard-coded-100", "account-concurrency", "connections-without-the-deadline", "drain-lower-bound",
        "batches-not-invocations", "rate-needed", "below-the-minimum", "float", "a-number"])
def test_exercise_3_refuses_wrong_answers(wrong, reason):
    verdict = check.ex3(wrong)
    assert not verdict and reason in repr(verdict), repr(verdict)
