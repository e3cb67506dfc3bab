"""Closed forms against independent computations."""

import math

import numpy as np
import pytest

from lambda_lab.sim import theory


def erlang_b_direct(c: int, a: float) -> float:
    """Textbook formula with exact factorials; fine for small c."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


@pytest.mark.parametrize("c,a", [(1, 0.5), (5, 3.0), (20, 15.0), (50, 45.0), (100, 120.0)])
def test_erlang_b_recursion_matches_direct_formula(c, a):
    assert theory.erlang_b(c, a) == pytest.approx(erlang_b_direct(c, a), rel=1e-10)


def test_erlang_b_is_stable_at_aws_scale():
    # a**c and c! overflow floats long before c = 3,000; the recursion does not.
    b = theory.erlang_b(3000, 2900.0)
    assert 0.0 < b < 0.01
    assert theory.erlang_b(3000, 3300.0) > theory.erlang_b(3000, 3000.0) > b
    # heavy overload: blocking tends to 1 - c/a
    assert theory.erlang_b(3000, 30_000.0) == pytest.approx(1 - 3000 / 30_000, abs=0.01)


def test_erlang_b_edge_cases():
    assert theory.erlang_b(0, 5.0) == 1.0
    assert theory.erlang_b(10, 0.0) == 0.0
    with pytest.raises(ValueError):
        theory.erlang_b(-1, 1.0)


def test_littles_law_and_drain_bound():
    assert theory.littles_law(500.0, 0.2) == pytest.approx(100.0)
    assert theory.drain_lower_bound_s(100_000, 0.2, 1000) == pytest.approx(20.0)


def test_lognormal_exceedance():
    # the median is exceeded half the time, whatever the shape
    assert theory.p_exceeds_lognormal(2.0, 2.0, 0.7) == pytest.approx(0.5)
    sigma = theory.lognormal_sigma(0.5)
    rng = np.random.default_rng(0)
    d = rng.lognormal(np.log(1.0), sigma, 400_000)
    assert (d > 1.8).mean() == pytest.approx(theory.p_exceeds_lognormal(1.8, 1.0, sigma), abs=0.003)
    assert d.std() / d.mean() == pytest.approx(0.5, rel=0.02)


def test_sqs_receive_forms():
    assert theory.sqs_receives_per_message(0.0, 5) == 1.0
    assert theory.sqs_receives_per_message(1.0, 5) == 5.0
    assert theory.sqs_receives_per_message(0.5, 3) == pytest.approx(1 + 0.5 + 0.25)
    assert theory.sqs_dlq_fraction(0.5, 3) == pytest.approx(0.125)


@pytest.mark.parametrize("max_receive_count", [1, 2, 5])
def test_sqs_outcomes_match_simulated_receives(max_receive_count):
    # At maxReceiveCount = 1 a second receive is a move to the dead-letter queue, so the
    # duplicates a naive P(D > V) predicts show up as dead-lettered messages instead.
    from lambda_lab.sim import delivery

    q = theory.p_exceeds_lognormal(1.2, 1.0, theory.lognormal_sigma(0.5))
    _, s = delivery.sqs_receives(40_000, 1.2, 1.0, 0.5, max_receive_count, seed=11)
    out = theory.sqs_outcomes(q, max_receive_count)
    assert s.duplicate_fraction == pytest.approx(out["duplicate_fraction"], abs=0.006)
    assert s.dlq_fraction == pytest.approx(out["dlq_fraction"], abs=0.006)
    assert s.receives_per_message == pytest.approx(out["receives_per_message"], rel=0.01)


def test_duplicates_at_max_receive_count_one_are_dead_lettered_not_zero():
    q = 0.3
    out = theory.sqs_outcomes(q, 1)
    assert out["duplicate_fraction"] == 0.0
    assert out["dlq_fraction"] == pytest.approx(q)  # processed once, then dead-lettered anyway
    assert theory.sqs_duplicate_fraction(q, 2) == pytest.approx(q)
    with pytest.raises(ValueError, match="maxReceiveCount"):
        theory.sqs_duplicate_fraction(q, 0)


def test_backoff_closed_forms():
    assert theory.exponential_backoff_sum(4, 1.0, 100.0) == 15.0
    assert theory.exponential_backoff_sum(10, 1.0, 60.0) == 1 + 2 + 4 + 8 + 16 + 32 + 60 * 4
    assert theory.expected_backoff_sum("full_jitter", 4, 1.0, 100.0) == 7.5
    with pytest.raises(ValueError):
        theory.expected_backoff_sum("decorrelated_jitter", 4, 1.0, 100.0)


def test_sqs_ramp():
    assert theory.sqs_ramp_minutes(1000) == pytest.approx(995 / 300)
