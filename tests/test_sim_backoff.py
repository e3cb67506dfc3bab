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


def test_eventbridge_schedule_186_attempts_over_24h():
    s = backoff.eventbridge_schedule()
    assert len(s) == 186  # the first attempt and 185 retries
    assert s["at_s"].iloc[-1] == pytest.approx(86_400, rel=1e-6)
    j = backoff.eventbridge_schedule(jitter=True, seed=3)
    assert len(j) <= 186 and j["at_s"].iloc[-1] <= 86_400
    assert len(j) > 170  # jitter moves the attempts, not the budget


def test_aws_schedules_table():
    t = backoff.aws_schedules()
    assert t["attempts"].tolist() == [3, 80, 186, 100_015]
    # AWS gives the throttle interval only as "increases exponentially" and EventBridge only
    # a count and a span: those rows are the lab's reconstructions and must say so
    assert t["intervals"].to_dict() == {
        "Lambda async, function error": "documented", "Lambda async, throttle (429)": "reconstructed",
        "EventBridge target": "reconstructed", "SNS delivery to Lambda / SQS": "documented"}
    # SNS retries getting the event to Lambda; the function's errors are Lambda's async queue's
    assert t.loc["SNS delivery to Lambda / SQS", "retries"] == "delivery, not function errors"


def test_contention_ranks_strategies_as_the_blog_does():
    # reference/aws-facts.md §11: work Full ~ Equal < Decorrelated << no-jitter exponential;
    # time Decorrelated <~ Full < Equal << no-jitter exponential. Full jitter "reduced our
    # call count by more than half" against exponential backoff at 100 clients.
    df = backoff.contention_experiment(client_counts=(50, 100), reps=6, seed=1)
    calls = df.pivot(index="clients", columns="strategy", values="calls")
    time = df.pivot(index="clients", columns="strategy", values="time_ms")
    for n in (50, 100):
        for s in ("full_jitter", "equal_jitter", "decorrelated_jitter"):
            assert calls.loc[n, s] < 0.8 * calls.loc[n, "exponential"], (n, s)
            assert time.loc[n, s] < 0.25 * time.loc[n, "exponential"], (n, s)
        assert calls.loc[n, "exponential"] < calls.loc[n, "none"]
        assert calls.loc[n, "full_jitter"] < calls.loc[n, "decorrelated_jitter"]
        assert time.loc[n, "full_jitter"] < time.loc[n, "equal_jitter"]
    assert calls.loc[100, "full_jitter"] < 0.5 * calls.loc[100, "exponential"]


def test_contention_counts_writes_and_four_hops_per_attempt():
    # One client never collides: one write, and its response arrives after four one-way
    # delays of |N(10, 2)| ms. Counting reads too (2 calls) or two hops (20 ms) would fail.
    runs = [backoff.contention_run(1, "exponential", seed=s) for s in range(300)]
    assert {r["calls"] for r in runs} == {1}
    assert np.mean([r["time_ms"] for r in runs]) == pytest.approx(4 * params.BLOG_NET_MEAN_MS, abs=0.5)


@pytest.mark.parametrize("strategy,first_sleep_ms", [("exponential", 10.0), ("none", 0.0), ("constant", 5.0)])
def test_contention_first_backoff_follows_the_attempt_counter(strategy, first_sleep_ms):
    # With a fixed 10 ms network both clients read version 0 at 10 ms and write at 30 ms;
    # one wins (response at 40 ms), the other sleeps, then needs four more hops. The post's
    # simulator counts the failed attempt before sleeping: exponential's first sleep is
    # base * 2**1 = 10 ms, not base = 5 ms.
    r = backoff.contention_run(2, strategy, seed=0, net_sd_ms=0.0)
    assert r["calls"] == 3
    assert r["time_ms"] == pytest.approx(40.0 + first_sleep_ms + 40.0)


def test_contention_every_client_succeeds_once():
    r = backoff.contention_run(10, "none", seed=0)
    assert r["calls"] >= 10  # at least one write each
