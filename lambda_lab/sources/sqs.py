"""The SQS event source mapping: Lambda's pollers, played with public SQS calls on the virtual clock.

What it does, as AWS does it (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html):

* up to N batches in flight (5 at the start, growing by up to 300 a minute while a
  backlog lasts, capped by ``maximum_concurrency`` or 1,000); each batch is one
  or more ``ReceiveMessage`` calls, filtered, capped at the batch size and 6 MB;
* messages that match no filter pattern are deleted without an invocation
  (``matches_filter``: the body's format decides what a pattern sees);
* at the invocation's end: success deletes the batch; an error, a timeout or an
  invalid partial response deletes nothing and the messages come back when their
  visibility timeout runs out; with ``ReportBatchItemFailures`` only the listed
  messages come back; a throttled batch is retried until its visibility timeout;
* the dead-letter queue is the queue's own ``RedrivePolicy`` (moto moves a message
  on the receive after ``maxReceiveCount`` receives); ``helpers.sqs.redrive`` moves messages back.
* every message is a row of ``lab.outcomes()``: ``processed`` when deleted after success,
  ``dropped`` when a filter or the silent-loss case deletes it, ``dead_letter`` when moto
  moves it. No API names the messages a receive moved, so around a receive that can move
  some, the mapping reads the dead-letter queue's depth and ends that many, in queue order.
* with a batching window, when window + function timeout exceeds the queue's visibility
  timeout, Lambda extends the received messages' visibility to window + timeout + 30 s
  (``limits.SQS_WINDOW_VISIBILITY_MARGIN_S``, from services-sqs-parameters); a message that
  comes back anyway never enters its own batch twice.
* an invocation that outlives its messages' visibility timeout: on a FIFO queue the group
  comes back from its head, and a success with a receipt handle the queue has since replaced
  deletes nothing (AWS: "the request succeeds, but the message might not be deleted"); the
  ledger ends that message ``processed`` and follows the copy left in the queue as copy 2
  (so a message processed and then dead-lettered shows both, as on AWS).
* the source queue deleted: the mapping turns itself off (``state`` Disabled,
  ``state_reason`` "Lambda initiated: ..."), logs one ``QueueDoesNotExist`` row, ends the
  messages it held ``dropped``, and the lab keeps running.

moto has no long polling under a frozen clock, so the poller looks at the queue
when something can have changed: a send through the lab's SQS client (or a handler's own), the end of
an invocation, a visibility timeout it knows about, or a back-off timer (1 s
doubling to 20 s, SQS's longest long poll) for anything else.

This module is the Lambda side only; what a chapter does to a queue from outside (send
many messages, count them, read a dead-letter queue, redrive it) is in ``helpers/sqs.py``.
"""

from __future__ import annotations

import hashlib
import math
import json
import random
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from botocore.exceptions import ClientError

from .. import ledger as L
from .. import limits
from ..errors import ConfigurationError
from ..events import sqs as sqs_events
from ..log import Invocation
from .. import patterns
from . import batching

if TYPE_CHECKING:
    from ..lab import Lab
    from ..runtime import Function

PARAMETERS_URL, CONFIGURE_URL = limits.SQS_PARAMETERS_URL, limits.SQS_CONFIGURE_URL
RECEIVE_MAX = limits.SQS_RECEIVE_MAX
VISIBILITY_FACTOR = limits.SQS_VISIBILITY_FACTOR
#: Back-off for looking at a queue whose state the poller cannot predict, seconds: from the
#: lab's 1 s up to SQS's longest long poll.
IDLE_POLL_MIN_S, IDLE_POLL_MAX_S = 1.0, limits.SQS_LONG_POLL_MAX_S
#: moto's visibility check is strict (now > visible_at): look 1 ms after the timeout.
EPSILON_S = 0.001
#: A throttled batch is retried after 1, 2, 4 ... s: AWS says only that Lambda "continues to retry
#: the message until the message's timestamp exceeds your queue's visibility timeout"
#: (services-sqs-errorhandling); the spacing is the lab's assumption. ``throttle_retry_jitter=
#: "equal"`` waits between half and all of each interval instead (the simulation's equal jitter).
THROTTLE_RETRY_S = 1.0
THROTTLE_JITTERS = ("none", "equal")
#: Error codes for a queue that no longer exists (moto's, and the query protocol's).
QUEUE_MISSING = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
USER_INITIATED = "User initiated"


class VisibilityTimeoutWarning(UserWarning):
    """The queue's visibility timeout is below AWS's 6x guidance."""


#: SQS operations on the lab's client (and handlers' own) the mapping listens to, and the method that hears each.
HOOKED = {"SendMessage": "_on_send", "SendMessageBatch": "_on_send", "SetQueueAttributes": "_on_set_attributes"}


def queue_name(queue_url: str) -> str:
    """The queue's name: the last part of its URL."""
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


def is_fifo(queue_url: str) -> bool:
    """FIFO queue names end in ``.fifo``."""
    return queue_name(queue_url).endswith(".fifo")


def validate(
    *,
    fifo: bool,
    batch_size: int,
    maximum_batching_window_s: float,
    maximum_concurrency: int | None,
) -> None:
    """Refuse settings that CreateEventSourceMapping refuses, naming the rule (no AWS calls)."""
    if fifo:
        top = limits.SQS_FIFO_BATCH_SIZE_MAX
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= top:
            raise ConfigurationError(f"FIFO queues allow batch sizes 1-{top}, got {batch_size!r} ({PARAMETERS_URL})")
        if maximum_batching_window_s:
            raise ConfigurationError(
                f"Batching window is not supported for FIFO queues, got {maximum_batching_window_s!r} s "
                f"({PARAMETERS_URL})"
            )
    else:
        limits.check_range("BatchSize for standard queues", batch_size, limits.SQS_BATCH_SIZE_MIN,
                           limits.SQS_BATCH_SIZE_MAX, integer=True, url=PARAMETERS_URL)
        batching.check_window(maximum_batching_window_s, source=PARAMETERS_URL)
        check_window_for_batch(batch_size, maximum_batching_window_s)
    if maximum_concurrency is not None:
        limits.check_range("ScalingConfig.MaximumConcurrency", maximum_concurrency, limits.SQS_MAX_CONCURRENCY_MIN,
                           limits.SQS_MAX_CONCURRENCY_MAX, integer=True, url=limits.SCALING_CONFIG_URL)


def check_window_for_batch(batch_size: int, window_s: float) -> None:
    """SQS's rule: a BatchSize over 10 needs a MaximumBatchingWindowInSeconds of at least 1 s."""
    above, least = limits.WINDOW_REQUIRED_ABOVE_BATCH_SIZE, limits.WINDOW_REQUIRED_MIN_S
    if batch_size > above and window_s < least:
        raise ConfigurationError(
            f"BatchSize over {above} requires MaximumBatchingWindowInSeconds of at least {least} s, "
            f"got BatchSize {batch_size} with a window of {window_s} s ({PARAMETERS_URL})")


def check_visibility(timeout_s: float, visibility_timeout_s: float, window_s: float) -> str | None:
    """Refuse a function timeout above the visibility timeout; return a warning text if under 6x.

    services-sqs-configure.html: "Your function's timeout must be less than or equal
    to the queue's visibility timeout" and "set the source queue's visibility timeout to
    at least six times the configuration timeout on your function" (plus the batching
    window, per the same guidance).
    """
    if timeout_s > visibility_timeout_s:
        raise ConfigurationError(
            f"Function timeout ({timeout_s:g} s) must be less than or equal to the queue's visibility "
            f"timeout ({visibility_timeout_s:g} s) ({CONFIGURE_URL})"
        )
    advised = VISIBILITY_FACTOR * timeout_s + window_s
    if visibility_timeout_s < advised:
        return (
            f"visibility timeout {visibility_timeout_s:g} s is under {VISIBILITY_FACTOR} x function timeout "
            f"{timeout_s:g} s + batching window {window_s:g} s = {advised:g} s: throttled or slow batches "
            f"can come back as duplicates or reach the dead-letter queue unprocessed ({CONFIGURE_URL})"
        )
    return None


# --------------------------------------------------------------- filter criteria


def matches_filter(pattern: dict | str, record: dict) -> bool:
    """Apply a Lambda filter-criteria pattern to one SQS record, as the mapping does.

    The pattern sees the record shape (``body``, ``attributes``,
    ``messageAttributes``, ...). The ``body`` is a string, so Lambda compares the
    *format* of the body with the format of the pattern's ``body`` entry
    (invocation-eventfiltering page, "Filter criteria and message format"):

    ============  ========================  =====================================
    body          ``body`` in the pattern   result
    ============  ========================  =====================================
    JSON object   object (``{"k": [..]}``)  match against the parsed body
    plain string  rule list (``["x"]``)     match against the raw string
    either        absent                    only the other keys are filtered
    JSON object   rule list                 dropped (format mismatch)
    plain string  object                    dropped (format mismatch)
    ============  ========================  =====================================

    Here a body counts as JSON only if it parses to a JSON *object*. Lambda's
    current SQS page says SQS mappings support filtering on ``body`` only; other
    keys are still evaluated here so the notebook can show the record shape.
    Raises :class:`~lambda_lab.patterns.InvalidPatternError` for a pattern AWS refuses.
    """
    checked = patterns.validate(pattern)
    if "body" not in checked:
        return patterns.match_checked(checked, record)
    parsed = _json_object(record.get("body"))
    if isinstance(checked["body"], dict) != (parsed is not None):
        return False
    subject = record if parsed is None else {**record, "body": parsed}
    return patterns.match_checked(checked, subject)


def _json_object(body: Any) -> dict | None:
    """The body parsed as a JSON object, or None for a plain (non-object) string.

    A body nested too deep for Python's parser counts as plain too: AWS treats a body it
    cannot parse as non-JSON, and a filter must never crash the mapping.
    """
    if not isinstance(body, str):
        return None
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


@dataclass
class _Seen:
    """A message the mapping has accepted: its ledger row and what the last receive told."""

    entry: "L.Entry"
    sent_ms: int = 0
    receive_count: int = 0
    visible_at: float | None = None  # epoch seconds when the last receipt expires


@dataclass
class _Batch:
    """Messages received for one invocation (possibly over several receives)."""

    builder: batching.BatchBuilder
    started_s: float
    messages: dict[str, dict] = field(default_factory=dict)  # messageId -> ReceiveMessage message
    attempts: int = 0  # invocation attempts (throttles retry the same batch)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r["messageId"] for r in self.builder.records)


class SqsEventSourceMapping:
    """An SQS event source mapping; make it with ``lab.sqs_trigger(queue_url, fn, ...)``.

    Options mirror CreateEventSourceMapping: ``batch_size`` (BatchSize),
    ``maximum_batching_window_s`` (MaximumBatchingWindowInSeconds),
    ``report_batch_item_failures`` (FunctionResponseTypes=["ReportBatchItemFailures"]),
    ``maximum_concurrency`` (ScalingConfig.MaximumConcurrency), ``filter_patterns``
    (FilterCriteria) and ``enabled``.
    """

    def __init__(
        self,
        lab: "Lab",
        queue_url: str,
        fn: "Function",
        batch_size: int = limits.SQS_BATCH_SIZE,
        maximum_batching_window_s: float = limits.BATCHING_WINDOW_DEFAULT_S,
        report_batch_item_failures: bool = False,
        maximum_concurrency: int | None = None,
        filter_patterns: Any = None,
        enabled: bool = True,
        throttle_retry_jitter: str = "none",
    ):
        self.fifo = is_fifo(queue_url)
        if throttle_retry_jitter not in THROTTLE_JITTERS:
            raise ConfigurationError(f"throttle_retry_jitter must be one of {', '.join(THROTTLE_JITTERS)}, "
                                     f"got {throttle_retry_jitter!r} (a lab setting: AWS publishes no jitter here)")
        validate(fifo=self.fifo, batch_size=batch_size, maximum_batching_window_s=maximum_batching_window_s,
                 maximum_concurrency=maximum_concurrency)
        self.filters = batching.normalize_filters(filter_patterns)
        self.lab, self.queue_url, self.fn = lab, queue_url, fn
        self.batch_size = batch_size
        self.window_s = maximum_batching_window_s
        self.report_batch_item_failures = report_batch_item_failures
        self.maximum_concurrency = maximum_concurrency
        self.sqs = lab.client("sqs")
        attrs = queue_attributes(self.sqs, queue_url)
        self.queue_arn = attrs["QueueArn"]
        warning = check_visibility(fn.timeout_s, int(attrs["VisibilityTimeout"]), self.window_s)
        if warning:
            # A fixed "filename" keeps the printed warning free of paths and identical run to run.
            warnings.warn_explicit(warning, VisibilityTimeoutWarning, "sqs_trigger", 1)
        self.uuid = _mapping_uuid(self.queue_arn, fn.name, lab.seed)
        self._throttle_rng = (random.Random(f"sqs-throttle-{lab.seed}-{self.uuid}")
                              if throttle_retry_jitter == "equal" else None)
        self.enabled = enabled
        #: Why the state last changed (GetEventSourceMapping's StateTransitionReason).
        self.state_reason = USER_INITIATED
        self.stopped = False
        self._limit = float(min(limits.SQS_INITIAL_BATCHES, maximum_concurrency or limits.SQS_MAX_BATCHES))
        self._last_scale_s = lab.clock.now()
        self._in_flight = 0
        self._gathering: _Batch | None = None
        self._carry: list[tuple[dict, dict]] = []  # (message, record) received but over the 6 MB cap
        self._visible_at: dict[str, float] = {}  # messageId -> when our receipt of it expires
        self._receipt: dict[str, str] = {}  # messageId -> the newest receipt handle, until deleted
        self._invoked: set[str] = set()  # receipt handles that went into an invocation
        self._holding: Counter[str] = Counter()  # messageId -> invocations in flight holding it
        self._limbo: dict[str, tuple[_Seen, str]] = {}  # dead-lettered while held: (row, where)
        self._depth: dict[str, int] = {}  # messageId -> chain depth of the handler that sent it
        self._backlog: int | None = None  # messages in the queue at the last empty receive (None: unknown)
        self._woken = False
        self._idle_poll_s = IDLE_POLL_MIN_S
        self._vt_s: float | None = None
        self._poll_task = None
        self._tasks: list[Any] = []
        self._seen: dict[str, _Seen] = {}  # accepted and not yet ended, by message id
        self._redrive: dict[str, Any] | None = None
        self._dlq_name: str | None = None
        self._dlq_url: str | None = None
        self._hook_id = f"lambda-lab-sqs-{id(self)}"
        for events in lab.client_events("sqs"):
            for op, hook in HOOKED.items():
                events.register(f"after-call.sqs.{op}", getattr(self, hook), unique_id=f"{self._hook_id}-{op}")
                events.register(f"provide-client-params.sqs.{op}", self._note_queue,
                                unique_id=f"{self._hook_id}-p{op}")
        if enabled:
            self._schedule_poll(lab.clock.now())

    # --- the Source protocol ---------------------------------------------------------
    def pending(self) -> bool:
        """True while a batch is in flight or being gathered, or the queue may hold messages."""
        if self.stopped or not self.enabled:
            return False
        if self._in_flight or self._gathering or self._carry or self._visible_at or self._woken or self._limbo:
            return True
        return self._backlog is None or self._backlog > 0

    def stop(self) -> None:
        """Stop polling for good (the lab calls this on close)."""
        self.stopped = True
        self._cancel_poll()
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        for events in self.lab.client_events("sqs"):
            for op in HOOKED:
                events.unregister(f"after-call.sqs.{op}", unique_id=f"{self._hook_id}-{op}")
                events.unregister(f"provide-client-params.sqs.{op}", unique_id=f"{self._hook_id}-p{op}")

    def disable(self) -> None:
        """Stop receiving (State=Disabled); batches in flight still finish."""
        self.enabled = False
        self.state_reason = USER_INITIATED
        self._cancel_poll()

    def enable(self) -> None:
        """Start receiving again (State=Enabled)."""
        if not self.stopped and not self.enabled:
            self.enabled = True
            self.state_reason = USER_INITIATED
            self._schedule_poll(self.lab.clock.now())

    @property
    def state(self) -> str:
        return "Disabled" if self.stopped or not self.enabled else "Enabled"

    @property
    def configuration(self) -> dict[str, Any]:
        """The mapping as GetEventSourceMapping would describe it."""
        config: dict[str, Any] = {
            "UUID": self.uuid,
            "EventSourceArn": self.queue_arn,
            "FunctionArn": self.fn.arn,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.window_s,
            "FunctionResponseTypes": ["ReportBatchItemFailures"] if self.report_batch_item_failures else [],
            "State": self.state,
            "StateTransitionReason": self.state_reason,
        }
        if self.maximum_concurrency is not None:
            config["ScalingConfig"] = {"MaximumConcurrency": self.maximum_concurrency}
        if self.filters:
            config["FilterCriteria"] = {"Filters": [{"Pattern": json.dumps(p)} for p in self.filters]}
        return config

    def __repr__(self) -> str:
        parts = [
            f"queue={queue_name(self.queue_url)!r}", f"function={self.fn.name!r}", f"batch_size={self.batch_size}",
            f"window={self.window_s:g}s", f"report_batch_item_failures={self.report_batch_item_failures}",
            f"maximum_concurrency={self.maximum_concurrency}", f"filters={len(self.filters)}", f"state={self.state}",
        ]
        return f"SqsEventSourceMapping({', '.join(parts)})"

    # --- waking up -------------------------------------------------------------------
    def _note_queue(self, params: dict, context: dict, **_: Any) -> None:
        context["lambda_lab_queue_url"] = params.get("QueueUrl", "")

    def _on_send(self, parsed: dict, context: dict, **_: Any) -> None:
        """A send through the lab's SQS client: wake up now, as a long poll would return."""
        if self.stopped or queue_name(context.get("lambda_lab_queue_url", "")) != queue_name(self.queue_url):
            return
        entries = [parsed] if "MessageId" in parsed else parsed.get("Successful", [])
        ids = [e["MessageId"] for e in entries]
        if self.enabled and not self.fifo:
            # A disabled mapping is no consumer. A FIFO send inside the 5-minute deduplication
            # window gets a fresh id but is never delivered: FIFO messages are accepted on receive.
            for message_id in ids:
                self._accept(message_id, self.lab.clock.now_ms())
        depth = self.lab.runtime.current_depth()
        if depth:
            self._depth.update({i: depth for i in ids})
        self._woken = True
        self._idle_poll_s = IDLE_POLL_MIN_S
        if self.enabled:
            self._schedule_poll(self.lab.clock.now())

    def _on_set_attributes(self, parsed: dict, context: dict, **_: Any) -> None:
        """SetQueueAttributes through the lab's client: read the visibility timeout and redrive policy again."""
        if queue_name(context.get("lambda_lab_queue_url", "")) == queue_name(self.queue_url):
            self._vt_s = None

    def _schedule_poll(self, at_s: float) -> None:
        """Make sure a poll runs no later than ``at_s``."""
        if self._poll_task is not None and self._poll_task.pending:
            if self._poll_task.due_s <= at_s:
                return
            self._poll_task.cancel()
        label = f"sqs poll {queue_name(self.queue_url)}"
        self._poll_task = self.lab.scheduler.at(at_s, self._guarded(self._poll), label)

    def _guarded(self, action: Callable[[], None]) -> Callable[[], None]:
        """``action`` for the scheduler: a deleted source queue disables the mapping instead of
        raising out of ``lab.run``."""
        def run() -> None:
            try:
                action()
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") not in QUEUE_MISSING:
                    raise
                self._source_lost()
        return run

    def _source_lost(self) -> None:
        """The queue is gone: Lambda turns the mapping off itself (StateTransitionReason "Lambda
        initiated", API_EventSourceMappingConfiguration). Messages the mapping held end ``dropped``
        (they went with the queue); one log row says so; the lab keeps running."""
        if self.stopped or (not self.enabled and self.state_reason != USER_INITIATED):
            return
        self.enabled = False
        self.state_reason = (f"Lambda initiated: the event source queue {queue_name(self.queue_url)} "
                             f"does not exist (QueueDoesNotExist)")
        self._cancel_poll()
        held = list(self._seen) + list(self._limbo)
        for message_id in list(self._seen):
            self._end(message_id, L.DROPPED, "QueueDoesNotExist: the source queue was deleted")
        for seen, _ in self._limbo.values():
            self.lab.ledger.end(seen.entry, L.DROPPED, "QueueDoesNotExist: the source queue was deleted", L.LAMBDA)
        self._limbo.clear()
        self._gathering, self._carry, self._visible_at = None, [], {}
        self._receipt.clear()
        self.lab.log.add(Invocation.never_ran(
            self.fn.name, "sqs", "dropped", at=self.lab.clock.elapsed(), error_type="QueueDoesNotExist",
            error_message=(f"the mapping was disabled: {self.state_reason}; "
                           f"{len(held)} message(s) it held ended dropped"),
            batch_size=len(held), items=tuple(held),
        ))

    def _cancel_poll(self) -> None:
        if self._poll_task is not None:
            self._poll_task.cancel()
            self._poll_task = None

    # --- polling ---------------------------------------------------------------------
    def _poll(self) -> None:
        self._poll_task = None
        if self.stopped or not self.enabled:
            return
        woken, self._woken = self._woken, False
        now = self.lab.clock.now()
        if self._backlog == 0 and not (woken or self._visible_at or self._carry or self._gathering):
            # Idle heartbeat: a cheap look at the counts before paying for a receive.
            self._backlog = self._read_queue()
            if self._backlog == 0:
                self._schedule_poll(now + IDLE_POLL_MAX_S)
                return
        # Keep a receipt that expires exactly now: moto shows the message only after that instant,
        # and _plan_next must still look again just after it.
        self._visible_at = {m: t for m, t in self._visible_at.items() if t + EPSILON_S > now}
        starved = False
        # A batch still gathering already holds its slot: continue it even when no slot is free,
        # or a full mapping would look again at the same instant forever.
        while self._gathering is not None or self._free_slots() > 0:
            batch = self._gathering or _Batch(batching.BatchBuilder(self.batch_size), now)
            self._gathering = None
            got = self._fill(batch)
            if len(batch.builder) and (batch.builder.full or now >= batch.started_s + self.window_s):
                self._invoke(batch)
            elif len(batch.builder):
                self._gathering = batch  # the batching window is still open
                break
            elif not got:
                starved = True
                break
            # else: everything received was filtered out; look again
        else:
            self._scale_up(now)
        if starved or self._gathering:
            self._last_scale_s = now  # scaling only accrues while every batch is busy
        self._plan_next(now, starved)

    def _free_slots(self) -> int:
        return int(self._limit) - self._in_flight - (1 if self._gathering else 0)

    def _scale_up(self, now: float) -> None:
        """All batches busy and messages waiting: add up to 300 batches a minute (services-sqs-scaling)."""
        cap = self.maximum_concurrency or limits.SQS_MAX_BATCHES
        grown = (now - self._last_scale_s) * limits.SQS_SCALE_PER_MIN / 60
        if grown >= 1:
            self._limit = min(cap, self._limit + int(grown))
            self._last_scale_s = now

    def _fill(self, batch: _Batch) -> int:
        """Receive into ``batch`` until full, the payload cap, or an empty receive; return messages received."""
        received = 0
        while self._carry and not batch.builder.full:
            message, record = self._carry[0]
            if not self._renew(batch, message) and not batch.builder.add(record):
                break
            self._carry.pop(0)
            batch.messages[record["messageId"]] = message
        while not batch.builder.full:
            want = min(RECEIVE_MAX, batch.builder.room)
            messages = self._receive(want)
            received += len(messages)
            for message, record in self._filtered(messages):
                if self._renew(batch, message):
                    continue
                if batch.builder.full or not batch.builder.add(record):
                    self._carry.append((message, record))
                else:
                    batch.messages[record["messageId"]] = message
            if len(messages) < want or self.window_s == 0 and self.batch_size <= RECEIVE_MAX:
                break
        return received

    def _renew(self, batch: _Batch, message: dict) -> bool:
        """True if ``message`` is already in ``batch`` or waiting in the carry-over: keep its newest
        receipt handle and do not add it again (a message came back while its batch gathered;
        deleting it twice in one DeleteMessageBatch is an error)."""
        message_id = message["MessageId"]
        if message_id in batch.messages:
            batch.messages[message_id] = message
            return True
        for n, (carried, record) in enumerate(self._carry):
            if carried["MessageId"] == message_id:
                self._carry[n] = (message, record)
                return True
        return False

    def _receive(self, want: int) -> list[dict]:
        visibility = self._visibility_timeout()
        now = self.lab.clock.now()
        due = self._due_for_dead_letter(now)
        before = self._dead_letter_depth() if due else 0
        messages = receive(self.sqs, self.queue_url, want)
        if due:
            self._record_dead_letters(due, before)
        if messages:
            self._backlog = None
            self._idle_poll_s = IDLE_POLL_MIN_S
            visibility = self._extend_visibility(messages, visibility)
            for m in messages:
                self._receipt[m["MessageId"]] = m["ReceiptHandle"]
                self._visible_at[m["MessageId"]] = now + visibility
                seen = self._accept(m["MessageId"], int(m["Attributes"]["SentTimestamp"]))
                seen.receive_count = int(m["Attributes"]["ApproximateReceiveCount"])
                seen.visible_at = now + visibility
            if self.fifo:
                self._unblock_before_expiry(messages, now + visibility)
        return messages

    def _unblock_before_expiry(self, messages: list[dict], expires_s: float) -> None:
        """Several messages of one group received together: just before their receipts expire
        (the invocation may outlive them), let moto clear the later ones so that the group comes
        back from its head, as on AWS, not from its tail (``_unblock_moto_fifo`` says why)."""
        groups = Counter(m.get("Attributes", {}).get("MessageGroupId", "") for m in messages)
        if max(groups.values()) < 2:
            return
        task = self.lab.scheduler.at(expires_s - EPSILON_S,
                                     self._guarded(lambda: self._unblock_expiring(messages, expires_s)),
                                     "sqs fifo expiry")
        self._tasks.append(task)

    def _unblock_expiring(self, messages: list[dict], expires_s: float) -> None:
        """Those of ``messages`` still in flight under this receipt (not deleted, not received
        again, not already made visible) expire at ``expires_s``: unblock them now."""
        live = [m for m in messages if self._is_current(m)
                and abs(self._visible_at.get(m["MessageId"], 0.0) - expires_s) < 1e-9]
        if len(live) > 1 and not self.stopped:
            self._unblock_moto_fifo(live)
            if self.enabled:
                self._schedule_poll(self.lab.clock.now() + EPSILON_S / 2)

    def _is_current(self, message: dict) -> bool:
        """True if ``message`` carries the newest receipt handle of a message still in the queue."""
        return self._receipt.get(message["MessageId"]) == message["ReceiptHandle"]

    def _extend_visibility(self, messages: list[dict], visibility_s: float) -> float:
        """With a batching window, keep received messages hidden for window + timeout + 30 s when the
        queue's visibility timeout is shorter (``limits.SQS_WINDOW_VISIBILITY_MARGIN_S`` quotes AWS);
        return the visibility timeout that now applies, seconds.

        Without a window nothing changes: a visibility timeout lowered below the function timeout
        after the mapping exists still shows duplicates while a slow handler runs.
        """
        extended = self.window_s + self.fn.timeout_s + limits.SQS_WINDOW_VISIBILITY_MARGIN_S
        if not self.window_s or self.window_s + self.fn.timeout_s <= visibility_s:
            return visibility_s
        for start in range(0, len(messages), RECEIVE_MAX):
            chunk = messages[start:start + RECEIVE_MAX]
            self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": math.ceil(extended)}
                for n, m in enumerate(chunk)])
        return float(math.ceil(extended))

    def _visibility_timeout(self) -> float:
        if self._vt_s is None:
            self._read_queue()
        return self._vt_s

    def _read_queue(self) -> int:
        """One GetQueueAttributes: the messages in the queue; also refreshes the visibility timeout
        and redrive policy, which someone may change after the mapping was created (a change
        through the lab's client is seen at once, through another client at the next read)."""
        attrs = queue_attributes(self.sqs, self.queue_url)
        self._vt_s = float(attrs["VisibilityTimeout"])
        policy = json.loads(attrs["RedrivePolicy"]) if attrs.get("RedrivePolicy") else None
        if policy != self._redrive:
            self._redrive = policy
            self._dlq_name = policy["deadLetterTargetArn"].rsplit(":", 1)[-1] if policy else None
            self._dlq_url = None
        return sum(int(attrs[name]) for name in COUNT_ATTRIBUTES.values())

    # --- the ledger ------------------------------------------------------------------
    def _accept(self, message_id: str, sent_ms: int) -> _Seen:
        """Open the message's ledger row the first time the mapping hears of it."""
        seen = self._seen.get(message_id)
        if seen is None:
            # SentTimestamp is whole milliseconds: never let it round past now.
            accepted_s = min(sent_ms / 1000 - self.lab.clock.start_s, self.lab.clock.elapsed())
            entry = self.lab.ledger.accept("sqs", message_id, self.fn.name, accepted_s=accepted_s)
            seen = self._seen[message_id] = _Seen(entry, sent_ms)
        return seen

    def _reaccept(self, message_id: str, ended: _Seen) -> None:
        """The message stayed in the queue after its row ended (a stale receipt's delete): open a
        duplicate-delivery row (copy 2, 3, ...) that ends wherever that copy ends."""
        entry = self.lab.ledger.accept("sqs", message_id, self.fn.name, copy=ended.entry.copy + 1)
        # The newer delivery may already have been invoked: that attempt belongs to this copy.
        entry.attempts = 1 if self._receipt[message_id] in self._invoked else 0
        self._seen[message_id] = _Seen(entry, ended.sent_ms, ended.receive_count, ended.visible_at)

    def _end(self, message_id: str, ending: str, where: str) -> None:
        seen = self._seen.pop(message_id, None)
        if seen is not None:
            self.lab.ledger.end(seen.entry, ending, where, L.LAMBDA)

    def _due_for_dead_letter(self, now: float) -> list[str]:
        """Messages moto will move to the DLQ when a receive reaches them, in queue order.

        moto moves a message whose receive count reached maxReceiveCount on the first
        receive that finds it visible again.
        """
        if not self._redrive:
            return []
        limit = int(self._redrive["maxReceiveCount"])
        due = [(s.sent_ms, s.entry.seq, mid) for mid, s in self._seen.items()
               if s.receive_count >= limit and s.visible_at is not None and now >= s.visible_at - 1e-6]
        return [mid for *_, mid in sorted(due)]

    def _dead_letter_depth(self) -> int:
        if self._dlq_url is None:
            self._dlq_url = self.sqs.get_queue_url(QueueName=self._dlq_name)["QueueUrl"]
        return queue_depth(self.sqs, self._dlq_url)

    def _record_dead_letters(self, due: list[str], before: int) -> None:
        """End the messages moto moved in the last receive: as many as the DLQ grew, in queue order."""
        moved = self._dead_letter_depth() - before
        for message_id in due[:max(moved, 0)]:
            seen = self._seen[message_id]
            self._invoked.discard(self._receipt.pop(message_id, None))
            where = (f"{self._dlq_name} (receive count {seen.receive_count} reached maxReceiveCount "
                     f"{self._redrive['maxReceiveCount']})")
            if self._holding[message_id]:
                # An invocation still holds an expired receipt of it: if that invocation succeeds,
                # the message was processed and the DLQ holds a duplicate (AWS does the same).
                self._limbo[message_id] = (self._seen.pop(message_id), where)
            else:
                self._end(message_id, L.DEAD_LETTER, where)

    def _settle_limbo(self, batch: _Batch, succeeded: tuple[str, ...]) -> None:
        """End the messages moto dead-lettered while ``batch`` (now complete) still held them."""
        for message_id in batch.ids:
            self._holding[message_id] -= 1
            if message_id not in self._limbo:
                continue
            seen, where = self._limbo[message_id]
            if message_id in succeeded:
                del self._limbo[message_id]
                self.lab.ledger.end(seen.entry, L.PROCESSED, queue_name(self.queue_url), L.LAMBDA)
                copy = self.lab.ledger.accept("sqs", message_id, self.fn.name, copy=seen.entry.copy + 1)
                self.lab.ledger.end(copy, L.DEAD_LETTER, where, L.LAMBDA)
            elif not self._holding[message_id]:
                del self._limbo[message_id]
                self.lab.ledger.end(seen.entry, L.DEAD_LETTER, where, L.LAMBDA)
            if not self._holding[message_id]:
                del self._holding[message_id]

    def _filtered(self, messages: list[dict]) -> list[tuple[dict, dict]]:
        """Records for ``messages``; those matching no filter are deleted now, uninvoked."""
        pairs = [(m, sqs_events.record(m, self.queue_arn, self.lab.region)) for m in messages]
        if not self.filters:
            return pairs
        keep = [(m, r) for m, r in pairs if any(matches_filter(p, r) for p in self.filters)]
        dropped = [(m, r) for m, r in pairs if not any(r is k[1] for k in keep)]
        if dropped:
            self._delete([m for m, _ in dropped])
            self._log_dropped(tuple(r["messageId"] for _, r in dropped))
            for _, r in dropped:
                self._end(r["messageId"], L.DROPPED, "FilteredOut: matched no filter pattern; deleted from the queue")
        return keep

    def _log_dropped(self, ids: tuple[str, ...]) -> None:
        self.lab.log.add(Invocation.never_ran(
            self.fn.name, "sqs", "dropped", at=self.lab.clock.elapsed(), error_type="FilteredOut",
            error_message=f"{len(ids)} message(s) matched no filter pattern and were deleted from the queue",
            batch_size=len(ids), items=ids,
        ))

    # --- invoking and results --------------------------------------------------------
    def _invoke(self, batch: _Batch) -> None:
        self._tasks = [t for t in self._tasks if t.pending]  # results and retries that already ran
        ids = batch.ids
        receive_counts = [int(r["attributes"]["ApproximateReceiveCount"]) for r in batch.builder.records]
        depth = 1 + max((self._depth.get(i, 0) for i in ids), default=0)
        batch.attempts += 1
        self._in_flight += 1 if batch.attempts == 1 else 0
        for message_id in ids:
            if message_id in self._seen:
                self.lab.ledger.attempt(self._seen[message_id].entry)
        if batch.attempts == 1:
            self._invoked.update(m["ReceiptHandle"] for m in batch.messages.values())
            self._holding.update(ids)
        inv = self.lab.runtime.execute(
            self.fn, sqs_events.event(batch.builder.records), source="sqs", attempt=max(receive_counts),
            batch_size=len(ids), items=ids, depth=depth,
        )
        if inv.outcome == "throttled":
            self._retry_throttled(batch)
            return
        self._tasks.append(self.lab.scheduler.at(inv.end_s, self._guarded(lambda: self._complete(batch, inv)),
                                                 "sqs result"))

    def _retry_throttled(self, batch: _Batch) -> None:
        """Throttled: retry the batch until its messages would be visible again (services-sqs-errorhandling)."""
        delay = THROTTLE_RETRY_S * 2 ** (batch.attempts - 1)
        if self._throttle_rng is not None:
            delay = delay / 2 + self._throttle_rng.uniform(0, 1) * delay / 2
        expires = min(self._visible_at.get(i, 0.0) for i in batch.ids)
        if self.lab.clock.now() + delay >= expires:
            self._in_flight -= 1  # give up: the messages return when their visibility timeout ends
            self._settle_limbo(batch, ())
            self._schedule_poll(self.lab.clock.now())
            return
        self._tasks.append(self.lab.scheduler.after(delay, lambda: self._invoke(batch), "sqs throttle retry"))

    def _complete(self, batch: _Batch, inv: Invocation) -> None:
        outcome = batching.judge(inv.outcome, inv.result, batch.ids,
                                 report_batch_item_failures=self.report_batch_item_failures)
        # A receipt handle the queue has replaced (the message came back and was received again
        # while this invocation ran) is stale: AWS's delete "succeeds, but the message might not
        # be deleted". On a FIFO queue moto would delete the newer delivery instead and unblock
        # the group under it, so the lab skips such deletes there; on a standard queue it keeps
        # moto's delete (the chapters show a slow handler's duplicates ending).
        stale = {i for i in outcome.succeeded if not self._is_current(batch.messages[i])} if self.fifo else set()
        self._delete([batch.messages[i] for i in outcome.succeeded if i not in stale])
        silently_lost = batching.reported_failures(inv.result) if not self.report_batch_item_failures else set()
        for i in outcome.succeeded:
            self._depth.pop(i, None)
            still_queued = i in stale and i in self._receipt
            seen = self._seen.get(i)
            if i in silently_lost:
                self._end(i, L.DROPPED, "deleted unprocessed: ReportBatchItemFailures is off")
            else:
                self._end(i, L.PROCESSED, queue_name(self.queue_url))
            if still_queued and seen is not None:
                self._reaccept(i, seen)
        failed = [batch.messages[i] for i in outcome.failed if self._is_current(batch.messages[i])]
        if self.fifo and len(failed) > 1:
            self._unblock_moto_fifo(failed)
        self._invoked.difference_update(m["ReceiptHandle"] for m in batch.messages.values())
        self._settle_limbo(batch, outcome.succeeded)
        self._in_flight -= 1
        if not self.stopped and self.enabled:
            self._schedule_poll(self.lab.clock.now())

    def _unblock_moto_fifo(self, failed: list[dict]) -> None:
        """Keep moto's FIFO redelivery in order after a failure of several messages of a group.

        moto (5.2.5) forgets that an expired message is no longer in flight only when a
        receive walks past it, in queue order; so when m2, m3 and m4 of a group expire
        together it skips m2 and m3 (their group still looks busy) and delivers m4 first.
        AWS redelivers m2, m3, m4. Making every failed message after the first of its group
        visible now (still blocked behind the first, which stays in flight) and looking
        1 ms later lets moto clear them, so the group comes back in order.
        """
        first_of_group: set[str] = set()
        later = []
        for m in failed:
            group = m.get("Attributes", {}).get("MessageGroupId", "")
            if group in first_of_group:
                later.append(m)
            first_of_group.add(group)
        if not later:
            return
        for start in range(0, len(later), RECEIVE_MAX):
            chunk = later[start:start + RECEIVE_MAX]
            self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for n, m in enumerate(chunk)])
        now = self.lab.clock.now()
        for m in later:
            self._visible_at[m["MessageId"]] = now + EPSILON_S / 2  # look once right after they clear
            if m["MessageId"] in self._seen:
                self._seen[m["MessageId"]].visible_at = now

    def _delete(self, messages: list[dict]) -> None:
        for start in range(0, len(messages), RECEIVE_MAX):
            chunk = messages[start:start + RECEIVE_MAX]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)],
            )
            for m in chunk:
                self._visible_at.pop(m["MessageId"], None)
                self._receipt.pop(m["MessageId"], None)
                self._invoked.discard(m["ReceiptHandle"])

    # --- deciding when to look again -------------------------------------------------
    def _plan_next(self, now: float, starved: bool) -> None:
        if self._gathering is not None:
            close = self._gathering.started_s + self.window_s
            self._schedule_poll(min(close, now + IDLE_POLL_MIN_S))
            return
        if not starved:
            return  # every batch is busy: the next invocation end polls again
        self._backlog = self._read_queue()
        candidates = [t + EPSILON_S for t in self._visible_at.values()]
        if self._backlog > len(self._visible_at):
            # Messages the poller knows nothing about: delayed, blocked FIFO groups, others' receipts.
            candidates.append(now + self._idle_poll_s)
            self._idle_poll_s = min(IDLE_POLL_MAX_S, self._idle_poll_s * 2)
        elif not candidates:
            candidates.append(now + IDLE_POLL_MAX_S)  # idle; a send through the lab wakes it sooner
        self._schedule_poll(min(candidates))


def _mapping_uuid(queue_arn: str, function: str, seed: int) -> str:
    digest = hashlib.sha256(f"{seed}/{queue_arn}/{function}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"


# --------------------------------------------------------------- reading the queue

#: What GetQueueAttributes calls the messages a queue holds, by state.
COUNT_ATTRIBUTES = {
    "visible": "ApproximateNumberOfMessages",
    "in_flight": "ApproximateNumberOfMessagesNotVisible",
    "delayed": "ApproximateNumberOfMessagesDelayed",
}


def receive(sqs: Any, queue_url: str, want: int) -> list[dict]:
    """Up to ``want`` (<= 10) messages with every attribute, as Lambda's poller asks for them.

    ``WaitTimeSeconds=0``: long polling never ends under the lab's frozen clock.
    """
    return sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=want, WaitTimeSeconds=0,
        MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
    ).get("Messages", [])


def queue_attributes(sqs: Any, queue_url: str) -> dict[str, str]:
    """Every attribute of a queue (GetQueueAttributes with ``All``).

    Asking for ``All`` rather than a few names: moto rebuilds the whole attribute map for each
    name asked (several times over), so one ``All`` is the cheapest read of any attribute.
    """
    return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]


def queue_depth(sqs: Any, queue_url: str) -> int:
    """Messages in a queue, visible, in flight and delayed together (GetQueueAttributes)."""
    attrs = queue_attributes(sqs, queue_url)
    return sum(int(attrs[name]) for name in COUNT_ATTRIBUTES.values())
