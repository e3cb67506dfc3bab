"""DynamoDB Streams events against AWS's samples: records from a real (moto) stream, the sample event,
the on-failure record and the tumbling-window event."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import math
from pathlib import Path

import pytest

from lambda_lab import Lab
from lambda_lab.events import dynamodb as ddb_events
from shapes import shape

SAMPLES = Path(__file__).parent / "data" / "aws-sample-events"
#: AWS's DynamoDB Streams events whose item is the lab's (``Id`` 101 with a ``Message``).
SAME_ITEM_SAMPLES = ["aws-docs/lambda-dg_dynamodb-stream-event.json", "sam-cli/dynamodb-update.json",
                     "powertools-python/dynamoStreamEvent.json"]
#: Samples of other items: only their records' keys (not the images' attributes) can match.
OTHER_ITEM_SAMPLES = ["aws-lambda-go/dynamodb-event.json",
                      "powertools-python/batch_getting_started_dynamodb_event.json"]
VIEW_TYPES = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
#: The images each view type carries (API_StreamSpecification.html), written out here, not taken from the module.
IMAGES = {"KEYS_ONLY": set(), "NEW_IMAGE": {"NewImage"}, "OLD_IMAGE": {"OldImage"},
          "NEW_AND_OLD_IMAGES": {"NewImage", "OldImage"}}
TIME = "ApproximateCreationDateTime"
REGION = "eu-west-1"  # not moto's hard-coded us-east-1, so awsRegion shows where it comes from


def sample(path: str) -> dict:
    return json.loads((SAMPLES / path).read_text())


def b64_item(image: dict) -> dict:
    """A sample's image as boto3 takes it for put_item: base64 text back to bytes (B and BS only; enough here)."""
    out = {}
    for name, value in image.items():
        (kind, inner), = value.items()
        if kind == "B":
            value = {"B": base64.b64decode(inner)}
        elif kind == "BS":
            value = {"BS": [base64.b64decode(v) for v in inner]}
        out[name] = value
    return out


def read_stream(lab: Lab, stream_arn: str) -> list[dict]:
    streams = lab.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return streams.get_records(ShardIterator=iterator)["Records"]


def make_table(ddb, name: str, view_type: str, keys: list[tuple[str, str, str]]) -> str:
    table = ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": n, "KeyType": k} for n, _, k in keys],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t, _ in keys],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type})
    return table["TableDescription"]["LatestStreamArn"]


@pytest.fixture(scope="module")
def streams():
    """GetRecords output of AWS's sample writes: per view type, the INSERT, MODIFY and REMOVE of item
    ``Id`` 101 (as in SAM's sample); and an insert of aws-lambda-go's item with binary values."""
    go_item = sample("aws-lambda-go/dynamodb-event.json")["Records"][0]["dynamodb"]["NewImage"]
    with Lab(seed=0, region=REGION) as lab:
        ddb = lab.client("dynamodb")
        out = {"region": lab.region, "arns": {}, "raw": {}}
        for view in VIEW_TYPES:
            name = f"items-{view.lower().replace('_', '-')}"
            arn = make_table(ddb, name, view, [("Id", "N", "HASH")])
            ddb.put_item(TableName=name, Item=ddb_events.SAMPLE_OLD)
            ddb.put_item(TableName=name, Item=ddb_events.SAMPLE_NEW)
            ddb.delete_item(TableName=name, Key=ddb_events.SAMPLE_KEYS)
            out["arns"][view], out["raw"][view] = arn, read_stream(lab, arn)
        arn = make_table(ddb, "binary", "NEW_AND_OLD_IMAGES", [("key", "S", "HASH"), ("val", "S", "RANGE")])
        ddb.put_item(TableName="binary", Item=b64_item(go_item))
        out["arns"]["binary"], out["raw"]["binary"] = arn, read_stream(lab, arn)
    return out


def converted(streams, view: str, n: int, **kwargs) -> dict:
    return ddb_events.record(streams["raw"][view][n], streams["arns"][view], streams["region"], **kwargs)


def by_name(streams, view: str) -> dict[str, dict]:
    return {raw["eventName"]: converted(streams, view, n) for n, raw in enumerate(streams["raw"][view])}


def comparable(record: dict, like: dict, view=shape) -> tuple:
    """``view`` of ``record`` and of AWS's ``like``, without the creation time where ``like`` has none
    or writes it as a float (Powertools): test_creation_time_is_whole_seconds covers that field."""
    got, want = view(record), view(like)
    if not isinstance(like["dynamodb"].get(TIME), int):
        got["dynamodb"].pop(TIME, None)
        want["dynamodb"].pop(TIME, None)
    return got, want


def skeleton(record: dict) -> dict:
    """A record's shape with each image reduced to "an image is here"."""
    out = shape(record)
    for part in ("Keys", "NewImage", "OldImage"):
        if part in out["dynamodb"]:
            out["dynamodb"][part] = "image"
    return out


# -- records from a real stream, against AWS's samples --------------------------------------------

def test_moto_writes_one_record_per_write(streams):
    for view in VIEW_TYPES:
        assert [r["eventName"] for r in streams["raw"][view]] == ["INSERT", "MODIFY", "REMOVE"]


@pytest.mark.parametrize("path", SAME_ITEM_SAMPLES)
def test_the_record_has_the_samples_shape(streams, path):
    ours = by_name(streams, "NEW_AND_OLD_IMAGES")
    for theirs in sample(path)["Records"]:
        got, want = comparable(ours[theirs["eventName"]], theirs)
        assert got == want, theirs["eventName"]


@pytest.mark.parametrize("view", VIEW_TYPES)
@pytest.mark.parametrize("name", ["INSERT", "MODIFY", "REMOVE"])
def test_every_view_type_has_the_sam_samples_shape_less_the_images_it_leaves_out(streams, view, name):
    theirs = copy.deepcopy(next(r for r in sample("sam-cli/dynamodb-update.json")["Records"] if r["eventName"] == name))
    for part in {"NewImage", "OldImage"} - IMAGES[view]:
        theirs["dynamodb"].pop(part, None)
    ours = by_name(streams, view)[name]
    assert shape(ours) == shape(theirs)
    assert ours["dynamodb"]["StreamViewType"] == view


@pytest.mark.parametrize("path", OTHER_ITEM_SAMPLES)
def test_records_of_other_items_have_the_same_fields(streams, path):
    ours = by_name(streams, "NEW_AND_OLD_IMAGES")
    for theirs in sample(path)["Records"]:
        if "userIdentity" in theirs:
            continue  # test_ttl_delete_has_user_identity compares that one
        got, want = comparable(ours[theirs["eventName"]], theirs, view=skeleton)
        assert got == want


def test_key_order_is_awss(streams):
    ours = by_name(streams, "NEW_AND_OLD_IMAGES")
    for theirs in sample("sam-cli/dynamodb-update.json")["Records"]:
        assert list(ours[theirs["eventName"]]) == list(theirs)
    # inside dynamodb: the order of real events (aws-lambda-go's fixture), time first
    go = sample("aws-lambda-go/dynamodb-event.json")["Records"][1]
    assert list(by_name(streams, "NEW_IMAGE")["INSERT"]["dynamodb"]) == list(go["dynamodb"])


def test_size_bytes_are_dynamodbs(streams):
    sizes = {name: r["dynamodb"]["SizeBytes"] for name, r in by_name(streams, "NEW_AND_OLD_IMAGES").items()}
    sam = sample("sam-cli/dynamodb-update.json")["Records"]
    assert sizes == {r["eventName"]: r["dynamodb"]["SizeBytes"] for r in sam}
    assert sizes == {"INSERT": 26, "MODIFY": 59, "REMOVE": 38}
    assert {r["dynamodb"]["SizeBytes"] for r in by_name(streams, "KEYS_ONLY").values()} == {5}  # "Id" + 3 bytes for 101
    assert converted(streams, "binary", 0)["dynamodb"]["SizeBytes"] == 54  # aws-lambda-go's, binary counted raw
    assert streams["raw"]["NEW_AND_OLD_IMAGES"][0]["dynamodb"]["SizeBytes"] != 26  # moto's own figure differs


def test_item_size_rules():
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
    assert [ddb_events.number_size(n) for n in ("101", "100", "0.001", "-12345", "0")] == [3, 2, 2, 4, 2]
    flat = {"a": {"S": "héllo"}, "bb": {"BOOL": True}, "c": {"NULL": True}}
    assert ddb_events.item_size(flat) == (1 + 6) + (2 + 1) + (1 + 1)
    assert ddb_events.item_size({"m": {"M": {}}, "l": {"L": []}}) == (1 + 3) + (1 + 3)
    assert ddb_events.item_size({"m": {"M": {"k": {"S": "ab"}}}}) == 1 + 3 + 1 + (1 + 2)
    assert ddb_events.item_size({"l": {"L": [{"N": "7"}, {"B": b"\x00\x01"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert ddb_events.item_size({"b": {"B": "AAEqQQ=="}}) == ddb_events.item_size({"b": {"B": b"\x00\x01*A"}}) == 5


def test_numbers_stay_strings_and_sequence_numbers_are_strings(streams):
    for n, raw in enumerate(streams["raw"]["NEW_AND_OLD_IMAGES"]):
        ddb = converted(streams, "NEW_AND_OLD_IMAGES", n)["dynamodb"]
        assert ddb["Keys"] == {"Id": {"N": "101"}}
        assert isinstance(ddb["SequenceNumber"], str) and ddb["SequenceNumber"] == raw["dynamodb"]["SequenceNumber"]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in by_name(streams, "KEYS_ONLY").values()]
    assert numbers == sorted(numbers)


def test_creation_time_is_whole_seconds(streams):
    raw = streams["raw"]["NEW_IMAGE"][0]
    assert isinstance(raw["dynamodb"][TIME], dt.datetime)  # what boto3 makes of it
    seconds = converted(streams, "NEW_IMAGE", 0)["dynamodb"][TIME]
    assert type(seconds) is int and seconds == math.floor(ddb_events.approximate_creation_s(raw))
    # AWS's samples: integers (SAM, aws-lambda-go); Powertools' float is a whole second too
    for path in ("sam-cli/dynamodb-update.json", "aws-lambda-go/dynamodb-event.json",
                 "powertools-python/dynamoStreamEvent.json"):
        times = [r["dynamodb"][TIME] for r in sample(path)["Records"] if TIME in r["dynamodb"]]
        assert times and all(float(t).is_integer() for t in times)


def test_creation_time_keeps_milliseconds_until_rounded_down():
    raw = {"eventID": "e", "eventName": "INSERT", "dynamodb": {
        TIME: dt.datetime(2024, 1, 1, 0, 0, 59, 858000, tzinfo=dt.timezone.utc), "Keys": {"Id": {"N": "1"}},
        "SequenceNumber": "1", "StreamViewType": "KEYS_ONLY"}}
    assert ddb_events.approximate_creation_s(raw) == pytest.approx(1_704_067_259.858)
    assert ddb_events.record(raw, "arn", "us-east-1")["dynamodb"][TIME] == 1_704_067_259


def test_region_is_the_labs_and_the_arn_the_streams(streams):
    assert streams["raw"]["NEW_IMAGE"][0]["awsRegion"] != REGION  # moto's fixed us-east-1
    rec = converted(streams, "NEW_IMAGE", 0)
    assert rec["awsRegion"] == REGION == streams["region"]
    assert rec["eventSourceARN"] == streams["arns"]["NEW_IMAGE"] and ":eu-west-1:" in rec["eventSourceARN"]
    assert (rec["eventVersion"], rec["eventSource"]) == ("1.1", "aws:dynamodb")


def test_binary_values_become_base64_text(streams):
    theirs = sample("aws-lambda-go/dynamodb-event.json")["Records"][0]["dynamodb"]
    ours = converted(streams, "binary", 0)["dynamodb"]
    assert isinstance(streams["raw"]["binary"][0]["dynamodb"]["NewImage"]["asdf1"]["B"], bytes)
    assert ours["NewImage"]["asdf1"] == theirs["NewImage"]["asdf1"] == {"B": "AAEqQQ=="}
    assert sorted(ours["NewImage"]["asdf2"]["BS"]) == sorted(theirs["NewImage"]["asdf2"]["BS"])
    assert ours["Keys"] == theirs["Keys"]


def test_binary_inside_maps_and_lists_becomes_base64_text():
    nested = {"L": [{"B": b"\x00\x01"}, {"M": {"z": {"BS": [b"ab", b"c"]}, "n": {"N": "1"}}}, {"SS": ["x"]}]}
    assert ddb_events.attribute_value(nested) == {"L": [
        {"B": "AAE="}, {"M": {"z": {"BS": ["YWI=", "Yw=="]}, "n": {"N": "1"}}}, {"SS": ["x"]}]}


def test_ttl_delete_has_user_identity_and_others_do_not(streams):
    remove = converted(streams, "OLD_IMAGE", 2, ttl_delete=True)
    assert remove["eventName"] == "REMOVE"
    assert remove["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    go = sample("aws-lambda-go/dynamodb-event.json")["Records"][0]  # AWS's only sample with userIdentity
    assert list(remove) == list(go) and shape(remove["userIdentity"]) == shape(go["userIdentity"])
    for view in VIEW_TYPES:
        assert all("userIdentity" not in r for r in by_name(streams, view).values())
    with pytest.raises(ValueError):
        converted(streams, "OLD_IMAGE", 0, ttl_delete=True)  # an INSERT is never TTL's


def test_the_input_is_not_changed(streams):
    for view in [*VIEW_TYPES, "binary"]:
        for n, raw in enumerate(streams["raw"][view]):
            before = copy.deepcopy(raw)
            rec = converted(streams, view, n, ttl_delete=raw["eventName"] == "REMOVE")
            assert raw == before
            rec["dynamodb"]["Keys"].clear()  # and the output shares nothing with it
            assert raw == before


def test_event_wraps_the_records(streams):
    records = list(by_name(streams, "NEW_IMAGE").values())
    assert ddb_events.event(iter(records)) == {"Records": records}


# -- the sample event -----------------------------------------------------------------------------

def test_sample_event_has_the_sam_samples_shape_and_values():
    ours, theirs = ddb_events.sample_event(event_names=ddb_events.LIFECYCLE), sample("sam-cli/dynamodb-update.json")
    assert shape(ours) == shape(theirs)
    for mine, aws in zip(ours["Records"], theirs["Records"]):
        assert (mine["eventName"], mine["dynamodb"]["SizeBytes"]) == (aws["eventName"], aws["dynamodb"]["SizeBytes"])
        assert {k: mine["dynamodb"].get(k) for k in ("Keys", "NewImage", "OldImage")} == \
               {k: aws["dynamodb"].get(k) for k in ("Keys", "NewImage", "OldImage")}
    assert ddb_events.sample_event(event_names=ddb_events.LIFECYCLE) == ours


def test_sample_event_defaults_to_one_insert():
    # one record, as every events module's sample (tests/test_events_layout.py); the same record as in the full life
    [insert] = ddb_events.sample_event()["Records"]
    assert insert == ddb_events.sample_event(event_names=ddb_events.LIFECYCLE)["Records"][0]
    assert shape(ddb_events.sample_event()) == shape({"Records": sample("sam-cli/dynamodb-update.json")["Records"][:1]})
    with pytest.raises(ValueError):
        ddb_events.sample_event(event_names=["UPDATE"])


@pytest.mark.parametrize("path", SAME_ITEM_SAMPLES)
def test_sample_event_matches_each_sample(path):
    ours = {r["eventName"]: r for r in ddb_events.sample_event(event_names=ddb_events.LIFECYCLE)["Records"]}
    for theirs in sample(path)["Records"]:
        got, want = comparable(ours[theirs["eventName"]], theirs)
        assert got == want


@pytest.mark.parametrize("view", VIEW_TYPES)
def test_sample_event_follows_the_view_type(view, streams):
    ours = ddb_events.sample_event(event_names=ddb_events.LIFECYCLE, view_type=view, stream_arn=streams["arns"][view])
    lab = [ddb_events.record(r, streams["arns"][view], "us-east-1") for r in streams["raw"][view]]
    assert [skeleton(r) for r in ours["Records"]] == [skeleton(r) for r in lab]
    fields = ("Keys", "NewImage", "OldImage", "SizeBytes")
    assert [{k: r["dynamodb"].get(k) for k in fields} for r in ours["Records"]] == \
           [{k: r["dynamodb"].get(k) for k in fields} for r in lab]


# -- on-failure record and tumbling window --------------------------------------------------------

def test_on_failure_record_is_awss_sample():
    theirs = sample("aws-docs/lambda-dg_dynamodb-on-failure-invocation-record.json")
    request, info = theirs["requestContext"], theirs["DDBStreamBatchInfo"]
    ours = ddb_events.on_failure_record(
        request_id=request["requestId"], function_arn=request["functionArn"],
        condition=ddb_events.RETRY_ATTEMPTS_EXHAUSTED,
        approximate_invoke_count=request["approximateInvokeCount"],
        response_context={"functionError": "Unhandled", "statusCode": 200, "executedVersion": "$LATEST"},
        timestamp=theirs["timestamp"], shard_id=info["shardId"], start_sequence_number=info["startSequenceNumber"],
        end_sequence_number=info["endSequenceNumber"], first_arrival=info["approximateArrivalOfFirstRecord"],
        last_arrival=info["approximateArrivalOfLastRecord"], batch_size=info["batchSize"], stream_arn=info["streamArn"])
    assert ours == theirs and shape(ours) == shape(theirs)
    assert json.dumps(ours) == json.dumps(theirs)  # key order too, all the way down


def test_on_failure_record_without_an_invocation_has_no_response_context():
    ours = ddb_events.on_failure_record(
        request_id="r", function_arn="f", condition=ddb_events.RECORD_AGE_EXCEEDED, approximate_invoke_count=0,
        response_context=None, timestamp=ddb_events.iso_millis(1_573_690_429.7171),
        shard_id="s", start_sequence_number="1", end_sequence_number="2",
        first_arrival=ddb_events.iso_seconds(1_573_690_399.9), last_arrival=ddb_events.iso_seconds(1_573_690_399.9),
        batch_size=2, stream_arn="a")
    assert "responseContext" not in ours and ours["requestContext"]["condition"] == "RecordAgeExceeded"
    assert ours["timestamp"] == "2019-11-14T00:13:49.717Z"  # the forms of AWS's sample
    assert ours["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"] == "2019-11-14T00:13:19Z"
    assert ddb_events.CONDITIONS == ("RetryAttemptsExhausted", "RecordAgeExceeded")


def test_tumbling_window_event_is_awss_example(streams):
    theirs = sample("aws-docs/lambda-dg_dynamodb-tumbling-window-event.json")
    state = {"1": "state1"}
    ours = ddb_events.tumbling_window_event(
        theirs["Records"], shard_id=theirs["shardId"], stream_arn=theirs["eventSourceARN"],
        window_start=theirs["window"]["start"], window_end=theirs["window"]["end"], state=state, final=False)
    assert json.dumps(ours) == json.dumps(theirs)  # values and key order
    assert ours["state"] is not state
    # with the lab's records: the example's shape, less the creation time the doc's records leave out
    lab = ddb_events.tumbling_window_event(
        list(by_name(streams, "NEW_AND_OLD_IMAGES").values()), shard_id="shardId-00000001", stream_arn="arn",
        window_start="2024-01-01T00:00:00Z", window_end="2024-01-01T00:05:00Z", state=state, final=True,
        terminated_early=True)
    assert [comparable(r, t)[0] for r, t in zip(lab["Records"], theirs["Records"])] == \
           [comparable(r, t)[1] for r, t in zip(lab["Records"], theirs["Records"])]
    assert shape({**lab, "Records": []}) == shape({**theirs, "Records": []})
    assert (lab["isFinalInvokeForWindow"], lab["isWindowTerminatedEarly"]) == (True, True)
