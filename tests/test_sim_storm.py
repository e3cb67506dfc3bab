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
    # a visibility timeout of 2 x the function timeout (a full batch, 2 s): one retry fits
    r = simulate_storm(mode="sqs", events=50_000, reserved=100, visibility_timeout_s=4, seed=1)
    s = r.summary
    assert s.throttles > 0
    assert s.dlq > 0
    # every message leaves the queue: deleted after processing or moved to the DLQ
    assert r.timeline["backlog"].iloc[-1] == 0 and r.timeline["backlog"].min() >= 0
    assert s.extra["processings"] - s.duplicates + s.dlq >= 50_000


def test_sqs_dlq_trap_shrinks_with_the_visibility_timeout():
    sweep = storm.visibility_sweep(StormConfig(events=30_000, seed=1), factors=(1, 2, 6), reserved=100,
                                   spacings={"lab": "exponential"})
    dlq = sweep.set_index("factor")["dlq"]
    assert list(sweep["visibility_s"]) == [2.0, 4.0, 12.0]
    assert dlq[1] > dlq[6] and dlq[2] > dlq[6]
    assert dlq[1] > 0.5 * 30_000


def test_sqs_throttled_batch_keeps_its_poller_and_is_retried():
    """A throttled batch is retried inside its visibility timeout (services-sqs-errorhandling),
    so there are more throttles than receives that did not end in an invocation."""
    s = simulate_storm(mode="sqs", events=2_000, batch_size=1, reserved=1, max_concurrency=5,
                       visibility_timeout_s=60, jitter="exponential", seed=1).summary
    assert s.dlq == 0 and s.invocations == 2_000
    assert s.throttles > 2 * (s.extra["messages_received"] - s.invocations)
    # 5 pollers, 1 may run: 4 hold throttled batches, each retried 1, 3, 7, 15, 31 s after its
    # receive (the 63 s retry is past the 60 s timeout); no poller is ever free to receive more
    assert s.extra["messages_received"] <= s.invocations + 4 * (s.invocations // 5 + 1)


def _continuous_sync(t_arr, duration_s, limit, cold_s):
    """Event by event in continuous time: a call runs if fewer than ``limit`` run (the tests'
    storms stay under 1,000 new environments, so the scaling rule never binds)."""
    import heapq

    running, idle, last = [], 0, 0.0
    for t in t_arr:
        while running and running[0] <= t:
            heapq.heappop(running)
            idle += 1
        if len(running) >= limit:
            continue
        cold = idle == 0
        idle -= 0 if cold else 1
        end = t + duration_s + (cold_s if cold else 0.0)
        heapq.heappush(running, end)
        last = max(last, end)
    return last


@pytest.mark.parametrize("kw", [
    dict(events=500),
    dict(events=5_000, cold_start_ms=0),
    dict(events=3_000, arrival="poisson", rate_per_s=2_000, reserved=100),
    dict(events=2_000, arrival="poisson", rate_per_s=500, duration_ms=1_000, cold_start_ms=300),
])
def test_sync_completion_within_2_percent_of_continuous_time(kw):
    """A burst used to end one tick (duration / 10) late: +10 %."""
    cfg = StormConfig(mode="sync", seed=3, **kw)
    s = simulate_storm(cfg).summary
    t_arr = storm.arrivals(cfg.events, cfg.arrival, cfg.rate_per_s, seed=np.random.default_rng(cfg.seed))
    expected = _continuous_sync(t_arr, cfg.duration_ms / 1000, cfg.effective_limit(), cfg.cold_start_ms / 1000)
    assert s.completion_s == pytest.approx(expected, rel=0.02)


def test_drain_bound_counts_processed_items_and_the_ramp():
    # SQS trap at 1 x the timeout: most messages skip processing, so the run ends well
    # before N x d / C, yet never before the bound for what it processed
    s = simulate_storm(mode="sqs", events=100_000, reserved=100, visibility_timeout_s=2, seed=1).summary
    assert s.completion_s < theory.drain_lower_bound_s(100_000, 0.2, 100)
    assert s.drain_lower_bound_s <= s.completion_s
    # at a limit of 3,000 the ramp (1,000 environments, +1,000 per 10 s) sets the bound
    w = simulate_storm(mode="async", events=100_000, limit=3_000, seed=1).summary
    # work 20,000 concurrency-s = 1,000 T + 100 T^2 / 2 before the limit: T = 10 (sqrt 5 - 1)
    assert w.drain_lower_bound_s == pytest.approx(10 * (5 ** 0.5 - 1), rel=1e-9)
    assert w.drain_lower_bound_s > theory.drain_lower_bound_s(100_000, 0.2, 3_000)
    assert w.drain_lower_bound_s <= w.completion_s


@pytest.mark.parametrize("kw", [dict(mode="async"), dict(mode="async", reserved=100),
                                dict(mode="sqs", max_concurrency=100), dict(mode="sqs", reserved=100),
                                dict(mode="sync", arrival="poisson", rate_per_s=3_000)])
def test_no_storm_beats_its_drain_bound(kw):
    s = simulate_storm(events=30_000, seed=2, **kw).summary
    assert s.drain_lower_bound_s <= s.completion_s


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


def test_async_completion_is_a_knife_edge_and_p99_is_not():
    """Issue 11: 10^4 two-second events under a limit of 1,000 end at 31 s on some seeds and
    near 55 s on others. The fifth retry wave peaks just under the limit; the few events it
    throttles wait 16-32 s more. The continuous-time model does it too (seed 215), rarely."""
    kw = dict(mode="async", events=10_000, limit=1000, duration_ms=2000)
    late = [simulate_storm(seed=seed, **kw).summary for seed in (1, 8)]
    early = simulate_storm(seed=5, **kw).summary
    assert early.completion_s < 35
    for s in late:
        assert s.completion_s > 50
        assert s.extra["completion_p99_s"] == pytest.approx(early.extra["completion_p99_s"], abs=1.0)
    pytest.importorskip("simpy")
    from lambda_lab.sim.simpy_model import simpy_async_storm

    assert simpy_async_storm(seed=215, **kw)["completion_s"] > 50
    assert simpy_async_storm(seed=1, **kw)["completion_s"] < 35


def test_library_imports_without_simpy():
    import subprocess
    import sys

    code = ("import sys; sys.modules['simpy'] = None; import lambda_lab.sim as s; "
            "print(s.simulate_storm(events=100).summary.invocations)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "100"
