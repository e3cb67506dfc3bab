"""Chapter 04's exercise checks: the starter fails with a hint, the solution passes, plausible wrong answers fail.

One lab serves the module (each check makes fresh names and ids). The set-up functions below are the
chapter's set-up cells, with the table, queue and function names as parameters so each test has its own.
"""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeDeserializer

from lambda_lab import Lab
from lambda_lab.check import dynamodb as check
from verdicts import assert_not_yet

ddb = None  # the chapter's ``ddb = lab.client("dynamodb")``, set by the lab fixture


@pytest.fixture(scope="module")
def lab():
    global ddb
    with Lab(seed=0) as shared:
        ddb = shared.client("dynamodb")
        setup_ex3(shared)
        yield shared
    ddb = None


# --------------------------------------------------------------------------- Exercise 1
def starter_1(image):
    ...  # your code here


_deserializer = TypeDeserializer()


def _decode_binary(value):
    """The attribute value with base64 text in B and BS decoded to bytes, at any depth."""
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind == "M":
        return {"M": {name: _decode_binary(v) for name, v in inner.items()}}
    if kind == "L":
        return {"L": [_decode_binary(v) for v in inner]}
    return value


def solution_1(image):
    return {name: _deserializer.deserialize(_decode_binary(value)) for name, value in image.items()}


def convert(value, *, number=Decimal, binary=base64.b64decode, sets=set, deep=True):
    """A hand-written converter; the keywords make the plausible mistakes."""
    (kind, inner), = value.items()
    again = (lambda v: convert(v, number=number, binary=binary, sets=sets, deep=deep)) if deep else (lambda v: v)
    if kind == "S":
        return inner
    if kind == "N":
        return number(inner)
    if kind == "B":
        return binary(inner)
    if kind == "BOOL":
        return inner
    if kind == "NULL":
        return None
    if kind == "SS":
        return sets(inner)
    if kind == "NS":
        return sets(number(v) for v in inner)
    if kind == "BS":
        return sets(binary(v) for v in inner)
    if kind == "L":
        return [again(v) for v in inner]
    if kind == "M":
        return {name: again(v) for name, v in inner.items()}
    raise ValueError(f"unknown type {kind}")


def handwritten_1(image):  # correct too: bytes, where boto3 gives Binary
    return {name: convert(value) for name, value in image.items()}


def deserializer_only(image):  # TypeDeserializer on the event as it is: TypeError on base64 binary
    return {name: _deserializer.deserialize(value) for name, value in image.items()}


def deserializer_top_level_binary_only(image):  # decodes B at the top, forgets B inside maps
    decoded = {name: {"B": base64.b64decode(v["B"])} if "B" in v else v for name, v in image.items()}
    return {name: _deserializer.deserialize(value) for name, value in decoded.items()}


def floats(image):
    return {name: convert(value, number=float) for name, value in image.items()}


def base64_text(image):
    return {name: convert(value, binary=str) for name, value in image.items()}


def sets_as_lists(image):
    return {name: convert(value, sets=list) for name, value in image.items()}


def not_nested(image):
    return {name: convert(value, deep=False) for name, value in image.items()}


def unchanged(image):
    return image


def test_ex1_starter_fails_with_a_hint(lab):
    assert_not_yet(check.to_python(lab, starter_1), "returned None")


def test_ex1_solution_passes_twice(lab):
    for _ in range(2):
        verdict = check.to_python(lab, solution_1)
        assert verdict, repr(verdict)
    assert repr(verdict) == "✓ Exercise 1 (DynamoDB JSON into Python): correct"


def test_ex1_hand_written_converter_passes(lab):
    verdict = check.to_python(lab, handwritten_1)
    assert verdict, repr(verdict)


@pytest.mark.parametrize("wrong, hints", [
    (deserializer_only, ["TypeError", "stream events carry binary as base64 text: decode it first"]),
    (deserializer_top_level_binary_only, ["stream events carry binary as base64 text", "at any depth"]),
    (floats, ["float instead of Decimal"]),
    (base64_text, ["still base64 text", "base64.b64decode"]),
    (sets_as_lists, ["are sets"]),
    (not_nested, ["nested values not converted"]),
    (unchanged, ["DynamoDB JSON unchanged"]),
])
def test_ex1_wrong_answers_fail(lab, wrong, hints):
    assert_not_yet(check.to_python(lab, wrong), *hints)


def test_ex1_not_a_function(lab):
    assert_not_yet(check.to_python(lab, "fn"), "expected a function")


def test_ex1_leaves_nothing_running(lab):
    before = list(lab.sources)
    check.to_python(lab, solution_1)
    assert lab.sources == before
    assert not any(name.startswith("ex1-check") for name in ddb.list_tables()["TableNames"])


# --------------------------------------------------------------------------- Exercise 2
def setup_ex2(lab, table="ex2-orders", queue="ex2-poison", function="ex2"):
    """The chapter's set-up cell: the orders table with its stream, the queue, and the function that
    refuses an order with a negative amount (the poison record)."""
    client, sqs = lab.client("dynamodb"), lab.client("sqs")
    client.create_table(TableName=table, KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST",
                        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    stream_arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]

    def ship(event, context):
        for record in event["Records"]:
            image = record["dynamodb"].get("NewImage")
            if image and Decimal(image["amount"]["N"]) < 0:
                raise ValueError(f"order {image['order_id']['S']}: negative amount {image['amount']['N']}")
        return {"shipped": len(event["Records"])}

    fn = lab.function(function, ship)
    return stream_arn, queue_url, fn


SOLUTION_2 = dict(bisect_batch_on_function_error=True, maximum_retry_attempts=2)


def _ex2(lab, name, **options):
    """Set up exercise 2 under ``name`` and make the learner's mapping with ``options``; return the check's args."""
    stream_arn, queue_url, fn = setup_ex2(lab, table=name, queue=f"{name}-poison", function=name)
    if options.pop("to_queue", False):
        options["on_failure"] = lab.arn("sqs", f"{name}-poison")
    mapping = lab.stream_trigger(stream_arn, fn, **options) if options.pop("make", True) else None
    return (name, queue_url, name), mapping


def test_ex2_starter_no_mapping_fails(lab):
    args, _ = _ex2(lab, "ex2-starter", make=False)
    assert_not_yet(check.unblocked(lab, *args), "no lab.stream_trigger")


def test_ex2_solution_passes_twice(lab):
    args, mapping = _ex2(lab, "ex2-solution", to_queue=True, **SOLUTION_2)
    for _ in range(2):
        verdict = check.unblocked(lab, *args)
        assert verdict, repr(verdict)
    assert repr(verdict) == "✓ Exercise 2 (a poison record must not block the shard): correct"
    assert lab.sources.count(mapping) == 1 and not mapping.stopped  # the learner's mapping is left in place
    assert check.unblocked(lab, "ex2-solution", "ex2-solution-poison", "ex2-solution")  # the queue by name


def test_ex2_retries_zero_passes(lab):
    args, _ = _ex2(lab, "ex2-zero", to_queue=True, bisect_batch_on_function_error=True, maximum_retry_attempts=0)
    assert check.unblocked(lab, *args)


def test_ex2_defaults_block_then_the_fix_passes(lab):
    args, blocked = _ex2(lab, "ex2-defaults")
    assert_not_yet(check.unblocked(lab, *args), "the shard is blocked", "24 h")
    blocked.stop()  # what the learner does next: stop the old mapping, make the right one
    fn = lab.runtime.functions["ex2-defaults"]
    arn = ddb.describe_table(TableName="ex2-defaults")["Table"]["LatestStreamArn"]
    lab.stream_trigger(arn, fn, on_failure=lab.arn("sqs", "ex2-defaults-poison"), **SOLUTION_2)
    verdict = check.unblocked(lab, *args)
    assert verdict, repr(verdict)


@pytest.mark.parametrize("name, options, hints", [
    ("ex2-no-bisect", dict(to_queue=True, maximum_retry_attempts=2), ["skipped with the poison", "bisect"]),
    ("ex2-no-dest", dict(bisect_batch_on_function_error=True, maximum_retry_attempts=2),
     ["poison record was dropped", "on_failure"]),
    ("ex2-age", dict(to_queue=True, maximum_record_age_s=60), ["maximum_record_age_s=60", "Limit the retries"]),
    ("ex2-bisect-only", dict(to_queue=True, bisect_batch_on_function_error=True),
     ["bisect isolates the poison record", "limit the retries"]),
    ("ex2-many-retries", dict(to_queue=True, bisect_batch_on_function_error=True, maximum_retry_attempts=10_000),
     ["maximum_retry_attempts=10000"]),
])
def test_ex2_wrong_configurations_fail(lab, name, options, hints):
    args, _ = _ex2(lab, name, **options)
    assert_not_yet(check.unblocked(lab, *args), *hints)


def test_ex2_two_mappings_fail(lab):
    args, mapping = _ex2(lab, "ex2-twice", to_queue=True, **SOLUTION_2)
    lab.stream_trigger(mapping.stream_arn, mapping.fn, on_failure=mapping.on_failure, **SOLUTION_2)
    assert_not_yet(check.unblocked(lab, *args), "2 enabled mappings", "mapping.stop()")


def test_ex2_mapping_for_another_function_fails(lab):
    args, _ = _ex2(lab, "ex2-other", make=False)
    other = lab.function("ex2-other-fixed", lab.runtime.functions["ex2-other"].handler)
    arn = ddb.describe_table(TableName="ex2-other")["Table"]["LatestStreamArn"]
    lab.stream_trigger(arn, other, on_failure=lab.arn("sqs", "ex2-other-poison"), **SOLUTION_2)
    assert_not_yet(check.unblocked(lab, *args), "invokes 'ex2-other-fixed', not 'ex2-other'")


def test_ex2_missing_table_is_reported(lab):
    assert_not_yet(check.unblocked(lab, "ex2-nowhere", "ex2-nowhere-poison"), "set-up cell")


# --------------------------------------------------------------------------- Exercise 3
def setup_ex3(lab):
    """The chapter's set-up cell: the welcomes table, the table of eventIDs seen, and send_welcome."""
    client = lab.client("dynamodb")
    for table, key in (("ex3-welcomes", "user_id"), ("ex3-seen", "eventID")):
        client.create_table(TableName=table, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")


def send_welcome(user_id):
    """Send the welcome email (here: count it in ex3-welcomes)."""
    ddb.update_item(TableName="ex3-welcomes", Key={"user_id": {"S": user_id}}, UpdateExpression="ADD sent :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})


def starter_3(event, context):
    ...  # your code here


def solution_3(event, context):
    for record in event["Records"]:
        if record["eventName"] != "INSERT":
            continue
        try:
            ddb.put_item(TableName="ex3-seen", Item={"eventID": {"S": record["eventID"]}},
                         ConditionExpression="attribute_not_exists(eventID)")
        except ddb.exceptions.ConditionalCheckFailedException:
            continue  # handled in an earlier delivery of this batch
        send_welcome(record["dynamodb"]["Keys"]["user_id"]["S"])


def no_dedupe(event, context):
    for record in event["Records"]:
        if record["eventName"] == "INSERT":
            send_welcome(record["dynamodb"]["Keys"]["user_id"]["S"])


def dedupe_on_user_id(event, context):
    for record in event["Records"]:
        if record["eventName"] != "INSERT":
            continue
        user_id = record["dynamodb"]["Keys"]["user_id"]["S"]
        try:
            ddb.put_item(TableName="ex3-seen", Item={"eventID": {"S": user_id}},
                         ConditionExpression="attribute_not_exists(eventID)")
        except ddb.exceptions.ConditionalCheckFailedException:
            continue
        send_welcome(user_id)


def welcome_on_modify(event, context):
    for record in event["Records"]:
        if record["eventName"] not in ("INSERT", "MODIFY"):
            continue
        try:
            ddb.put_item(TableName="ex3-seen", Item={"eventID": {"S": record["eventID"]}},
                         ConditionExpression="attribute_not_exists(eventID)")
        except ddb.exceptions.ConditionalCheckFailedException:
            continue
        send_welcome(record["dynamodb"]["Keys"]["user_id"]["S"])


def exception_escapes(event, context):
    for record in event["Records"]:
        if record["eventName"] == "INSERT":
            ddb.put_item(TableName="ex3-seen", Item={"eventID": {"S": record["eventID"]}},
                         ConditionExpression="attribute_not_exists(eventID)")
            send_welcome(record["dynamodb"]["Keys"]["user_id"]["S"])


def send_then_mark(event, context):  # the mark comes after the side effect: a retry sends again
    for record in event["Records"]:
        if record["eventName"] == "INSERT":
            send_welcome(record["dynamodb"]["Keys"]["user_id"]["S"])
            try:
                ddb.put_item(TableName="ex3-seen", Item={"eventID": {"S": record["eventID"]}},
                             ConditionExpression="attribute_not_exists(eventID)")
            except ddb.exceptions.ConditionalCheckFailedException:
                pass


SEEN = set()


def python_set(event, context):
    for record in event["Records"]:
        if record["eventName"] == "INSERT" and record["eventID"] not in SEEN:
            SEEN.add(record["eventID"])
            send_welcome(record["dynamodb"]["Keys"]["user_id"]["S"])


def test_ex3_starter_fails_with_a_hint(lab):
    assert_not_yet(check.exactly_once(lab, starter_3), "nobody was welcomed")


def test_ex3_solution_passes_twice(lab):
    for _ in range(2):
        verdict = check.exactly_once(lab, solution_3)
        assert verdict, repr(verdict)
    assert repr(verdict) == "✓ Exercise 3 (exactly one welcome per new user): correct"


@pytest.mark.parametrize("wrong, hints", [
    (no_dedupe, ["welcomed again when Lambda delivered the batch again"]),
    (send_then_mark, ["welcomed again", "first, and send only when it succeeds"]),
    (dedupe_on_user_id, ["came back", "not on the user id"]),
    (welcome_on_modify, ["welcome on INSERT only"]),
    (exception_escapes, ["ConditionalCheckFailedException escape", "forever"]),
    (python_set, ["A set in memory", "each environment has its own memory"]),
])
def test_ex3_wrong_answers_fail(lab, wrong, hints):
    assert_not_yet(check.exactly_once(lab, wrong), *hints)


def test_ex3_not_a_function(lab):
    assert_not_yet(check.exactly_once(lab, None), "expected a function")


def test_ex3_leaves_no_hook_and_nothing_running(lab):
    before = list(lab.sources)
    check.exactly_once(lab, solution_3)
    assert lab.sources == before
    hooks = ddb.meta.events._emitter._unique_id_handlers  # noqa: SLF001 - to see no hook is left behind
    assert not any(str(key).startswith("lambda-lab-check") for key in hooks)
