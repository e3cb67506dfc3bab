"""The DynamoDB Streams event source mapping: Lambda's shard poller, played with public calls.

What it does, as AWS does it (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html and
services-dynamodb-errorhandling.html):

* reads each shard of the stream with ``describe_stream``, ``get_shard_iterator`` and
  ``get_records`` (never moto's internals), from ``TRIM_HORIZON`` or ``LATEST``;
* polls 4 times a second per shard, but only when something can have been written to its
  table: a write to it through ``lab.client("dynamodb")``, through a client a handler makes
  with ``boto3.client``/``boto3.resource`` (boto3's default session), or by ``expire_ttl`` wakes
  the poller at the next quarter second, and the end of each invocation looks again. moto's idle
  ``get_records`` costs about 2 ms, so a poller that looked 4 times a second would make hours of
  virtual time slow. Writes through other sessions are seen at the next of those, or at
  ``mapping.poll()``;
* a batch closes on ``batch_size``, the batching window or the 6 MB payload cap, and holds
  records of one shard (of one lane, with ``parallelization_factor``) in stream order;
* one batch in flight per shard; with ``parallelization_factor`` N, records go to N lanes by
  a hash of the item's key, each lane in order, so order is kept per item (partition and sort
  key), as the DynamoDB page says;
* a failed batch blocks its lane: it is retried, whole and in order, until it succeeds, its
  records reach ``maximum_record_age_s`` or the 24 h retention, or ``maximum_retry_attempts``
  is used up. Then it is skipped: the on-failure destination (an SQS queue or SNS topic)
  gets AWS's invocation record with ``DDBStreamBatchInfo`` (not the records), and the lane
  moves on;
* ``bisect_batch_on_function_error`` splits a failing batch in two, recursively, without
  counting against the retry quota; ``report_batch_item_failures`` checkpoints at the lowest
  failed sequence number and retries from there (the response rules are SQS's:
  ``batching.judge``); throttles do not use the retry quota;
* ``tumbling_window_s`` passes ``state`` between the invocations of one window of one lane
  and ends the window with an invocation marked ``isFinalInvokeForWindow``;
* ``filter_patterns`` apply to the record (the ``dynamodb`` key in DynamoDB JSON); a record
  that matches none is skipped without an invocation (``dropped``, FilteredOut).

The interval between retries of a failed batch is the lab's assumption (AWS publishes none):
1 s doubling to 60 s (``RETRY``). It keeps a shard blocked for a day at about 1,440 attempts.

What the lab corrects in moto (reference/moto-audit.md §5), and where it cannot:

* moto writes a MODIFY record for an update that changes nothing; AWS writes none. With
  ``NEW_AND_OLD_IMAGES`` the lab sees it (old image equals new) and skips the record before
  anything accepts it; with ``NEW_IMAGE`` it does when it read the item's previous image; with
  ``OLD_IMAGE`` and ``KEYS_ONLY`` the record does not say, and the lab delivers it. Skipped
  records are counted in ``mapping.unchanged``.
* moto never deletes expired items; :func:`expire_ttl` does, and the REMOVE records it causes
  carry the service's ``userIdentity``.
* moto never trims the stream; the lab treats a record older than 24 h as trimmed.

Every record is one row of ``lab.outcomes()`` (source ``dynamodb``, item the sequence number):
``processed`` when a batch holding it succeeded past it, ``destination`` or ``dropped`` when
its batch was skipped, ``dropped`` when filtered out. A record processed twice (a retried
batch, a partial response past the checkpoint) is still one row: its ``attempts`` say how many
invocations carried it, and the invocation log shows each.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import uuid
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .. import ledger as L
from .. import limits
from .. import patterns
from ..delivery.retry import Phase, RetryPolicy
from ..delivery.send import DESTINATION, check_home, parse_arn, resource_exists, send
from ..errors import ConfigurationError
from ..events import dynamodb as ddb_events
from ..log import Invocation
from . import batching

if TYPE_CHECKING:
    from ..lab import Lab
    from ..runtime import Function

SOURCE = "dynamodb"
URL, PARAMETERS_URL = limits.DDB_URL, limits.DDB_PARAMETERS_URL
ERRORS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errorhandling.html"
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")
#: Seconds between two polls of a shard: "a base rate of 4 times per second".
POLL_INTERVAL_S = 1 / limits.DDB_POLLS_PER_S
#: GetRecords returns at most 1,000 records a call (its default Limit).
GET_RECORDS_MAX = 1_000
#: The lab's retry interval for a failed batch: AWS publishes none.
RETRY = RetryPolicy("stream mapping", (Phase("retry", None, 1.0, 60.0, "doubling"),), max_attempts=None,
                    max_age_s=None, jitter="none", source=ERRORS_URL,
                    assumption="AWS retries a failed batch but publishes no interval: the lab waits 1 s, "
                               "doubling to 60 s")
#: DynamoDB's write operations: after one through a hooked client, the poller looks again.
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "ExecuteStatement",
          "BatchExecuteStatement", "ExecuteTransaction")
_HOOK_IDS = itertools.count()
#: The lab's name for records that outlived the stream's 24 h retention. SAM's documentation of the
#: mapping says "expired record metadata ... is sent to this destination"; AWS publishes no
#: condition for it, so the invocation record says RecordAgeExceeded (the lab's choice).
EXPIRED = "ExpiredFromStream"


# --------------------------------------------------------------- validation


def validate(*, batch_size: Any, starting_position: Any, maximum_batching_window_s: Any,
             maximum_retry_attempts: Any, maximum_record_age_s: Any, parallelization_factor: Any,
             tumbling_window_s: Any, bisect_batch_on_function_error: Any, report_batch_item_failures: Any,
             enabled: Any) -> None:
    """Refuse what CreateEventSourceMapping refuses for a DynamoDB stream, naming the rule."""
    limits.check_range("BatchSize for DynamoDB streams", batch_size, limits.DDB_BATCH_SIZE_MIN,
                       limits.DDB_BATCH_SIZE_MAX, integer=True, url=PARAMETERS_URL)
    if starting_position not in STARTING_POSITIONS:
        raise ConfigurationError(f"StartingPosition for a DynamoDB stream must be TRIM_HORIZON or LATEST, got "
                                 f"{starting_position!r} ({PARAMETERS_URL})")
    batching.check_window(maximum_batching_window_s, source=PARAMETERS_URL)
    _check_minus_one_or_range("MaximumRetryAttempts", maximum_retry_attempts, limits.STREAM_MIN_RETRY_ATTEMPTS,
                              limits.STREAM_MAX_RETRY_ATTEMPTS, "")
    _check_minus_one_or_range("MaximumRecordAgeInSeconds", maximum_record_age_s, limits.STREAM_MIN_RECORD_AGE_S,
                              limits.STREAM_MAX_RECORD_AGE_S, " seconds")
    limits.check_range("ParallelizationFactor", parallelization_factor, limits.PARALLELIZATION_FACTOR_MIN,
                       limits.PARALLELIZATION_FACTOR_MAX, integer=True, url=PARAMETERS_URL)
    limits.check_range("TumblingWindowInSeconds", tumbling_window_s, limits.TUMBLING_WINDOW_MIN_S,
                       limits.TUMBLING_WINDOW_MAX_S, integer=True, unit="seconds", url=PARAMETERS_URL)
    for name, value in (("bisect_batch_on_function_error", bisect_batch_on_function_error),
                        ("report_batch_item_failures", report_batch_item_failures), ("enabled", enabled)):
        if not isinstance(value, bool):
            raise ConfigurationError(f"{name} must be True or False, got {value!r} ({PARAMETERS_URL})")


def _check_minus_one_or_range(name: str, value: Any, low: int, high: int, unit: str) -> None:
    """-1 (no limit) or a whole number in ``[low, high]``."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    if whole and (value == -1 or low <= value <= high):
        return
    raise ConfigurationError(f"{name} must be -1 (no limit) or {low:,}-{high:,}{unit}, got {value!r} "
                             f"({PARAMETERS_URL})")


def check_destination(lab: "Lab", arn: Any) -> None:
    """The on-failure destination: a standard SQS queue or SNS topic of the lab that exists."""
    service, name = parse_arn(arn, "DestinationConfig.OnFailure.Destination")
    if service not in ("sqs", "sns"):
        raise ConfigurationError(
            f"DestinationConfig.OnFailure for a DynamoDB stream must be a standard SQS queue or SNS topic ARN "
            f"(the lab does not write S3 buckets), got {arn} ({PARAMETERS_URL})")
    if name.endswith(".fifo"):
        raise ConfigurationError(f"DestinationConfig.OnFailure must be a standard queue or topic, not FIFO, "
                                 f"got {arn} ({PARAMETERS_URL})")
    check_home(lab, arn, "DestinationConfig.OnFailure")
    if not resource_exists(lab, service, name, arn):
        raise ConfigurationError(f"DestinationConfig.OnFailure: {arn} does not exist in this lab; create it first")


# --------------------------------------------------------------- records, batches, lanes


@dataclass
class _Record:
    """One stream record the mapping read: Lambda's shape of it, when it was written, its ledger row."""

    record: dict[str, Any]
    created_s: float  # epoch seconds (ApproximateCreationDateTime, full precision)
    entry: L.Entry
    window_start: float | None = None  # tumbling window start, epoch seconds

    @property
    def sequence(self) -> str:
        return self.record["dynamodb"]["SequenceNumber"]


@dataclass
class _Batch:
    """Records invoked together; ``retries`` counts against MaximumRetryAttempts."""

    records: list[_Record]
    retries: int = 0
    attempts: int = 0  # invocations of these records, throttles and bisected parents included
    last: Invocation | None = None
    window: float | None = None  # tumbling window start (epoch s)
    final: bool = False  # the window's final invocation (no records)

    def part(self, records: list[_Record]) -> "_Batch":
        """Some of this batch's records, as a batch of their own with the same history."""
        return _Batch(records, self.retries, self.attempts, self.last, self.window)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.sequence for r in self.records)


@dataclass
class _Lane:
    """An in-order stream of one shard's records (one per shard, or N with a parallelization factor)."""

    index: int
    buffer: deque = field(default_factory=deque)  # _Record, not yet in a batch
    retry: deque = field(default_factory=deque)  # _Batch waiting to be invoked again (bisected halves)
    in_flight: _Batch | None = None
    waiting_since: float | None = None  # when the buffer last became non-empty (the batching window)
    failures: int = 0  # consecutive failed invocations: the retry interval grows with them
    task: Any = None  # the scheduled window close or retry: nothing starts before it
    wake: Any = None  # the end of the open tumbling window
    state: dict[float, Any] = field(default_factory=dict)  # tumbling window start -> state so far

    @property
    def busy(self) -> bool:
        return bool(self.buffer or self.retry or self.in_flight or self.state)


@dataclass
class _Shard:
    shard_id: str
    iterator: str
    lanes: list[_Lane]


class StreamEventSourceMapping:
    """A DynamoDB Streams event source mapping; make it with ``lab.stream_trigger(stream_arn, fn, ...)``.

    Options mirror CreateEventSourceMapping: ``batch_size`` (BatchSize, 1-10,000, default 100),
    ``starting_position`` (TRIM_HORIZON or LATEST), ``maximum_batching_window_s`` (0-300),
    ``bisect_batch_on_function_error``, ``maximum_retry_attempts`` (-1 or 0-10,000),
    ``maximum_record_age_s`` (-1 or 60-604,800 s), ``parallelization_factor`` (1-10),
    ``on_failure`` (an SQS queue or SNS topic ARN), ``report_batch_item_failures``,
    ``tumbling_window_s`` (0-900 s), ``filter_patterns`` and ``enabled``.
    """

    def __init__(self, lab: "Lab", stream_arn: str, fn: "Function", *, batch_size: int = limits.DDB_BATCH_SIZE_DEFAULT,
                 starting_position: str = "LATEST", maximum_batching_window_s: float = 0,
                 bisect_batch_on_function_error: bool = False,
                 maximum_retry_attempts: int = limits.STREAM_RETRY_INFINITE,
                 maximum_record_age_s: int = limits.STREAM_RECORD_AGE_INFINITE,
                 parallelization_factor: int = limits.PARALLELIZATION_FACTOR_DEFAULT, on_failure: str | None = None,
                 report_batch_item_failures: bool = False, tumbling_window_s: int = 0, filter_patterns: Any = None,
                 enabled: bool = True):
        self.lab, self.stream_arn, self.fn = lab, stream_arn, fn
        self.starting_position = starting_position
        self._configure(dict(
            batch_size=batch_size, maximum_batching_window_s=maximum_batching_window_s,
            bisect_batch_on_function_error=bisect_batch_on_function_error,
            maximum_retry_attempts=maximum_retry_attempts, maximum_record_age_s=maximum_record_age_s,
            parallelization_factor=parallelization_factor, on_failure=on_failure,
            report_batch_item_failures=report_batch_item_failures, tumbling_window_s=tumbling_window_s,
            filter_patterns=filter_patterns, enabled=enabled))
        self.streams = lab.client("dynamodbstreams")
        description = _describe(lab.client("dynamodb"), self.streams, stream_arn)
        self.view_type = description["StreamViewType"]
        self.table = description["TableName"]
        self.uuid = _mapping_uuid(stream_arn, fn.name, lab.seed)
        self.shards = [_Shard(s["ShardId"], self._iterator(s["ShardId"]),
                              [_Lane(i) for i in range(parallelization_factor)]) for s in description["Shards"]]
        self.stopped = False
        #: MODIFY records moto wrote for updates that changed nothing, skipped (AWS writes none).
        self.unchanged = 0
        #: (seconds since the lab started, IteratorAge in ms) for every attempt, for lab.metrics().
        self.iterator_ages: list[tuple[float, float]] = []
        self._images: dict[str, Any] = {}  # item key -> last NewImage read (NEW_IMAGE views)
        self._poll_task: Any = None
        self._written = False  # a write to the table through a hooked client since the last poll
        self._hook_id = f"lambda-lab-ddb-{next(_HOOK_IDS)}"
        for events in self.lab.client_events("dynamodb"):
            events.register("before-parameter-build.dynamodb", self._before_write, unique_id=self._hook_id)
        _registry(lab).setdefault(self.table, [])
        if enabled:  # TRIM_HORIZON finds records already there
            self._written = True
            self._schedule_poll(self._next_tick())

    # --- settings ------------------------------------------------------------------
    def _configure(self, settings: dict[str, Any]) -> None:
        """Check every setting, then apply them all (a refused change leaves the mapping as it was)."""
        validate(starting_position=self.starting_position,
                 **{k: v for k, v in settings.items() if k not in ("on_failure", "filter_patterns")})
        if settings["on_failure"] is not None:
            check_destination(self.lab, settings["on_failure"])
        filters = batching.normalize_filters(settings["filter_patterns"])
        self.settings = dict(settings)
        self.filters = filters
        self.batch_size, self.window_s = settings["batch_size"], settings["maximum_batching_window_s"]
        self.bisect = settings["bisect_batch_on_function_error"]
        self.maximum_retry_attempts = settings["maximum_retry_attempts"]
        self.maximum_record_age_s = settings["maximum_record_age_s"]
        self.parallelization_factor = settings["parallelization_factor"]
        self.on_failure = settings["on_failure"]
        self.report_batch_item_failures = settings["report_batch_item_failures"]
        self.tumbling_window_s = settings["tumbling_window_s"]
        self.enabled = settings["enabled"]

    def update(self, **changes: Any) -> "StreamEventSourceMapping":
        """Change settings as UpdateEventSourceMapping does (same names as ``lab.stream_trigger``).

        Retries, bisect, destination, batch size and window apply from the next batch, the
        batch being retried included. ``starting_position`` cannot change (AWS refuses it too);
        ``parallelization_factor`` and ``tumbling_window_s`` change only while nothing is
        waiting or in flight (the lab's limit).
        """
        unknown = sorted(set(changes) - set(self.settings))
        if unknown:
            raise ConfigurationError(f"UpdateEventSourceMapping cannot change {', '.join(unknown)}; it changes "
                                     f"{', '.join(sorted(self.settings))} ({PARAMETERS_URL})")
        lanes_change = any(k in changes and changes[k] != self.settings[k]
                           for k in ("parallelization_factor", "tumbling_window_s"))
        if lanes_change and self.busy():
            raise ConfigurationError("the lab changes parallelization_factor and tumbling_window_s only while no "
                                     "record waits or is in flight: run the lab until idle first (a lab limit)")
        was_enabled = self.enabled
        self._configure({**self.settings, **changes})
        if lanes_change:
            for shard in self.shards:
                shard.lanes = [_Lane(i) for i in range(self.parallelization_factor)]
        if self.enabled and not was_enabled:
            self.poll()
        return self

    def disable(self) -> None:
        """Stop reading the stream (State Disabled); a batch in flight still finishes."""
        self.update(enabled=False)

    def enable(self) -> None:
        """Read the stream again from the checkpoint (State Enabled)."""
        self.update(enabled=True)

    @property
    def state(self) -> str:
        return "Enabled" if self.enabled and not self.stopped else "Disabled"

    # --- the stream ----------------------------------------------------------------
    def _iterator(self, shard_id: str) -> str:
        return self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id,
                                               ShardIteratorType=self.starting_position)["ShardIterator"]

    def _before_write(self, params: dict[str, Any], model: Any = None, **_: Any) -> None:
        """A write to the table through the lab's client or a handler's own (``boto3.client``): look at the shard at the next quarter second."""
        if model is None or model.name not in WRITES or not self.enabled or self.stopped:
            return
        tables = _tables(model.name, params)
        if tables is None or self.table in tables:
            self._written = True
            self._schedule_poll(self._next_tick())

    def poll(self) -> None:
        """Look at the stream at the next quarter second (after writes the lab could not hear)."""
        self._written = True
        self._schedule_poll(self._next_tick())

    def _next_tick(self) -> float:
        """The next poll instant after now on the lab's 4-per-second grid (epoch s)."""
        clock = self.lab.clock
        return clock.start_s + (math.floor(clock.elapsed() / POLL_INTERVAL_S + 1e-9) + 1) * POLL_INTERVAL_S

    def _schedule_poll(self, at_s: float) -> None:
        if self._poll_task is not None and self._poll_task.pending:
            if self._poll_task.due_s <= at_s + 1e-9:
                return
            self._poll_task.cancel()
        self._poll_task = self.lab.scheduler.at(at_s, self._poll, "dynamodb poll")

    def _poll(self) -> None:
        """Read every shard to its end, then start what each lane can start."""
        self._poll_task = None
        if self.stopped or not self.enabled:
            return
        self._written = False
        for shard in self.shards:
            self._read(shard)
            for lane in shard.lanes:
                self._dispatch(shard, lane)

    def _read(self, shard: _Shard) -> int:
        """Read what the shard holds after the mapping's position; return how many records were new."""
        count = 0
        while True:
            page = self.streams.get_records(ShardIterator=shard.iterator, Limit=GET_RECORDS_MAX)
            shard.iterator = page.get("NextShardIterator", shard.iterator)
            for raw in page["Records"]:
                count += self._take(shard, raw)
            if len(page["Records"]) < GET_RECORDS_MAX:
                return count

    def _take(self, shard: _Shard, raw: dict[str, Any]) -> int:
        """Accept one record from the stream into its lane (or skip it as AWS never wrote it)."""
        created = ddb_events.approximate_creation_s(raw)
        if self.lab.clock.now() - created >= limits.DDB_STREAM_RETENTION_S:
            return 0  # trimmed from the stream: nobody can read it any more
        if self._unchanged(raw):
            self.unchanged += 1
            return 0
        record = ddb_events.record(raw, self.stream_arn, self.lab.region, ttl_delete=self._ttl_delete(raw, created))
        entry = self.lab.ledger.accept(SOURCE, record["dynamodb"]["SequenceNumber"], self.fn.name,
                                       accepted_s=min(created - self.lab.clock.start_s, self.lab.clock.elapsed()))
        if self.filters and not any(patterns.match_checked(p, record) for p in self.filters):
            self.lab.ledger.end(entry, L.DROPPED, "FilteredOut: matched no filter pattern", L.LAMBDA)
            return 1
        lane = shard.lanes[_lane_of(record, self.parallelization_factor)]
        item = _Record(record, created, entry)
        if self.tumbling_window_s:
            item.window_start = created // self.tumbling_window_s * self.tumbling_window_s
        if not lane.buffer:
            lane.waiting_since = self.lab.clock.now()
        lane.buffer.append(item)
        return 1

    def _unchanged(self, raw: dict[str, Any]) -> bool:
        """A MODIFY that changed nothing (AWS writes no record for it), where the view type shows it."""
        data = raw["dynamodb"]
        key = json.dumps(data.get("Keys"), sort_keys=True, default=str)
        if self.view_type == "NEW_IMAGE":
            before, self._images[key] = self._images.get(key), data.get("NewImage")
            return raw["eventName"] == "MODIFY" and before is not None and before == data.get("NewImage")
        return raw["eventName"] == "MODIFY" and "OldImage" in data and data["OldImage"] == data.get("NewImage")

    def _ttl_delete(self, raw: dict[str, Any], created: float) -> bool:
        """True for a REMOVE that :func:`expire_ttl` caused (the same item, at the same instant)."""
        if raw["eventName"] != "REMOVE":
            return False
        key = json.dumps(raw["dynamodb"].get("Keys"), sort_keys=True, default=str)
        return any(k == key and abs(at - created) < 0.001 for k, at in _registry(self.lab).get(self.table, ()))

    # --- batches -------------------------------------------------------------------
    def _dispatch(self, shard: _Shard, lane: _Lane) -> None:
        """Invoke the lane's next batch, unless one is in flight or the lane waits for a retry or a window."""
        if self.stopped or not self.enabled or lane.in_flight is not None or _pending(lane.task):
            return
        if lane.retry:
            self._invoke(shard, lane, lane.retry.popleft())
            return
        self._skip_too_old(shard, lane)
        if self.tumbling_window_s and self._window_ended(shard, lane):
            return
        if not lane.buffer or self._still_gathering(shard, lane):
            return
        records = self._take_batch(lane)
        self._invoke(shard, lane, _Batch(records, window=records[0].window_start))

    def _still_gathering(self, shard: _Shard, lane: _Lane) -> bool:
        """True while the batching window is open and the batch could still grow."""
        if not self.window_s or len(lane.buffer) >= self.batch_size or self._payload_full(lane):
            return False
        closes = lane.waiting_since + self.window_s
        if self.lab.clock.now() + 1e-9 >= closes:
            return False
        lane.task = self.lab.scheduler.at(closes, lambda: self._dispatch(shard, lane), "dynamodb window")
        return True

    def _payload_full(self, lane: _Lane) -> bool:
        """True when the waiting records already fill a batch's 6 MB."""
        builder = batching.BatchBuilder(self.batch_size)
        for record in lane.buffer:
            if not builder.add(record.record) or builder.full:
                return builder.capped
        return False

    def _take_batch(self, lane: _Lane) -> list[_Record]:
        """Records from the head of the lane: up to the batch size, 6 MB, and one tumbling window."""
        builder = batching.BatchBuilder(self.batch_size)
        taken: list[_Record] = []
        window = lane.buffer[0].window_start
        while lane.buffer and not builder.full and lane.buffer[0].window_start == window:
            if not builder.add(lane.buffer[0].record):
                break
            taken.append(lane.buffer.popleft())
        lane.waiting_since = self.lab.clock.now() if lane.buffer else None
        return taken

    def _skip_too_old(self, shard: _Shard, lane: _Lane) -> None:
        """Records that aged past MaximumRecordAgeInSeconds or the retention while they waited."""
        while lane.buffer and self._age_condition(lane.buffer[0]) is not None:
            condition = self._age_condition(lane.buffer[0])
            old = []  # a batch at a time, as they would have been invoked
            while lane.buffer and len(old) < self.batch_size and self._age_condition(lane.buffer[0]) == condition:
                old.append(lane.buffer.popleft())
            self._skip(shard, _Batch(old), condition)

    def _age_condition(self, record: _Record) -> str | None:
        """Why ``record`` is too old to invoke with (AWS's condition), or None."""
        age = self.lab.clock.now() - record.created_s
        if self.maximum_record_age_s != -1 and age >= self.maximum_record_age_s:
            return ddb_events.RECORD_AGE_EXCEEDED
        if age >= limits.DDB_STREAM_RETENTION_S:
            return EXPIRED
        return None

    def _invoke(self, shard: _Shard, lane: _Lane, batch: _Batch) -> None:
        expired = self._age_condition(batch.records[0]) if batch.records else None
        if expired:
            self._skip(shard, batch, expired)
            self._after(shard, lane)
            return
        lane.in_flight = batch
        batch.attempts += 1
        for r in batch.records:
            self.lab.ledger.attempt(r.entry)
        if batch.records:
            age_ms = (self.lab.clock.now() - batch.records[-1].created_s) * 1000
            self.iterator_ages.append((round(self.lab.clock.elapsed(), 6), round(age_ms, 1)))
        inv = self.lab.runtime.execute(self.fn, self._event(shard, lane, batch), source=SOURCE,
                                       attempt=batch.attempts, batch_size=len(batch.records), items=batch.ids)
        batch.last = inv
        self.lab.scheduler.at(inv.end_s, lambda: self._complete(shard, lane, batch, inv), "dynamodb result")

    def _event(self, shard: _Shard, lane: _Lane, batch: _Batch) -> dict[str, Any]:
        records = [r.record for r in batch.records]
        if not self.tumbling_window_s:
            return ddb_events.event(records)
        start = batch.window
        return ddb_events.tumbling_window_event(
            records, shard_id=shard.shard_id, stream_arn=self.stream_arn,
            window_start=ddb_events.iso_seconds(start),
            window_end=ddb_events.iso_seconds(start + self.tumbling_window_s),
            state=lane.state.get(start, {}), final=batch.final)

    # --- results -------------------------------------------------------------------
    def _complete(self, shard: _Shard, lane: _Lane, batch: _Batch, inv: Invocation) -> None:
        lane.in_flight = None
        if self.stopped:
            return
        if inv.outcome == "throttled":
            self._retry(shard, lane, batch, counts=False)
            return
        if batch.final:
            self._finish_window(shard, lane, batch, inv)
            return
        outcome = batching.judge(inv.outcome, inv.result, batch.ids,
                                 report_batch_item_failures=self.report_batch_item_failures)
        if not outcome.failed:
            self._succeeded(lane, batch, batch.records, inv)
            self._after(shard, lane)
            return
        if self.bisect and inv.outcome != "success" and len(batch.records) > 1:
            # A function error splits the batch; the halves keep the retry count (splits are free).
            half = (len(batch.records) + 1) // 2
            lane.retry.extendleft([batch.part(batch.records[half:]), batch.part(batch.records[:half])])
            self._retry_later(shard, lane)
            return
        first = min(batch.ids.index(i) for i in outcome.failed)  # the lowest sequence number reported
        if first:  # checkpoint before it: what came before succeeded, the rest is retried
            self._succeeded(lane, batch, batch.records[:first], inv)
            batch = batch.part(batch.records[first:])
        self._retry(shard, lane, batch, counts=True)

    def _succeeded(self, lane: _Lane, batch: _Batch, records: list[_Record], inv: Invocation) -> None:
        """The checkpoint moves past ``records``: processed, unless the handler said otherwise unheard."""
        lane.failures = 0
        unheard = batching.reported_failures(inv.result) if not self.report_batch_item_failures else set()
        for r in records:
            if r.sequence in unheard:
                self.lab.ledger.end(r.entry, L.DROPPED, "checkpointed unprocessed: ReportBatchItemFailures is off",
                                    L.LAMBDA)
            else:
                self.lab.ledger.end(r.entry, L.PROCESSED, self.table, L.LAMBDA)
        if self.tumbling_window_s:
            result = inv.result if isinstance(inv.result, dict) else {}
            lane.state[batch.window] = result.get("state", lane.state.get(batch.window, {}))

    def _retry(self, shard: _Shard, lane: _Lane, batch: _Batch, *, counts: bool) -> None:
        """Retry ``batch`` later, or skip it when its retries or its records' age run out."""
        if counts:
            batch.retries += 1
        condition = self._age_condition(batch.records[0]) if batch.records else None
        if condition is None and self.maximum_retry_attempts != -1 and batch.retries > self.maximum_retry_attempts:
            condition = ddb_events.RETRY_ATTEMPTS_EXHAUSTED
        if condition is not None:
            self._skip(shard, batch, condition)
            self._after(shard, lane)
            return
        lane.retry.appendleft(batch)
        self._retry_later(shard, lane)

    def _retry_later(self, shard: _Shard, lane: _Lane) -> None:
        lane.failures += 1
        lane.task = self.lab.scheduler.after(RETRY.base_delay_s(lane.failures), lambda: self._dispatch(shard, lane),
                                             "dynamodb retry")

    def _after(self, shard: _Shard, lane: _Lane) -> None:
        """The lane is free: read what arrived meanwhile (a handler may have written) and go on."""
        self._read(shard)
        self._dispatch(shard, lane)

    # --- tumbling windows ----------------------------------------------------------
    def _window_ended(self, shard: _Shard, lane: _Lane) -> bool:
        """Start the final invocation of the oldest open window once it has ended and its records are done."""
        if not lane.state:
            return False
        start = min(lane.state)
        if lane.buffer and lane.buffer[0].window_start == start:
            return False  # its records come first
        end = start + self.tumbling_window_s
        if self.lab.clock.now() + 1e-9 < end:
            if not _pending(lane.wake):
                lane.wake = self.lab.scheduler.at(end, lambda: self._dispatch(shard, lane), "dynamodb window end")
            return False
        self._invoke(shard, lane, _Batch([], window=start, final=True))
        return True

    def _finish_window(self, shard: _Shard, lane: _Lane, batch: _Batch, inv: Invocation) -> None:
        """The final invocation ended: the window closes, or it is retried like a batch."""
        if inv.outcome != "success":
            batch.retries += 1
            over = self.maximum_retry_attempts != -1 and batch.retries > self.maximum_retry_attempts
            aged = self.lab.clock.now() - batch.window >= limits.DDB_STREAM_RETENTION_S
            if not (over or aged):
                lane.retry.appendleft(batch)
                self._retry_later(shard, lane)
                return
            self.lab.log.add(Invocation.never_ran(
                self.fn.name, SOURCE, "dropped", at=self.lab.clock.elapsed(), error_type=ddb_events.RETRY_ATTEMPTS_EXHAUSTED,
                error_message=f"the final invocation of the window at {ddb_events.iso_seconds(batch.window)} failed; its state is lost"))
        lane.state.pop(batch.window, None)
        self._after(shard, lane)

    # --- giving up -----------------------------------------------------------------
    def _skip(self, shard: _Shard, batch: _Batch, condition: str) -> None:
        """Skip ``batch``: its records end at the on-failure destination, or dropped."""
        if not batch.records:
            return
        where, ending = f"{condition}: no on-failure destination", L.DROPPED
        if condition == EXPIRED:
            where = f"{EXPIRED}: trimmed after the stream's {limits.DDB_STREAM_RETENTION_S // 3600} h retention"
        if self.on_failure is not None:
            reported = ddb_events.RECORD_AGE_EXCEEDED if condition == EXPIRED else condition
            sent = send(self.lab, self.on_failure, self._failure_record(shard, batch, reported),
                        function=self.fn.name, purpose=DESTINATION, depth=1)
            if sent.ok:
                where, ending = f"{sent.target} ({condition})", L.DESTINATION
            else:
                where = f"{condition}; the on-failure destination refused it: {sent.error}"
        for r in batch.records:
            self.lab.ledger.end(r.entry, ending, where, L.LAMBDA)
        self.lab.log.add(Invocation.never_ran(
            self.fn.name, SOURCE, "dropped", at=self.lab.clock.elapsed(), error_type=condition,
            error_message=f"{len(batch.records)} record(s) skipped: {where}", batch_size=len(batch.records),
            items=batch.ids))

    def _failure_record(self, shard: _Shard, batch: _Batch, condition: str) -> dict[str, Any]:
        """AWS's invocation record for a skipped batch: where it was in the stream, not its records."""
        inv = batch.last
        response = None  # the batch aged out before any invocation
        if inv is not None and inv.outcome == "throttled":
            response = {"statusCode": 429, "executedVersion": self.fn.version, "functionError": "Unhandled"}
        elif inv is not None:
            response = {"statusCode": 200, "executedVersion": self.fn.version}
            if inv.outcome != "success":
                response["functionError"] = "Unhandled"
        first, last = batch.records[0], batch.records[-1]
        return ddb_events.on_failure_record(
            request_id=inv.request_id if inv is not None else str(uuid.UUID(int=first.entry.seq, version=4)),
            function_arn=self.fn.arn, condition=condition, approximate_invoke_count=batch.attempts,
            response_context=response, timestamp=ddb_events.iso_millis(self.lab.clock.now()),
            shard_id=shard.shard_id, start_sequence_number=first.sequence, end_sequence_number=last.sequence,
            first_arrival=ddb_events.iso_seconds(first.created_s), last_arrival=ddb_events.iso_seconds(last.created_s),
            batch_size=len(batch.records), stream_arn=self.stream_arn)

    # --- the Source protocol -------------------------------------------------------
    def pending(self) -> bool:
        """True while a record waits, a batch is in flight or a retry or window end is scheduled."""
        return not self.stopped and self.enabled and (self._written or self.busy())

    def busy(self) -> bool:
        return any(lane.busy for shard in self.shards for lane in shard.lanes)

    def stop(self) -> None:
        """Stop polling (records already read stay pending in the ledger, as a deleted mapping's would)."""
        self.stopped = True
        if self._poll_task is not None:
            self._poll_task.cancel()
        for shard in self.shards:
            for lane in shard.lanes:
                if lane.task is not None:
                    lane.task.cancel()
        for events in self.lab.client_events("dynamodb"):
            events.unregister("before-parameter-build.dynamodb", unique_id=self._hook_id)

    def __repr__(self) -> str:
        return f"StreamEventSourceMapping({self.table} -> {self.fn.name}, {self.state}, batch {self.batch_size})"


# --------------------------------------------------------------- TTL: what DynamoDB does on its own

_TTL: "weakref.WeakKeyDictionary[Any, dict[str, list[tuple[str, float]]]]" = weakref.WeakKeyDictionary()


def _registry(lab: "Lab") -> dict[str, list[tuple[str, float]]]:
    """Per lab: table name -> (item key, epoch s) of every delete :func:`expire_ttl` made."""
    return _TTL.setdefault(lab, {})


def expire_ttl(lab: "Lab", table: str) -> int:
    """Delete now every item of ``table`` whose TTL attribute is in the past, as DynamoDB's TTL does.

    moto stores the TTL setting but never deletes (moto-audit §5). AWS deletes expired items
    "within a few days" of expiry, not at the second; the lab deletes when called. The stream's
    REMOVE records for these deletes carry ``userIdentity`` (type Service,
    principalId dynamodb.amazonaws.com). Returns the number of items deleted.
    """
    ddb = lab.client("dynamodb")
    ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") != "ENABLED":
        raise ConfigurationError(f"table {table!r} has no TTL enabled: call update_time_to_live first "
                                 f"(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html)")
    attribute = ttl["AttributeName"]
    keys = [k["AttributeName"] for k in ddb.describe_table(TableName=table)["Table"]["KeySchema"]]
    now = lab.clock.now()
    expired = [item for page in ddb.get_paginator("scan").paginate(TableName=table) for item in page["Items"]
               if "N" in item.get(attribute, {}) and float(item[attribute]["N"]) < now]
    for item in expired:
        key = {name: item[name] for name in keys}
        _registry(lab).setdefault(table, []).append((json.dumps(key, sort_keys=True, default=str), now))
        ddb.delete_item(TableName=table, Key=key)
    return len(expired)


# --------------------------------------------------------------- helpers


def _describe(ddb: Any, streams: Any, stream_arn: Any) -> dict[str, Any]:
    """DescribeStream of ``stream_arn``, once DescribeTable says it is the table's enabled stream."""
    if not isinstance(stream_arn, str) or ":dynamodb:" not in stream_arn or "/stream/" not in stream_arn:
        raise ConfigurationError(f"stream_arn must be a DynamoDB stream ARN (the table's LatestStreamArn, "
                                 f"arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>), got {stream_arn!r}")
    table = stream_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
    try:
        spec = ddb.describe_table(TableName=table)["Table"]
    except ClientError as error:
        raise ConfigurationError(f"stream {stream_arn} cannot be read: table {table!r} does not exist "
                                 f"({error.response['Error'].get('Code')}); create it and enable the table's "
                                 f"stream (StreamSpecification) first ({URL})") from None
    if not spec.get("StreamSpecification", {}).get("StreamEnabled") or spec.get("LatestStreamArn") != stream_arn:
        raise ConfigurationError(f"stream {stream_arn} is not the enabled stream of table {table!r}: enable the "
                                 f"table's stream (StreamSpecification) and use its LatestStreamArn ({URL})")
    return streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]


def _tables(operation: str, params: dict[str, Any]) -> set[str] | None:
    """The tables a write names; None for PartiQL, whose statements name them in text."""
    if "TableName" in params:
        return {params["TableName"]}
    if operation == "BatchWriteItem":
        return set(params.get("RequestItems", {}))
    if operation == "TransactWriteItems":
        return {op.get("TableName") for item in params.get("TransactItems", []) for op in item.values()
                if isinstance(op, dict)}
    return None


def _pending(task: Any) -> bool:
    return task is not None and task.pending


def _lane_of(record: dict[str, Any], lanes: int) -> int:
    """The lane of an item: a stable hash of its key, so one item's records stay in order."""
    if lanes == 1:
        return 0
    key = json.dumps(record["dynamodb"].get("Keys"), sort_keys=True)
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % lanes


def _mapping_uuid(stream_arn: str, function: str, seed: int) -> str:
    digest = hashlib.sha256(f"{seed}/{stream_arn}/{function}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"
