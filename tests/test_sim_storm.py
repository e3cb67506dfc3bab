"""Storms against theory: Little's law, Erlang B, the burst rule, drain bounds, SQS scaling."""

import numpy as np
import pandas as pd
import pytest

from lambda_lab.sim import StormConfig, simulate_storm, storm, theory


def test_littles_law_unthrottled_poisson():
    r = simulate_storm(mode="sync", arrival="poisson", events=100_000, rate_per_s=400,
                       duration_ms=500, cold_start_ms=0, seed=3)
    assert r.summary.throttles == 0
    tl = r.timeline
    core = tl[(tl.time_s > 10) & (tl.time_s < tl.time_s.max() - 10)]
    assert core["concurrency"].mean() == pytest.approx(theory.littles_law(400, 0.5), rel=0.02)


@pytest.mark.parametrize("c,a", [(50, 45.0), (100, 100.0), (20, 12.0)])
def test_sync_blocking_matches_erlang_b(c, a):
    r = simulate_storm(mode="sync", arrival="poisson", events=80_000, rate_per_s=a, duration_ms=1000,
                       reserved=c, tick_ms=20, cold_start_ms=0, seed=4)
    blocked = r.summary.throttles / r.summary.events
    b = theory.erlang_b(c, a)
    # binomial-ish noise plus correlation over ~1 s: allow 12 % relative or 0.001 absolute
    assert blocked == pytest.approx(b, rel=0.12, abs=0.001)


@pytest.mark.parametrize("n,limit", [(500, 1000), (5000, 1000), (5000, 3000), (20_000, 10_000), (800, 900)])
def test_sync_burst_lets_min_n_limit_1000_succeed(n, limit):
    s = simulate_storm(mode="sync", events=n, limit=limit, seed=1).summary
    assert s.invocations == min(n, limit, 1000)
    assert s.throttles == n - s.invocations
    assert s.max_concurrency == min(n, limit, 1000)


def test_pre2023_burst_rule():
    # before 2023-11-27: an account burst of 3,000 (us-east-1), then +500 per minute
    s = simulate_storm(mode="sync", events=20_000, limit=10_000, scaling="pre2023", seed=1).summary
    assert s.invocations == 3000


def test_reserved_concurrency_caps_and_validates():
    s = simulate_storm(mode="sync", events=5000, reserved=100, seed=1).summary
    assert s.invocations == 100
    with pytest.raises(ValueError, match="unreserved"):
        simulate_storm(mode="sync", events=10, reserved=950)


@pytest.mark.parametrize("jitter", ["equal_jitter", "full_jitter", "exponential", "decorrelated_jitter"])
def test_async_storm_cannot_drain_faster_than_bound(jitter):
    s = simulate_storm(mode="async", events=50_000, duration_ms=200, limit=1000, jitter=jitter, seed=5).summary
    bound = theory.drain_lower_bound_s(50_000, 0.2, 1000)
    assert s.completion_s >= bound
    assert s.invocations == 50_000 and s.dropped == 0
    assert s.max_concurrency <= 1000
    assert s.throttles > 0


def test_async_invocations_plus_drops_account_for_every_event():
    s = simulate_storm(mode="async", events=30_000, duration_ms=1000, reserved=10,
                       max_event_age_s=120, seed=6).summary
    assert s.dropped > 0
    assert s.invocations + s.dropped == 30_000
    assert s.max_concurrency <= 10


def test_async_throttles_are_not_billed():
    s = simulate_storm(mode="async", events=20_000, reserved=50, seed=2).summary
    assert s.throttles > s.invocations
    expected_gb_s = (s.invocations * 0.2 + s.cold_starts * 0.25) * 512 / 1024
    assert s.gb_seconds == pytest.approx(expected_gb_s)
    assert s.cost_usd == pytest.approx(s.invocations * 0.2e-6 + expected_gb_s * 0.0000166667)


def test_same_seed_same_storm():
    a = simulate_storm(mode="async", events=20_000, jitter="full_jitter", seed=8)
    b = simulate_storm(mode="async", events=20_000, jitter="full_jitter", seed=8)
    c = simulate_storm(mode="async", events=20_000, jitter="full_jitter", seed=9)
    pd.testing.assert_frame_equal(a.timeline, b.timeline)
    assert a.summary == b.summary
    assert a.summary.throttles != c.summary.throttles


def test_sqs_pollers_scale_from_5_by_300_per_minute():
    r = simulate_storm(mode="sqs", events=200_000, duration_ms=200, seed=1, bin_s=0.2)
    tl = r.timeline
    assert tl["concurrency_max"].iloc[0] == 5
    # after one minute at most 5 + 300 batches are running
    at_60 = tl[tl.time_s <= 60]["concurrency_max"].max()
    assert 250 <= at_60 <= 305
    assert r.summary.max_concurrency <= 1000
    assert r.summary.throttles == 0 and r.summary.dlq == 0
    assert r.summary.invocations == 20_000  # batches of 10


def test_sqs_maximum_concurrency_protects_downstream():
    s = simulate_storm(mode="sqs", events=50_000, max_concurrency=100, seed=1).summary
    assert s.max_concurrency == 100
    assert s.throttles == 0 and s.dlq == 0
    assert s.completion_s >= theory.drain_lower_bound_s(50_000, 0.2, 100)


def test_sqs_reserved_concurrency_without_maximum_concurrency_throttles_into_the_dlq():
    s = simulate_storm(mode="sqs", events=50_000, reserved=100, seed=1).summary
    assert s.throttles > 0
    assert s.dlq > 0
    assert s.extra["processings"] + s.dlq == 50_000


def test_sqs_visibility_shorter_than_batch_duplicates():
    # a batch of 10 x 200 ms = 2 s, visibility 1 s: every batch is received again
    s = simulate_storm(mode="sqs", events=5_000, visibility_timeout_s=1.0, max_receive_count=3, seed=1).summary
    assert s.duplicates == 5_000 * 2
    assert s.dlq == 5_000


def test_duplicate_rate_adds_invocations():
    s = simulate_storm(mode="async", events=50_000, duplicate_rate=0.05, seed=1).summary
    assert s.duplicates == pytest.approx(50_000 * 0.05 / 0.95, rel=0.1)
    assert s.invocations == 50_000 + s.duplicates


def test_trace_arrivals_follow_the_csv():
    t = storm.arrivals(100_000, "trace", seed=1)
    assert t.size == 100_000 and np.all(np.diff(t) >= 0)
    per_s = np.bincount(t.astype(int), minlength=120)
    assert per_s[60:68].sum() == 0  # the stall in the trace


def test_million_event_async_storm_stays_under_500_mb():
    """Memory, not speed: speed is measured by benchmarks/sim_vs_simpy.py."""
    import tracemalloc

    tracemalloc.start()
    s = simulate_storm(mode="async", events=1_000_000, jitter="equal_jitter", seed=1).summary
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert s.invocations == 1_000_000
    assert peak < 500 * 2**20


def test_config_errors_name_the_rule():
    # The lab's wording (lambda_lab.limits.check_range): setting, range, value, AWS page.
    with pytest.raises(ValueError, match=r"ScalingConfig.MaximumConcurrency must be 2-1,000, got 1 \(https://"):
        simulate_storm(mode="sqs", events=10, max_concurrency=1)
    with pytest.raises(ValueError, match=r"BatchSize for standard queues must be 1-10,000, got 20000 \(https://"):
        simulate_storm(mode="sqs", events=10, batch_size=20_000)
    with pytest.raises(ValueError, match=r"MaximumEventAgeInSeconds must be 60-21,600 seconds, got 30 \(https://"):
        simulate_storm(events=10, max_event_age_s=30)
    with pytest.raises(ValueError, match="mode"):
        StormConfig(mode="batch").validate()


def test_retries_without_jitter_come_back_together():
    # un-jittered retries all land on the same tick, so each wave admits one tick's worth
    kw = dict(mode="async", events=50_000, max_event_age_s=600, seed=3)
    plain = simulate_storm(jitter="exponential", **kw).summary
    jittered = simulate_storm(jitter="equal_jitter", **kw).summary
    assert jittered.dropped == 0
    assert plain.dropped > 10_000
    assert plain.throttles > 2 * jittered.throttles
    assert plain.completion_s > 10 * jittered.completion_s


def test_simpy_model_agrees():
    pytest.importorskip("simpy")
    from lambda_lab.sim.simpy_model import simpy_async_storm

    cfg = StormConfig(mode="async", events=10_000, seed=2)
    a = simpy_async_storm(cfg)
    b = simulate_storm(cfg).summary
    assert a["invocations"] == b.invocations
    assert a["throttles"] == pytest.approx(b.throttles, rel=0.05)
    assert a["completion_s"] == pytest.approx(b.completion_s, rel=0.05)
    assert a["completion_p99_s"] == pytest.approx(b.extra["completion_p99_s"], rel=0.05)
    assert a["max_concurrency"] == b.max_concurrency


def test_library_imports_without_simpy():
    import subprocess
    import sys

    code = ("import sys; sys.modules['simpy'] = None; import lambda_lab.sim as s; "
            "print(s.simulate_storm(events=100).summary.invocations)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "100"
