"""EventBridge on the lab: rules and targets as moto resources, PutEvents as AWS answers it, matching
only ENABLED rules of the event's bus, delivery to Lambda, SQS and SNS targets (with Input,
InputPath and InputTransformer), the target retry policy and dead-letter queue, Lambda's own
layer after it accepted, PutTargets/PutRule validation, TestEventPattern, schedules and AWS
service events.

One lab serves the module: every test uses fresh names and its own event source (or bus), so
the rules other tests left on the default bus never match its events.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math

import pytest
from botocore.exceptions import ClientError

from lambda_lab import Lab
from lambda_lab.events import eventbridge as eb
from lambda_lab.helpers.sqs import receive_all

NAMES = itertools.count()


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=0) as shared:
        yield shared


def fresh(prefix):
    return f"{prefix}-{next(NAMES)}"


def recorder(lab, handler=None, **options):
    """A fresh function that records what it receives; returns (function, calls)."""
    calls = []

    def record(event, context):
        calls.append(event)
        return handler(event, context) if handler else None

    return lab.function(fresh("ebfn"), record, **options), calls


def queue(lab, prefix="ebq"):
    """A fresh SQS queue: (name, URL, ARN)."""
    name = fresh(prefix)
    return name, lab.client("sqs").create_queue(QueueName=name)["QueueUrl"], lab.arn("sqs", name)


def rule(lab, targets, pattern=None, *, source=None, bus=None, **options):
    """A rule (pattern ``pattern`` or ``{"source": [source]}``) with ``targets`` (Ids given here); returns its ARN."""
    events = lab.client("events")
    name = options.pop("Name", None) or fresh("ebrule")
    where = {"EventBusName": bus} if bus else {}
    if pattern is None and "ScheduleExpression" not in options:
        pattern = {"source": [source]}
    if pattern is not None:
        options["EventPattern"] = json.dumps(pattern)
    arn = events.put_rule(Name=name, **where, **options)["RuleArn"]
    if targets:
        events.put_targets(Rule=name, **where, Targets=[{"Id": f"t{i}", **t} for i, t in enumerate(targets)])
    return name, arn


def put(lab, source, *details, bus=None, detail_type="OrderPlaced"):
    """PutEvents one entry per detail; returns the EventIds (the call must accept every entry)."""
    entries = [{"Source": source, "DetailType": detail_type, "Detail": json.dumps(d),
                **({"EventBusName": bus} if bus else {})} for d in details]
    answer = lab.client("events").put_events(Entries=entries)
    assert answer["FailedEntryCount"] == 0, answer
    return [e["EventId"] for e in answer["Entries"]]


def rows(lab, ids):
    frame = lab.outcomes(source="eventbridge")
    return frame[frame["item"].isin(list(ids))]


def put_event(lab, event_id):
    """The event as it went onto the bus (lab.eventbridge.events)."""
    [event] = [e for _, _, e in lab.eventbridge.events if e["id"] == event_id]
    return event


def handoffs(lab, target, event_id=None):
    """(time, status) of each hand-off to function ``target`` (of one event if given)."""
    return [(t, answer.status_code) for t, eid, name, answer in lab.eventbridge.handoffs
            if name == target and (event_id is None or eid == event_id)]


def attributes(message):
    return {key: value["StringValue"] for key, value in message["MessageAttributes"].items()}


# --- Rules and targets --------------------------------------------------------------------------
def test_rules_and_targets_are_moto_resources(lab):
    fn, _ = recorder(lab)
    _, _, qarn = queue(lab)
    _, _, dlq = queue(lab, "ebdlq")
    src = fresh("com.shop")
    name, arn = rule(lab, [{"Arn": fn.arn}, {"Arn": qarn, "RetryPolicy": {"MaximumRetryAttempts": 3},
                                            "DeadLetterConfig": {"Arn": dlq}}], source=src)
    events = lab.client("events")
    [listed] = events.list_rules(NamePrefix=name)["Rules"]
    assert (listed["Arn"], listed["State"], listed["EventBusName"]) == (arn, "ENABLED", "default")
    assert json.loads(listed["EventPattern"]) == {"source": [src]}
    targets = {t["Id"]: t for t in events.list_targets_by_rule(Rule=name)["Targets"]}
    assert targets["t0"]["Arn"] == fn.arn and targets["t1"]["Arn"] == qarn
    assert targets["t1"]["RetryPolicy"]["MaximumRetryAttempts"] == 3
    assert targets["t1"]["DeadLetterConfig"] == {"Arn": dlq}
    assert events.describe_rule(Name=name)["Arn"] == arn


# --- PutEvents ----------------------------------------------------------------------------------
def test_eleven_entries_are_refused_whole(lab):
    fn, calls = recorder(lab)
    src = fresh("com.shop")
    rule(lab, [{"Arn": fn.arn}], source=src)
    before = len(lab.eventbridge.events)
    entry = {"Source": src, "DetailType": "OrderPlaced", "Detail": "{}"}
    with pytest.raises(ClientError) as refused:
        lab.client("events").put_events(Entries=[entry] * 11)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "less than or equal to 10" in refused.value.response["Error"]["Message"]
    lab.run_until_idle()
    assert calls == [] and len(lab.eventbridge.events) == before
    assert lab.client("events").put_events(Entries=[entry] * 10)["FailedEntryCount"] == 0  # 10 is the limit
    lab.run_until_idle()
    assert len(calls) == 10


def test_a_bad_entry_fails_alone_and_event_ids_are_the_delivered_ids(lab):
    fn, calls = recorder(lab)
    _, url, qarn = queue(lab)
    src = fresh("com.shop")
    rule(lab, [{"Arn": fn.arn}, {"Arn": qarn}], source=src)
    good = {"Source": src, "DetailType": "OrderPlaced", "Detail": json.dumps({"order": 1})}
    answer = lab.client("events").put_events(Entries=[
        good,
        {"Source": "aws.health", "DetailType": "AWS Health Event", "Detail": "{}"},
        {"Source": src, "DetailType": "OrderPlaced", "Detail": "{not json"},
        {"Source": src, "DetailType": "OrderPlaced", "Detail": "[1, 2]"},  # JSON, but not an object
        dict(good, Detail=json.dumps({"order": 2})),
    ])
    assert answer["FailedEntryCount"] == 3
    codes = [e.get("ErrorCode") for e in answer["Entries"]]
    assert codes == [None, "NotAuthorizedForSourceException", "MalformedDetail", "MalformedDetail", None]
    ids = [answer["Entries"][i]["EventId"] for i in (0, 4)]
    assert all("EventId" not in answer["Entries"][i] for i in (1, 2, 3))
    lab.run_until_idle()
    assert [c["id"] for c in calls] == ids
    assert [c["detail"] for c in calls] == [{"order": 1}, {"order": 2}]
    assert list(calls[0]) == list(eb.ENVELOPE_KEYS)
    assert (calls[0]["source"], calls[0]["detail-type"], calls[0]["account"], calls[0]["region"]) == (
        src, "OrderPlaced", lab.account_id, lab.region)
    bodies = [json.loads(m["Body"]) for m in receive_all(lab, url)]
    assert sorted(b["id"] for b in bodies) == sorted(ids)
    got = rows(lab, ids)
    assert len(got) == 4 and (got["ending"] == "processed").all()


def test_put_events_to_a_bus_that_does_not_exist_does_not_fail_the_call(lab):
    """AWS accepts an entry for a bus that does not exist (FailedEntryCount 0, nothing delivered:
    github.com/aws/aws-cli/issues/9186, localstack/localstack#8264 recorded against AWS); at most
    that entry could fail. The call must not raise, and the good entry beside it is delivered."""
    fn, calls = recorder(lab)
    src = fresh("com.shop")
    rule(lab, [{"Arn": fn.arn}], source=src)
    entries = [{"Source": src, "DetailType": "OrderPlaced", "Detail": "{}"},
               {"Source": src, "DetailType": "OrderPlaced", "Detail": "{}", "EventBusName": fresh("no-such-bus")}]
    answer = lab.client("events").put_events(Entries=entries)
    assert "EventId" in answer["Entries"][0] and answer["FailedEntryCount"] <= 1
    lab.run_until_idle()
    assert [c["id"] for c in calls] == [answer["Entries"][0]["EventId"]]


# --- Matching -----------------------------------------------------------------------------------
def test_only_enabled_rules_deliver(lab):
    fn, calls = recorder(lab)
    src = fresh("com.shop")
    name, _ = rule(lab, [{"Arn": fn.arn}], source=src, State="DISABLED")
    events = lab.client("events")
    first = put(lab, src, {"n": 1})
    lab.run_until_idle()
    assert calls == [] and rows(lab, first).empty  # a disabled rule makes no ledger row either
    events.enable_rule(Name=name)
    second = put(lab, src, {"n": 2})
    lab.run_until_idle()
    assert [c["id"] for c in calls] == second
    events.disable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "DISABLED"
    third = put(lab, src, {"n": 3})
    lab.run_until_idle()
    assert len(calls) == 1 and rows(lab, third).empty
    events.enable_rule(Name=name)
    fourth = put(lab, src, {"n": 4})
    lab.run_until_idle()
    assert [c["id"] for c in calls] == second + fourth


def test_a_custom_bus_is_isolated_from_the_default_bus(lab):
    events = lab.client("events")
    bus = fresh("shop")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    on_default, default_calls = recorder(lab)
    on_bus, bus_calls = recorder(lab)
    src = fresh("com.shop")
    rule(lab, [{"Arn": on_default.arn}], source=src)
    rule(lab, [{"Arn": on_bus.arn}], source=src, bus=bus)
    assert [r["EventBusName"] for r in events.list_rules(EventBusName=bus)["Rules"]] == [bus]
    default_ids = put(lab, src, {"where": "default"})
    by_name = put(lab, src, {"where": "name"}, bus=bus)
    by_arn = put(lab, src, {"where": "arn"}, bus=bus_arn)
    lab.run_until_idle()
    assert [c["id"] for c in default_calls] == default_ids
    assert [c["id"] for c in bus_calls] == by_name + by_arn


def test_each_of_five_targets_gets_every_event_once(lab):
    fns = [recorder(lab) for _ in range(3)]
    queues = [queue(lab) for _ in range(2)]
    src = fresh("com.shop")
    rule(lab, [{"Arn": fn.arn} for fn, _ in fns] + [{"Arn": arn} for _, _, arn in queues], source=src)
    ids = put(lab, src, {"n": 1}, {"n": 2})
    lab.run_until_idle()
    for _, calls in fns:
        assert sorted(c["id"] for c in calls) == sorted(ids)
    for _, url, _ in queues:
        assert sorted(json.loads(m["Body"])["id"] for m in receive_all(lab, url)) == sorted(ids)
    got = rows(lab, ids)
    names = [fn.name for fn, _ in fns] + [name for name, _, _ in queues]
    assert sorted(zip(got["item"], got["function"])) == sorted((i, n) for i in ids for n in names)
    assert (got["ending"] == "processed").all()
    assert sorted(got.loc[got["layer"] == "eventbridge", "function"]) == sorted([q for q, _, _ in queues] * 2)


def test_a_sixth_target_is_refused(lab):
    """Targets per rule: 5 (eb-quota.html); PutTargets answers LimitExceededException (API_PutTargets.html)."""
    fn, _ = recorder(lab)
    src = fresh("com.shop")
    name, _ = rule(lab, [], source=src)
    events = lab.client("events")
    with pytest.raises(ClientError, match="LimitExceededException"):
        events.put_targets(Rule=name, Targets=[{"Id": f"t{i}", "Arn": fn.arn} for i in range(6)])
    assert len(events.list_targets_by_rule(Rule=name)["Targets"]) <= 5


# --- What targets receive -----------------------------------------------------------------------
def test_an_sqs_target_receives_the_event_json(lab):
    qname, url, qarn = queue(lab)
    src = fresh("com.shop")
    rule(lab, [{"Arn": qarn}], source=src)
    [event_id] = put(lab, src, {"order": {"id": "A-1", "total": 12.5}})
    lab.run_until_idle()
    [message] = receive_all(lab, url)
    assert json.loads(message["Body"]) == put_event(lab, event_id)
    [row] = rows(lab, [event_id]).to_dict("records")
    assert (row["function"], row["ending"], row["layer"]) == (qname, "processed", "eventbridge")


def test_an_sns_target_reaches_the_topics_sqs_and_lambda_subscribers(lab):
    sns = lab.client("sns")
    topic_name = fresh("ebtopic")
    topic = sns.create_topic(Name=topic_name)["TopicArn"]
    _, url, qarn = queue(lab)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    fn, calls = recorder(lab)
    lab.sns_trigger(topic, fn)
    src = fresh("com.shop")
    rule(lab, [{"Arn": topic}], source=src)
    [event_id] = put(lab, src, {"n": 7})
    lab.run_until_idle()
    event = put_event(lab, event_id)
    [message] = receive_all(lab, url)
    envelope = json.loads(message["Body"])
    assert envelope["TopicArn"] == topic and json.loads(envelope["Message"]) == event
    [record] = [c["Records"][0] for c in calls]
    assert record["EventSource"] == "aws:sns" and json.loads(record["Sns"]["Message"]) == event
    [row] = rows(lab, [event_id]).to_dict("records")
    assert (row["function"], row["ending"], row["layer"]) == (topic_name, "processed", "eventbridge")
    [sns_row] = lab.outcomes(fn.name, source="sns").to_dict("records")
    assert (sns_row["ending"], sns_row["layer"]) == ("processed", "lambda")


def test_input_inputpath_and_transformer_shape_what_targets_receive(lab):
    detail = {"id": "A-1", "n": 3, "flag": True, "items": [{"sku": "x"}]}
    transformer = {"InputPathsMap": {"id": "$.detail.id", "n": "$.detail.n", "flag": "$.detail.flag",
                                     "sku": "$.detail.items[0].sku"},
                   "InputTemplate": '{"id": <id>, "n": <n>, "flag": <flag>, "sku": <sku>, '
                                    '"note": "order <id> has <n> items", "rule": <aws.events.rule-name>}'}
    plain = {"InputPathsMap": {"id": "$.detail.id", "n": "$.detail.n"}, "InputTemplate": "<id> has <n> items"}
    fns = {key: recorder(lab) for key in ("path", "input", "transform")}
    queues = {key: queue(lab) for key in ("path", "transform", "plain")}
    src = fresh("com.shop")
    name, _ = rule(lab, [
        {"Arn": fns["path"][0].arn, "InputPath": "$.detail"},
        {"Arn": fns["input"][0].arn, "Input": '{"fixed": true}'},
        {"Arn": fns["transform"][0].arn, "InputTransformer": transformer},
        {"Arn": queues["path"][2], "InputPath": "$.detail.n"},
        {"Arn": queues["transform"][2], "InputTransformer": transformer},
    ], source=src)
    rule(lab, [{"Arn": queues["plain"][2], "InputTransformer": plain}], source=src)
    put(lab, src, detail)
    lab.run_until_idle()
    expected = {"id": "A-1", "n": 3, "flag": True, "sku": "x", "note": "order A-1 has 3 items", "rule": name}
    assert fns["path"][1] == [detail]
    assert fns["input"][1] == [{"fixed": True}]
    assert fns["transform"][1] == [expected]  # strings quoted, the number and the boolean not
    body = lambda key: [m["Body"] for m in receive_all(lab, queues[key][1])]  # noqa: E731
    assert body("path") == ["3"]
    [text] = body("transform")
    assert json.loads(text) == expected
    assert body("plain") == ["A-1 has 3 items"]  # a plain-text template: values as they are


# --- EventBridge's retries and the target DLQ ------------------------------------------------------
def test_a_missing_function_is_not_retried_and_goes_straight_to_the_target_dlq(lab):
    _, dlq_url, dlq = queue(lab, "ebdlq")
    ghost = fresh("ghost")  # never existed
    gone, _ = recorder(lab)
    lab.runtime.functions.pop(gone.name)  # deleted after the rule was made
    src = fresh("com.shop")
    _, rule_arn = rule(lab, [{"Arn": lab.arn("lambda", f"function:{ghost}"), "DeadLetterConfig": {"Arn": dlq}},
                             {"Arn": gone.arn}], source=src)
    [event_id] = put(lab, src, {"n": 1})
    lab.run_until_idle()
    assert [s for _, s in handoffs(lab, ghost)] == [404]  # one hand-off: not retried
    assert [s for _, s in handoffs(lab, gone.name)] == [404]
    [message] = receive_all(lab, dlq_url)
    assert json.loads(message["Body"]) == put_event(lab, event_id)
    got = attributes(message)
    assert got["ERROR_CODE"] == "NO_RESOURCE" and "EXHAUSTED_RETRY_CONDITION" not in got
    assert (got["RULE_ARN"], got["TARGET_ARN"], got["RETRY_ATTEMPTS"]) == (
        rule_arn, lab.arn("lambda", f"function:{ghost}"), "0")
    by_target = {r["function"]: r for r in rows(lab, [event_id]).to_dict("records")}
    assert (by_target[ghost]["ending"], by_target[ghost]["layer"]) == ("dead_letter", "eventbridge")
    assert (by_target[gone.name]["ending"], by_target[gone.name]["layer"]) == ("dropped", "eventbridge")
    assert "not retried" in by_target[gone.name]["where"]


def test_server_errors_are_retried_then_dead_lettered_after_maximum_retry_attempts(lab):
    _, dlq_url, dlq = queue(lab, "ebdlq")
    failing, failing_calls = recorder(lab)
    throttled, throttled_calls = recorder(lab)
    lab.faults.fail_next(failing.name, 5, error="server")
    lab.faults.fail_next(throttled.name, 2, error="throttle")
    src = fresh("com.shop")
    _, rule_arn = rule(lab, [
        {"Arn": failing.arn, "RetryPolicy": {"MaximumRetryAttempts": 2}, "DeadLetterConfig": {"Arn": dlq}},
        {"Arn": throttled.arn, "RetryPolicy": {"MaximumRetryAttempts": 2}, "DeadLetterConfig": {"Arn": dlq}},
    ], source=src)
    [event_id] = put(lab, src, {"n": 1})
    lab.run_until_idle()
    tries = handoffs(lab, failing.name)
    assert [s for _, s in tries] == [500, 500, 500]  # 1 + MaximumRetryAttempts
    gaps = [b - a for (a, _), (b, _) in zip(tries, tries[1:])]
    assert 0 < gaps[0] < gaps[1], gaps  # spaced out, growing (backoff)
    [message] = receive_all(lab, dlq_url)
    got = attributes(message)
    assert (got["EXHAUSTED_RETRY_CONDITION"], got["RETRY_ATTEMPTS"], got["ERROR_CODE"]) == (
        "MaximumRetryAttempts", "2", "INTERNAL_ERROR")
    assert (got["RULE_ARN"], got["TARGET_ARN"]) == (rule_arn, failing.arn)
    assert json.loads(message["Body"])["id"] == event_id and failing_calls == []
    # two throttles, then Lambda accepts: the third hand-off, and the function runs once
    assert [s for _, s in handoffs(lab, throttled.name)] == [429, 429, 202]
    assert [c["id"] for c in throttled_calls] == [event_id]
    by_target = {r["function"]: r for r in rows(lab, [event_id]).to_dict("records")}
    assert (by_target[failing.name]["ending"], by_target[failing.name]["layer"]) == ("dead_letter", "eventbridge")
    assert (by_target[throttled.name]["ending"], by_target[throttled.name]["layer"]) == ("processed", "lambda")
    while lab.faults.take(failing.name):
        pass


def test_maximum_event_age_ends_the_retries_by_age(lab):
    _, dlq_url, dlq = queue(lab, "ebdlq")
    fn, calls = recorder(lab)
    lab.faults.fail_next(fn.name, 50, error="throttle")
    src = fresh("com.shop")
    rule(lab, [{"Arn": fn.arn, "RetryPolicy": {"MaximumEventAgeInSeconds": 60}, "DeadLetterConfig": {"Arn": dlq}}],
         source=src)
    [event_id] = put(lab, src, {"n": 1})
    lab.run_until_idle()
    tries = handoffs(lab, fn.name)
    assert len(tries) > 3 and all(s == 429 for _, s in tries)
    assert tries[-1][0] - tries[0][0] <= 60
    [message] = receive_all(lab, dlq_url)
    got = attributes(message)
    assert (got["EXHAUSTED_RETRY_CONDITION"], got["ERROR_CODE"], got["RETRY_ATTEMPTS"]) == (
        "MaximumEventAgeInSeconds", "THROTTLING", str(len(tries) - 1))
    [row] = rows(lab, [event_id]).to_dict("records")
    assert (row["ending"], row["layer"]) == ("dead_letter", "eventbridge") and row["ended"] - row["accepted"] <= 60
    assert calls == []
    while lab.faults.take(fn.name):
        pass


def test_the_default_policy_gives_up_within_24_hours(lab):
    fn, calls = recorder(lab)
    lab.faults.fail_next(fn.name, 1_000, error="server")
    src = fresh("com.shop")
    rule(lab, [{"Arn": fn.arn}], source=src)  # no RetryPolicy: 185 retries within 24 h; no DLQ
    [event_id] = put(lab, src, {"n": 1})
    lab.run_until_idle(max_s=3 * 86_400)
    tries = handoffs(lab, fn.name)
    assert 20 < len(tries) <= 186 and all(s == 500 for _, s in tries)
    gaps = [b - a for (a, _), (b, _) in zip(tries, tries[1:])]
    assert all(a < b for a, b in zip(gaps[:8], gaps[1:9])), gaps[:9]  # exponential at first
    [row] = rows(lab, [event_id]).to_dict("records")
    assert (row["ending"], row["layer"]) == ("dropped", "eventbridge")
    assert row["ended"] - row["accepted"] <= 86_400 and "no dead-letter queue" in row["where"]
    assert calls == []
    while lab.faults.take(fn.name):
        pass


def test_a_function_error_is_lambdas_business_not_the_target_dlq(lab):
    _, dlq_url, dlq = queue(lab, "ebdlq")
    fname, failure_url, failure = queue(lab, "ebfail")
    fn, calls = recorder(lab, lambda event, context: 1 / 0, on_failure=failure, maximum_retry_attempts=1)
    src = fresh("com.shop")
    rule(lab, [{"Arn": fn.arn, "RetryPolicy": {"MaximumRetryAttempts": 0}, "DeadLetterConfig": {"Arn": dlq}}],
         source=src)
    [event_id] = put(lab, src, {"n": 1})
    lab.run_until_idle()
    assert [s for _, s in handoffs(lab, fn.name)] == [202]  # EventBridge handed it off once
    assert len(calls) == 2  # Lambda's async retries: 1 + maximum_retry_attempts
    assert receive_all(lab, dlq_url) == []
    [record] = [json.loads(m["Body"]) for m in receive_all(lab, failure_url)]
    assert record["requestPayload"]["id"] == event_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    [row] = rows(lab, [event_id]).to_dict("records")
    assert (row["ending"], row["layer"], row["where"]) == ("destination", "lambda", fname)


def test_the_ledger_counts_the_attempts_eventbridge_makes(lab):
    """Ledger.attempt: "Count more attempts to deliver entry"; a processed row has at least one
    (tests/test_ledger_properties.check_rows). Rows EventBridge decides must count its sends."""
    _, _, qarn = queue(lab)
    fn, _ = recorder(lab)
    lab.faults.fail_next(fn.name, 3, error="server")
    src = fresh("com.shop")
    rule(lab, [{"Arn": qarn}, {"Arn": fn.arn, "RetryPolicy": {"MaximumRetryAttempts": 2}}], source=src)
    [event_id] = put(lab, src, {"n": 1})
    lab.run_until_idle()
    got = {r["function"]: r for r in rows(lab, [event_id]).to_dict("records")}
    assert len(handoffs(lab, fn.name)) == 3
    assert {name: (r["ending"], r["attempts"]) for name, r in got.items()} == {
        qarn.rsplit(":", 1)[1]: ("processed", 1), fn.name: ("dropped", 3)}


# --- PutTargets and PutRule validation -------------------------------------------------------------
def refused_targets(lab):
    fn, _ = recorder(lab)
    return {
        "retry attempts 186": {"Arn": fn.arn, "RetryPolicy": {"MaximumRetryAttempts": 186}},
        "retry attempts -1": {"Arn": fn.arn, "RetryPolicy": {"MaximumRetryAttempts": -1}},
        "event age 59": {"Arn": fn.arn, "RetryPolicy": {"MaximumEventAgeInSeconds": 59}},
        "event age 86401": {"Arn": fn.arn, "RetryPolicy": {"MaximumEventAgeInSeconds": 86_401}},
        "an SNS DLQ": {"Arn": fn.arn, "DeadLetterConfig": {"Arn": lab.arn("sns", "not-a-queue")}},
        "Input and InputPath": {"Arn": fn.arn, "Input": "{}", "InputPath": "$.detail"},
        "InputPath and InputTransformer": {"Arn": fn.arn, "InputPath": "$.detail",
                                           "InputTransformer": {"InputTemplate": '{"a": 1}'}},
        "a Kinesis stream": {"Arn": lab.arn("kinesis", "stream/orders")},
    }


def test_put_targets_refuses_what_eventbridge_refuses(lab):
    name, _ = rule(lab, [], source=fresh("com.shop"))
    events = lab.client("events")
    for why, target in refused_targets(lab).items():
        with pytest.raises(ClientError, match="ValidationException"):  # as AWS answers PutTargets
            events.put_targets(Rule=name, Targets=[{"Id": "t", **target}])
            pytest.fail(f"accepted {why}")
    assert events.list_targets_by_rule(Rule=name)["Targets"] == []  # nothing half made
    fn, _ = recorder(lab)
    edges = [{"MaximumRetryAttempts": 0}, {"MaximumRetryAttempts": 185}, {"MaximumEventAgeInSeconds": 60},
             {"MaximumEventAgeInSeconds": 86_400}]
    events.put_targets(Rule=name, Targets=[{"Id": f"e{i}", "Arn": fn.arn, "RetryPolicy": p}
                                           for i, p in enumerate(edges)])
    assert len(events.list_targets_by_rule(Rule=name)["Targets"]) == 4


def test_put_targets_refusals_name_the_rule(lab):
    """The brief (and _check_rule's comment) want every refusal to say which rule it is about."""
    name, _ = rule(lab, [], source=fresh("com.shop"), Name=fresh("named-rule"))
    events = lab.client("events")
    unnamed = {}
    for why, target in refused_targets(lab).items():
        with pytest.raises(ClientError, match="ValidationException") as refused:
            events.put_targets(Rule=name, Targets=[{"Id": "t", **target}])
        if name not in str(refused.value):
            unnamed[why] = str(refused.value)
    assert unnamed == {}, f"refusals that do not name rule {name}: {unnamed}"


def test_put_rule_refuses_an_invalid_pattern(lab):
    events = lab.client("events")
    name = fresh("ebrule")
    with pytest.raises(ClientError) as refused:
        events.put_rule(Name=name, EventPattern=json.dumps({"source": "not-an-array"}))
    assert refused.value.response["Error"]["Code"] == "InvalidEventPatternException"
    assert events.list_rules(NamePrefix=name)["Rules"] == []


def test_test_event_pattern_answers_as_the_api_does(lab):
    event = {"source": "com.shop", "detail-type": "OrderPlaced", "detail": {"n": 7, "color": "red"}}
    assert lab.test_event_pattern({"source": ["com.shop"], "detail": {"n": [{"numeric": [">", 5]}]}}, event) is True
    assert lab.test_event_pattern({"source": ["com.shop"], "detail": {"n": [{"numeric": [">", 7]}]}}, event) is False
    assert lab.test_event_pattern(json.dumps({"detail": {"color": [{"anything-but": "red"}]}}),
                                  json.dumps(event)) is False
    with pytest.raises(ClientError) as refused:
        lab.test_event_pattern({"source": "com.shop"}, event)
    assert refused.value.response["Error"]["Code"] == "InvalidEventPatternException"
    answer = lab.client("events").test_event_pattern(EventPattern=json.dumps({"source": ["com.shop"]}),
                                                     Event=json.dumps(event))
    assert answer["Result"] is True


# --- Schedules -----------------------------------------------------------------------------------
def delete_rule(lab, name):
    events = lab.client("events")
    ids = [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]]
    if ids:
        events.remove_targets(Rule=name, Ids=ids)
    events.delete_rule(Name=name)


def test_a_rate_schedule_fires_every_five_minutes_until_the_rule_is_deleted(lab):
    fn, calls = recorder(lab)
    name, arn = rule(lab, [{"Arn": fn.arn}], ScheduleExpression="rate(5 minutes)")
    start = lab.clock.now()
    lab.run(16 * 60)
    assert len(calls) == 3
    for event in calls:
        assert (event["source"], event["detail-type"], event["resources"], event["detail"]) == (
            "aws.events", "Scheduled Event", [arn], {})
        assert list(event) == list(eb.ENVELOPE_KEYS)
    times = [dt.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp() for e in calls]
    # an event's time is in whole seconds: each tick at start + 300 k, rounded down
    assert [int(t) for t in times] == [math.floor(start + k) for k in (300, 600, 900)]
    assert len(rows(lab, [e["id"] for e in calls])) == 3
    delete_rule(lab, name)
    lab.run(30 * 60)
    assert len(calls) == 3


def test_a_cron_schedule_fires_at_noon_utc_every_day(lab):
    fn, calls = recorder(lab)
    name, _ = rule(lab, [{"Arn": fn.arn}], ScheduleExpression="cron(0 12 * * ? *)")
    lab.run(2 * 86_400)
    times = [dt.datetime.fromisoformat(e["time"].replace("Z", "+00:00")) for e in calls]
    assert len(times) == 2 and all((t.hour, t.minute, t.second) == (12, 0, 0) for t in times)
    assert times[1] - times[0] == dt.timedelta(days=1)
    delete_rule(lab, name)


def test_a_disabled_schedule_does_not_fire(lab):
    fn, calls = recorder(lab)
    name, _ = rule(lab, [{"Arn": fn.arn}], ScheduleExpression="rate(1 minute)", State="DISABLED")
    lab.run(5 * 60 + 1)
    assert calls == []
    lab.client("events").enable_rule(Name=name)
    lab.run(2 * 60)
    assert len(calls) == 2
    lab.client("events").disable_rule(Name=name)
    lab.run(5 * 60)
    assert len(calls) == 2
    delete_rule(lab, name)


@pytest.mark.parametrize("expression", ["rate(0 minutes)", "rate(1 minutes)", "cron(0 12 * * ?)",
                                        "cron(0 12 1 * MON *)"])
def test_bad_schedule_expressions_are_refused(lab, expression):
    name = fresh("ebsched")
    with pytest.raises(ClientError, match=f"ValidationException.*{name}"):
        lab.client("events").put_rule(Name=name, ScheduleExpression=expression)
    assert lab.client("events").list_rules(NamePrefix=name)["Rules"] == []


# --- AWS service events ------------------------------------------------------------------------------
def test_aws_service_events_reach_rules_but_put_events_cannot_send_them(lab):
    health, health_calls = recorder(lab)
    ec2, ec2_calls = recorder(lab)
    _, s3_url, s3_arn = queue(lab)
    rule(lab, [{"Arn": health.arn}], {"source": ["aws.health"], "detail-type": ["AWS Health Event"]})
    rule(lab, [{"Arn": ec2.arn}], {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
                                   "detail": {"state": ["running"]}})
    bucket = fresh("ebbucket")
    rule(lab, [{"Arn": s3_arn}], {"source": ["aws.s3"], "detail-type": ["Object Created"],
                                  "detail": {"bucket": {"name": [bucket]}}})
    sent = lab.emit_aws_event("health", service="EC2")
    running = lab.emit_aws_event("ec2-state-change", instance_id="i-0123456789", state="running")
    lab.emit_aws_event("ec2-state-change", instance_id="i-0123456789", state="stopped")
    created = lab.emit_aws_event("s3-object-created", bucket=bucket, key="a.txt", size=3)
    lab.emit_aws_event("s3-object-created", bucket=fresh("other"), key="a.txt", size=3)
    answer = lab.client("events").put_events(Entries=[
        {"Source": "aws.health", "DetailType": "AWS Health Event", "Detail": "{}"},
        {"Source": "aws.s3", "DetailType": "Object Created", "Detail": json.dumps({"bucket": {"name": bucket}})}])
    assert answer["FailedEntryCount"] == 2
    assert {e["ErrorCode"] for e in answer["Entries"]} == {"NotAuthorizedForSourceException"}
    lab.run_until_idle()
    assert health_calls == [sent] and sent["source"] == "aws.health"
    assert ec2_calls == [running]
    assert [json.loads(m["Body"]) for m in receive_all(lab, s3_url)] == [created]
    assert all(row["ending"] == "processed" for row in rows(lab, [sent["id"], created["id"]]).to_dict("records"))
