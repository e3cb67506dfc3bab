"""Chapter 02's exercise checks: the starter fails with a hint, the solution passes, plausible wrong answers fail.

The handlers call this module's ``process``, as the notebook's handlers call the chapter's: the
checks swap it for one that records every call while a handler runs.
"""

from __future__ import annotations

import json
import warnings

import pytest

from lambda_lab.check import sqs as check
from lambda_lab.sources.sqs import VisibilityTimeoutWarning
from verdicts import assert_not_yet


def process(order):
    """The chapter's stand-in for real work: it needs an order_id and an amount."""
    return {"order_id": order["order_id"], "total": round(order["amount"] * 1.2, 2)}


def _failure(record):
    return {"itemIdentifier": record["messageId"]}


# --------------------------------------------------------------------------- Exercise 1
def starter_1(event, context):
    ...  # your code here


def solution_1(event, context):
    failures = []
    for record in event["Records"]:
        try:
            process(json.loads(record["body"]))
        except (ValueError, KeyError, TypeError):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def blog_handler(event, context):
    """The chapter's section-4 handler: also right."""
    batch_item_failures = []
    for record in event["Records"]:
        try:
            process(json.loads(record["body"]))
        except Exception:
            batch_item_failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": batch_item_failures}


def raises(event, context):
    for record in event["Records"]:
        process(json.loads(record["body"]))


def catches_only_bad_json(event, context):
    failures = []
    for record in event["Records"]:
        try:
            process(json.loads(record["body"]))
        except json.JSONDecodeError:
            failures.append(_failure(record))
    return {"batchItemFailures": failures}


def stops_at_first_failure(event, context):
    for record in event["Records"]:
        try:
            process(json.loads(record["body"]))
        except Exception:
            return {"batchItemFailures": [_failure(record)]}
    return {"batchItemFailures": []}


def validates_without_process(event, context):
    """Checks for an order_id itself and never does the work."""
    failures = []
    for record in event["Records"]:
        try:
            json.loads(record["body"])["order_id"]
        except (ValueError, KeyError, TypeError):
            failures.append(_failure(record))
    return {"batchItemFailures": failures}


def reports_bodies(event, context):
    failures = []
    for record in event["Records"]:
        try:
            process(json.loads(record["body"]))
        except Exception:
            failures.append({"itemIdentifier": record["body"]})
    return {"batchItemFailures": failures}


def processes_twice(event, context):
    """Validates with process(), then processes again: every good order done twice."""
    failures = []
    for record in event["Records"]:
        try:
            order = json.loads(record["body"])
            process(order)
        except Exception:
            failures.append(_failure(record))
            continue
        process(order)
    return {"batchItemFailures": failures}


def test_exercise_1_starter_says_not_yet_with_a_hint():
    assert_not_yet(check.partial_batch(starter_1), "never processed", "process(json.loads(body))")


@pytest.mark.parametrize("handler", [solution_1, blog_handler], ids=["solution", "blog-handler"])
def test_exercise_1_solution_passes(handler):
    assert check.partial_batch(handler)
    assert process.__name__ == "process" and globals()["process"] is process  # put back after the check


@pytest.mark.parametrize("handler, hint", [
    (raises, "raised"),
    (catches_only_bad_json, "raised KeyError"),
    (stops_at_first_failure, "also after a failure: keep going"),
    (validates_without_process, "never processed"),
    (reports_bodies, "unknown itemIdentifier"),
    (processes_twice, "processed more than once"),
], ids=["raises", "catches-only-bad-json", "stops-at-first-failure", "validates-without-process", "reports-bodies",
        "processes-twice"])
def test_exercise_1_rejects_plausible_wrong_answers(handler, hint):
    assert_not_yet(check.partial_batch(handler), hint)


def test_exercise_1_lets_a_batch_where_every_record_fails_raise():
    def powertools_like(event, context):
        response = solution_1(event, context)
        if len(response["batchItemFailures"]) == len(event["Records"]):
            raise RuntimeError("All records failed processing")
        return response

    assert check.partial_batch(powertools_like)


# --------------------------------------------------------------------------- Exercise 2
def _make_queue(lab, name, *, visibility_s=30, max_receive=5):
    sqs = lab.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    policy = {"deadLetterTargetArn": lab.arn("sqs", f"{name}-dlq"), "maxReceiveCount": str(max_receive)}
    attributes = {"VisibilityTimeout": str(visibility_s), "RedrivePolicy": json.dumps(policy)}
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"], dlq_url


@pytest.fixture
def ex2(lab):
    """The exercise's starter cell: a queue and a mapping with the defaults (under the 6x guidance: it warns)."""
    url, dlq = _make_queue(lab, "ex2")
    with pytest.warns(VisibilityTimeoutWarning):
        mapping = lab.sqs_trigger(url, lab.function("ex2", blog_handler, timeout_s=20))
    with warnings.catch_warnings():  # some wrong answers below are under the guidance too
        warnings.simplefilter("ignore", VisibilityTimeoutWarning)
        yield lab, url, dlq, mapping


def _solution_2(lab, url, old, *, visibility_s=6 * 20 + 5, window_s=5, timeout_s=20, report=True, disable=True,
                queue=None):
    if disable:
        old.disable()
    lab.client("sqs").set_queue_attributes(QueueUrl=queue or url, Attributes={"VisibilityTimeout": str(visibility_s)})
    return lab.sqs_trigger(url, lab.function("ex2", blog_handler, timeout_s=timeout_s), batch_size=50,
                           maximum_batching_window_s=window_s, report_batch_item_failures=report)


def test_exercise_2_starter_says_not_yet_with_a_hint(ex2):
    lab, url, _, _ = ex2
    assert_not_yet(check.mapping_settings(lab, url), "batch size is 10", "report_batch_item_failures",
                    "visibility timeout is 30 s")


def test_exercise_2_solution_passes(ex2):
    lab, url, _, old = ex2
    _solution_2(lab, url, old)
    assert check.mapping_settings(lab, url)


def test_exercise_2_a_window_of_the_least_aws_accepts_passes(ex2):
    lab, url, _, old = ex2
    _solution_2(lab, url, old, window_s=1, visibility_s=121)
    assert check.mapping_settings(lab, url)


@pytest.mark.parametrize("change, hint", [
    ({"disable": False}, "2 enabled mappings"),
    ({"visibility_s": 6 * 20}, "under 6 x 20 s + the 5 s window = 125 s"),
    ({"queue": "dlq"}, "visibility timeout is 30 s"),
    ({"report": False}, "report_batch_item_failures"),
    ({"timeout_s": 5, "visibility_s": 35}, "the function's timeout is 5 s"),
], ids=["old-mapping-still-enabled", "visibility-without-the-window", "visibility-set-on-the-dlq",
        "no-partial-batch-responses", "function-timeout-lowered"])
def test_exercise_2_rejects_plausible_wrong_answers(ex2, change, hint):
    lab, url, dlq, old = ex2
    if change.get("queue") == "dlq":
        change = {**change, "queue": dlq}
    _solution_2(lab, url, old, **change)
    assert_not_yet(check.mapping_settings(lab, url), hint)


def test_exercise_2_no_enabled_mapping_and_not_a_url(ex2):
    lab, url, _, old = ex2
    old.disable()
    assert_not_yet(check.mapping_settings(lab, url), "no enabled mapping")
    assert_not_yet(check.mapping_settings(lab, old), "expected the queue's URL")


# --------------------------------------------------------------------------- Exercise 3
def starter_3(event, context):
    ...  # your code here


def solution_3(event, context):
    records = event["Records"]
    for i, record in enumerate(records):
        try:
            process(json.loads(record["body"]))
        except (ValueError, KeyError, TypeError):
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records[i:]]}
    return {"batchItemFailures": []}


def keeps_processing_reports_the_rest(event, context):
    """Reports the right ids, but processes every record: later orders overtake the failed one."""
    records, first = event["Records"], None
    for i, record in enumerate(records):
        try:
            process(json.loads(record["body"]))
        except Exception:
            first = i if first is None else first
    return {"batchItemFailures": [_failure(r) for r in records[first:]] if first is not None else []}


def only_the_failures(event, context):
    return solution_1(event, context)


def stops_reports_only_the_failure(event, context):
    return stops_at_first_failure(event, context)


def skips_the_failure_itself(event, context):
    records = event["Records"]
    for i, record in enumerate(records):
        try:
            process(json.loads(record["body"]))
        except Exception:
            return {"batchItemFailures": [_failure(r) for r in records[i + 1:]]}
    return {"batchItemFailures": []}


def raises_at_the_failure(event, context):
    for record in event["Records"]:
        process(json.loads(record["body"]))


def test_exercise_3_starter_says_not_yet_with_a_hint():
    assert_not_yet(check.fifo_stop_at_first_failure(starter_3), "process(json.loads(body))")


def test_exercise_3_solution_passes():
    assert check.fifo_stop_at_first_failure(solution_3)


@pytest.mark.parametrize("handler, hint", [
    (keeps_processing_reports_the_rest, "processed after the first failure"),
    (only_the_failures, "processed after the first failure"),
    (stops_reports_only_the_failure, "expected the first failure and everything after it"),
    (skips_the_failure_itself, "expected the first failure and everything after it"),
    (raises_at_the_failure, "raised"),
], ids=["keeps-processing-reports-the-rest", "reports-only-the-failures", "stops-but-reports-only-the-failure",
        "skips-the-failure-itself", "raises-at-the-failure"])
def test_exercise_3_rejects_plausible_wrong_answers(handler, hint):
    assert_not_yet(check.fifo_stop_at_first_failure(handler), hint)


def test_checks_refuse_what_is_not_a_handler():
    assert_not_yet(check.partial_batch(None), "expected a function")
    assert_not_yet(check.fifo_stop_at_first_failure({}), "expected a function")
