"""Lambda's asynchronous invocation queue: retry schedules, event age, destinations, DLQ, recursion.

Numbers from https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
(retries after ~1 min and ~2 min; throttles retried from 1 s doubling to 5 min for up to
MaximumEventAgeInSeconds) and API_PutFunctionEventInvokeConfig (0-2 retries, 60-21,600 s).
"""

from __future__ import annotations

import json

import pytest

from lambda_lab import ConfigurationError, Lab
from lambda_lab.sources.async_queue import RECURSION_LIMIT


def make_queue(lab: Lab, name: str) -> tuple[str, str]:
    url = lab.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    return url, lab.arn("sqs", name)


def receive_all(lab: Lab, url: str) -> list[dict]:
    got = lab.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                            MessageAttributeNames=["All"])
    return got.get("Messages", [])


def failing(event, context):
    raise RuntimeError(f"cannot process {event['id']}")


def gaps(frame) -> list[float]:
    """Seconds between the end of one attempt and the start of the next."""
    starts, ends = frame["start"].tolist(), frame["end"].tolist()
    return [round(s - e, 3) for s, e in zip(starts[1:], ends[:-1])]


# --- function errors -------------------------------------------------------------
def test_submit_returns_202_and_runs_nothing_yet(lab):
    fn = lab.function("f", failing)
    response = fn.invoke_async({"id": 1})
    assert response["StatusCode"] == 202
    assert response["ResponseMetadata"]["RequestId"]
    assert len(lab.log) == 0 and lab.busy()


def test_function_error_retried_after_one_then_two_minutes_then_on_failure(lab):
    url, arn = make_queue(lab, "failures")
    fn = lab.function("f", failing, duration_ms=250, on_failure=arn)
    request_id = fn.invoke_async({"id": 7})["ResponseMetadata"]["RequestId"]
    summary = lab.run_until_idle()
    frame = lab.log.to_frame("f")
    assert frame["attempt"].tolist() == [1, 2, 3]
    assert frame["outcome"].tolist() == ["error"] * 3
    assert gaps(frame) == [60.0, 120.0]
    assert set(frame["request_id"]) == {request_id}  # retries keep the request id
    assert summary.idle
    [message] = receive_all(lab, url)
    record = json.loads(message["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": request_id, "functionArn": f"{fn.arn}:$LATEST",
        "condition": "RetriesExhausted", "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"id": 7}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == "cannot process 7"
    assert record["timestamp"] == lab.clock.iso()


@pytest.mark.parametrize("retries", [0, 1, 2])
def test_maximum_retry_attempts(lab, retries):
    fn = lab.function("f", failing, maximum_retry_attempts=retries)
    fn.invoke_async({"id": 1})
    lab.run_until_idle()
    frame = lab.log.to_frame("f")
    tries = frame[frame["outcome"] != "dropped"]
    assert len(tries) == retries + 1
    assert gaps(tries) == [60.0, 120.0][:retries]
    dropped = frame[frame["outcome"] == "dropped"]
    assert len(dropped) == 1 and dropped["error_type"].item() == "RetriesExhausted"


def test_timeouts_are_function_errors(lab):
    fn = lab.function("slow", lambda e, c: None, timeout_s=1, duration_ms=5_000)
    fn.invoke_async({})
    lab.run_until_idle()
    outcomes = lab.log.to_frame("slow")["outcome"].tolist()
    assert outcomes == ["timeout", "timeout", "timeout", "dropped"]


def test_event_age_cuts_function_retries(lab):
    url, arn = make_queue(lab, "failures")
    fn = lab.function("f", failing, maximum_event_age_s=100, on_failure=arn)
    fn.invoke_async({"id": 1})
    lab.run_until_idle()
    assert len(lab.log.to_frame("f")) == 2  # attempts at ~0 s and ~60 s; the next is due after 100 s
    record = json.loads(receive_all(lab, url)[0]["Body"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["timestamp"] == "2024-01-01T00:01:40.000Z"  # given up when the event turned 100 s old


# --- throttles -------------------------------------------------------------------
def busy_function(lab: Lab, blocker_s: float, **options):
    """A function with one slot, held by a first event for ``blocker_s`` seconds."""
    fn = lab.function("busy", lambda e, c: "done", reserved_concurrency=1, timeout_s=900,
                      duration_ms=lambda event: event["ms"], **options)
    fn.invoke_async({"ms": blocker_s * 1000})
    return fn


def test_throttles_back_off_from_one_second_doubling_to_five_minutes(lab):
    fn = busy_function(lab, blocker_s=900, maximum_event_age_s=3_600)
    fn.invoke_async({"ms": 10})
    lab.run_until_idle()
    frame = lab.log.to_frame("busy").iloc[1:]  # the second event's attempts
    throttles = len(frame) - 1
    assert frame["outcome"].tolist() == ["throttled"] * throttles + ["success"]
    assert frame["attempt"].tolist() == list(range(1, throttles + 2))
    # equal jitter: each wait is between half and all of min(1 s x 2^n, 300 s)
    nominal = [min(2 ** n, 300) for n in range(throttles)]
    assert all(cap / 2 <= gap <= cap for gap, cap in zip(gaps(frame), nominal))
    assert nominal[-1] == 300  # the cap was reached while the slot stayed busy for 900 s
    assert frame["start"].iloc[-1] >= 900


def test_throttles_until_maximum_event_age(lab):
    url, arn = make_queue(lab, "too-old")
    fn = busy_function(lab, blocker_s=900, maximum_event_age_s=600, on_failure=arn)
    fn.invoke_async({"ms": 10})
    lab.run_until_idle()
    frame = lab.log.to_frame("busy").iloc[1:]
    assert set(frame["outcome"]) == {"throttled"}
    assert frame["start"].max() < 600
    record = json.loads(receive_all(lab, url)[0]["Body"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == len(frame)
    assert record["responseContext"]["statusCode"] == 429
    assert record["timestamp"] == "2024-01-01T00:10:00.000Z"


def test_reserved_concurrency_zero_goes_straight_to_the_dlq(lab):
    url, arn = make_queue(lab, "dlq")
    fn = lab.function("off", lambda e, c: "never", reserved_concurrency=0, dead_letter_arn=arn)
    request_id = fn.invoke_async({"order": 42})["ResponseMetadata"]["RequestId"]
    lab.run_until_idle()
    assert lab.log.to_frame("off")["outcome"].tolist() == ["throttled"]
    [message] = receive_all(lab, url)
    assert json.loads(message["Body"]) == {"order": 42}  # a DLQ gets the bare event
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["RequestID"] == request_id
    assert attributes["ErrorCode"] == "429"
    assert message["MessageAttributes"]["ErrorCode"]["DataType"] == "Number"
    assert "ErrorMessage" in attributes


def test_dlq_gets_the_function_error_message(lab):
    url, arn = make_queue(lab, "dlq")
    fn = lab.function("f", failing, dead_letter_arn=arn, maximum_retry_attempts=1)
    fn.invoke_async({"id": 3})
    lab.run_until_idle()
    [message] = receive_all(lab, url)
    assert message["MessageAttributes"]["ErrorMessage"]["StringValue"] == "cannot process 3"
    assert message["MessageAttributes"]["ErrorCode"]["StringValue"] == "200"


# --- destinations ----------------------------------------------------------------
def test_on_success_to_sns_topic(lab):
    sns = lab.client("sns")
    topic = sns.create_topic(Name="done")["TopicArn"]
    url, queue_arn = make_queue(lab, "done-copy")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    fn = lab.function("ok", lambda e, c: {"total": e["n"] * 2}, on_success=topic)
    fn.invoke_async({"n": 21})
    lab.run_until_idle()
    record = json.loads(receive_all(lab, url)[0]["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == {"total": 42}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}


def test_on_failure_to_eventbridge_bus(lab):
    events = lab.client("events")
    events.create_event_bus(Name="ops")
    url, queue_arn = make_queue(lab, "ops-copy")
    events.put_rule(Name="failures", EventBusName="ops", EventPattern=json.dumps({"source": ["lambda"]}))
    events.put_targets(Rule="failures", EventBusName="ops", Targets=[{"Id": "q", "Arn": queue_arn}])
    bus = lab.arn("events", "event-bus/ops")
    fn = lab.function("f", failing, on_failure=bus, maximum_retry_attempts=0)
    fn.invoke_async({"id": 9})
    lab.run_until_idle()
    envelope = json.loads(receive_all(lab, url)[0]["Body"])
    assert envelope["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert envelope["detail"]["requestContext"]["condition"] == "RetriesExhausted"


def test_on_failure_to_another_function(lab):
    records = []
    lab.function("catcher", lambda e, c: records.append(e))
    fn = lab.function("f", failing, on_failure=lab.arn("lambda", "function:catcher"), maximum_retry_attempts=0)
    fn.invoke_async({"id": 5})
    lab.run_until_idle()
    assert [r["requestPayload"] for r in records] == [{"id": 5}]
    assert lab.log.to_frame("catcher")["source"].tolist() == ["destination"]


def test_nothing_is_silently_lost_without_destinations(lab):
    fn = lab.function("f", failing)
    fn.invoke_async({"id": 1})
    lab.run_until_idle()
    dropped = lab.log.to_frame("f").query("outcome == 'dropped'")
    assert len(dropped) == 1
    assert "event discarded" in dropped["error_message"].item()
    ended = lab.outcomes("f")
    assert ended["ending"].tolist() == ["dropped"]
    assert ended["where"].item() == "RetriesExhausted after 3 attempt(s), no dead-letter queue or on-failure destination"


# --- configuration -----------------------------------------------------------------
@pytest.mark.parametrize("options, words", [
    ({"maximum_retry_attempts": 3}, "MaximumRetryAttempts must be a whole number, 0-2, got 3"),
    ({"maximum_event_age_s": 59}, "MaximumEventAgeInSeconds must be a whole number, 60-21,600 seconds, got 59"),
    ({"maximum_event_age_s": 21_601}, "got 21601"),
    ({"on_failure": "arn:aws:sqs:us-east-1:123456789012:missing"}, "does not exist"),
    ({"on_failure": "not-an-arn"}, "must be an ARN"),
    ({"dead_letter_arn": "arn:aws:lambda:us-east-1:123456789012:function:g"}, "SQS queue or SNS topic"),
    ({"on_success": "arn:aws:s3:::bucket"}, "S3 buckets are destinations on failure only"),
    ({"duplicate_rate": 1.5}, "probability"),
])
def test_settings_aws_refuses(lab, options, words):
    fn = lab.function("f", failing)
    with pytest.raises(ConfigurationError, match=words.replace("(", r"\(")):
        fn.configure_async(**options)


def test_fifo_queue_refused_as_destination(lab):
    lab.client("sqs").create_queue(QueueName="records.fifo", Attributes={"FifoQueue": "true"})
    fn = lab.function("f", failing)
    with pytest.raises(ConfigurationError, match="FIFO queue"):
        fn.configure_async(on_failure=lab.arn("sqs", "records.fifo"))


# --- at-least-once and loops ----------------------------------------------------------
def run_with_duplicates(seed: int) -> list[str]:
    with Lab(seed=seed) as lab:
        fn = lab.function("f", lambda e, c: None)
        fn.configure_async(duplicate_rate=0.3)
        ids = [fn.invoke_async({"n": n})["ResponseMetadata"]["RequestId"] for n in range(40)]
        lab.run_until_idle()
        runs = lab.log.to_frame("f")["request_id"].tolist()
        assert set(runs) == set(ids)
        return runs


def test_duplicates_are_seeded_and_keep_the_request_id():
    runs = run_with_duplicates(0)
    assert 40 < len(runs) < 40 * 2
    assert runs == run_with_duplicates(0)
    assert runs != run_with_duplicates(1)


def test_lambda_to_lambda_loop_is_stopped(lab):
    def again(event, context):
        lab.runtime.functions["ping"].invoke_async({"hop": event["hop"] + 1})

    fn = lab.function("ping", again)
    fn.invoke_async({"hop": 1})
    lab.run_until_idle()
    frame = lab.log.to_frame("ping")
    assert (frame["outcome"] == "success").sum() == RECURSION_LIMIT == 16
    stopped = frame[frame["outcome"] == "dropped"]
    assert stopped["error_type"].tolist() == ["RecursiveInvocationDropped"]


def test_stop_cancels_scheduled_retries(lab):
    fn = lab.function("f", failing)
    fn.invoke_async({"id": 1})
    lab.run(1)
    lab.async_queue.stop()
    assert not lab.async_queue.pending()
    lab.run(600)
    assert len(lab.log.to_frame("f")) == 1


def test_sns_topic_as_dead_letter_queue(lab):
    sns = lab.client("sns")
    topic = sns.create_topic(Name="dead-letters")["TopicArn"]
    url, queue_arn = make_queue(lab, "dead-letter-copy")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    fn = lab.function("f", failing, dead_letter_arn=topic, maximum_retry_attempts=0)
    request_id = fn.invoke_async({"id": 11})["ResponseMetadata"]["RequestId"]
    lab.run_until_idle()
    [message] = receive_all(lab, url)
    assert json.loads(message["Body"]) == {"id": 11}
    assert message["MessageAttributes"]["RequestID"]["StringValue"] == request_id


def test_sns_fifo_topic_refused_as_destination(lab):
    topic = lab.client("sns").create_topic(Name="records.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    fn = lab.function("f", failing)
    with pytest.raises(ConfigurationError, match="FIFO topic"):
        fn.configure_async(on_success=topic)
