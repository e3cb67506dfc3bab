"""DynamoDB Streams records, field for field as Lambda hands them to a function.

Pages: https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (the event),
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_StreamRecord.html (each
field), https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html (the on-failure
record), https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html (tumbling windows).
Shapes checked against AWS's samples in tests/data/aws-sample-events/ (aws-docs/lambda-dg_dynamodb-*.json,
sam-cli/dynamodb-update.json, aws-lambda-go/dynamodb-event.json, powertools-python/dynamoStreamEvent.json;
sources in its SOURCES.md).

Gotchas a handler meets, reproduced on purpose:

- Images are DynamoDB JSON with type descriptors (``{"Id": {"N": "101"}}``): a number is a
  **string** inside ``N``, and a binary value (``B``, ``BS``, also inside ``M`` and ``L``) is
  **base64 text**, so boto3's ``TypeDeserializer`` (which wants bytes there) fails on it.
- Which images a record has depends on the table's ``StreamViewType``: ``KEYS_ONLY`` none,
  ``NEW_IMAGE`` only ``NewImage``, ``OLD_IMAGE`` only ``OldImage``; and an INSERT never has an
  ``OldImage``, a REMOVE never a ``NewImage``.
- ``SequenceNumber`` is a string of varying length: compare ``int(...)``, never the strings. It
  is the ``itemIdentifier`` a partial batch response names.
- ``ApproximateCreationDateTime`` is epoch **seconds**, rounded down (reading the stream with
  boto3 gives a datetime instead). Many records share a second.
- A delete made by TTL is a REMOVE with ``userIdentity`` ``{"type": "Service", "principalId":
  "dynamodb.amazonaws.com"}``; a user's delete has no ``userIdentity`` at all.
- ``eventVersion`` has changed before ("1.0" in the older doc samples, "1.1" now): do not rely on it.

What the lab does not reproduce (moto's stream differs from DynamoDB's, moto-audit.md §5):
``eventID`` and ``SequenceNumber`` are moto's (its sequence numbers rise by exactly 1; DynamoDB's
rise with gaps); moto writes a MODIFY for a put that changes nothing, where DynamoDB writes no
record; moto never expires items by TTL, so TTL deletions exist only when built with
``record(..., ttl_delete=True)``; ``ApproximateCreationDateTimePrecision`` and the Kinesis-destination
form of these records are not modelled. ``SizeBytes`` follows DynamoDB's published item-size rules
(see :func:`stream_record_size`), which AWS itself calls approximate for numbers.

Like every module in ``events/``: ``record`` (one record, from one GetRecords record), ``event``
(what the function receives), ``sample_event`` (a well-formed event without a table: one INSERT by
default, the item's whole ``LIFECYCLE`` on request) and
``DISPLAY_FIELDS`` (what ``show_event`` prints). Also: :func:`on_failure_record` (what an
on-failure destination receives) and :func:`tumbling_window_event`.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import uuid
from decimal import Decimal
from typing import Any, Iterable

EVENT_SOURCE = "aws:dynamodb"
#: Every AWS sample with ``ApproximateCreationDateTime`` (SAM CLI, aws-lambda-go) says "1.1";
#: moto writes "1.0", as the older doc samples do.
EVENT_VERSION = "1.1"
#: The fields a handler author reads in one record (paths into it), printed by ``show_event``.
DISPLAY_FIELDS = ("eventName", "dynamodb.Keys", "dynamodb.NewImage", "dynamodb.OldImage", "dynamodb.SequenceNumber")

#: Key order of a record: the SAM CLI sample's (also aws-lambda-go's, and what real functions
#: log); ``userIdentity`` sits where aws-lambda-go's TTL-style record has it.
RECORD_ORDER = ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "userIdentity", "dynamodb",
                "eventSourceARN")
#: Key order inside ``dynamodb``. The SAM CLI template puts the time after the images, but a
#: real event logged by an AWS maintainer (aws/aws-lambda-dotnet#839), the aws-lambda-go fixture
#: and events LocalStack recorded from AWS all put it first: this follows the real events.
STREAM_RECORD_ORDER = ("ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes",
                       "StreamViewType")
#: ``StreamViewType`` -> the images its records carry
#: (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_StreamSpecification.html).
VIEW_TYPE_IMAGES: dict[str, tuple[str, ...]] = {
    "KEYS_ONLY": (),
    "NEW_IMAGE": ("NewImage",),
    "OLD_IMAGE": ("OldImage",),
    "NEW_AND_OLD_IMAGES": ("NewImage", "OldImage"),
}
#: Who deleted an item whose TTL expired
#: (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html).
TTL_USER_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

# -- on-failure destination record ----------------------------------------------------------------
# https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html ("Example invocation
# record"; formerly with-ddb.html#services-dynamodb-errors), saved as
# tests/data/aws-sample-events/aws-docs/lambda-dg_dynamodb-on-failure-invocation-record.json.

#: ``requestContext.condition`` when the retry quota (MaximumRetryAttempts) ran out: AWS's sample.
RETRY_ATTEMPTS_EXHAUSTED = "RetryAttemptsExhausted"
#: ``requestContext.condition`` when a record outlived MaximumRecordAgeInSeconds. NOT CONFIRMED:
#: no AWS page or AWS-published sample shows this case. "RecordAgeExceeded" is what LocalStack's
#: stream poller sends (localstack/localstack, pollers/stream_poller.py); another emulator (floci)
#: uses "MaximumRecordAgeExceeded". Treat the string as the lab's best guess.
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"
#: The conditions the lab sends.
CONDITIONS = (RETRY_ATTEMPTS_EXHAUSTED, RECORD_AGE_EXCEEDED)
#: ``version`` of the on-failure record in AWS's sample.
ON_FAILURE_VERSION = "1.0"
#: Key order inside ``responseContext`` (AWS's sample).
RESPONSE_CONTEXT_ORDER = ("statusCode", "executedVersion", "functionError")


# -- attribute values -----------------------------------------------------------------------------

def attribute_value(value: dict[str, Any]) -> dict[str, Any]:
    """One AttributeValue as a Lambda event carries it: binary (``B``, ``BS``) as base64 text,
    also inside ``M`` and ``L``; everything else as given (a new dict, the input untouched)."""
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": _b64(inner)}
    if kind == "BS":
        return {"BS": [_b64(v) for v in inner]}
    if kind == "M":
        return {"M": image(inner)}
    if kind == "L":
        return {"L": [attribute_value(v) for v in inner]}
    return {kind: list(inner) if isinstance(inner, list) else inner}


def image(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """An item (``Keys``, ``NewImage``, ``OldImage``) with every value as :func:`attribute_value` makes it."""
    return {name: attribute_value(value) for name, value in attributes.items()}


def _b64(raw: bytes | bytearray | str) -> str:
    # boto3 hands binary over as bytes; a value that is already text is taken as base64 already.
    return raw if isinstance(raw, str) else base64.b64encode(bytes(raw)).decode()


def _raw_len(raw: bytes | bytearray | str) -> int:
    return len(base64.b64decode(raw)) if isinstance(raw, str) else len(raw)


# -- sizes ----------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
# ("DynamoDB item sizes and formats"). A stream record's SizeBytes is the size of its Keys plus its
# images by these rules: that reproduces every AWS figure checked (the doc and SAM samples' 26, 59
# and 38; aws-lambda-go's 54 with binary values; events LocalStack recorded from AWS, 20 to 70;
# a logged real event's 56 in aws/aws-lambda-dotnet#839).

def number_size(text: str) -> int:
    """Bytes of a number's value: 1 per two significant digits, plus 1 (AWS calls this approximate).

    Leading and trailing zeroes do not count: "101" is 3 bytes, "100" and "0.001" 2 each.
    """
    digits = Decimal(text).normalize().as_tuple().digits  # normalize() drops trailing zeroes
    return (len(digits) + 1) // 2 + 1


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one AttributeValue, without its name. Binary counts raw bytes (bytes or base64 text)."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return _raw_len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":  # the page gives no separate rule for sets: their elements' sizes, summed
        return sum(len(v.encode()) for v in inner)
    if kind == "NS":
        return sum(number_size(v) for v in inner)
    if kind == "BS":
        return sum(_raw_len(v) for v in inner)
    if kind == "M":  # 3 bytes per map, 1 per element, each element with its name
        return 3 + sum(1 + item_size({name: v}) for name, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    raise ValueError(f"not a DynamoDB attribute value: {value!r}")


def item_size(attributes: dict[str, dict[str, Any]] | None) -> int:
    """Bytes of an item: each attribute's UTF-8 name plus its value (:func:`value_size`)."""
    return sum(len(name.encode()) + value_size(v) for name, v in (attributes or {}).items())


def stream_record_size(stream_record: dict[str, Any]) -> int:
    """``SizeBytes`` of a StreamRecord (the ``dynamodb`` part): its Keys plus the images it carries, in bytes."""
    return sum(item_size(stream_record.get(part)) for part in ("Keys", "NewImage", "OldImage"))


# -- times ----------------------------------------------------------------------------------------

def approximate_creation_s(stream_record: dict[str, Any]) -> float:
    """When the stream record was written, in epoch seconds, as precise as the source gives it.

    ``stream_record`` is one GetRecords record (moto: a timezone-aware datetime with milliseconds)
    or a Lambda record (whole seconds); a number or an ISO-8601 string is read as well.
    """
    return _epoch_s(stream_record["dynamodb"]["ApproximateCreationDateTime"])


def _epoch_s(value: dt.datetime | float | int | str) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=dt.timezone.utc).timestamp()
    if isinstance(value, str):
        return _epoch_s(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    return float(value)


def iso_millis(epoch_s: float) -> str:
    """``2019-11-14T00:13:49.717Z``: the on-failure record's ``timestamp`` form (UTC, milliseconds)."""
    moment = dt.datetime.fromtimestamp(epoch_s, dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_seconds(epoch_s: float) -> str:
    """``2019-11-14T00:13:19Z``: the form of a batch's arrival times and of a window's bounds (UTC, seconds)."""
    return dt.datetime.fromtimestamp(math.floor(epoch_s), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the event ------------------------------------------------------------------------------------

def record(stream_record: dict[str, Any], stream_arn: str, region: str, *, ttl_delete: bool = False) -> dict[str, Any]:
    """One Lambda record from one ``dynamodbstreams.get_records`` record.

    ``region`` becomes ``awsRegion`` (moto always writes us-east-1); ``stream_arn`` becomes
    ``eventSourceARN``. ``ApproximateCreationDateTime`` becomes epoch seconds rounded down, a JSON
    integer: the API reference says "rounded down to the closest second", and the SAM CLI and
    aws-lambda-go samples and a logged real event (aws/aws-lambda-dotnet#839) write it as an
    integer; only the Powertools sample writes a float (``1693997155.0``, still a whole second).
    ``SizeBytes`` is recomputed by :func:`stream_record_size` (moto's is the length of a JSON
    dump). ``ttl_delete=True`` marks a REMOVE as TTL's, with :data:`TTL_USER_IDENTITY`. The input is not changed.
    """
    if ttl_delete and stream_record["eventName"] != "REMOVE":
        raise ValueError(f"only a REMOVE can be a TTL deletion, not {stream_record['eventName']!r}")
    source = stream_record["dynamodb"]
    ddb: dict[str, Any] = {"ApproximateCreationDateTime": math.floor(approximate_creation_s(stream_record))}
    for part in ("Keys", "NewImage", "OldImage"):
        if part in source:
            ddb[part] = image(source[part])
    ddb["SequenceNumber"] = str(source["SequenceNumber"])
    ddb["SizeBytes"] = stream_record_size(source)
    ddb["StreamViewType"] = source["StreamViewType"]
    out: dict[str, Any] = {
        "eventID": stream_record["eventID"],
        "eventName": stream_record["eventName"],
        "eventVersion": EVENT_VERSION,
        "eventSource": EVENT_SOURCE,
        "awsRegion": region,
        "dynamodb": {key: ddb[key] for key in STREAM_RECORD_ORDER if key in ddb},
        "eventSourceARN": stream_arn,
    }
    if ttl_delete:
        out["userIdentity"] = dict(TTL_USER_IDENTITY)
    return {key: out[key] for key in RECORD_ORDER if key in out}


def event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda passes to the handler: ``{"Records": [...]}``, in stream order."""
    return {"Records": list(records)}


def tumbling_window_event(
    records: Iterable[dict[str, Any]],
    *,
    shard_id: str,
    stream_arn: str,
    window_start: str,
    window_end: str,
    state: dict[str, Any],
    final: bool,
    terminated_early: bool = False,
) -> dict[str, Any]:
    """The event of a mapping with ``TumblingWindowInSeconds``: the records plus the window.

    Layout and names are AWS's example (services-ddb-windows.html): ``window`` ``{start, end}``
    (ISO-8601 UTC, see :func:`iso_seconds`), ``state`` (what the previous invocation of this
    window returned, ``{}`` at its start), ``shardId``, ``eventSourceARN``,
    ``isFinalInvokeForWindow`` and ``isWindowTerminatedEarly`` (the state outgrew 1 MB).
    ``state`` is copied, not shared.
    """
    return {
        "Records": list(records),
        "window": {"start": window_start, "end": window_end},
        "state": dict(state),
        "shardId": shard_id,
        "eventSourceARN": stream_arn,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": terminated_early,
    }


def on_failure_record(
    *,
    request_id: str,
    function_arn: str,
    condition: str,
    approximate_invoke_count: int,
    response_context: dict[str, Any] | None,
    timestamp: str,
    shard_id: str,
    start_sequence_number: str,
    end_sequence_number: str,
    first_arrival: str,
    last_arrival: str,
    batch_size: int,
    stream_arn: str,
) -> dict[str, Any]:
    """The invocation record a stream mapping sends to its on-failure destination (SQS or SNS).

    It describes the discarded batch, it does not carry it: a reader must fetch the records from
    the stream by ``DDBStreamBatchInfo`` before they expire (24 hours). ``condition`` is one of
    :data:`CONDITIONS`. ``response_context``: ``{"statusCode", "executedVersion", "functionError"}``
    of the last invocation (``functionError`` "Unhandled" for a raised error, None after an invalid
    partial batch response); pass None when the batch never reached the function (it aged out
    first), and the key is left out. ``timestamp``: :func:`iso_millis` of the discard;
    ``first_arrival``/``last_arrival``: :func:`iso_seconds` of the first and last records' creation.
    Key order is AWS's sample's.
    """
    out: dict[str, Any] = {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": approximate_invoke_count,
        },
    }
    if response_context is not None:
        ordered = {key: response_context[key] for key in RESPONSE_CONTEXT_ORDER if key in response_context}
        ordered.update({k: v for k, v in response_context.items() if k not in ordered})
        out["responseContext"] = ordered
    out["version"] = ON_FAILURE_VERSION
    out["timestamp"] = timestamp
    out["DDBStreamBatchInfo"] = {
        "shardId": shard_id,
        "startSequenceNumber": start_sequence_number,
        "endSequenceNumber": end_sequence_number,
        "approximateArrivalOfFirstRecord": first_arrival,
        "approximateArrivalOfLastRecord": last_arrival,
        "batchSize": batch_size,
        "streamArn": stream_arn,
    }
    return out


# -- sample ---------------------------------------------------------------------------------------

#: When sample events happen: the lab's start, 2024-01-01T00:00:00Z, in epoch seconds.
SAMPLE_TIME_S = 1_704_067_200
#: The sample's stream (a stream label is the stream's creation time).
SAMPLE_STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/sample-table/stream/2024-01-01T00:00:00.000"
#: The first sample record's sequence number (the SAM CLI sample's); the others follow it.
SAMPLE_SEQUENCE_NUMBER = 4421584500000000017450439091
#: The sample item before and after its update: AWS's sample's (with-ddb.html).
SAMPLE_KEYS = {"Id": {"N": "101"}}
SAMPLE_OLD = {"Message": {"S": "New item!"}, "Id": {"N": "101"}}
SAMPLE_NEW = {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}}
#: An item's life in a stream, in order: the ``eventName`` values.
LIFECYCLE = ("INSERT", "MODIFY", "REMOVE")


def sample_event(
    *,
    event_names: Iterable[str] = ("INSERT",),
    view_type: str = "NEW_AND_OLD_IMAGES",
    stream_arn: str = SAMPLE_STREAM_ARN,
    created_s: float = SAMPLE_TIME_S,
) -> dict[str, Any]:
    """A well-formed event without a table, for calling a handler directly in a test.

    The records are drawn from the life of item ``Id`` 101 in AWS's samples: its INSERT
    (``Message`` "New item!"), MODIFY (to "This item has changed") and REMOVE. By default only
    the INSERT, one record like every module's sample; ``event_names=LIFECYCLE`` gives all three,
    as the SAM CLI sample has them. Each record has the images ``view_type`` gives.
    ``created_s``: epoch seconds of the writes. The region is the ARN's. Equal arguments give
    equal events, and a record is the same whichever others come with it (ids are ``uuid5`` of
    the ARN and the record's place in the life cycle).
    """
    images = VIEW_TYPE_IMAGES[view_type]
    wanted = set(event_names)
    if not wanted <= set(LIFECYCLE):
        raise ValueError(f"event names must be among {LIFECYCLE}, got {sorted(wanted - set(LIFECYCLE))}")
    writes = (("INSERT", SAMPLE_OLD, None), ("MODIFY", SAMPLE_NEW, SAMPLE_OLD), ("REMOVE", None, SAMPLE_NEW))
    region = stream_arn.split(":")[3]
    records = []
    for n, (name, new, old) in enumerate(writes):
        if name not in wanted:
            continue
        ddb: dict[str, Any] = {"ApproximateCreationDateTime": created_s, "Keys": SAMPLE_KEYS}
        if new is not None and "NewImage" in images:
            ddb["NewImage"] = new
        if old is not None and "OldImage" in images:
            ddb["OldImage"] = old
        ddb.update(SequenceNumber=str(SAMPLE_SEQUENCE_NUMBER + n), StreamViewType=view_type)
        source = {"eventID": uuid.uuid5(uuid.NAMESPACE_URL, f"{stream_arn}/{n}").hex, "eventName": name,
                  "dynamodb": ddb}
        records.append(record(source, stream_arn, region))
    return event(records)
