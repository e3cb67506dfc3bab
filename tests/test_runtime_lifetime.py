"""Execution environments' lifetime: the opt-in idle lifetime, provisioned concurrency and its cost."""

from __future__ import annotations

import math
import re

import pytest

from lambda_lab import ConfigurationError, Lab, TooManyRequestsException, limits
from lambda_lab.runtime import cost_breakdown


def echo(event, context):
    return event


def _gap_then_invoke(lab, fn, gap_s):
    """Invoke, wait ``gap_s`` virtual seconds after the call ends, invoke again; return the two records."""
    fn.invoke({})
    lab.run(gap_s)
    fn.invoke({})
    return lab.log.records[-2:]


# --------------------------------------------------------------- the idle lifetime


def test_by_default_environments_are_never_retired(lab):
    assert lab.runtime.environment_idle_s is None
    fn = lab.function("echo", echo, duration_ms=40, init_duration_ms=200)
    first, second = _gap_then_invoke(lab, fn, 3_600)
    assert (first.cold_start, second.cold_start) == (True, False)
    assert second.env_id == first.env_id and second.init_duration_ms == 0


@pytest.mark.parametrize("gap_s, cold", [(599, False), (600, True), (601, True)])
def test_an_idle_lifetime_retires_environments_idle_that_long(gap_s, cold):
    with Lab(seed=0, environment_idle_s=600) as lab:
        fn = lab.function("echo", echo, duration_ms=40, init_duration_ms=200)
        first, second = _gap_then_invoke(lab, fn, gap_s)
        assert second.cold_start is cold
        assert second.init_duration_ms == (200 if cold else 0)  # init drawn again on the new environment
        assert (second.env_id != first.env_id) is cold
        assert "Init Duration: 200.00 ms" in second.log if cold else "Init Duration" not in second.log
        assert [env.retired for env in fn.environments] == ([True, False] if cold else [False])


def test_the_idle_gap_runs_from_the_end_of_the_last_invocation():
    with Lab(seed=0, environment_idle_s=10) as lab:
        fn = lab.function("slow", echo, duration_ms=30_000, timeout_s=60, init_duration_ms=100)
        fn.invoke({})  # busy 30.1 s: long, but never idle meanwhile
        lab.run(9)
        fn.invoke({})
        assert lab.log.to_frame()["cold_start"].tolist() == [True, False]


# --------------------------------------------------------------- provisioned concurrency


def test_provisioned_environments_are_warm_from_the_first_request(lab):
    fn = lab.function("ready", echo, provisioned_concurrency=2, duration_ms=50, init_duration_ms=300)
    assert fn.provisioned_concurrency == 2
    assert [env.provisioned for env in fn.environments] == [True, True]  # initialised at registration
    fn.invoke({})
    record = lab.log.records[-1]
    assert (record.cold_start, record.init_duration_ms, record.billed_duration_ms) == (False, 0, 50)
    assert "Init Duration" not in record.log
    assert record.env_id in {env.env_id for env in fn.environments if env.provisioned}


def test_provisioned_environments_are_never_retired():
    with Lab(seed=0, environment_idle_s=60) as lab:
        fn = lab.function("ready", echo, provisioned_concurrency=1, duration_ms=50)
        first, second = _gap_then_invoke(lab, fn, 86_400)
        assert (first.cold_start, second.cold_start) == (False, False)
        assert first.env_id == second.env_id
        assert not fn.environments[0].retired


def test_the_invocation_past_the_provisioned_ones_is_a_cold_on_demand_start(lab):
    fn = lab.function("ready", echo, provisioned_concurrency=2, duration_ms=1_000, init_duration_ms=250)
    fn.invoke_concurrently([{}] * 3)
    frame = lab.log.to_frame()
    assert frame["cold_start"].tolist() == [False, False, True]
    assert frame["init_duration_ms"].tolist() == [0, 0, 250]
    on_demand = [env for env in fn.environments if not env.provisioned]
    assert len(on_demand) == 1 and frame["env_id"].iloc[2] == on_demand[0].env_id
    # Later, one call at a time: a provisioned environment serves it, the on-demand one waits.
    fn.invoke({})
    assert lab.log.records[-1].env_id in lab.runtime.provisioned_env_ids


def test_on_demand_spill_over_is_retired_but_provisioned_environments_stay():
    with Lab(seed=0, environment_idle_s=300) as lab:
        fn = lab.function("ready", echo, provisioned_concurrency=1, duration_ms=1_000, init_duration_ms=250)
        fn.invoke_concurrently([{}] * 2)
        lab.run(400)
        fn.invoke_concurrently([{}] * 2)
        assert lab.log.to_frame()["cold_start"].tolist() == [False, True, False, True]
        assert [(env.provisioned, env.retired) for env in fn.environments] == \
            [(True, False), (False, True), (False, False)]


def test_provisioned_environments_take_nothing_from_the_pool_the_others_share():
    # AWS's example (limits.CONCURRENCY_URL): 400 provisioned of 1,000 leaves 600 for every
    # function, the provisioned one included once its 400 are busy.
    with Lab(seed=0, account_concurrency=150) as lab:
        ready = lab.function("ready", echo, provisioned_concurrency=20, duration_ms=1_000)
        assert lab.runtime.limit_for(ready) == 150
        results = ready.invoke_concurrently([{}] * 160)
        throttles = [r for r in results if isinstance(r, TooManyRequestsException)]
        assert len(throttles) == 10 and throttles[0].reason == "ConcurrentInvocationLimitExceeded"
        assert sum(env.provisioned for env in ready.environments) == 20 and len(ready.environments) == 150
        other = lab.function("other", echo)
        assert lab.runtime.limit_for(other) == 130  # the pool: 150 less the 20 provisioned


def test_with_a_reservation_provisioned_environments_count_inside_it(lab):
    fn = lab.function("both", echo, reserved_concurrency=3, provisioned_concurrency=2, duration_ms=1_000)
    results = fn.invoke_concurrently([{}] * 5)
    assert [isinstance(r, TooManyRequestsException) for r in results] == [False] * 3 + [True] * 2
    assert lab.log.to_frame()["cold_start"].tolist()[:3] == [False, False, True]


def test_a_provisioned_environment_that_exits_is_replaced(lab):
    def leave(event, context):
        if event.get("exit"):
            raise SystemExit(1)
        return "ok"

    fn = lab.function("leaver", leave, provisioned_concurrency=1, duration_ms=10)
    fn.invoke({"exit": True})
    fn.invoke({})
    live = [env for env in fn.environments if env.provisioned and not env.exited]
    assert len(live) == 1 and lab.log.records[-1].env_id == live[0].env_id
    assert lab.log.to_frame()["cold_start"].tolist() == [False, False]


# --------------------------------------------------------------- validation


PROVISIONED_URL = limits.PROVISIONED_CONCURRENCY_URL


@pytest.mark.parametrize("value", [-1, True, 1.5, 2.0, "2", None])
def test_provisioned_concurrency_must_be_a_whole_number(lab, value):
    message = f"ProvisionedConcurrentExecutions must be a whole number, 0-1,000, got {value!r} ({PROVISIONED_URL})"
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        lab.function("bad", echo, provisioned_concurrency=value)
    assert "bad" not in lab.runtime.functions


def test_provisioned_concurrency_cannot_exceed_the_reservation(lab):
    with pytest.raises(ConfigurationError, match="You can't allocate more provisioned concurrency than reserved"):
        lab.function("bad", echo, reserved_concurrency=2, provisioned_concurrency=3)
    assert "bad" not in lab.runtime.functions
    lab.function("fits", echo, reserved_concurrency=3, provisioned_concurrency=3)


def test_provisioned_concurrency_must_leave_100_unreserved():
    with Lab(seed=0, account_concurrency=1_000) as lab:
        lab.function("a", echo, reserved_concurrency=600)
        with pytest.raises(ConfigurationError, match=r"Specified ConcurrentExecutions .* minimum value of \[100\]"):
            lab.function("b", echo, provisioned_concurrency=301)
        assert "b" not in lab.runtime.functions and lab.runtime._next_env == 0  # nothing initialised
        lab.function("b", echo, provisioned_concurrency=300)
        with pytest.raises(ConfigurationError, match=r"ReservedConcurrentExecutions .* minimum value of \[100\]"):
            lab.function("c", echo, reserved_concurrency=1)


@pytest.mark.parametrize("value", [0, -5, True, "600", math.inf, math.nan])
def test_the_idle_lifetime_must_be_a_positive_number_of_seconds(value):
    with pytest.raises(ConfigurationError, match=r"environment_idle_s must be a positive number .* the lab's setting"):
        Lab(seed=0, environment_idle_s=value)


def test_the_idle_lifetime_is_checked_before_the_lab_starts():
    with Lab(seed=0) as lab:
        with pytest.raises(ConfigurationError):
            Lab(seed=0, environment_idle_s=-1)
        assert lab.function("still", echo).invoke({}).payload == {}  # the running lab was not closed


# --------------------------------------------------------------- cost


def test_cost_breakdown_by_hand(lab):
    fn = lab.function("priced", echo, memory_mb=128, provisioned_concurrency=1, duration_ms=1_000,
                      init_duration_ms=500)
    fn.invoke({})                       # provisioned: 1,000 ms
    fn.invoke_concurrently([{}] * 2)    # one provisioned (1,000 ms), one on-demand cold (1,500 ms billed)
    cost = cost_breakdown(lab, "priced", 3_600)
    gb = 128 / 1024
    assert cost["requests"] == 3
    assert cost["requests_usd"] == pytest.approx(3 * 0.20 / 1e6)
    assert cost["provisioned_duration_gb_s"] == pytest.approx(2 * 1.0 * gb)
    assert cost["provisioned_duration_usd"] == pytest.approx(2 * gb * 0.0000097222)
    assert cost["on_demand_gb_s"] == pytest.approx(1.5 * gb)
    assert cost["on_demand_usd"] == pytest.approx(1.5 * gb * 0.0000166667)
    assert cost["provisioned_concurrency_gb_s"] == pytest.approx(0.125 * 3_600)
    assert cost["provisioned_concurrency_usd"] == pytest.approx(0.125 * 3_600 * 0.0000041667)
    assert cost["total_usd"] == pytest.approx(3 * 0.20 / 1e6 + 2 * gb * 0.0000097222 + 1.5 * gb * 0.0000166667
                                              + 0.125 * 3_600 * 0.0000041667)


def test_provisioned_time_is_billed_in_five_minute_steps_and_throttles_are_free(lab):
    fn = lab.function("priced", echo, provisioned_concurrency=2, reserved_concurrency=2, duration_ms=1_000)
    fn.invoke_concurrently([{}] * 3)  # the third is throttled: not a request
    cost = cost_breakdown(lab, "priced", 301)
    assert cost["requests"] == 2 and cost["on_demand_gb_s"] == 0
    assert cost["provisioned_period_s"] == 600
    assert cost["provisioned_concurrency_gb_s"] == pytest.approx(2 * 0.125 * 600)


def test_cost_without_provisioned_concurrency_is_requests_and_duration(lab):
    fn = lab.function("plain", echo, memory_mb=1024, duration_ms=200, init_duration_ms=100)
    fn.invoke({})
    cost = cost_breakdown(lab, "plain", 3_600)
    assert cost["on_demand_gb_s"] == pytest.approx(0.3)
    assert cost["provisioned_concurrency_usd"] == cost["provisioned_period_s"] == 0
    with pytest.raises(ConfigurationError, match="no function 'missing'"):
        cost_breakdown(lab, "missing", 1)
    with pytest.raises(ConfigurationError, match="period_s"):
        cost_breakdown(lab, "plain", -1)


# --------------------------------------------------------------- the default path is unchanged


def _cold_start_pattern(**lab_options):
    """test_runtime's cold-start scenario plus a burst, a gap and a reserved function: what the log says."""
    with Lab(seed=0, **lab_options) as lab:
        fn = lab.function("echo", echo, duration_ms=40.4, init_duration_ms=212.5)
        for _ in range(3):
            fn.invoke({})
        fn.invoke_concurrently([{}] * 4)
        lab.run(7_200)
        fn.invoke({})
        capped = lab.function("capped", echo, reserved_concurrency=2, duration_ms=1_000)
        capped.invoke_concurrently([{}] * 5)
        return lab.log.to_frame().to_dict("list"), fn.logs()


def test_the_default_path_is_unchanged():
    frame, logs = _cold_start_pattern()
    assert frame["cold_start"][:3] == [True, False, False]  # test_runtime's scenario, as before
    assert frame["init_duration_ms"][:3] == [212.5, 0, 0]
    assert frame["cold_start"][3:8] == [False, True, True, True, False]  # the burst adds 3; the gap keeps them
    assert _cold_start_pattern(environment_idle_s=None) == (frame, logs)
    # ...and a lifetime longer than every gap changes nothing either
    assert _cold_start_pattern(environment_idle_s=86_400) == (frame, logs)
