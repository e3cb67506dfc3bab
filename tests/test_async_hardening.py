"""Hardening of asynchronous delivery: failed writes end visibly, SNS records lose their payload
when too big, and targets outside the lab's one account and region are refused.

AWS's rules: a failed write to a destination or dead-letter queue is counted
(DestinationDeliveryFailures, DeadLetterErrors,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html); "Amazon SNS
destinations have a message size limit of 256 KB. If the combined size of the function request
and response payload exceeds the limit, Lambda will drop the payload"
(https://docs.aws.amazon.com/lambda/latest/api/API_OnFailure.html).
"""

from __future__ import annotations

import json

import pytest

from lambda_lab import ConfigurationError, Lab
from lambda_lab.delivery.send import DESTINATION, send
from lambda_lab.sources.async_queue import PAYLOAD_FIELDS

# bytes: over SQS's 1 MiB message limit, under Lambda's 6 MB response limit (a 7 MB response is
# now the runtime's Function.ResponseSizeTooLarge error, which the next test covers).
BIG_RESPONSE = 2 * 1024 * 1024
TOO_BIG_RESPONSE = 7 * 1024 * 1024
OVER_SNS = 300 * 1024  # bytes: over SNS's 256 KB destination limit, under the 1 MB async payload


def failing(event, context):
    raise RuntimeError("cannot process")


def metric(lab: Lab, name: str) -> float:
    """The run's total of Sum metric ``name``, 0 when it has no datapoint."""
    frame = lab.metrics()
    return float(frame.loc[(frame["metric"] == name) & (frame["statistic"] == "Sum"), "value"].sum())


def queue_arn(lab: Lab, name: str) -> tuple[str, str]:
    url = lab.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    return url, lab.arn("sqs", name)


def received(lab: Lab, url: str) -> list[dict]:
    got = lab.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


# --- 1. a failed write ends the event visibly and the lab keeps running ---------------------------
@pytest.mark.parametrize("role, metric_name", [("on_failure", "DestinationDeliveryFailures"),
                                               ("dead_letter_arn", "DeadLetterErrors")])
def test_deleted_failure_target_is_a_logged_counted_drop(lab, role, metric_name):
    url, arn = queue_arn(lab, "gone")
    fn = lab.function("f", failing, maximum_retry_attempts=0, **{role: arn})
    lab.client("sqs").delete_queue(QueueUrl=url)
    fn.invoke_async({"id": 1})
    assert lab.run_until_idle().idle
    [row] = lab.outcomes("f").itertuples()
    assert row.ending == "dropped" and "write failed" in row.where and "NonExistentQueue" in row.where
    dropped = lab.log.to_frame("f").query("outcome == 'dropped'")
    assert dropped["error_type"].tolist() == ["RetriesExhausted"]
    assert "every write failed" in dropped["error_message"].item()
    assert [r.ok for r in lab.sends.records] == [False]
    assert metric(lab, metric_name) == 1 and metric(lab, "AsyncEventsDropped") == 1


def test_oversized_on_success_record_is_counted_and_the_event_still_processed(lab):
    _, arn = queue_arn(lab, "successes")
    fn = lab.function("f", lambda event, context: "x" * BIG_RESPONSE, on_success=arn)
    fn.invoke_async({"id": 1})
    assert lab.run_until_idle().idle
    assert lab.outcomes("f")["ending"].tolist() == ["processed"]
    [failure] = lab.sends.failures(DESTINATION)
    assert "1,048,576-byte limit" in failure.error
    assert metric(lab, "DestinationDeliveryFailures") == 1 and metric(lab, "AsyncEventsDropped") == 0


def test_seven_mb_response_with_sqs_destinations_ends_and_the_lab_keeps_running(lab):
    ok_url, ok_arn = queue_arn(lab, "successes")
    fail_url, fail_arn = queue_arn(lab, "failures")
    fn = lab.function("f", lambda event, context: "x" * TOO_BIG_RESPONSE, on_success=ok_arn,
                      on_failure=fail_arn, maximum_retry_attempts=0)
    fn.invoke_async({"id": 1})
    assert lab.run_until_idle().idle
    assert len(lab.outcomes("f")) == 1 and lab.outcomes("f")["ending"].item() != "pending"
    assert not lab.async_queue.pending()


def test_a_payload_that_is_not_json_is_a_failed_send_not_a_crash(lab):
    _, arn = queue_arn(lab, "records")
    result = send(lab, arn, {(1, 2): "tuple keys"}, function="f", purpose=DESTINATION, depth=1)
    assert not result.ok and result.error.startswith("InvalidParameterValue: the payload is not valid JSON")
    assert lab.sends.failures(DESTINATION) == [result]


def test_a_result_that_is_not_json_never_strands_the_event(lab):
    _, arn = queue_arn(lab, "records")
    fn = lab.function("f", lambda event, context: {(1, 2): "tuple keys"}, on_success=arn,
                      maximum_retry_attempts=0)
    fn.invoke_async({"id": 1})
    assert lab.run_until_idle().idle  # it raised TypeError out of the run and stayed pending
    # Processed with a failed record write, or (once the runtime maps a result that is not
    # JSON to a function error) dropped: either way it ends.
    assert lab.outcomes("f")["ending"].isin(["processed", "dropped"]).all()


def test_oversized_records_fail_for_eventbridge_and_lambda_targets(lab):
    lab.client("events").create_event_bus(Name="bus")
    lab.function("catcher", lambda event, context: None)
    big = {"blob": "x" * (2 * 1024 * 1024)}
    to_bus = send(lab, lab.arn("events", "event-bus/bus"), big, function="f", purpose=DESTINATION, depth=1)
    to_fn = send(lab, lab.arn("lambda", "function:catcher"), big, function="f", purpose=DESTINATION, depth=1)
    assert not to_bus.ok and "EventBridge's 1,048,576-byte limit" in to_bus.error
    assert not to_fn.ok and to_fn.error.startswith("RequestEntityTooLargeException")
    assert not lab.async_queue.pending()  # nothing was queued for the catcher


# --- 2. SNS destinations: a record over 256 KB arrives without its payloads ---------------------
def sns_destination(lab: Lab) -> tuple[str, str]:
    """A topic and an SQS queue subscribed to it with raw delivery: (topic ARN, queue URL)."""
    topic = lab.client("sns").create_topic(Name="records")["TopicArn"]
    url, arn = queue_arn(lab, "records-copy")
    lab.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                Attributes={"RawMessageDelivery": "true"})
    return topic, url


def test_sns_on_success_record_over_256_kb_loses_its_payloads(lab):
    topic, url = sns_destination(lab)
    fn = lab.function("f", lambda event, context: "x" * OVER_SNS, on_success=topic)
    fn.invoke_async({"id": 1})
    assert lab.run_until_idle().idle
    [record] = received(lab, url)
    assert not set(PAYLOAD_FIELDS) & set(record)
    assert record["requestContext"]["condition"] == "Success"
    assert record["responseContext"]["statusCode"] == 200
    assert lab.sends.failures() == []


def test_sns_on_failure_record_over_256_kb_loses_its_payloads(lab):
    topic, url = sns_destination(lab)
    fn = lab.function("f", failing, on_failure=topic, maximum_retry_attempts=0)
    fn.invoke_async({"blob": "x" * OVER_SNS})
    assert lab.run_until_idle().idle
    [record] = received(lab, url)
    assert not set(PAYLOAD_FIELDS) & set(record)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert lab.outcomes("f")["ending"].tolist() == ["destination"]


def test_sns_record_under_256_kb_keeps_its_payloads(lab):
    topic, url = sns_destination(lab)
    fn = lab.function("f", lambda event, context: {"ok": True}, on_success=topic)
    fn.invoke_async({"id": 1})
    lab.run_until_idle()
    [record] = received(lab, url)
    assert record["requestPayload"] == {"id": 1} and record["responsePayload"] == {"ok": True}


# --- 3. one account, one region ----------------------------------------------------------------
@pytest.mark.parametrize("role", ["on_success", "on_failure", "dead_letter_arn"])
@pytest.mark.parametrize("region, account", [("eu-west-1", "123456789012"), ("us-east-1", "210987654321")])
def test_targets_in_another_region_or_account_are_the_labs_limit(lab, role, region, account):
    queue_arn(lab, "records")  # a local queue of the same name must not receive them
    fn = lab.function("f", failing)
    arn = f"arn:aws:sqs:{region}:{account}:records"
    with pytest.raises(ConfigurationError, match="the lab's limit, not AWS's") as raised:
        fn.configure_async(**{role: arn})
    assert arn in str(raised.value) and "cross-account" in str(raised.value)
