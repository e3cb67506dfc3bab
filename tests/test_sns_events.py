"""SNS events against AWS's sample events: Lambda's record, the envelope an SQS subscriber gets."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from lambda_lab import Lab
from lambda_lab.events import sns as sns_events
from lambda_lab.views import event_view
from shapes import shape

SAMPLES = Path(__file__).parent / "data" / "aws-sample-events"
LAMBDA_SAMPLES = ["aws-docs/lambda-dg_sns-event.json", "sam-cli/sns-notification.json",
                  "powertools-python/snsEvent.json"]


def sample(path: str) -> dict:
    return json.loads((SAMPLES / path).read_text())


@pytest.fixture(scope="module")
def delivered():
    """What the lab delivered for a publish with a subject and attributes, and one with neither."""
    with Lab(seed=0) as lab:
        sns = lab.client("sns")
        topic = sns.create_topic(Name="sns-lambda")["TopicArn"]
        got = []
        fn = lab.function("reader", lambda event, context: got.append(event))
        subscription = lab.sns_trigger(topic, fn)
        sns.publish(TopicArn=topic, Message="Hello from SNS!", Subject="TestInvoke", MessageAttributes={
            "Test": {"DataType": "String", "StringValue": "TestString"},
            "TestBinary": {"DataType": "Binary", "BinaryValue": b"TestBinary"}})
        sns.publish(TopicArn=topic, Message=json.dumps({"id": 1}))
        lab.run_until_idle()
        yield {"full": got[0]["Records"][0], "bare": got[1]["Records"][0], "arn": subscription.arn,
               "topic": topic, "events": got}


@pytest.mark.parametrize("path", LAMBDA_SAMPLES)
def test_the_record_has_the_samples_shape(delivered, path):
    assert shape(delivered["full"]) == shape(sample(path)["Records"][0])


def test_values_look_like_aws(delivered):
    record, sns = delivered["full"], delivered["full"]["Sns"]
    assert (record["EventSource"], record["EventVersion"]) == ("aws:sns", "1.0")
    assert record["EventSubscriptionArn"] == delivered["arn"] and delivered["arn"].startswith(delivered["topic"] + ":")
    assert sns["Type"] == "Notification" and sns["TopicArn"] == delivered["topic"]
    assert (sns["Subject"], sns["Message"]) == ("TestInvoke", "Hello from SNS!")
    assert sns["Timestamp"] == "2024-01-01T00:00:00.000Z"  # the lab's virtual clock
    assert sns["UnsubscribeUrl"].endswith("SubscriptionArn=" + delivered["arn"])
    assert sns["SigningCertUrl"].startswith("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-")
    assert len(base64.b64decode(sns["Signature"])) == 256 and sns["SignatureVersion"] == "1"
    assert sns["MessageAttributes"]["Test"] == {"Type": "String", "Value": "TestString"}
    assert base64.b64decode(sns["MessageAttributes"]["TestBinary"]["Value"]) == b"TestBinary"
    assert list(sns) == list(sns_events.SNS_ORDER)
    assert len(delivered["events"][0]["Records"]) == 1  # one message, one record, one invocation


def test_without_subject_or_attributes(delivered):
    sns = delivered["bare"]["Sns"]
    assert sns["Subject"] is None and sns["MessageAttributes"] == {}
    assert json.loads(sns["Message"]) == {"id": 1}  # Message is a string


def test_url_keys_differ_from_the_envelope_an_sqs_subscriber_gets(delivered):
    envelope = sns_events.envelope(delivered["bare"])
    body = json.loads(sample("powertools-python/snsSqsEvent.json")["Records"][0]["body"])
    assert shape(envelope) == shape(body)  # no Subject, no MessageAttributes, ...URL keys
    full = sns_events.envelope(delivered["full"])
    assert "SigningCertURL" in full and "SigningCertUrl" not in full and full["Subject"] == "TestInvoke"
    assert sns_events.record(full, delivered["arn"]) == delivered["full"]  # and back


def test_events_repeat_run_to_run(delivered):
    with Lab(seed=0) as lab:
        sns = lab.client("sns")
        topic = sns.create_topic(Name="sns-lambda")["TopicArn"]
        got = []
        lab.sns_trigger(topic, lab.function("reader", lambda event, context: got.append(event)))
        sns.publish(TopicArn=topic, Message="Hello from SNS!", Subject="TestInvoke", MessageAttributes={
            "Test": {"DataType": "String", "StringValue": "TestString"},
            "TestBinary": {"DataType": "Binary", "BinaryValue": b"TestBinary"}})
        lab.run_until_idle()
    assert got[0] == delivered["events"][0]


@pytest.mark.parametrize("path", LAMBDA_SAMPLES)
def test_sample_event_has_the_samples_shape(path):
    assert shape(sns_events.sample_event()) == shape(sample(path))
    assert sns_events.sample_event() == sns_events.sample_event()
    assert sns_events.sample_event(subject=None)["Records"][0]["Sns"]["Subject"] is None


def test_show_event_prints_the_display_fields():
    [view] = event_view(sns_events.sample_event(message_attributes={"k": {"Type": "String", "Value": "v"}}))
    assert view["eventSource"] == "aws:sns"
    assert set(view) - {"eventSource"} == set(sns_events.DISPLAY_FIELDS)


def test_message_size_counts_body_and_attributes():
    attributes = {"name": {"DataType": "String", "StringValue": "héllo"},
                  "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
    assert sns_events.message_size_bytes("ab", attributes) == 2 + (4 + 6 + 6) + (3 + 6 + 2)
