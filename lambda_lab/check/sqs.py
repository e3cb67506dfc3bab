"""Exercise checks for chapter 02_sqs.

Handlers are checked the way Powertools' docs suggest testing them: call them with
well-formed SQS events (``events.sqs.sample_event``) and read the answer. The
configuration check reads the chapter's queue and mapping.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

from . import Verdict, report
from ..events.sqs import sample_event
from .. import limits
from ..sources import batching
from ..sources.sqs import VISIBILITY_FACTOR

if TYPE_CHECKING:
    from ..sources.sqs import SqsEventSourceMapping

Handler = Callable[[Any, Any], Any]

GOOD = [json.dumps({"order_id": n, "amount": 10 * n}) for n in (1, 2, 3)]
BAD = ["not json at all", json.dumps({"amount": 5}), json.dumps(["order_id", 4])]


def _call(handler: Handler, event: dict) -> tuple[Any, str | None]:
    try:
        return handler(event, None), None
    except Exception as exc:  # the learner's bug is the check's finding
        return None, f"{type(exc).__name__}: {exc}"


def _failed_ids(response: Any, event: dict) -> tuple[str, ...] | str:
    """The ids Lambda would retry, or a sentence saying why the whole batch fails."""
    ids = [r["messageId"] for r in event["Records"]]
    outcome = batching.judge("success", response, ids, report_batch_item_failures=True)
    if outcome.all_failed and len(ids) > 1 and "partial" not in outcome.reason:
        return outcome.reason
    return outcome.failed


def _retried(name: str, handler: Handler, event: dict, expected: list[str]) -> str | None:
    """What is wrong when ``handler`` answers ``event``, if Lambda would not retry exactly ``expected`` bodies."""
    response, error = _call(handler, event)
    if error:
        return f"{name}: the handler raised {error}, so Lambda retries the whole batch"
    failed = _failed_ids(response, event)
    if isinstance(failed, str):
        return f"{name}: {failed}"
    bodies = {r["messageId"]: r["body"] for r in event["Records"]}
    got = [bodies[i] for i in failed]
    return None if got == expected else f"{name}: Lambda would retry {got}, expected {expected}"


def partial_batch(handler: Handler) -> Verdict:
    """Exercise 1: report exactly the records without a JSON ``order_id``, never raise."""
    mixed = [GOOD[0], BAD[0], GOOD[1], BAD[1], BAD[2], GOOD[2]]
    cases = (("all good batch", GOOD), ("mixed batch", mixed))
    problems = [_retried(name, handler, sample_event(bodies), [b for b in bodies if b in BAD])
                for name, bodies in cases]
    return report("Exercise 1 (report only what failed)", [p for p in problems if p])


def mapping_settings(mapping: "SqsEventSourceMapping") -> Verdict:
    """Exercise 2: batches of 50, a window AWS accepts, and a visibility timeout that follows the 6x guidance."""
    problems = []
    if mapping.batch_size != 50:
        problems.append(f"batch size is {mapping.batch_size}, the exercise asks for 50")
    if mapping.fn.timeout_s != 20:
        problems.append(f"function timeout is {mapping.fn.timeout_s} s, the exercise asks for 20 s")
    if mapping.batch_size > limits.WINDOW_REQUIRED_ABOVE_BATCH_SIZE and mapping.window_s < 1:
        problems.append("batches over 10 need a batching window of at least 1 s")
    attrs = mapping.sqs.get_queue_attributes(QueueUrl=mapping.queue_url, AttributeNames=["VisibilityTimeout"])
    visibility = int(attrs["Attributes"]["VisibilityTimeout"])
    advised = VISIBILITY_FACTOR * mapping.fn.timeout_s + mapping.window_s
    if visibility < advised:
        problems.append(
            f"visibility timeout {visibility} s is under 6 x {mapping.fn.timeout_s:g} s + {mapping.window_s:g} s "
            f"= {advised:g} s")
    if not mapping.report_batch_item_failures:
        problems.append("turn on report_batch_item_failures so one bad message does not retry 49 good ones")
    return report("Exercise 2 (settings that follow the guidance)", problems)


def fifo_stop_at_first_failure(handler: Handler) -> Verdict:
    """Exercise 3: on a FIFO batch, report the first failure and every record after it."""
    cases = (
        ("no failure", ["ok-1", "ok-2", "ok-3"], 3),
        ("failure in the middle", ["ok-1", "ok-2", "fail-3", "ok-4", "ok-5"], 2),
        ("failure first", ["fail-1", "ok-2"], 0),
    )
    problems = [_retried(name, handler, sample_event(bodies, group_id="customer-7"), bodies[first_bad:])
                for name, bodies, first_bad in cases]
    problems = [p for p in problems if p]
    return report("Exercise 3 (FIFO: stop at the first failure)", problems)
