"""Chapter 07's exercise checks: plausible wrong answers fail with a reason, the solutions pass."""

from __future__ import annotations

import numpy as np
import pytest

from lambda_lab import sim
from lambda_lab.check import storms as check

SOLUTION_2 = sim.theory.p_exceeds_lognormal(1.5, 1.0, sim.theory.lognormal_sigma(0.5))


def test_exercise_1_passes_the_simulated_count():
    result = sim.simulate_storm(mode="sync", events=5_000, reserved=300, seed=0)
    assert check.ex1(result.summary.invocations)
    assert check.ex1(np.int64(result.summary.invocations))  # e.g. summed from the trace with numpy


@pytest.mark.parametrize("wrong, reason", [
    (None, "set `answer`"),
    (5_000, "is not what the simulation reports"),  # every call
    (1_000, "is not what the simulation reports"),  # the burst of new environments, not the reservation
    (4_700, "is not what the simulation reports"),  # the throttles
    (300.0, "whole number"),
    (True, "whole number"),
])
def test_exercise_1_refuses_wrong_answers(wrong, reason):
    verdict = check.ex1(wrong)
    assert not verdict and reason in repr(verdict)


def test_exercise_2_passes_the_closed_form():
    assert check.ex2(SOLUTION_2)
    assert check.ex2(np.float32(SOLUTION_2))
    assert check.ex2(round(SOLUTION_2, 2))  # read to two places


@pytest.mark.parametrize("wrong, reason", [
    (None, "fraction between 0 and 1"),
    ("0.195", "fraction between 0 and 1"),
    (100 * SOLUTION_2, "between 0 and 1"),  # a percentage
    (1 - SOLUTION_2, "is off"),  # P(D <= V): processed once
    (sim.theory.p_exceeds_lognormal(1.5, 1.0, 0.5), "is off"),  # the CV taken as sigma
    (sim.theory.p_exceeds_lognormal(1.5, 1.0, 1.0), "is off"),
])
def test_exercise_2_refuses_wrong_answers(wrong, reason):
    verdict = check.ex2(wrong)
    assert not verdict and reason in repr(verdict)


@pytest.mark.parametrize("good", [92, 100, np.int64(100)])
def test_exercise_3_passes_a_cap_that_fits_both_limits(good):
    assert check.ex3(good)


@pytest.mark.parametrize("wrong, reason", [
    (None, "whole number"),  # no cap at all
    (1_000, "the database has 100"),  # the account's concurrency
    (101, "the database has 100"),
    (50, "the deadline is 240 s"),  # safe but too slow
    (90, "the deadline is 240 s"),
    (1, "MaximumConcurrency"),  # below AWS's minimum of 2
    (100.0, "whole number"),
    (True, "whole number"),
])
def test_exercise_3_refuses_wrong_answers(wrong, reason):
    verdict = check.ex3(wrong)
    assert not verdict and reason in repr(verdict)
