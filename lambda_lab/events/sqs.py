"""The Lambda event for SQS, built field for field from ReceiveMessage output.

Lambda's poller receives messages with every system and message attribute and
hands the function ``{"Records": [...]}`` in which each record renames the
ReceiveMessage keys to camelCase (``MessageId`` -> ``messageId``,
``MD5OfBody`` -> ``md5OfBody``, ``StringValue`` -> ``stringValue``) and adds
``eventSource``, ``eventSourceARN`` and ``awsRegion``. Every value under
``attributes`` is a string, counts and epoch-millisecond timestamps included.

Shapes checked against AWS's sample events in tests/data/aws-sample-events/
(aws-docs/lambda-dg_sqs-standard-event.json, lambda-dg_sqs-fifo-event.json,
aws-lambda-go/sqs-event.json); the page is https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html.

Like every module in ``events/``: ``record`` (one record from one received message), ``event``
(what the function receives), ``sample_event`` (a well-formed event without a queue) and
``DISPLAY_FIELDS`` (what ``show_event`` prints).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any, Iterable

EVENT_SOURCE = "aws:sqs"
#: The fields a handler author reads in one record (paths into it), printed by ``show_event``.
DISPLAY_FIELDS = ("messageId", "body", "attributes.ApproximateReceiveCount", "attributes.MessageGroupId",
                  "messageAttributes", "eventSourceARN")

#: Attribute order in AWS's sample events (FIFO sample for the FIFO keys); others follow.
ATTRIBUTE_ORDER = (
    "ApproximateReceiveCount",
    "AWSTraceHeader",
    "SentTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "SenderId",
    "MessageDeduplicationId",
    "ApproximateFirstReceiveTimestamp",
    "DeadLetterQueueSourceArn",
)


def message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """One ReceiveMessage ``MessageAttributes`` entry in Lambda's camelCase form.

    Binary values are base64 text in the event (boto3 hands them over as bytes);
    ``stringListValues``/``binaryListValues`` are always present, empty when unused.
    """
    out: dict[str, Any] = {}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = _b64(value["BinaryValue"])
    out["stringListValues"] = list(value.get("StringListValues", []))
    out["binaryListValues"] = [_b64(v) for v in value.get("BinaryListValues", [])]
    out["dataType"] = value["DataType"]
    return out


def _b64(value: bytes | str) -> str:
    return value if isinstance(value, str) else base64.b64encode(value).decode()


def _attributes(message: dict[str, Any], fifo: bool) -> dict[str, str]:
    raw = {key: str(value) for key, value in message.get("Attributes", {}).items()}
    if fifo and "SequenceNumber" not in raw:
        # moto omits SequenceNumber for content-based deduplication (moto-audit.md §2);
        # AWS always sends one, so derive a stable 20-digit stand-in from the message id.
        digest = int(hashlib.sha256(message["MessageId"].encode()).hexdigest(), 16)
        raw["SequenceNumber"] = str(digest % 10**20).zfill(20)
    ordered = {key: raw[key] for key in ATTRIBUTE_ORDER if key in raw}
    ordered.update({key: value for key, value in raw.items() if key not in ordered})
    return ordered


def record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One Lambda SQS record from one ReceiveMessage message (received with ``All`` attributes)."""
    fifo = queue_arn.endswith(".fifo")
    out: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": _attributes(message, fifo),
        "messageAttributes": {
            name: message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
    }
    if message.get("MD5OfMessageAttributes"):
        out["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    out["eventSource"] = EVENT_SOURCE
    out["eventSourceARN"] = queue_arn
    out["awsRegion"] = region
    return out


def event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda passes to the handler: ``{"Records": [...]}``."""
    return {"Records": list(records)}


def event_from_messages(messages: Iterable[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The whole event from ReceiveMessage's ``Messages`` list."""
    return event(record(m, queue_arn, region) for m in messages)


def sample_event(
    bodies: Iterable[str] = ("Test message.",),
    *,
    queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:test-queue",
    group_id: str | None = None,
    receive_count: int = 1,
    sent_ms: int = 1_704_067_200_000,
) -> dict[str, Any]:
    """A well-formed SQS event without a queue, for calling a handler directly in a test.

    One record per body, in order; the default body is AWS's sample's. Message ids are
    deterministic (``uuid5`` of the position and body). Passing ``group_id`` (or a queue ARN
    ending in ``.fifo``) adds the FIFO attributes. ``sent_ms``: epoch milliseconds of the first send.
    """
    fifo = group_id is not None or queue_arn.endswith(".fifo")
    if fifo and not queue_arn.endswith(".fifo"):
        queue_arn += ".fifo"
    region = queue_arn.split(":")[3]
    messages = []
    for i, body in enumerate(bodies):
        message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{queue_arn}/{i}/{body}"))
        attributes = {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(sent_ms + i),
            "SenderId": "AIDAIT2UOQQY3AUEKVGXU",
            "ApproximateFirstReceiveTimestamp": str(sent_ms + i),
        }
        if fifo:
            attributes.update(
                SequenceNumber=str(18_849_496_460_467_696_128 + i),
                MessageGroupId=group_id or "group-1",
                MessageDeduplicationId=hashlib.sha256(body.encode()).hexdigest(),
            )
        messages.append({
            "MessageId": message_id,
            "ReceiptHandle": base64.b64encode(f"{message_id}#{receive_count}".encode()).decode(),
            "Body": body,
            "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
            "Attributes": attributes,
        })
    return event_from_messages(messages, queue_arn, region)

