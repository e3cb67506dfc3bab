"""Hardening of the runtime and the lab's configuration: each test pins one defect that was fixed."""

from __future__ import annotations

import datetime as dt
import json
import math
import time

import pytest

from lambda_lab import ConfigurationError, Lab, TooManyRequestsException, limits
from lambda_lab.errors import InvalidRequestContentException, RequestEntityTooLargeException


def make_queue(lab, name):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, lab.arn("sqs", name)


def receive_all(lab, url):
    got = lab.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return got.get("Messages", [])


# --- 1. each delivery gets its own copy of the event ----------------------------------------
def test_async_retries_and_dlq_get_the_original_event_after_a_handler_mutates_it(lab):
    url, arn = make_queue(lab, "dlq")
    seen = []

    def poison(event, context):
        seen.append(dict(event))
        event["poisoned"] = event.get("poisoned", 0) + 1
        raise RuntimeError("boom")

    lab.function("f", poison, dead_letter_arn=arn, maximum_retry_attempts=2).invoke_async({"order": 1})
    lab.run_until_idle()
    assert seen == [{"order": 1}] * 3
    [message] = receive_all(lab, url)
    assert json.loads(message["Body"]) == {"order": 1}


def test_sync_caller_keeps_its_event_when_the_handler_mutates_it(lab):
    event = {"items": [1]}
    lab.function("f", lambda e, c: e["items"].append(2)).invoke(event)
    assert event == {"items": [1]}


def test_sqs_handler_rewriting_message_id_is_harmless(lab):
    url, _ = make_queue(lab, "q")

    def rewrite(event, context):
        for record in event["Records"]:
            record["messageId"] = "mine"

    lab.sqs_trigger(url, lab.function("f", rewrite))
    lab.client("sqs").send_message(QueueUrl=url, MessageBody="a")
    assert lab.run_until_idle().idle
    assert lab.outcomes()["ending"].tolist() == ["processed"]


# --- 2. JSON in, JSON out -------------------------------------------------------------------
@pytest.mark.parametrize("call", ["invoke", "invoke_async"])
def test_non_json_event_is_refused_with_invalid_request_content(lab, call):
    fn = lab.function("f", lambda e, c: None)
    with pytest.raises(InvalidRequestContentException) as info:
        getattr(fn, call)({"when": object()})
    assert info.value.status_code == 400
    assert "Could not parse request body into json" in str(info.value)
    assert len(lab.log) == 0 and lab.outcomes().empty


def test_non_json_event_in_a_concurrent_burst_is_refused(lab):
    fn = lab.function("f", lambda e, c: None)
    with pytest.raises(InvalidRequestContentException):
        fn.invoke_concurrently([{"a": 1}, {1, 2}])


async def coroutine_handler(event, context):
    return {"ok": True}


def generator_handler(event, context):
    yield 1


@pytest.mark.parametrize("handler, kind", [
    (lambda e, c: {1, 2}, "set"),
    (lambda e, c: object(), "object"),
    (coroutine_handler, "coroutine"),
    (generator_handler, "generator"),
])
def test_result_that_is_not_json_is_a_marshal_error(lab, handler, kind):
    response = lab.function("f", handler).invoke({})
    assert response.function_error == "Unhandled"
    assert response.payload["errorType"] == "Runtime.MarshalError"
    assert response.payload["errorMessage"] == f"Unable to marshal response: Object of type {kind} is not JSON serializable"
    row = lab.log.to_frame().iloc[0]
    assert (row["outcome"], row["error_type"]) == ("error", "Runtime.MarshalError")
    assert "[ERROR] Runtime.MarshalError: Unable to marshal response" in response.log


def test_result_comes_back_as_json_would(lab):
    response = lab.function("f", lambda e, c: {"t": (1, 2), 3: "x"}).invoke({})
    assert response.payload == {"t": [1, 2], "3": "x"}


# --- 3. payload limits ----------------------------------------------------------------------
def test_oversized_sync_request_is_refused_with_413(lab):
    fn = lab.function("f", lambda e, c: None)
    with pytest.raises(RequestEntityTooLargeException) as info:
        fn.invoke({"blob": "x" * limits.SYNC_PAYLOAD_MAX_BYTES})
    assert info.value.status_code == 413
    assert f"{limits.SYNC_PAYLOAD_MAX_BYTES}" in str(info.value) and limits.INVOKE_URL in str(info.value)
    assert len(lab.log) == 0


def test_oversized_async_request_is_refused_with_413(lab):
    fn = lab.function("f", lambda e, c: None)
    with pytest.raises(RequestEntityTooLargeException, match=str(limits.ASYNC_PAYLOAD_MAX_BYTES)):
        fn.invoke_async({"blob": "x" * limits.ASYNC_PAYLOAD_MAX_BYTES})
    fn.invoke_async({"blob": "x" * (limits.ASYNC_PAYLOAD_MAX_BYTES - 100)})  # under the limit: accepted
    assert lab.run_until_idle().idle


def test_oversized_response_is_a_function_error(lab):
    response = lab.function("f", lambda e, c: "x" * limits.SYNC_RESPONSE_MAX_BYTES).invoke({})
    assert response.function_error == "Unhandled"
    assert response.payload["errorType"] == "Function.ResponseSizeTooLarge"
    assert response.payload["errorMessage"] == (
        "Response payload size exceeded maximum allowed payload size (6291556 bytes).")


# --- 4. SystemExit, GeneratorExit, KeyboardInterrupt ----------------------------------------
@pytest.mark.parametrize("exc, status", [(SystemExit(3), 3), (SystemExit("bye"), 1), (GeneratorExit(), 1)])
def test_runtime_exit_is_a_function_error(lab, exc, status):
    def leave(event, context):
        raise exc

    response = lab.function("f", leave).invoke({})
    assert response.payload["errorType"] == "Runtime.ExitError"
    assert response.payload["errorMessage"] == (
        f"RequestId: {response.request_id} Error: Runtime exited with error: exit status {status}")
    assert lab.log.to_frame()["outcome"].tolist() == ["error"]
    assert lab.outcomes()["ending"].tolist() == ["failed"]


def test_runtime_exit_in_an_async_handler_is_retried_and_ends(lab):
    fn = lab.function("f", lambda e, c: exit(1), maximum_retry_attempts=1)
    fn.invoke_async({})
    assert lab.run_until_idle().idle
    assert lab.log.to_frame()["error_type"].tolist() == ["Runtime.ExitError"] * 2 + ["RetriesExhausted"]


def test_keyboard_interrupt_propagates_and_the_lab_stays_usable(lab):
    calls = []

    def interrupted_once(event, context):
        calls.append(event)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return "ok"

    fn = lab.function("f", interrupted_once, reserved_concurrency=1)
    fn.invoke_async({"n": 1})
    with pytest.raises(KeyboardInterrupt):
        lab.run(1)
    assert lab.outcomes()["ending"].tolist() == ["pending"]
    assert lab.run_until_idle().idle  # a later run picks the interrupted event up
    assert lab.outcomes()["ending"].tolist() == ["processed"]
    assert fn.invoke({"n": 2}).payload == "ok"  # the environment is not left busy


def test_keyboard_interrupt_from_a_sync_invoke_propagates(lab):
    def stop(event, context):
        raise KeyboardInterrupt

    fn = lab.function("f", stop, reserved_concurrency=1)
    with pytest.raises(KeyboardInterrupt):
        fn.invoke({})
    fn.handler = lambda e, c: "ok"
    assert fn.invoke({}).payload == "ok"


# --- 5. validate before changing state ------------------------------------------------------
def test_wrongly_typed_reserved_concurrency_leaves_no_function_behind(lab):
    with pytest.raises(ConfigurationError, match="ReservedConcurrentExecutions"):
        lab.function("f", lambda e, c: None, reserved_concurrency="5")
    assert "f" not in lab.runtime.functions
    lab.function("g", lambda e, c: None)


def test_failed_reregistration_keeps_the_old_function(lab):
    old = lab.function("f", lambda e, c: "old")
    with pytest.raises(ConfigurationError):
        lab.function("f", lambda e, c: "new", reserved_concurrency=-1)
    assert lab.runtime.functions["f"] is old


def test_bad_async_option_leaves_no_function_behind(lab):
    with pytest.raises(ConfigurationError):
        lab.function("f", lambda e, c: None, maximum_retry_attempts=7)
    assert "f" not in lab.runtime.functions


@pytest.mark.parametrize("seed", ["x", -1, 1.5, True, None])
def test_failed_lab_leaves_the_process_clock_alone(seed):
    with pytest.raises(ConfigurationError, match="seed"):
        Lab(seed=seed)
    assert dt.datetime.now().year >= 2025 and abs(time.time() - dt.datetime.now().timestamp()) < 5


@pytest.mark.parametrize("kwargs, rule", [
    ({"region": "mars-1"}, "region"),
    ({"region": None}, "region"),
    ({"account_concurrency": 10.5}, "account"),
    ({"account_concurrency": 50}, "account"),
])
def test_bad_lab_settings_are_refused_first(kwargs, rule):
    with pytest.raises(ConfigurationError, match=rule):
        Lab(seed=0, **kwargs)
    assert dt.datetime.now().year >= 2025


def test_a_known_region_is_accepted():
    with Lab(seed=0, region="eu-west-1") as lab:
        assert lab.function("f", lambda e, c: None).arn.startswith("arn:aws:lambda:eu-west-1:")


@pytest.mark.parametrize("options, rule", [
    ({"timeout_s": 1.5}, "Timeout"),
    ({"timeout_s": True}, "Timeout"),
    ({"reserved_concurrency": True}, "ReservedConcurrentExecutions"),
    ({"reserved_concurrency": 2.0}, "ReservedConcurrentExecutions"),
    ({"memory_mb": None}, "MemorySize"),
    ({"duration_ms": -5}, "duration_ms"),
    ({"duration_ms": math.nan}, "duration_ms"),
    ({"duration_ms": "fast"}, "duration_ms"),
    ({"init_duration_ms": -1}, "init_duration_ms"),
    ({"memory_used_mb": -1}, "memory_used_mb"),
    ({"memory_used_mb": 1.5}, "memory_used_mb"),
    ({"no_such_option": 1}, "no_such_option"),
])
def test_bad_function_option_is_one_clear_error(lab, options, rule):
    with pytest.raises(ConfigurationError, match=rule):
        lab.function("f", lambda e, c: None, **options)
    assert "f" not in lab.runtime.functions


@pytest.mark.parametrize("name", ["", "x" * 65, "has space", "dot.name", "a/b", None, 5])
def test_function_names_as_aws_validates_them(lab, name):
    with pytest.raises(ConfigurationError, match="FunctionName"):
        lab.function(name, lambda e, c: None)
    assert limits.CREATE_FUNCTION_URL


def test_longest_valid_function_name_is_accepted(lab):
    assert lab.function("a-Z_9" + "x" * 59, lambda e, c: None).name.startswith("a-Z_9")


def test_trigger_arguments_are_checked(lab):
    url, _ = make_queue(lab, "q")
    fn = lab.function("f", lambda e, c: None)
    with pytest.raises(ConfigurationError, match="queue_url"):
        lab.sqs_trigger(None, fn)
    with pytest.raises(ConfigurationError, match="function"):
        lab.sqs_trigger(url, "f")
    with pytest.raises(ConfigurationError, match="enabled"):
        lab.sqs_trigger(url, fn, enabled="no")
    with pytest.raises(ConfigurationError, match="bucket"):
        lab.s3_trigger(None, fn)
    with pytest.raises(ConfigurationError, match="function"):
        lab.s3_trigger("b", None)
    assert lab.sources == []


# --- 6. run lengths -------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [-5, math.nan, math.inf, "10", True, None])
def test_run_refuses_bad_lengths(lab, bad):
    with pytest.raises(ConfigurationError, match="for_s"):
        lab.run(bad)
    with pytest.raises(ConfigurationError, match="max_s"):
        lab.run_until_idle(max_s=bad)
    assert lab.clock.elapsed() == 0


def test_run_zero_is_allowed(lab):
    assert lab.run(0).ran_s == 0


# --- 7. nested synchronous calls count against concurrency ----------------------------------
def test_nested_calls_count_against_reserved_concurrency(lab):
    depth = []

    def recurse(event, context):
        depth.append(event["n"])
        if event["n"] < 4:
            try:
                fn.invoke({"n": event["n"] + 1})
            except TooManyRequestsException as error:
                return f"throttled: {error.reason}"
        return "done"

    fn = lab.function("f", recurse, reserved_concurrency=1)
    response = fn.invoke({"n": 1})
    assert depth == [1]
    assert response.payload == "throttled: ReservedFunctionConcurrentInvocationLimitExceeded"
    assert lab.log.to_frame()["outcome"].tolist() == ["throttled", "success"]


def test_nested_call_to_another_function_uses_its_own_environment(lab):
    envs = {}

    def inner(event, context):
        envs["inner"] = context.log_stream_name
        return "inner"

    def outer(event, context):
        envs["outer"] = context.log_stream_name
        return other.invoke({}).payload

    other = lab.function("other", inner, reserved_concurrency=1)
    assert lab.function("outer", outer).invoke({}).payload == "inner"
    assert lab.runtime.concurrency() == 0  # nothing left busy afterwards
    assert envs["inner"] != envs["outer"]
