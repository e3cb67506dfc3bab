"""S3 event notification records, field for field as S3 sends them to Lambda.

Shape: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html,
checked against AWS's sample events in tests/data/aws-sample-events/ (aws-docs, sam-cli,
powertools-python; sources in its SOURCES.md). Gotchas a handler meets, reproduced on purpose:

- ``eventName`` has no ``s3:`` prefix (``ObjectCreated:Put``), while notification
  configurations use it (``s3:ObjectCreated:*``).
- ``s3.object.key`` is URL-encoded: ``+`` for a space, ``%XX`` for UTF-8 bytes and reserved
  characters, ``/`` kept. ``urllib.parse.unquote_plus`` gives the real key back.
- ``size`` and ``eTag`` are absent on delete events; ``versionId`` only on versioned buckets.
- ``sequencer`` orders events *for one key*: the later event has the greater value after
  right-padding the shorter one with zeros.

Ids (request ids, principal ids, sequencers) come from a seeded generator, so a lab
repeats them run to run.

Like every module in ``events/``: ``record`` (one record as S3 writes it), ``event`` (what the
function receives), ``sample_event`` (a well-formed event without a bucket) and
``DISPLAY_FIELDS`` (what ``show_event`` prints).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import random
import string
from typing import Any, Iterable
from urllib.parse import quote_plus

EVENT_SOURCE = "aws:s3"
#: The fields a handler author reads in one record (paths into it), printed by ``show_event``.
DISPLAY_FIELDS = ("eventName", "eventTime", "s3.bucket.name", "s3.object.key", "s3.object.size",
                  "s3.object.sequencer")

#: The event types a notification configuration may name for SQS, SNS and Lambda
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html).
EVENT_TYPES = (
    "s3:TestEvent",
    "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*", "s3:Replication:OperationFailedReplication", "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold", "s3:Replication:OperationNotTracked",
    "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition", "s3:IntelligentTiering",
    "s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
    "s3:ObjectAcl:Put",
)
EVENT_VERSION = "2.1"
SCHEMA_VERSION = "1.0"
#: The lab's callers write from this machine.
SOURCE_IP = "127.0.0.1"


def encode_key(key: str) -> str:
    """The object key as S3 writes it into an event: ``my photos/ça va.jpg`` -> ``my+photos/%C3%A7a+va.jpg``."""
    return quote_plus(key, safe="/", encoding="utf-8")


def matches(name: str, patterns: list[str] | tuple[str, ...]) -> bool:
    """Does a record's ``eventName`` fall under any configured type (``s3:ObjectCreated:*``...)?"""
    return any(fnmatch.fnmatchcase(f"s3:{name}", pattern) for pattern in patterns)


def overlaps(a: str, b: str) -> bool:
    """Two configured event types share events (``s3:ObjectCreated:*`` and ``s3:ObjectCreated:Put`` do)."""
    a_root, b_root = a.rstrip("*"), b.rstrip("*")
    if a.endswith("*") or b.endswith("*"):
        return a_root.startswith(b_root) or b_root.startswith(a_root)
    return a == b


class S3Ids:
    """Seeded ids for S3 events: caller and owner principals, request ids, sequencers."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        alnum = string.ascii_uppercase + string.digits
        self.principal_id = "AWS:AIDA" + "".join(rng.choice(alnum) for _ in range(17))
        self.owner_id = "A" + "".join(rng.choice(alnum) for _ in range(13))
        self._counter = rng.getrandbits(24)

    def request_id(self) -> str:
        """``x-amz-request-id``: 16 upper-case hex digits."""
        return f"{self.rng.getrandbits(64):016X}"

    def host_id(self) -> str:
        """``x-amz-id-2``: an opaque base64 string."""
        return base64.b64encode(self.rng.getrandbits(456).to_bytes(57, "big")).decode()

    def sequencer(self, epoch_s: float) -> str:
        """18 hex digits that grow with time and with every call, so they order one key's events."""
        self._counter += 1 + self.rng.randrange(255)
        return f"00{int(epoch_s):08X}{self._counter:08X}"


def sequencer_key(sequencer: str, width: int = 32) -> str:
    """A sortable form of a sequencer: right-padded with zeros, as S3's docs say to compare them."""
    return sequencer.ljust(width, "0")


def record(
    *,
    name: str,
    bucket: str,
    key: str,
    time_iso: str,
    region: str,
    ids: S3Ids,
    epoch_s: float,
    configuration_id: str,
    size: int | None = None,
    etag: str | None = None,
    version_id: str | None = None,
) -> dict[str, Any]:
    """One record of an S3 event. ``name`` without ``s3:``; ``key`` as stored (not encoded)."""
    obj: dict[str, Any] = {"key": encode_key(key)}
    if not name.startswith("ObjectRemoved"):
        obj["size"] = int(size or 0)
        obj["eTag"] = (etag or "").strip('"')
    if version_id:
        obj["versionId"] = version_id
    obj["sequencer"] = ids.sequencer(epoch_s)
    return {
        "eventVersion": EVENT_VERSION,
        "eventSource": EVENT_SOURCE,
        "awsRegion": region,
        "eventTime": time_iso,
        "eventName": name,
        "userIdentity": {"principalId": ids.principal_id},
        "requestParameters": {"sourceIPAddress": SOURCE_IP},
        "responseElements": {"x-amz-request-id": ids.request_id(), "x-amz-id-2": ids.host_id()},
        "s3": {
            "s3SchemaVersion": SCHEMA_VERSION,
            "configurationId": configuration_id,
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": ids.owner_id}, "arn": f"arn:aws:s3:::{bucket}"},
            "object": obj,
        },
    }


def event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The event a function receives: ``{"Records": [...]}``; S3 sends one record per event."""
    return {"Records": list(records)}


#: When sample events happen: the lab's start, 2024-01-01T00:00:00Z (epoch seconds and S3's text).
SAMPLE_EPOCH_S = 1_704_067_200.0
SAMPLE_TIME_ISO = "2024-01-01T00:00:00.000Z"


def sample_event(
    key: str = "HappyFace.jpg",
    *,
    bucket: str = "example-bucket",
    name: str = "ObjectCreated:Put",
    body: bytes = b"",
    version_id: str | None = None,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """A well-formed S3 event without a bucket, for calling a handler directly in a test.

    ``key`` as stored (the event carries it URL-encoded, as S3 sends it); ``size`` and ``eTag``
    are those of ``body`` (the eTag of a single-part upload is the MD5 of its bytes). Ids come
    from a generator seeded with the bucket's name, so equal arguments give equal events. The
    defaults follow AWS's sample (notification-content-structure.html): ``HappyFace.jpg``, and
    ``testConfigRule`` as the configuration id.
    """
    ids = S3Ids(random.Random(f"sample-{bucket}"))
    rec = record(name=name, bucket=bucket, key=key, time_iso=SAMPLE_TIME_ISO, region=region, ids=ids,
                 epoch_s=SAMPLE_EPOCH_S, configuration_id="testConfigRule", size=len(body),
                 etag=hashlib.md5(body).hexdigest(), version_id=version_id)
    return event([rec])


def test_event(bucket: str, time_iso: str, ids: S3Ids) -> dict[str, Any]:
    """The ``s3:TestEvent`` message a queue or topic receives when a configuration is put (no ``Records``)."""
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": time_iso,
        "Bucket": bucket,
        "RequestId": ids.request_id(),
        "HostId": ids.host_id(),
    }


def is_test_event(message: Any) -> bool:
    """True for the ``s3:TestEvent`` message, which a consumer must skip."""
    return isinstance(message, dict) and message.get("Event") == "s3:TestEvent" and "Records" not in message
