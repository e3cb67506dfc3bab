"""S3 event records against AWS's sample events, key encoding, sequencers, the test event."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from urllib.parse import unquote, unquote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_lab import Lab
from lambda_lab.events import s3 as s3_events
from shapes import shape

SAMPLES = Path(__file__).parent / "data" / "aws-sample-events"


def sample(path: str) -> dict:
    return json.loads((SAMPLES / path).read_text())


@pytest.fixture(scope="module")
def delivered():
    """Events the lab delivered for a put and a delete on an unversioned and a versioned bucket."""
    with Lab(seed=0) as lab:
        s3 = lab.client("s3")
        got = {}
        for bucket, versioned in (("plain", False), ("versioned", True)):
            s3.create_bucket(Bucket=bucket)
            if versioned:
                s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            fn = lab.function(f"read-{bucket}", lambda e, c: None)
            lab.s3_trigger(bucket, fn, events=["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
            s3.put_object(Bucket=bucket, Key="HappyFace.jpg", Body=b"x" * 1024)
            s3.delete_object(Bucket=bucket, Key="HappyFace.jpg")
            lab.run_until_idle()
            puts, deletes = [e["Records"][0] for e in lab.sources[-1].delivered]
            got[bucket] = {"put": puts, "delete": deletes}
        yield got


def test_put_matches_the_aws_docs_sample_on_a_versioned_bucket(delivered):
    expected = sample("aws-docs/s3-ug_s3-put-event.json")["Records"][0]
    assert shape(delivered["versioned"]["put"]) == shape(expected)


@pytest.mark.parametrize("path", ["powertools-python/s3Event.json", "sam-cli/s3-put.json"])
def test_put_matches_samples_without_versioning(delivered, path):
    expected = sample(path)["Records"][0]
    assert shape(delivered["plain"]["put"]) == shape(expected)


@pytest.mark.parametrize("path", ["powertools-python/s3EventDeleteObject.json", "sam-cli/s3-delete.json"])
def test_delete_matches_samples(delivered, path):
    record = delivered["plain"]["delete"]
    assert shape(record) == shape(sample(path)["Records"][0])
    assert "size" not in record["s3"]["object"] and "eTag" not in record["s3"]["object"]


def test_versioned_delete_is_a_delete_marker_with_its_version(delivered):
    record = delivered["versioned"]["delete"]
    assert record["eventName"] == "ObjectRemoved:DeleteMarkerCreated"
    assert record["s3"]["object"]["versionId"]


def test_values_look_like_aws(delivered):
    record = delivered["plain"]["put"]
    assert record["eventName"] == "ObjectCreated:Put"  # no s3: prefix
    assert record["eventSource"] == "aws:s3" and record["eventVersion"] == "2.1"
    assert record["eventTime"].endswith("Z") and len(record["eventTime"]) == len("1970-01-01T00:00:00.000Z")
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::plain"
    assert len(record["responseElements"]["x-amz-request-id"]) == 16
    assert len(record["s3"]["object"]["sequencer"]) == 18
    assert record["s3"]["object"]["size"] == 1024


@pytest.mark.parametrize("path, kwargs", [
    ("aws-docs/s3-ug_s3-put-event.json", {"version_id": "096fKKXTRTtl3on89fVO.nfljtsv6qko"}),
    ("powertools-python/s3Event.json", {}),
    ("powertools-python/s3EventDeleteObject.json", {"name": "ObjectRemoved:Delete"}),
])
def test_sample_event_has_the_aws_shapes_without_a_bucket(path, kwargs):
    event = s3_events.sample_event(**kwargs)
    assert shape(event) == shape(sample(path))
    assert event == s3_events.sample_event(**kwargs)  # deterministic


def test_sample_event_encodes_the_key_and_describes_the_body():
    obj = s3_events.sample_event("my photos/ça va.jpg", body=b"x" * 3)["Records"][0]["s3"]["object"]
    assert obj["key"] == "my+photos/%C3%A7a+va.jpg" and unquote_plus(obj["key"]) == "my photos/ça va.jpg"
    assert obj["size"] == 3 and obj["eTag"] == hashlib.md5(b"xxx").hexdigest()


def test_the_test_event_matches_the_docs_sample():
    event = s3_events.test_event("bucketname", "2014-10-13T15:57:02.089Z", s3_events.S3Ids(random.Random(0)))
    assert shape(event) == shape(sample("aws-docs/s3-ug_s3-test-event.json"))
    assert s3_events.is_test_event(event)


# --- keys ----------------------------------------------------------------------
@pytest.mark.parametrize("key, encoded", [
    ("red flower.jpg", "red+flower.jpg"),  # the docs' own example
    ("my photos/ça va.jpg", "my+photos/%C3%A7a+va.jpg"),
    ("c++.txt", "c%2B%2B.txt"),
    ("year=2024/a&b.csv", "year%3D2024/a%26b.csv"),
])
def test_key_encoding_examples(key, encoded):
    assert s3_events.encode_key(key) == encoded


@settings(max_examples=200, derandomize=True)
@given(st.text(min_size=1, max_size=40))
def test_keys_round_trip_through_unquote_plus(key):
    encoded = s3_events.encode_key(key)
    assert unquote_plus(encoded, encoding="utf-8") == key
    assert " " not in encoded and encoded.isascii()
    assert encoded.count("/") == key.count("/")  # slashes kept as they are


def test_plain_unquote_is_not_enough():
    encoded = s3_events.encode_key("my photos/ça va.jpg")
    assert unquote(encoded) != "my photos/ça va.jpg"


# --- sequencers and event types ---------------------------------------------------
@settings(max_examples=30, derandomize=True)
@given(st.lists(st.floats(0, 10_000), min_size=2, max_size=30))
def test_sequencers_grow_for_every_later_event(offsets):
    ids = s3_events.S3Ids(random.Random(3))
    times = [1_700_000_000 + t for t in sorted(offsets)]
    keys = [s3_events.sequencer_key(ids.sequencer(t)) for t in times]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_sequencers_repeat_with_the_seed():
    a, b = s3_events.S3Ids(random.Random(7)), s3_events.S3Ids(random.Random(7))
    assert [a.sequencer(1e9) for _ in range(3)] == [b.sequencer(1e9) for _ in range(3)]


@pytest.mark.parametrize("name, patterns, expected", [
    ("ObjectCreated:Put", ["s3:ObjectCreated:*"], True),
    ("ObjectCreated:Copy", ["s3:ObjectCreated:Put"], False),
    ("ObjectRemoved:Delete", ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"], True),
])
def test_event_type_matching(name, patterns, expected):
    assert s3_events.matches(name, patterns) is expected


@pytest.mark.parametrize("a, b, expected", [
    ("s3:ObjectCreated:*", "s3:ObjectCreated:Put", True),
    ("s3:ObjectCreated:Put", "s3:ObjectCreated:Put", True),
    ("s3:ObjectCreated:Put", "s3:ObjectCreated:Copy", False),
    ("s3:ObjectCreated:*", "s3:ObjectRemoved:*", False),
])
def test_event_type_overlap(a, b, expected):
    assert s3_events.overlaps(a, b) is expected and s3_events.overlaps(b, a) is expected
