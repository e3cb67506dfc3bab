"""Lambda's internal queue for asynchronous invocations (``InvocationType=Event``).

S3, SNS and EventBridge all hand their events to this queue; it knows nothing about
any of them. What it does, as AWS documents it
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html):

- ``submit`` answers at once with ``StatusCode 202`` and a request id; a separate
  process (the scheduler here) runs the function later.
- Function errors and timeouts are retried ``MaximumRetryAttempts`` times (0-2,
  default 2): about 1 minute before the first retry, about 2 minutes before the second.
- Throttles (429) go back to the queue and are retried with an interval that doubles
  from 1 s to at most 5 minutes, until the event is older than
  ``MaximumEventAgeInSeconds`` (60-21,600, default 6 hours). They do not use up retries.
  AWS does not publish its jitter; the lab waits between half and all of each interval
  ("equal jitter"), the same assumption as ``lambda_lab.sim``, so throttled events do not
  all come back in the same instant.
- When it gives up, the on-failure destination gets AWS's invocation record and the
  older dead-letter queue gets the bare event; with neither, the event is logged with
  outcome ``dropped``. Nothing disappears without a row in the log.
- Successes go to the on-success destination, if any.
- Reserved concurrency 0 sends events straight to the DLQ / on-failure destination.
- Recursive loops: an invocation more than 16 deep in one chain is not run
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html).
- At-least-once: ``duplicate_rate`` (seeded) delivers a copy of some events.

Retries keep the request id of the original event, as on AWS. Every time is virtual.
"""

from __future__ import annotations

import copy
import itertools
import random
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import ledger as L
from .. import limits
from ..delivery import retry
from ..delivery.send import DEAD_LETTER, DESTINATION, check_home, encode, parse_arn, resource_exists, send
from ..errors import ConfigurationError
from ..log import Invocation

if TYPE_CHECKING:
    from ..lab import Lab
    from ..ledger import Entry
    from ..runtime import Function

RECURSION_LIMIT = limits.RECURSION_LIMIT

SUCCESS = "Success"
RETRIES_EXHAUSTED, EVENT_AGE_EXCEEDED = retry.RETRIES_EXHAUSTED, retry.EVENT_AGE_EXCEEDED
# The error type the lab logs for a stopped loop (stored chapter outputs show it). AWS's CloudWatch
# metric is named RecursiveInvocationsDropped, plural: see lambda_lab.metrics.
RECURSION_STOPPED = "RecursiveInvocationDropped"


@dataclass
class AsyncConfig:
    """A function's event invoke config, with AWS's names in snake case."""

    maximum_retry_attempts: int = limits.ASYNC_DEFAULT_RETRY_ATTEMPTS
    maximum_event_age_s: int = limits.ASYNC_DEFAULT_EVENT_AGE_S
    on_success: str | None = None
    on_failure: str | None = None
    dead_letter_arn: str | None = None
    duplicate_rate: float = 0.0


@dataclass
class QueuedEvent:
    """One event in the queue and what has happened to it so far."""

    fn: "Function"
    event: Any
    request_id: str
    received_s: float  # epoch seconds when Lambda accepted it
    source: str
    items: tuple[str, ...]
    depth: int
    entry: "Entry" = field(repr=False)
    attempts: int = 0  # every try, throttles included (the log's attempt column)
    function_errors: int = 0
    throttles: int = 0
    last: Invocation | None = field(default=None, repr=False)
    done: bool = False


class AsyncQueue:
    """Lambda's async invocation queue for every function in one lab (``lab.async_queue``)."""

    def __init__(self, lab: "Lab"):
        self.lab = lab
        self.configs: dict[str, AsyncConfig] = {}
        # Its own stream, so duplicates do not shift the runtime's request ids or durations.
        self.rng = random.Random(f"async-queue-{lab.seed}")
        self._live: set[int] = set()
        # request id -> (function, seconds since the lab started): AsyncEventsReceived and the
        # start of every attempt's AsyncEventAge (lambda_lab.metrics).
        self.received: dict[str, tuple[str, float]] = {}
        self._tasks: dict[int, Any] = {}  # scheduled and not yet run, so stop() can cancel them
        self._keys = itertools.count()
        self._stopped = False

    # --- configuration -------------------------------------------------------------
    def configure(
        self,
        fn: "Function",
        maximum_retry_attempts: int = limits.ASYNC_DEFAULT_RETRY_ATTEMPTS,
        maximum_event_age_s: int = limits.ASYNC_DEFAULT_EVENT_AGE_S,
        on_success: str | None = None,
        on_failure: str | None = None,
        dead_letter_arn: str | None = None,
        duplicate_rate: float = 0.0,
    ) -> AsyncConfig:
        """PutFunctionEventInvokeConfig (+ DeadLetterConfig) for ``fn``; refused like AWS refuses it.

        Like the Put API, it replaces the function's whole configuration: settings not
        given go back to their defaults.

        ``maximum_event_age_s`` in seconds; ``duplicate_rate`` is the chance (0-1) that
        an accepted event is delivered twice.
        """
        limits.check_range("MaximumRetryAttempts", maximum_retry_attempts, limits.ASYNC_MIN_RETRY_ATTEMPTS,
                           limits.ASYNC_MAX_RETRY_ATTEMPTS, integer=True, url=limits.EVENT_INVOKE_CONFIG_URL)
        limits.check_range("MaximumEventAgeInSeconds", maximum_event_age_s, limits.ASYNC_MIN_EVENT_AGE_S,
                           limits.ASYNC_MAX_EVENT_AGE_S, unit="seconds", integer=True,
                           url=limits.EVENT_INVOKE_CONFIG_URL)
        if not 0.0 <= duplicate_rate <= 1.0:
            raise ConfigurationError(f"duplicate_rate is a probability between 0 and 1, got {duplicate_rate}")
        for role, arn in (("OnSuccess", on_success), ("OnFailure", on_failure)):
            if arn is not None:
                self._check_destination(role, arn, fn)
        if dead_letter_arn is not None:
            self._check_dead_letter(dead_letter_arn)
        config = AsyncConfig(maximum_retry_attempts, maximum_event_age_s, on_success, on_failure,
                             dead_letter_arn, duplicate_rate)
        self.configs[fn.name] = config
        return config

    def config_for(self, fn: "Function") -> AsyncConfig:
        """The function's config, or AWS's defaults when it has none."""
        return self.configs.get(fn.name) or AsyncConfig()

    def _check_destination(self, role: str, arn: str, fn: "Function") -> None:
        service, name = parse_arn(arn, role)
        if service == "s3":
            # S3 buckets are an AWS on-failure destination; the lab does not write them.
            allowed = "on failure only; the lab supports SQS, SNS, Lambda and EventBridge"
            raise ConfigurationError(f"{role} destination {arn}: S3 buckets are destinations {allowed}")
        if service not in ("sqs", "sns", "lambda", "events"):
            raise ConfigurationError(
                f"{role} destination must be an SQS queue, SNS topic, Lambda function or EventBridge "
                f"event bus ARN, got {arn}"
            )
        if service == "lambda" and name == fn.name:
            raise ConfigurationError(f"{role} destination cannot be the function itself ({arn})")
        check_home(self.lab, arn, role)
        self._check_exists(service, name, arn, role)

    def _check_dead_letter(self, arn: str) -> None:
        service, name = parse_arn(arn, "DeadLetterConfig")
        if service not in ("sqs", "sns"):
            raise ConfigurationError(f"DeadLetterConfig TargetArn must be an SQS queue or SNS topic ARN, got {arn}")
        check_home(self.lab, arn, "DeadLetterConfig")
        self._check_exists(service, name, arn, "DeadLetterConfig")

    def _check_exists(self, service: str, name: str, arn: str, role: str) -> None:
        if name.endswith(".fifo"):
            kind = "queue" if service == "sqs" else "topic"
            raise ConfigurationError(
                f"{role}: a FIFO {kind} cannot receive asynchronous invocation records; Lambda supports "
                f"standard SQS queues and standard SNS topics only (it would count DestinationDeliveryFailures), got {arn}"
            )
        if not resource_exists(self.lab, service, name, arn):
            raise ConfigurationError(f"{role}: {arn} does not exist in this lab; create it first")

    # --- the queue -----------------------------------------------------------------
    def submit(
        self,
        fn: "Function",
        event: Any,
        *,
        source: str = "async",
        items: tuple[str, ...] = (),
        depth: int | None = None,
        delay_s: float = 0.0,
        item: str | None = None,
        entry: "Entry | None" = None,
    ) -> dict[str, Any]:
        """Invoke with ``InvocationType=Event``: queue ``event`` and return what Invoke returns.

        ``depth`` is the position in a chain of invocations (default: one deeper than the
        handler running now, 1 from a cell); ``delay_s`` is how long after now Lambda
        picks it up. The queue ends ``entry`` (a ledger row the caller accepted), or a
        row it opens itself for ``item`` (default: the request id).
        """
        if self._stopped:
            raise RuntimeError("the lab is closed")
        request_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.received[request_id] = (fn.name, round(self.lab.clock.elapsed(), 6))
        depth = self.lab.runtime.current_depth() + 1 if depth is None else depth
        copies = 1 + (self.rng.random() < self.config_for(fn).duplicate_rate)
        row_source, row_item = (entry.source, entry.item) if entry is not None else (source, item or request_id)
        for n in range(copies):
            row = entry if entry is not None and n == 0 else self.lab.ledger.accept(
                row_source, row_item, fn.name, copy=n + 1)
            row.request_id = request_id
            queued = QueuedEvent(fn, event, request_id, self.lab.clock.now(), source, tuple(items), depth, row)
            self._live.add(id(queued))
            # A duplicate shows up a little later, as an eventually consistent queue delivers it.
            lag_s = delay_s + (self.rng.uniform(0.05, 1.0) if n else 0.0)
            self._schedule(self.lab.clock.now() + lag_s, lambda q=queued: self._attempt(q), f"async {fn.name}")
        return {
            "StatusCode": 202,
            "Payload": b"",
            "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": 202},
        }

    def pending(self) -> bool:
        """True while an event waits, runs, or waits for a retry."""
        return bool(self._live)

    def stop(self) -> None:
        """Cancel everything scheduled; the queue accepts no more events."""
        self._stopped = True
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        self._live.clear()

    def _schedule(self, at_s: float, action: Any, label: str) -> None:
        key = next(self._keys)

        def run() -> None:
            self._tasks.pop(key, None)
            action()

        self._tasks[key] = self.lab.scheduler.at(at_s, run, label)

    # --- one attempt ---------------------------------------------------------------
    def _attempt(self, q: QueuedEvent) -> None:
        config = self.config_for(q.fn)
        if q.depth > RECURSION_LIMIT:
            self._stop_recursion(q, config)
            return
        if q.attempts and self.lab.clock.now() - q.received_s >= config.maximum_event_age_s:
            self._give_up(q, config, EVENT_AGE_EXCEEDED)
            return
        q.attempts += 1
        self.lab.ledger.attempt(q.entry)
        # Each delivery gets its own copy of the event, as on AWS where it arrives as JSON.
        inv = self.lab.runtime.execute(q.fn, copy.deepcopy(q.event), source=q.source, attempt=q.attempts,
                                       items=q.items, depth=q.depth, request_id=q.request_id)
        q.last = inv
        self._schedule(inv.end_s, lambda: self._finish(q, inv), f"async {q.fn.name} done")

    def _finish(self, q: QueuedEvent, inv: Invocation) -> None:
        config = self.config_for(q.fn)
        if inv.outcome == "success":
            # Processed whatever becomes of its record: a failed on-success write is counted
            # (DestinationDeliveryFailures) but does not undo the run.
            self._close(q, L.PROCESSED, q.fn.name)
            if config.on_success:
                self._deliver_record(q, config.on_success, SUCCESS)
        elif inv.outcome == "throttled":
            if q.fn.reserved_concurrency == 0:
                self._give_up(q, config, RETRIES_EXHAUSTED)  # AWS: "without any retries"
                return
            q.throttles += 1
            policy = retry.lambda_async_throttles(config.maximum_event_age_s)
            self._retry_at(q, config, self.lab.clock.now() + policy.delay_s(q.throttles, self.rng))
        else:  # error or timeout
            q.function_errors += 1
            policy = retry.lambda_async_errors(config.maximum_retry_attempts, config.maximum_event_age_s)
            delay = policy.base_delay_s(q.function_errors)
            if delay is None:
                self._give_up(q, config, RETRIES_EXHAUSTED)
                return
            self._retry_at(q, config, self.lab.clock.now() + delay)

    def _retry_at(self, q: QueuedEvent, config: AsyncConfig, at_s: float) -> None:
        expires_s = q.received_s + config.maximum_event_age_s
        # The event is discarded once it is older than the maximum age: check then, not later.
        self._schedule(min(at_s, expires_s), lambda: self._attempt(q), f"async {q.fn.name} retry")

    # --- endings -------------------------------------------------------------------
    def _give_up(self, q: QueuedEvent, config: AsyncConfig, condition: str) -> None:
        reason = f"{condition} after {q.attempts} attempt(s)"
        if not self._send_failure(q, config, condition, reason):
            self._log_dropped(q, condition, f"{reason}; no dead-letter queue or on-failure destination: "
                                            "event discarded")
            self._close(q, L.DROPPED, f"{reason}, no dead-letter queue or on-failure destination")

    def _stop_recursion(self, q: QueuedEvent, config: AsyncConfig) -> None:
        reason = f"recursive loop detected: invocation {q.depth} in one chain (limit {RECURSION_LIMIT})"
        targets = [arn for arn in (config.on_failure, config.dead_letter_arn) if arn]
        where = f"sent to {', '.join(targets)}" if targets else "no dead-letter queue or on-failure destination"
        self._log_dropped(q, RECURSION_STOPPED, f"{reason}; {where}")
        if not self._send_failure(q, config, RETRIES_EXHAUSTED, f"{RECURSION_STOPPED}: {reason}", logged=True):
            self._close(q, L.DROPPED, f"{RECURSION_STOPPED}: {reason}")

    def _send_failure(self, q: QueuedEvent, config: AsyncConfig, condition: str, reason: str, *,
                      logged: bool = False) -> bool:
        """Send to the on-failure destination and the DLQ, then end the item; False if neither is set.

        The item ends where a send arrived (the destination first); if every send failed
        (queue deleted, payload too large) it is dropped with a ``dropped`` log row (unless
        ``logged``: the caller wrote one), and ``lab.sends`` counts the failed writes.
        """
        attempts = []
        if config.on_failure:
            attempts.append((L.DESTINATION, self._deliver_record(q, config.on_failure, condition)))
        if config.dead_letter_arn:
            attempts.append((L.DEAD_LETTER, self._deliver_dead_letter(q, config.dead_letter_arn)))
        if not attempts:
            return False
        arrived = [(ending, result.target) for ending, result in attempts if result.ok]
        if arrived:
            self._close(q, arrived[0][0], ", ".join(target for _, target in arrived))
            return True
        errors = "; ".join(f"{result.target}: {result.error}" for _, result in attempts)
        # AWS counts the failed write (DestinationDeliveryFailures, DeadLetterErrors) and the
        # event is gone: the log shows the drop as it shows one with no target at all.
        if not logged:
            self._log_dropped(q, condition, f"{reason}; every write failed ({errors}): event discarded")
        self._close(q, L.DROPPED, f"{reason}; write failed ({errors})")
        return True

    def _log_dropped(self, q: QueuedEvent, error_type: str, message: str) -> None:
        self.lab.log.add(Invocation.never_ran(
            q.fn.name, q.source, "dropped", at=self.lab.clock.elapsed(), error_type=error_type,
            error_message=message, request_id=q.request_id, attempt=q.attempts, items=q.items,
        ))

    def _close(self, q: QueuedEvent, ending: str, where: str) -> None:
        q.done = True
        self._live.discard(id(q))
        self.lab.ledger.end(q.entry, ending, where, L.LAMBDA)

    # --- where records go ----------------------------------------------------------
    def invocation_record(self, q: QueuedEvent, condition: str) -> dict[str, Any]:
        """AWS's invocation record for ``q`` (what destinations receive)."""
        inv = q.last
        context: dict[str, Any] = {
            "requestId": q.request_id,
            "functionArn": f"{q.fn.arn}:{q.fn.version}",
            "condition": condition,
            "approximateInvokeCount": q.attempts,
        }
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": q.fn.version}
        payload = inv.result if inv is not None else None
        if inv is None or inv.outcome == "throttled":
            response = {"statusCode": 429, "executedVersion": q.fn.version, "functionError": "Unhandled"}
        elif inv.outcome != "success":
            response["functionError"] = "Unhandled"
        return {
            "version": "1.0",
            "timestamp": self.lab.clock.iso(),
            "requestContext": context,
            "requestPayload": q.event,
            "responseContext": response,
            "responsePayload": payload,
        }

    def _deliver_record(self, q: QueuedEvent, arn: str, condition: str) -> Any:
        record = self.invocation_record(q, condition)
        if parse_arn(arn)[0] == "sns":
            record = _fit_sns(record)
        outcome = "Success" if condition == SUCCESS else "Failure"
        return send(self.lab, arn, record, function=q.fn.name, purpose=DESTINATION, depth=q.depth,
                    detail_type=f"Lambda Function Invocation Result - {outcome}",
                    resources=[arn, record["requestContext"]["functionArn"]])

    def _deliver_dead_letter(self, q: QueuedEvent, arn: str) -> Any:
        inv = q.last
        code = "429" if inv is None or inv.outcome == "throttled" else "200"
        message = (inv.error_message if inv is not None else None) or "Event dropped before it was run"
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": q.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": code},
            "ErrorMessage": {"DataType": "String", "StringValue": _truncate(message, limits.DLQ_ERROR_MESSAGE_MAX_BYTES)},
        }
        return send(self.lab, arn, q.event, function=q.fn.name, purpose=DEAD_LETTER, depth=q.depth,
                    attributes=attributes)


# --- helpers -------------------------------------------------------------------------
#: The record fields an SNS destination loses when the record is too big (``_fit_sns``).
PAYLOAD_FIELDS = ("requestPayload", "responsePayload")


def _fit_sns(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` as an SNS destination receives it: without its payloads when over 256 KB.

    limits.ON_FAILURE_URL (and API_OnSuccess): "Amazon SNS destinations have a message size
    limit of 256 KB. If the combined size of the function request and response payload exceeds
    the limit, Lambda will drop the payload". The rest of the record (request and response
    context) still arrives, so the failure stays visible.
    """
    body, error = encode(record)
    if error is not None or len(body.encode()) <= limits.SNS_DESTINATION_MAX_BYTES:
        return record
    return {key: value for key, value in record.items() if key not in PAYLOAD_FIELDS}


def _truncate(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8 (AWS's DLQ ErrorMessage is "truncated to 1 KB")."""
    return text.encode()[:max_bytes].decode(errors="ignore")
