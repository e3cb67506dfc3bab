"""S3 event notifications to a Lambda function (``lab.s3_trigger(bucket, fn, ...)``).

How the lab does it, and why. On AWS, S3 holds a ``LambdaFunctionConfiguration`` and
invokes the function asynchronously. moto cannot run a Python function (its S3 -> Lambda
path tries Docker), but its S3 -> SQS path works and honours prefix and suffix filters.
So the notification the lab writes is a real ``QueueConfiguration`` whose queue,
``lambda-lab-s3-<id>``, is the lab's relay (``lambda_lab.delivery.relay``) and stands in for
Lambda's side of the hand-off: S3 (moto) fills it, the lab reads it, corrects what moto gets
wrong, and hands each record to ``lab.async_queue``, which retries and routes failures
exactly as it does for any asynchronous invocation. Each record is a row of
``lab.outcomes()`` (source ``s3``, item ``<key> <sequencer>``). Only public boto3 calls are used, so the same code runs against
a moto server or LocalStack.

What the lab corrects (reference/moto-audit.md §3):

- missing fields: ``userIdentity``, ``requestParameters``, ``responseElements``,
  ``bucket.ownerIdentity``, ``object.versionId`` (versioned buckets) and ``object.sequencer``;
- ``/`` in keys encoded as ``%2F`` (S3 keeps slashes);
- ``size`` and ``eTag`` on delete events (S3 sends neither);
- two events for one multipart upload (moto adds an ``ObjectCreated:Put`` whose eTag ends
  in ``-<parts>``, which only a multipart upload produces);
- no event for a delete on a versioned bucket: the lab sends ``ObjectRemoved:DeleteMarkerCreated``.

Writes made through ``lab.client("s3")`` are seen as they happen (a botocore
``after-call`` hook): that schedules the delivery, and gives the chain depth of the writer
(for recursive-loop detection) and the version id. Writes through any other boto3 client
still reach the queue; ``lab.run_until_idle`` notices them (``pending`` asks the queue), they
carry no ``versionId``, and they count as the start of a new chain.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from ..clock import iso_utc
from ..delivery.relay import Relay
from ..errors import ConfigurationError
from ..events import s3 as s3_events

if TYPE_CHECKING:
    from ..lab import Lab
    from ..runtime import Function

#: AWS's words when two configurations overlap (HTTP 400 InvalidArgument).
OVERLAP_MESSAGE = (
    "An error occurred (InvalidArgument) when calling the PutBucketNotificationConfiguration operation: "
    "Configurations overlap. Configurations on the same bucket cannot share a common event type."
)
#: Operations that change objects, and the event each one causes.
WRITE_EVENTS = {
    "PutObject": "ObjectCreated:Put",
    "CopyObject": "ObjectCreated:Copy",
    "CompleteMultipartUpload": "ObjectCreated:CompleteMultipartUpload",
    "DeleteObject": "ObjectRemoved:Delete",
    "DeleteObjects": "ObjectRemoved:Delete",
}
_HOOK_IDS = itertools.count()
DELETE_MARKER = "ObjectRemoved:DeleteMarkerCreated"
#: Read the queue after this many writes even before the delivery is due.
DRAIN_EVERY = 25
_CONFIG_KINDS = ("QueueConfigurations", "TopicConfigurations", "LambdaFunctionConfigurations")
# One id source per (lab, bucket): sequencers must grow per key whoever reads the bucket.
_ID_SOURCES: "weakref.WeakKeyDictionary[Any, dict[str, s3_events.S3Ids]]" = weakref.WeakKeyDictionary()


@dataclass
class Write:
    """An object change seen through the lab's client, waiting for its notification."""

    key: str
    name: str  # eventName, e.g. ObjectCreated:Put
    depth: int  # chain depth of the code that wrote it (0 = a notebook cell)
    version_id: str | None
    epoch_s: float


class S3Notification:
    """One notification configuration on ``bucket`` that invokes ``fn`` asynchronously."""

    def __init__(
        self,
        lab: "Lab",
        bucket: str,
        fn: "Function",
        events: list[str] | tuple[str, ...] = ("s3:ObjectCreated:*",),
        prefix: str | None = None,
        suffix: str | None = None,
        id: str | None = None,
        delivery_delay_s: float = 1.0,
    ):
        """``delivery_delay_s``: seconds between a write and the invocation (S3: "typically seconds")."""
        self.lab, self.bucket, self.fn = lab, bucket, fn
        self.events = list(events)
        self.prefix, self.suffix = prefix or "", suffix or ""
        self.delivery_delay_s = delivery_delay_s
        self.ids = _id_source(lab, bucket)
        self.id = id or str(uuid.UUID(int=self.ids.rng.getrandbits(128), version=4))
        self._check(lab, bucket, fn)
        existing = self._existing_configuration()
        self._check_overlap(existing)
        lab.async_queue  # created before this source, so lab.busy() asks it first (it is cheaper)
        self.relay = Relay(lab, "s3", self.id)
        self.queue_url, self.queue_arn = self.relay.url, self.relay.arn
        existing.setdefault("QueueConfigurations", []).append(self.configuration())
        lab.client("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=existing)
        self.test_events: list[dict[str, Any]] = []  # what S3 sent the queue when the configuration was put
        self.delivered: list[dict[str, Any]] = []  # every event handed to the async queue
        self.corrections: list[str] = []  # what the lab fixed in moto's records, one line each
        self._writes: list[Write] = []
        self._taken: list[dict[str, Any]] = []  # messages read from the queue, not yet delivered
        self._poll_task: Any = None
        self._stopped = False
        self._hook_id = f"lambda-lab-s3-{next(_HOOK_IDS)}"
        for events in lab.client_events("s3"):
            events.register("before-parameter-build.s3", self._before_write, unique_id=self._hook_id + "b")
            events.register("after-call.s3", self._after_write, unique_id=self._hook_id + "a")
        self._poll()

    # --- configuration -------------------------------------------------------------
    def configuration(self) -> dict[str, Any]:
        """This notification as a ``QueueConfiguration`` entry."""
        entry: dict[str, Any] = {"Id": self.id, "QueueArn": self.queue_arn, "Events": self.events}
        rules = [{"Name": n, "Value": v} for n, v in (("prefix", self.prefix), ("suffix", self.suffix)) if v]
        if rules:
            entry["Filter"] = {"Key": {"FilterRules": rules}}
        return entry

    def _check(self, lab: "Lab", bucket: str, fn: "Function") -> None:
        unknown = [e for e in self.events if e not in s3_events.EVENT_TYPES or e == "s3:TestEvent"]
        if not self.events or unknown:
            raise ConfigurationError(f"S3 notification events must be S3 event types such as s3:ObjectCreated:*, got {unknown or self.events}")
        if lab.runtime.functions.get(fn.name) is not fn:
            raise ConfigurationError(f"function {fn.name!r} is not registered in this lab")
        if self.delivery_delay_s < 0:
            raise ConfigurationError(f"delivery_delay_s must be >= 0 seconds, got {self.delivery_delay_s}")
        from botocore.exceptions import ClientError

        try:
            lab.client("s3").head_bucket(Bucket=bucket)
        except ClientError as exc:
            raise ConfigurationError(f"bucket {bucket!r} does not exist in this lab; create it first") from exc

    def _existing_configuration(self) -> dict[str, Any]:
        current = self.lab.client("s3").get_bucket_notification_configuration(Bucket=self.bucket)
        return {k: list(current[k]) for k in _CONFIG_KINDS if current.get(k)}

    def _check_overlap(self, existing: dict[str, Any]) -> None:
        for kind in _CONFIG_KINDS:
            for other in existing.get(kind, []):
                if other.get("Id") == self.id:
                    raise ConfigurationError(f"a notification configuration with Id {self.id!r} already exists on {self.bucket}")
                prefix, suffix = _filter_values(other)
                if conflicts(self.events, self.prefix, self.suffix, other["Events"], prefix, suffix):
                    raise ConfigurationError(OVERLAP_MESSAGE)

    # --- seeing writes as they happen ------------------------------------------------
    def _before_write(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name in WRITE_EVENTS and params.get("Bucket") == self.bucket:
            context.setdefault("lambda_lab_s3", {})[self._hook_id] = (dict(params), self.lab.runtime.current_depth())

    def _after_write(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        pending = context.get("lambda_lab_s3", {}).pop(self._hook_id, None)
        if pending is None or self._stopped or parsed.get("Error"):
            return
        params, depth = pending
        before = len(self._writes)
        for key, name, version in _changes(model.name, params, parsed):
            if s3_events.matches(name, self.events) and self._key_matches(key):
                self._writes.append(Write(key, name, depth, version, self.lab.clock.now()))
        if len(self._writes) > before:
            if len(self._writes) // DRAIN_EVERY > before // DRAIN_EVERY:
                # moto's SQS slows down with depth (moto-audit §10): keep the queue short.
                self._taken.extend(self._drain())
            self._schedule_poll()

    def _key_matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)

    # --- the poller ----------------------------------------------------------------
    def pending(self) -> bool:
        """True while a delivery is scheduled or the queue holds notifications."""
        if self._stopped:
            return False
        if self._poll_task is not None or self._taken:
            return True
        if self.relay.filled_since_last_look():
            self._schedule_poll()
            return True
        return False

    def stop(self) -> None:
        """Stop delivering (the bucket keeps its configuration, as S3 would)."""
        self._stopped = True
        if self._poll_task is not None:
            self._poll_task.cancel()
            self._poll_task = None
        for events in self.lab.client_events("s3"):
            events.unregister("before-parameter-build.s3", unique_id=self._hook_id + "b")
            events.unregister("after-call.s3", unique_id=self._hook_id + "a")

    def _schedule_poll(self) -> None:
        if self._poll_task is None and not self._stopped:
            self._poll_task = self.lab.scheduler.after(self.delivery_delay_s, self._run_poll, f"s3 {self.bucket}")

    def _run_poll(self) -> None:
        self._poll_task = None
        self._poll()

    def _poll(self) -> None:
        """Take every notification from the queue, correct it and hand it to the async queue."""
        writes, self._writes = self._writes, []
        messages, self._taken = self._taken + self._drain(), []
        order = {id(w): i for i, w in enumerate(writes)}
        # moto sends nothing for a delete marker: the lab writes those events itself, in the
        # place their write had, so sequencers keep growing in the order things happened.
        markers = [w for w in writes if w.name == DELETE_MARKER]
        for message in messages:
            if s3_events.is_test_event(message):
                self.test_events.append(message)  # Lambda never receives the test event
                continue
            for raw in message.get("Records", []):
                matched = self._match(raw, writes)
                if matched is None:
                    continue
                key, write = matched
                while write is not None and markers and order[id(markers[0])] < order[id(write)]:
                    self._deliver_marker(markers.pop(0))
                self._deliver(self._corrected(raw, key, write), key, write.depth if write else 0)
        for marker in markers:
            self._deliver_marker(marker)

    def _deliver_marker(self, write: Write) -> None:
        self.corrections.append(f"{write.key}: added {write.name} (moto sends none)")
        rec = self._record(write.name, write.key, iso_utc(write.epoch_s), write.epoch_s, version_id=write.version_id)
        self._deliver(rec, write.key, write.depth)

    def _drain(self) -> list[dict[str, Any]]:
        """Every notification in the relay queue, in order (Lambda accepts each one at once)."""
        return self.relay.drain()

    def _match(self, raw: dict[str, Any], writes: list[Write]) -> tuple[str, Write | None] | None:
        """(decoded key, the write that caused it) for a moto record; None for moto's extra multipart event."""
        name, obj = raw["eventName"], raw["s3"]["object"]
        key = unquote_plus(obj["key"])
        if name == "ObjectCreated:Put" and "-" in str(obj.get("eTag", "")):
            self.corrections.append(f"{key}: dropped moto's extra ObjectCreated:Put for a multipart upload")
            return None
        return key, _take(writes, key, name)

    def _corrected(self, raw: dict[str, Any], key: str, write: Write | None) -> dict[str, Any]:
        """moto's record with S3's fields, S3's key encoding and S3's rules for deletes."""
        obj = raw["s3"]["object"]
        if "%2F" in obj["key"]:
            self.corrections.append(f"{key}: key {obj['key']} -> {s3_events.encode_key(key)} (S3 keeps '/')")
        epoch_s = write.epoch_s if write else _epoch(raw["eventTime"])
        return self._record(raw["eventName"], key, raw["eventTime"], epoch_s, size=obj.get("size"),
                            etag=obj.get("eTag"), version_id=write.version_id if write else None)

    def _record(self, name: str, key: str, time_iso: str, epoch_s: float, **fields: Any) -> dict[str, Any]:
        return s3_events.record(name=name, bucket=self.bucket, key=key, time_iso=time_iso, region=self.lab.region,
                                ids=self.ids, epoch_s=epoch_s, configuration_id=self.id, **fields)

    def _deliver(self, rec: dict[str, Any], key: str, writer_depth: int) -> None:
        event = s3_events.event([rec])
        self.delivered.append(event)
        entry = self.lab.ledger.accept("s3", f"{key} {rec['s3']['object']['sequencer']}", self.fn.name)
        self.lab.async_queue.submit(self.fn, event, source="s3", items=(key,), depth=writer_depth + 1, entry=entry)

    def __repr__(self) -> str:
        filters = "".join(f", {n}={v!r}" for n, v in (("prefix", self.prefix), ("suffix", self.suffix)) if v)
        return f"S3Notification({self.bucket!r} -> {self.fn.name!r}, events={self.events}{filters})"


# --- helpers -------------------------------------------------------------------------
def conflicts(events_a: list[str], prefix_a: str, suffix_a: str, events_b: list[str], prefix_b: str, suffix_b: str) -> bool:
    """AWS's overlap rule: a shared event type, and prefixes and suffixes that can both match one key."""
    if not any(s3_events.overlaps(a, b) for a in events_a for b in events_b):
        return False
    prefixes_overlap = prefix_a.startswith(prefix_b) or prefix_b.startswith(prefix_a)
    suffixes_overlap = suffix_a.endswith(suffix_b) or suffix_b.endswith(suffix_a)
    return prefixes_overlap and suffixes_overlap


def _filter_values(config: dict[str, Any]) -> tuple[str, str]:
    rules = config.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    values = {rule["Name"].lower(): rule["Value"] for rule in rules}
    return values.get("prefix", ""), values.get("suffix", "")


def _changes(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(key, eventName, versionId) for each object a successful call changed."""
    if operation == "DeleteObjects":
        return [(d["Key"], _delete_name(d.get("DeleteMarker"), d.get("VersionId")), d.get("DeleteMarkerVersionId") or d.get("VersionId"))
                for d in parsed.get("Deleted", [])]
    if operation == "DeleteObject":
        return [(params["Key"], _delete_name(parsed.get("DeleteMarker"), params.get("VersionId")), parsed.get("VersionId"))]
    version = parsed.get("VersionId")
    # moto answers "null" on a bucket that never had versioning; S3's event has no versionId there.
    return [(params["Key"], WRITE_EVENTS[operation], None if version == "null" else version)]


def _delete_name(delete_marker: bool | None, version_id: str | None) -> str:
    # A delete without a version id on a versioned bucket only adds a delete marker.
    return DELETE_MARKER if delete_marker and not version_id else "ObjectRemoved:Delete"


def _take(writes: list[Write], key: str, name: str) -> Write | None:
    """Remove and return the first write of ``key`` that caused ``name``."""
    for i, write in enumerate(writes):
        if write.key == key and write.name == name:
            return writes.pop(i)
    return None


def _epoch(time_iso: str) -> float:
    return dt.datetime.fromisoformat(time_iso.replace("Z", "+00:00")).timestamp()


def _id_source(lab: "Lab", bucket: str) -> s3_events.S3Ids:
    per_lab = _ID_SOURCES.setdefault(lab, {})
    if bucket not in per_lab:
        per_lab[bucket] = s3_events.S3Ids(random.Random(f"s3-{lab.seed}-{bucket}"))
    return per_lab[bucket]
