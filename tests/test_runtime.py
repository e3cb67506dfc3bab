"""The local runtime: context, durations, timeouts, cold starts, throttles, logs."""

from __future__ import annotations

import logging
import math
import re

import pytest

from lambda_lab import ConfigurationError, Lab, TooManyRequestsException, Uniform


def echo(event, context):
    return event


def test_invoke_returns_the_handler_result(lab):
    response = lab.function("echo", echo).invoke({"a": 1})
    assert (response.status_code, response.function_error, response.payload) == (200, None, {"a": 1})


def test_handler_error_comes_back_as_a_function_error(lab):
    def broken(event, context):
        raise KeyError("name")

    response = lab.function("broken", broken).invoke({})
    assert response.status_code == 200 and response.function_error == "Unhandled"
    assert response.payload["errorType"] == "KeyError"
    assert response.payload["errorMessage"] == "'name'"
    assert lab.log.to_frame()["outcome"].tolist() == ["error"]


def test_context_has_aws_attributes(lab):
    seen = {}

    def grab(event, context):
        seen.update(vars(context))
        seen["remaining"] = context.get_remaining_time_in_millis()

    lab.function("grab", grab, timeout_s=7, memory_mb=256).invoke({})
    assert seen["function_name"] == "grab"
    assert seen["function_version"] == "$LATEST"
    assert seen["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:grab"
    assert seen["memory_limit_in_mb"] == "256"
    assert seen["log_group_name"] == "/aws/lambda/grab"
    assert re.fullmatch(r"2024/01/01/\[\$LATEST\][0-9a-f]{32}", seen["log_stream_name"])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", seen["aws_request_id"])
    assert seen["remaining"] == 7_000


def test_remaining_time_follows_the_virtual_clock(lab):
    readings = []

    def watch(event, context):
        readings.append(context.get_remaining_time_in_millis())
        lab.clock.advance(1.25)
        readings.append(context.get_remaining_time_in_millis())

    lab.function("watch", watch, timeout_s=3).invoke({})
    assert readings == [3_000, 1_750]


def test_request_ids_repeat_with_the_seed():
    ids = []
    for _ in range(2):
        with Lab(seed=7) as lab:
            fn = lab.function("echo", echo, duration_ms=Uniform(10, 90))
            ids.append([(fn.invoke({}).request_id, lab.log.records[-1].duration_ms) for _ in range(3)])
    assert ids[0] == ids[1]


def test_first_call_is_cold_then_the_environment_is_reused(lab):
    fn = lab.function("echo", echo, duration_ms=40.4, init_duration_ms=212.5)
    for _ in range(3):
        fn.invoke({})
    frame = lab.log.to_frame()
    assert frame["cold_start"].tolist() == [True, False, False]
    assert frame["init_duration_ms"].tolist() == [212.5, 0, 0]
    assert frame["env_id"].nunique() == 1
    # 1 ms billing granularity; the init phase is billed on cold starts
    assert frame["billed_duration_ms"].tolist() == [math.ceil(40.4 + 212.5), 41, 41]


def test_duration_per_event_and_timeout(lab):
    fn = lab.function("sized", echo, timeout_s=2, duration_ms=lambda event: event["ms"])
    fast = fn.invoke({"ms": 1_500})
    slow = fn.invoke({"ms": 2_500})
    assert fast.function_error is None
    assert slow.function_error == "Unhandled"
    assert slow.payload["errorType"] == "Sandbox.Timedout"
    assert slow.payload["errorMessage"].endswith("Task timed out after 2.00 seconds")
    record = lab.log.records[-1]
    assert (record.outcome, record.duration_ms) == ("timeout", 2_000)
    assert "Task timed out after 2.00 seconds" in slow.log and "Status: timeout" in slow.log


def test_synchronous_invoke_waits_on_the_virtual_clock(lab):
    fn = lab.function("echo", echo, duration_ms=250, init_duration_ms=100)
    fn.invoke({})
    assert lab.clock.elapsed() == pytest.approx(0.35)


def test_reserved_concurrency_throttles_a_burst(lab):
    fn = lab.function("capped", echo, reserved_concurrency=2, duration_ms=1_000)
    results = fn.invoke_concurrently([{}] * 5)
    throttles = [r for r in results if isinstance(r, TooManyRequestsException)]
    assert len(throttles) == 3
    assert throttles[0].status_code == 429
    assert throttles[0].reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    # once the two running calls finish, there is room again
    assert fn.invoke({}).function_error is None
    assert lab.log.to_frame()["outcome"].value_counts().to_dict() == {"success": 3, "throttled": 3}


def test_reserved_zero_throttles_every_synchronous_call(lab):
    with pytest.raises(TooManyRequestsException, match="ReservedFunctionConcurrentInvocationLimitExceeded"):
        lab.function("off", echo, reserved_concurrency=0).invoke({})


def test_unreserved_functions_share_what_is_left_of_the_account():
    with Lab(seed=0, account_concurrency=150) as lab:
        lab.function("reserved", echo, reserved_concurrency=50)
        shared = lab.function("shared", echo, duration_ms=1_000)
        results = shared.invoke_concurrently([{}] * 120)
        throttles = [r for r in results if isinstance(r, TooManyRequestsException)]
        assert len(throttles) == 20
        assert throttles[0].reason == "ConcurrentInvocationLimitExceeded"


def test_reservations_must_leave_100_unreserved():
    with Lab(seed=0, account_concurrency=1_000) as lab:
        lab.function("a", echo, reserved_concurrency=600)
        with pytest.raises(ConfigurationError, match=r"minimum value of \[100\]"):
            lab.function("b", echo, reserved_concurrency=301)
        assert "b" not in lab.runtime.functions


QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"


@pytest.mark.parametrize(
    "options, message",
    [
        ({"timeout_s": 0}, "Timeout must be 1-900 seconds, got 0 (" + QUOTAS),
        ({"timeout_s": 901}, "Timeout must be 1-900 seconds, got 901 (" + QUOTAS),
        ({"timeout_s": "5"}, "Timeout must be 1-900 seconds, got '5' (" + QUOTAS),
        ({"memory_mb": 64}, "MemorySize must be a whole number, 128-10,240 MB, got 64 (" + QUOTAS),
        ({"memory_mb": 256.5}, "MemorySize must be a whole number, 128-10,240 MB, got 256.5 (" + QUOTAS),
        ({"reserved_concurrency": -1}, "ReservedConcurrentExecutions must be a whole number, 0-1,000, got -1 "
                                       "(https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html)"),
    ],
)
def test_settings_aws_refuses(lab, options, message):
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        lab.function("bad", echo, **options)
    assert "bad" not in lab.runtime.functions


def test_print_and_logging_are_captured_with_cloudwatch_framing(lab):
    def chatty(event, context):
        print("plain print")
        logging.getLogger().warning("a warning")
        return "ok"

    response = lab.function("chatty", chatty, duration_ms=12.3, init_duration_ms=100).invoke({})
    lines = response.log.splitlines()
    rid = response.request_id
    assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
    assert lines[1] == "plain print"
    assert lines[2] == f"[WARNING]\t2024-01-01T00:00:00.000Z\t{rid}\ta warning"
    assert lines[3] == f"END RequestId: {rid}"
    assert lines[4] == (
        f"REPORT RequestId: {rid}\tDuration: 12.30 ms\tBilled Duration: 113 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 100.00 ms"
    )
    assert lab.runtime.functions["chatty"].logs() == response.log


def test_re_registering_replaces_the_function(lab):
    lab.function("f", echo)
    fn = lab.function("f", lambda event, context: "new")
    assert fn.invoke({}).payload == "new"
    assert list(lab.runtime.functions) == ["f"]


def test_log_frame_has_the_documented_columns(lab):
    lab.function("echo", echo).invoke({})
    columns = set(lab.log.to_frame().columns)
    assert {
        "function", "source", "request_id", "attempt", "start", "end", "duration_ms", "billed_duration_ms",
        "init_duration_ms", "cold_start", "outcome", "error_type", "error_message", "batch_size",
    } <= columns


def test_chain_depth_is_visible_while_a_handler_runs(lab):
    seen = []
    fn = lab.function("deep", lambda event, context: seen.append(lab.runtime.current_depth()))
    lab.runtime.execute(fn, {}, source="test", depth=5)
    assert seen == [5] and lab.runtime.current_depth() == 0
