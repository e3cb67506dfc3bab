"""Backoff strategies, AWS's documented schedules and the contention experiment."""

import numpy as np
import pytest

from lambda_lab.sim import backoff, params, theory


def test_exponential_schedule_is_exact():
    d = backoff.backoff_delays("exponential", 8, 1.0, 30.0)
    assert d.tolist() == [1, 2, 4, 8, 16, 30, 30, 30]
    assert d.sum() == theory.exponential_backoff_sum(8, 1.0, 30.0)


@pytest.mark.parametrize("strategy", ["full_jitter", "equal_jitter"])
def test_jittered_sums_match_expectation(strategy):
    d = backoff.backoff_delays(strategy, 10, 0.1, 20.0, clients=20_000, seed=1)
    expected = theory.expected_backoff_sum(strategy, 10, 0.1, 20.0)
    assert d.sum(axis=1).mean() == pytest.approx(expected, rel=0.01)
    ceiling = backoff.backoff_delays("exponential", 10, 0.1, 20.0)
    assert (d <= ceiling + 1e-12).all()
    low = 0.0 if strategy == "full_jitter" else 0.5
    assert (d >= low * ceiling - 1e-12).all()


def test_decorrelated_jitter_bounds():
    d = backoff.backoff_delays("decorrelated_jitter", 30, 0.1, 5.0, clients=1000, seed=2)
    assert d.min() >= 0.1 and d.max() <= 5.0
    assert d[:, 1:].max() > 4.0  # it does reach the cap


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="unknown backoff strategy"):
        backoff.backoff_delays("linear", 3, 1.0, 2.0)


def test_same_seed_same_delays():
    a = backoff.backoff_delays("full_jitter", 5, 1.0, 10.0, clients=3, seed=9)
    b = backoff.backoff_delays("full_jitter", 5, 1.0, 10.0, clients=3, seed=9)
    assert np.array_equal(a, b)


def test_lambda_async_error_retries_at_one_and_two_minutes():
    s = backoff.lambda_async_error_schedule()
    assert len(s) == 3
    assert s["at_s"].tolist() == [0.0, 60.0, 180.0]
    assert len(backoff.lambda_async_error_schedule(0)) == 1
    with pytest.raises(ValueError, match=r"MaximumRetryAttempts must be a whole number, 0-2, got 3 \(https://"):
        backoff.lambda_async_error_schedule(3)


def test_lambda_async_throttle_retries_1s_to_5min_for_6h():
    s = backoff.lambda_async_throttle_schedule()
    summary = backoff.schedule_summary(s)
    assert summary["first_retry_s"] == 1.0
    assert summary["max_delay_s"] == 300.0
    assert 6 * 3600 - 300 < summary["span_s"] <= 6 * 3600
    assert s["delay_s"].iloc[1:10].tolist() == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert summary["attempts"] == 1 + 9 + (21_600 - 511) // 300
    with pytest.raises(ValueError, match=r"MaximumEventAgeInSeconds must be 60-21,600 seconds, got 30 \(https://"):
        backoff.lambda_async_throttle_schedule(30)


def test_sns_schedule_100015_attempts_over_23_days():
    s = backoff.sns_managed_schedule()
    assert len(s) == params.SNS_TOTAL_ATTEMPTS == 100_015
    assert s["phase"].value_counts().to_dict() == {
        "post-backoff": 100_000, "backoff": 10, "immediate": 3, "pre-backoff": 2}
    span_days = s["at_s"].iloc[-1] / 86_400
    assert 23.0 < span_days < 23.3
    b = s[s["phase"] == "backoff"]["delay_s"]
    assert b.iloc[0] == pytest.approx(1.0) and b.iloc[-1] == pytest.approx(20.0)
    assert b.is_monotonic_increasing


def test_eventbridge_schedule_185_attempts_over_24h():
    s = backoff.eventbridge_schedule()
    assert len(s) == 185
    assert s["at_s"].iloc[-1] == pytest.approx(86_400, rel=1e-6)
    j = backoff.eventbridge_schedule(jitter=True, seed=3)
    assert len(j) <= 185 and j["at_s"].iloc[-1] <= 86_400
    assert len(j) > 170  # jitter moves the attempts, not the budget


def test_aws_schedules_table():
    t = backoff.aws_schedules()
    assert t["attempts"].tolist() == [3, 80, 185, 100_015]


def test_contention_jitter_needs_far_fewer_calls_than_exponential():
    df = backoff.contention_experiment(client_counts=(50, 100), reps=4, seed=1)
    calls = df.pivot(index="clients", columns="strategy", values="calls")
    for n in (50, 100):
        for s in ("full_jitter", "equal_jitter", "decorrelated_jitter"):
            assert calls.loc[n, s] < 0.8 * calls.loc[n, "exponential"], (n, s)
        assert calls.loc[n, "exponential"] < calls.loc[n, "none"]
    # the blog: at 100 clients full jitter cuts calls by more than half against no backoff
    assert calls.loc[100, "full_jitter"] < 0.5 * calls.loc[100, "none"]
    time = df.pivot(index="clients", columns="strategy", values="time_ms")
    assert time.loc[100, "full_jitter"] < time.loc[100, "exponential"]


def test_contention_every_client_succeeds_once():
    r = backoff.contention_run(10, "none", seed=0)
    assert r["calls"] >= 20  # at least one read and one write each
