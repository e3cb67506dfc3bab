"""The Lambda SQS event the lab builds, checked against AWS's sample events."""

import base64
import hashlib
import json
from pathlib import Path

import pytest

from lambda_lab.events import sqs as sqs_events

SAMPLES = Path(__file__).parent / "data" / "aws-sample-events"


def _sample(name: str) -> dict:
    path = SAMPLES / name
    if not path.exists():  # copies of AWS samples live in tests/data (see its SOURCES.md)
        pytest.fail(f"missing AWS sample {path}")
    return json.loads(path.read_text())["Records"][0]


def _types(value):
    """The JSON type skeleton of a value: keys and value types, recursively."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    return type(value).__name__


def _captured_event(lab, queue_url, send):
    """Send with ``send(sqs)``, run a mapping, and return the first event the handler saw."""
    seen = []
    fn = lab.function("capture", lambda event, context: seen.append(event))
    lab.sqs_trigger(queue_url, fn)
    send(lab.client("sqs"))
    lab.run(1)
    assert seen, "the handler was never invoked"
    return seen[0]


def test_standard_record_has_the_keys_and_types_of_the_aws_sample(lab):
    url = lab.client("sqs").create_queue(QueueName="std")["QueueUrl"]
    event = _captured_event(lab, url, lambda sqs: sqs.send_message(QueueUrl=url, MessageBody="Test message."))
    record = event["Records"][0]
    expected = _sample("aws-docs/lambda-dg_sqs-standard-event.json")
    assert _types(record) == _types(expected)
    assert list(record) == list(expected)  # AWS's key order, too
    assert record["eventSourceARN"] == lab.arn("sqs", "std")
    assert record["awsRegion"] == lab.region
    assert record["md5OfBody"] == hashlib.md5(b"Test message.").hexdigest()


def test_fifo_record_has_the_keys_and_types_of_the_aws_sample(lab):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    event = _captured_event(lab, url, lambda s: s.send_message(
        QueueUrl=url, MessageBody="Test message.", MessageGroupId="1", MessageDeduplicationId="1"))
    record = event["Records"][0]
    expected = _sample("aws-docs/lambda-dg_sqs-fifo-event.json")
    assert _types(record) == _types(expected)
    assert set(record["attributes"]) == set(expected["attributes"])
    assert record["attributes"]["MessageGroupId"] == "1"


def test_fifo_content_based_dedup_still_gets_a_sequence_number(lab):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="cbd.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    event = _captured_event(lab, url, lambda s: s.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g"))
    attributes = event["Records"][0]["attributes"]
    assert attributes["SequenceNumber"].isdigit() and len(attributes["SequenceNumber"]) == 20
    assert attributes["MessageDeduplicationId"] == hashlib.sha256(b"x").hexdigest()


def test_message_attributes_take_lambdas_camel_case_form(lab):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="attrs")["QueueUrl"]
    event = _captured_event(lab, url, lambda s: s.send_message(QueueUrl=url, MessageBody="b", MessageAttributes={
        "Attribute1": {"DataType": "String", "StringValue": "AttributeValue1"},
        "Attribute2": {"DataType": "Number", "StringValue": "123"},
        "Attribute3": {"DataType": "Binary", "BinaryValue": b"1100"},
    }))
    record = event["Records"][0]
    go_sample = _sample("aws-lambda-go/sqs-event.json")
    assert set(record) == set(go_sample)  # md5OfMessageAttributes appears with attributes
    for name, value in record["messageAttributes"].items():
        assert set(value) - {"stringValue", "binaryValue"} == {"stringListValues", "binaryListValues", "dataType"}
    assert record["messageAttributes"]["Attribute3"]["binaryValue"] == base64.b64encode(b"1100").decode()
    assert record["messageAttributes"]["Attribute2"] == {
        "stringValue": "123", "stringListValues": [], "binaryListValues": [], "dataType": "Number"}


def test_every_attribute_value_is_a_string(lab):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="strings")["QueueUrl"]
    event = _captured_event(lab, url, lambda s: s.send_message(QueueUrl=url, MessageBody="{}"))
    attributes = event["Records"][0]["attributes"]
    assert attributes and all(isinstance(v, str) for v in attributes.values())
    assert attributes["ApproximateReceiveCount"] == "1"
    assert int(attributes["SentTimestamp"]) == lab.clock.start_s * 1000


def test_sample_event_matches_the_aws_shapes_without_a_queue():
    std = sqs_events.sample_event(["a", "b"])["Records"]
    fifo = sqs_events.sample_event(["a"], group_id="g")["Records"]
    assert _types(std[0]) == _types(_sample("aws-docs/lambda-dg_sqs-standard-event.json"))
    assert _types(fifo[0]) == _types(_sample("aws-docs/lambda-dg_sqs-fifo-event.json"))
    assert fifo[0]["eventSourceARN"].endswith(".fifo")
    assert len({r["messageId"] for r in std}) == 2
    assert sqs_events.sample_event(["a"]) == sqs_events.sample_event(["a"])  # deterministic
