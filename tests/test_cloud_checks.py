"""Chapter 08's exercise checks: the solutions pass, the starters and plausible wrong answers do not."""

from __future__ import annotations

import linecache
import textwrap
from itertools import count

import pytest
from verdicts import assert_not_yet

from lambda_lab.check import cloud as check
from lambda_lab.helpers.dynamodb import create_table

_CELLS = count(1)


def cell(source: str, **scope):
    """The functions a notebook cell with ``source`` defines (``__main__`` globals, source readable)."""
    source = textwrap.dedent(source)
    filename = f"<ipykernel cell {next(_CELLS)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope.setdefault("__name__", "__main__")
    exec(compile(source, filename, "exec"), scope)
    return scope


# --- exercise 1: a handler that travels ------------------------------------------------------

SOLUTION_1 = '''
import json

import boto3


def save_orders(event, context):
    ddb = boto3.client("dynamodb")
    for record in event["Records"]:
        order = json.loads(record["body"])
        ddb.put_item(TableName="ex1-orders", Item={"order_id": {"S": order["order_id"]},
                                                   "total": {"N": str(order["total"])}})
'''


@pytest.fixture
def ex1_lab(lab):
    create_table(lab, "ex1-orders", "order_id")
    return lab


def test_exercise_1_solution_passes(ex1_lab):
    assert check.travels(ex1_lab, cell(SOLUTION_1)["save_orders"])


def test_exercise_1_starter_is_refused_because_it_reads_notebook_state(ex1_lab):
    starter = cell('''
        def save_orders(event, context):
            for record in event["Records"]:
                order = json.loads(record["body"])
                ddb.put_item(TableName=EX1_TABLE, Item={"order_id": {"S": order["order_id"]},
                                                        "total": {"N": str(order["total"])}})
    ''', json=__import__("json"), ddb=ex1_lab.client("dynamodb"), EX1_TABLE="ex1-orders")["save_orders"]
    assert_not_yet(check.travels(ex1_lab, starter), "lab.to_sam would refuse it", "notebook state", "ddb",
                   "EX1_TABLE")


def _closure():
    import json

    import boto3

    def save_orders(event, context):
        for record in event["Records"]:
            order = json.loads(record["body"])
            boto3.client("dynamodb").put_item(TableName="ex1-orders", Item={"order_id": {"S": order["order_id"]},
                                                                           "total": {"N": str(order["total"])}})
    return save_orders


@pytest.mark.parametrize("make, hint", [
    (lambda: cell(SOLUTION_1.replace("def save_orders(event, context):", "def _inner(event, context):")
                  + "\nsave_orders = lambda event, context: _inner(event, context)\n")["save_orders"],
     "lambda expression"),
    (_closure, "closure"),
    (lambda: cell(SOLUTION_1.replace('    ddb = boto3.client("dynamodb")\n', "").replace(
        "def save_orders", 'ddb = boto3.client("dynamodb")\n\n\ndef save_orders'))["save_orders"],
     "ddb (DynamoDB)"),
])
def test_exercise_1_handlers_that_cannot_leave_the_notebook_are_refused(ex1_lab, make, hint):
    assert_not_yet(check.travels(ex1_lab, make()), "lab.to_sam would refuse it", hint)


@pytest.mark.parametrize("change, hint", [
    (('TableName="ex1-orders"', 'TableName="orders"'), "was not saved in ex1-orders"),
    (('{"N": str(order["total"])}', '{"S": str(order["total"])}'), "save it as a number"),
    (('{"N": str(order["total"])}', '{"N": str(round(order["total"]))}'), "another value"),
    (("    for record in event[\"Records\"]:\n", "    for record in event[\"Records\"][:1]:\n"), "was not saved"),
    (('record["body"]', 'record["Body"]'), "the exported handler failed: KeyError"),
])
def test_exercise_1_exportable_but_wrong_handlers_fail_on_behaviour(lab, change, hint):
    lab.client("dynamodb").create_table(  # "orders" exists too, so writing there does not fail loudly
        TableName="orders", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}])
    create_table(lab, "ex1-orders", "order_id")
    source = SOLUTION_1.replace(*change)
    assert source != SOLUTION_1
    assert_not_yet(check.travels(lab, cell(source)["save_orders"]), hint)


def test_exercise_1_needs_the_table(lab):
    assert_not_yet(check.travels(lab, cell(SOLUTION_1)["save_orders"]), "the table ex1-orders is missing")


# --- exercise 2: a stream consumer that passes the review ------------------------------------


def ex2_confirm(event, context):
    for record in event["Records"]:
        total = record["dynamodb"]["NewImage"]["total"]["N"]
        if total.startswith("-"):
            raise ValueError(f"total must not be negative, got {total}")


@pytest.fixture
def ex2(lab):
    sqs = lab.client("sqs")
    for name in ("ex2-failed", "other-failed"):
        sqs.create_queue(QueueName=name)
    stream = create_table(lab, "ex2-orders", "order_id", view_type="NEW_IMAGE")
    return lab, lab.stream_trigger(stream, lab.function("ex2-confirm", ex2_confirm))


def _settings(lab, **changes):
    good = {"maximum_retry_attempts": 2, "bisect_batch_on_function_error": True,
            "on_failure": lab.arn("sqs", "ex2-failed"), "report_batch_item_failures": True}
    return {k: v for k, v in {**good, **changes}.items() if v is not None}


def test_exercise_2_solution_passes(ex2):
    lab, mapping = ex2
    mapping.update(**_settings(lab))
    assert check.reviewed(lab, mapping)


def test_exercise_2_a_record_age_bound_alone_passes_the_review_but_skips_good_orders(ex2):
    # Chapter 04's lesson: the batch ages out together, so the good orders go to the queue too.
    lab, mapping = ex2
    mapping.update(**_settings(lab, maximum_retry_attempts=-1, maximum_record_age_s=60))
    assert_not_yet(check.reviewed(lab, mapping), "went to the on-failure destination with the bad one",
                   "RecordAgeExceeded")


def test_exercise_2_starter_fails_the_review(ex2):
    lab, mapping = ex2
    assert_not_yet(check.reviewed(lab, mapping), "review: bounded retries", "review: bisect batch on error",
                   "review: on-failure destination", "review: report batch item failures")


@pytest.mark.parametrize("changes, hint", [
    ({"maximum_retry_attempts": None}, "review: bounded retries"),
    ({"bisect_batch_on_function_error": None}, "review: bisect batch on error"),
    ({"on_failure": None}, "review: on-failure destination"),
    ({"report_batch_item_failures": None}, "review: report batch item failures"),
])
def test_exercise_2_each_missing_setting_is_named(ex2, changes, hint):
    lab, mapping = ex2
    mapping.update(**_settings(lab, **changes))
    assert_not_yet(check.reviewed(lab, mapping), hint)


def test_exercise_2_retries_bounded_but_too_many_still_block_the_shard(ex2):
    lab, mapping = ex2
    mapping.update(**_settings(lab, maximum_retry_attempts=10_000))
    assert_not_yet(check.reviewed(lab, mapping), "after an hour only", "still holds up the shard")


def test_exercise_2_the_bad_order_must_reach_ex2_failed(ex2):
    lab, mapping = ex2
    mapping.update(**_settings(lab, on_failure=lab.arn("sqs", "other-failed")))
    assert_not_yet(check.reviewed(lab, mapping), "should end in ex2-failed", "other-failed")
