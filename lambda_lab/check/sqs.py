"""Exercise checks for chapter 02_sqs.

Handlers are checked the way Powertools' docs suggest testing them: call them with
well-formed SQS events (``events.sqs.sample_event``) and read the answer the way Lambda reads
it (``sources.batching.judge``). The checks also watch the work: while a handler runs, the
chapter's ``process`` is replaced, in the handler's own module namespace, by one that does the
same work and records every call, so a check sees which records were processed, and in which
order, not only which ones were reported. The configuration check reads the lab's own
mappings for the queue and the queue's attributes through boto3, never a value typed in.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any, Callable, Iterator

from botocore.exceptions import ClientError

from . import Verdict, report, short
from ..events.sqs import sample_event
from .. import limits
from ..sources import batching
from ..sources.sqs import VISIBILITY_FACTOR, SqsEventSourceMapping

if TYPE_CHECKING:
    from ..lab import Lab

Handler = Callable[[Any, Any], Any]

EX1 = "Exercise 1 (report only what failed)"
EX2 = "Exercise 2 (settings that follow the guidance)"
EX3 = "Exercise 3 (FIFO: stop at the first failure)"


def _order(order_id: int) -> str:
    return json.dumps({"order_id": order_id, "amount": 10 * order_id})


#: Bodies that fail, and why: each is caught by a different exception from json.loads or process.
NOT_JSON = "not json at all"
NO_ORDER_ID = json.dumps({"amount": 5})
NOT_AN_OBJECT = json.dumps(["order_id", 4])
NO_AMOUNT = json.dumps({"order_id": 70})  # has an order_id: only process() tells it fails
AMOUNT_AS_TEXT = json.dumps({"order_id": 80, "amount": "12.50"})
JSON_NULL = "null"
BAD = (NOT_JSON, NO_ORDER_ID, NOT_AN_OBJECT, NO_AMOUNT, AMOUNT_AS_TEXT, JSON_NULL)


def reference_process(order: Any) -> dict:
    """The chapter's ``process``: it needs an ``order_id`` and a numeric ``amount``."""
    return {"order_id": order["order_id"], "total": round(order["amount"] * 1.2, 2)}


def _namespace(handler: Any) -> dict | None:
    """The module namespace the handler's code looks ``process`` up in (through decorators)."""
    seen = 0
    while hasattr(handler, "__wrapped__") and seen < 10:
        handler, seen = handler.__wrapped__, seen + 1
    namespace = getattr(handler, "__globals__", None)
    return namespace if isinstance(namespace, dict) else None


@contextlib.contextmanager
def watching_process(handler: Any) -> Iterator[list[tuple[Any, bool]]]:
    """While the block runs, ``process`` in the handler's namespace records (order, succeeded) per call."""
    calls: list[tuple[Any, bool]] = []

    def process(order: Any) -> dict:
        try:
            result = reference_process(order)
        except Exception:
            calls.append((order, False))
            raise
        calls.append((order, True))
        return result

    namespace = _namespace(handler)
    if namespace is None:
        yield calls
        return
    missing = object()
    saved = namespace.get("process", missing)
    namespace["process"] = process
    try:
        yield calls
    finally:
        if saved is missing:
            namespace.pop("process", None)
        else:
            namespace["process"] = saved


def _run(handler: Handler, event: dict) -> tuple[Any, str | None, list[tuple[Any, bool]]]:
    """Call the handler; return (response, error text or None, process calls)."""
    with watching_process(handler) as calls:
        try:
            return handler(event, None), None, calls
        except Exception as exc:  # the learner's bug is the check's finding
            return None, f"{type(exc).__name__}: {exc}", calls


def _retried(response: Any, event: dict) -> tuple[list[str], str]:
    """The bodies Lambda would leave in the queue for ``response``, and Lambda's reason."""
    ids = [r["messageId"] for r in event["Records"]]
    outcome = batching.judge("success", response, ids, report_batch_item_failures=True)
    bodies = {r["messageId"]: r["body"] for r in event["Records"]}
    return [bodies[i] for i in outcome.failed], outcome.reason


def _processed(calls: list[tuple[Any, bool]]) -> list[Any]:
    """The order ids ``process`` completed, in call order."""
    return [order.get("order_id") for order, ok in calls if ok and isinstance(order, dict)]


def _ids(bodies: list[str]) -> list[Any]:
    return [json.loads(b)["order_id"] for b in bodies]


# --------------------------------------------------------------------------- Exercise 1
EX1_CASES = (
    ("all good", [_order(1), _order(2), _order(3)]),
    ("mixed", [_order(4), NOT_JSON, _order(5), NO_ORDER_ID, NOT_AN_OBJECT, NO_AMOUNT, _order(6), AMOUNT_AS_TEXT]),
    ("failure first", [JSON_NULL, _order(7), _order(8)]),
    ("every record bad", [NO_AMOUNT, NOT_JSON]),
)


def partial_batch(handler: Handler) -> Verdict:
    """Exercise 1: process every good record once (also after a failure), report exactly the bad ones, never raise."""
    if not callable(handler):
        return report(EX1, [f"expected a function handler(event, context), got {short(handler)}"])
    problems = []
    for name, bodies in EX1_CASES:
        event = sample_event(bodies)
        response, error, calls = _run(handler, event)
        good = [b for b in bodies if b not in BAD]
        bad = [b for b in bodies if b in BAD]
        if error:
            if good:
                problems.append(f"{name} batch: the handler raised {error}, so Lambda retries the whole batch, "
                                "good orders included: catch the failure per record")
                break
            retried = bodies  # every record failed: raising retries exactly them, as Powertools does
        else:
            retried, reason = _retried(response, event)
            if retried == bodies and bad != bodies and "partial" not in reason:
                problems.append(f"{name} batch: {reason}")
                break
        if retried != bad:
            lost = [b for b in bad if b not in retried]
            again = [b for b in retried if b not in bad]
            if lost:
                problems.append(f"{name} batch: Lambda would delete {lost} as done (report each failed record's "
                                "messageId in batchItemFailures)")
            if again:
                problems.append(f"{name} batch: Lambda would deliver the good order(s) {again} again (report only "
                                "the records that failed)")
        done = _processed(calls)
        never = [o for o in _ids(good) if done.count(o) == 0]
        twice = [o for o in _ids(good) if done.count(o) > 1]
        if never:
            after_failure = bad and any(bodies.index(_order(o)) > bodies.index(bad[0]) for o in never)
            problems.append(f"{name} batch: order(s) {never} never processed: call process(json.loads(body)) for "
                            f"each record{' (also after a failure: keep going)' if after_failure else ''}")
        if twice:
            problems.append(f"{name} batch: order(s) {twice} processed more than once: process each record once")
        if problems:
            break  # one batch at a time: the first that goes wrong says enough
    return report(EX1, problems)


# --------------------------------------------------------------------------- Exercise 2
def mapping_settings(lab: "Lab", queue_url: str, function_timeout_s: int = 20, batch_size: int = 50) -> Verdict:
    """Exercise 2: the one enabled mapping on ``queue_url`` takes batches of 50 with a window, reports
    batch item failures, keeps the function's 20 s timeout, and the queue's visibility timeout is at
    least 6 x timeout + window.

    Reads the lab's mappings (not an object the learner passes) and the queue through boto3.
    """
    if not isinstance(queue_url, str):
        return report(EX2, [f"expected the queue's URL, got {short(queue_url)}"])
    mappings = [s for s in lab.sources if isinstance(s, SqsEventSourceMapping) and s.queue_url == queue_url]
    enabled = [m for m in mappings if m.state == "Enabled"]
    if not enabled:
        return report(EX2, [f"no enabled mapping reads {queue_url.rsplit('/', 1)[-1]!r} "
                            f"({len(mappings)} disabled): create one with lab.sqs_trigger"])
    problems = []
    if len(enabled) > 1:
        problems.append(f"{len(enabled)} enabled mappings read the queue, so the old settings still take batches: "
                        "disable the first one (ex2.disable()) before creating the new one")
    mapping = enabled[-1]
    config = mapping.configuration
    timeout = mapping.fn.timeout_s
    window = config["MaximumBatchingWindowInSeconds"]
    if config["BatchSize"] != batch_size:
        problems.append(f"batch size is {config['BatchSize']}, the exercise asks for {batch_size}")
    if timeout != function_timeout_s:
        problems.append(f"the function's timeout is {timeout:g} s; the report function needs {function_timeout_s} s "
                        "(size the queue for the function, not the function for the queue)")
    if config["BatchSize"] > limits.WINDOW_REQUIRED_ABOVE_BATCH_SIZE and window < limits.WINDOW_REQUIRED_MIN_S:
        problems.append(f"batches over {limits.WINDOW_REQUIRED_ABOVE_BATCH_SIZE} need a batching window of at "
                        f"least {limits.WINDOW_REQUIRED_MIN_S} s")
    if "ReportBatchItemFailures" not in config["FunctionResponseTypes"]:
        problems.append("turn on report_batch_item_failures so one bad message does not send 49 good ones back")
    try:
        attrs = lab.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])
        visibility = int(attrs["Attributes"]["VisibilityTimeout"])
    except (ClientError, KeyError, ValueError) as error:
        problems.append(f"could not read the queue's visibility timeout: {error}")
        return report(EX2, problems)
    advised = VISIBILITY_FACTOR * timeout + window
    if visibility < advised:
        problems.append(f"the queue's visibility timeout is {visibility} s, under {VISIBILITY_FACTOR} x "
                        f"{timeout:g} s + the {window:g} s window = {advised:g} s (set it on the source queue "
                        "with sqs.set_queue_attributes)")
    return report(EX2, problems)


# --------------------------------------------------------------------------- Exercise 3
#: (name, bodies) on one message group; the first bad body is the first failure.
EX3_CASES = (
    ("no failure", [_order(1), _order(2), _order(3)]),
    ("failure in the middle", [_order(4), _order(5), NO_AMOUNT, _order(6), _order(7)]),
    ("two failures", [_order(8), NOT_JSON, _order(9), AMOUNT_AS_TEXT, _order(10)]),
    ("failure first", [NO_ORDER_ID, _order(11)]),
    ("failure last", [_order(12), _order(13), NO_AMOUNT]),
)


def fifo_stop_at_first_failure(handler: Handler) -> Verdict:
    """Exercise 3: on a FIFO batch, process in order up to the first failure, process nothing after it,
    and report it and every record after it."""
    if not callable(handler):
        return report(EX3, [f"expected a function handler(event, context), got {short(handler)}"])
    problems = []
    for name, bodies in EX3_CASES:
        event = sample_event(bodies, group_id="customer-7")
        first_bad = next((i for i, b in enumerate(bodies) if b in BAD), len(bodies))
        before, after = bodies[:first_bad], bodies[first_bad:]
        response, error, calls = _run(handler, event)
        if error:
            problems.append(f"{name}: the handler raised {error}, so Lambda retries the whole batch and the orders "
                            "before the failure are processed again: report instead")
            break
        retried, reason = _retried(response, event)
        if retried != after:
            problems.append(f"{name}: Lambda would retry {retried or 'nothing'}, expected the first failure and "
                            f"everything after it: {after or 'nothing'} ({reason})")
        done = _processed(calls)
        if done != _ids(before):
            kept_going = [o for o in done if o not in _ids(before)]
            if kept_going:
                problems.append(f"{name}: order(s) {kept_going} were processed after the first failure; stop "
                                "there so nothing overtakes the failed message")
            else:
                problems.append(f"{name}: processed orders {done}, expected {_ids(before)} once each, in order, "
                                "with process(json.loads(body))")
        elif len(calls) > len(before) + 1:  # the failing record itself may have called it
            problems.append(f"{name}: process() was called again after the first failure; stop there")
        if problems:
            break  # one batch at a time: the first that goes wrong says enough
    return report(EX3, problems)
