"""Chapter 01's exercise checks: the starter fails with a hint, the solution passes, plausible wrong answers fail.

The handlers below are written as a learner would in the notebook: they use the module's
``s3`` and ``ddb`` clients (the lab's, bound by the ``clients`` fixture) and its ``outbox``.
"""

from __future__ import annotations

from urllib.parse import unquote, unquote_plus

import pytest
from botocore.exceptions import ClientError

from lambda_lab.check import s3 as check
from lambda_lab.events.s3 import sequencer_key
from verdicts import assert_not_yet

s3 = ddb = None  # the lab's clients, set by the ``clients`` fixture as the notebook's setup cell does
outbox: list[str] = []


@pytest.fixture
def clients(lab):
    global s3, ddb
    s3, ddb = lab.client("s3"), lab.client("dynamodb")
    ddb.create_table(TableName="sent", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    yield lab
    s3 = ddb = None


# --------------------------------------------------------------------------- Exercise 1
def starter_1(event, context):
    ...  # your code here


def solution_1(event, context):
    record = event["Records"][0]
    key = unquote_plus(record["s3"]["object"]["key"], encoding="utf-8")
    return s3.get_object(Bucket=record["s3"]["bucket"]["name"], Key=key)["Body"].read().decode()


def _read(event, key):
    return s3.get_object(Bucket=event["Records"][0]["s3"]["bucket"]["name"], Key=key)["Body"].read().decode()


def undecoded(event, context):
    return _read(event, event["Records"][0]["s3"]["object"]["key"])


def unquote_not_plus(event, context):
    return _read(event, unquote(event["Records"][0]["s3"]["object"]["key"]))


def unquote_then_replace_plus(event, context):
    return _read(event, unquote(event["Records"][0]["s3"]["object"]["key"]).replace("+", " "))


def replace_plus_only(event, context):
    return _read(event, event["Records"][0]["s3"]["object"]["key"].replace("+", " "))


def decoded_twice(event, context):
    return _read(event, unquote_plus(unquote_plus(event["Records"][0]["s3"]["object"]["key"])))


def text_from_the_key(event, context):
    """Never calls get_object: makes up what the object 'should' hold from its key."""
    return f"contents of {unquote_plus(event['Records'][0]['s3']['object']['key'])}"


def test_exercise_1_starter_says_not_yet_with_a_hint(clients):
    assert_not_yet(check.decoded_keys(clients, starter_1), "returned None", "get_object")


def test_exercise_1_solution_passes_twice_in_one_lab(clients):
    assert check.decoded_keys(clients, solution_1)
    assert check.decoded_keys(clients, solution_1)  # a learner may run the check cell again


@pytest.mark.parametrize("handler", [undecoded, unquote_not_plus, unquote_then_replace_plus, replace_plus_only,
                                     decoded_twice, text_from_the_key],
                         ids=["undecoded", "unquote-not-plus", "unquote-then-replace-plus", "replace-plus-only",
                              "decoded-twice", "text-from-the-key-no-get-object"])
def test_exercise_1_rejects_plausible_wrong_answers(clients, handler):
    verdict = check.decoded_keys(clients, handler)
    assert_not_yet(verdict)
    if handler is undecoded:
        assert "NoSuchKey" in repr(verdict) and "unquote_plus" in repr(verdict)
    if handler is text_from_the_key:
        assert "not the object's text" in repr(verdict)


def test_exercise_1_not_a_function(clients):
    assert_not_yet(check.decoded_keys(clients, None), "expected a function")


# --------------------------------------------------------------------------- Exercise 2
def starter_2(event, context):
    key = event["Records"][0]["s3"]["object"]["key"]
    outbox.append(key)  # make this happen once per upload


def solution_2(event, context):
    record = event["Records"][0]
    marker = "/".join([record["s3"]["bucket"]["name"], record["s3"]["object"]["key"],
                       record["s3"]["object"]["sequencer"]])
    try:
        ddb.put_item(TableName="sent", Item={"id": {"S": marker}}, ConditionExpression="attribute_not_exists(id)")
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return
        raise
    outbox.append(record["s3"]["object"]["key"])


def solution_2_decoded_key_and_modeled_exception(event, context):
    """Also right: the decoded key in the id, and the client's modeled exception."""
    obj = event["Records"][0]["s3"]["object"]
    marker = f"{event['Records'][0]['s3']['bucket']['name']}/{unquote_plus(obj['key'])}/{obj['sequencer']}"
    try:
        ddb.put_item(TableName="sent", Item={"id": {"S": marker}}, ConditionExpression="attribute_not_exists(id)")
    except ddb.exceptions.ConditionalCheckFailedException:
        return "duplicate"
    outbox.append(obj["key"])


def _marker(event):
    record = event["Records"][0]
    obj = record["s3"]["object"]
    return "/".join([record["s3"]["bucket"]["name"], obj["key"], obj["sequencer"]])


_seen: set[str] = set()


def in_memory_set(event, context):
    marker = _marker(event)
    if marker in _seen:
        return
    _seen.add(marker)
    outbox.append(event["Records"][0]["s3"]["object"]["key"])


def read_then_write(event, context):
    """Looks the marker up, then writes it unconditionally: two environments both see 'not there'."""
    marker = _marker(event)
    if "Item" in ddb.get_item(TableName="sent", Key={"id": {"S": marker}}):
        return
    ddb.put_item(TableName="sent", Item={"id": {"S": marker}})
    outbox.append(event["Records"][0]["s3"]["object"]["key"])


def unconditional_marker(event, context):
    ddb.put_item(TableName="sent", Item={"id": {"S": _marker(event)}})
    outbox.append(event["Records"][0]["s3"]["object"]["key"])


def mail_then_mark(event, context):
    outbox.append(event["Records"][0]["s3"]["object"]["key"])
    try:
        ddb.put_item(TableName="sent", Item={"id": {"S": _marker(event)}},
                     ConditionExpression="attribute_not_exists(id)")
    except ddb.exceptions.ConditionalCheckFailedException:
        pass


def raises_on_duplicate(event, context):
    ddb.put_item(TableName="sent", Item={"id": {"S": _marker(event)}}, ConditionExpression="attribute_not_exists(id)")
    outbox.append(event["Records"][0]["s3"]["object"]["key"])


def key_without_sequencer(event, context):
    record = event["Records"][0]
    marker = f"{record['s3']['bucket']['name']}/{record['s3']['object']['key']}"
    try:
        ddb.put_item(TableName="sent", Item={"id": {"S": marker}}, ConditionExpression="attribute_not_exists(id)")
    except ddb.exceptions.ConditionalCheckFailedException:
        return
    outbox.append(record["s3"]["object"]["key"])


def test_exercise_2_starter_says_not_yet_with_a_hint(clients):
    verdict = check.idempotent(clients, starter_2, outbox)
    assert_not_yet(verdict, "mailed 2 times", "conditional put", "no marker in 'sent'")
    assert "two copies ran at once" not in repr(verdict)  # no DynamoDB call, so no race took place


@pytest.mark.parametrize("handler", [solution_2, solution_2_decoded_key_and_modeled_exception],
                         ids=["solution", "decoded-key-in-the-id"])
def test_exercise_2_solution_passes_twice_in_one_lab(clients, handler):
    assert check.idempotent(clients, handler, outbox)
    assert check.idempotent(clients, handler, outbox)


@pytest.mark.parametrize("handler, hint", [
    (in_memory_set, "another execution environment had already mailed it"),
    (read_then_write, "two copies ran at once, in two environments"),
    (unconditional_marker, "another execution environment had already mailed it"),
    (mail_then_mark, "duplicate deliveries were mailed again"),
    (raises_on_duplicate, "ConditionalCheckFailedException"),
    (key_without_sequencer, "two sequencers, two emails"),
], ids=["in-memory-set", "read-then-write", "unconditional-marker", "mail-then-mark", "raises-on-duplicate",
        "key-without-sequencer"])
def test_exercise_2_rejects_plausible_wrong_answers(clients, handler, hint):
    _seen.clear()
    assert_not_yet(check.idempotent(clients, handler, outbox), hint)


def test_exercise_2_without_the_table_says_so(lab):
    global ddb
    ddb = lab.client("dynamodb")
    assert_not_yet(check.idempotent(lab, solution_2, outbox), "run the cell that creates it")


# --------------------------------------------------------------------------- Exercise 3
def starter_3(records):
    ...  # your code here


def solution_3(records):
    latest = {}
    for record in records:
        key = unquote_plus(record["s3"]["object"]["key"])
        seq = sequencer_key(record["s3"]["object"]["sequencer"])
        if key not in latest or seq > sequencer_key(latest[key]["s3"]["object"]["sequencer"]):
            latest[key] = record
    return latest


def by_arrival(records):
    return {unquote_plus(r["s3"]["object"]["key"]): r for r in records}


def as_hex_numbers(records):
    latest = {}
    for r in records:
        key = unquote_plus(r["s3"]["object"]["key"])
        seq = int(r["s3"]["object"]["sequencer"], 16)
        if key not in latest or seq > int(latest[key]["s3"]["object"]["sequencer"], 16):
            latest[key] = r
    return latest


def by_event_time_first(records):
    latest = {}
    for r in records:
        key = unquote_plus(r["s3"]["object"]["key"])
        if key not in latest or r["eventTime"] > latest[key]["eventTime"]:
            latest[key] = r
    return latest


def by_event_time_last(records):
    latest = {}
    for r in records:
        key = unquote_plus(r["s3"]["object"]["key"])
        if key not in latest or r["eventTime"] >= latest[key]["eventTime"]:
            latest[key] = r
    return latest


def undecoded_keys(records):
    latest = {}
    for r in records:
        key = r["s3"]["object"]["key"]
        seq = sequencer_key(r["s3"]["object"]["sequencer"])
        if key not in latest or seq > sequencer_key(latest[key]["s3"]["object"]["sequencer"]):
            latest[key] = r
    return latest


def latest_overall(records):
    best = max(records, key=lambda r: sequencer_key(r["s3"]["object"]["sequencer"]))
    return {unquote_plus(best["s3"]["object"]["key"]): best}


def test_exercise_3_starter_says_not_yet_with_a_hint():
    assert_not_yet(check.latest_per_key(starter_3), "expected a dict")


def test_exercise_3_solution_passes():
    assert check.latest_per_key(solution_3)


def test_exercise_3_accepts_plain_string_comparison_of_padded_sequencers():
    def padded_inline(records):
        latest = {}
        for r in sorted(records, key=lambda r: r["s3"]["object"]["sequencer"].ljust(40, "0")):
            latest[unquote_plus(r["s3"]["object"]["key"])] = r
        return latest

    assert check.latest_per_key(padded_inline)


@pytest.mark.parametrize("fn, hint", [
    (by_arrival, "the latest is"),
    (as_hex_numbers, "right-padded with zeros"),
    (by_event_time_first, "the latest is"),
    (by_event_time_last, "the latest is"),
    (undecoded_keys, "unquote_plus"),
    (latest_overall, "unquote_plus"),
    (lambda records: {unquote_plus(r["s3"]["object"]["key"]): r["s3"]["object"]["sequencer"] for r in records},
     "expected an S3 record"),
    (lambda records: records[0]["missing"], "raised KeyError"),
], ids=["by-arrival", "sequencers-as-hex-numbers", "event-time-first-wins", "event-time-last-wins",
        "undecoded-keys", "one-latest-overall", "returns-sequencers-not-records", "raises"])
def test_exercise_3_rejects_plausible_wrong_answers(fn, hint):
    assert_not_yet(check.latest_per_key(fn), hint)
