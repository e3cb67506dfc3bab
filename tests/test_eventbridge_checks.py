"""Chapter 06's exercise checks: the starter fails with a hint, the solution passes, plausible wrong answers fail.

One lab serves the module (each check makes fresh names). The set-up functions below are the
chapter's set-up cells, with the names as parameters so each test has its own.
"""

from __future__ import annotations

import json

import pytest

from lambda_lab import Lab
from lambda_lab.check import eventbridge as check
from verdicts import assert_not_yet


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=0) as shared:
        yield shared


# --------------------------------------------------------------------------- Exercise 1
STARTER_1 = {"source": ["shop.orders"], "detail-type": ["OrderPlaced"]}
SOLUTION_1 = {
    "source": ["shop.orders"],
    "detail-type": ["OrderPlaced"],
    "detail": {
        "country": ["DE", "FR", "IT", "ES"],
        "amount": [{"numeric": [">=", 100]}],
        "test": [False, {"exists": False}],
        "email": [{"anything-but": {"suffix": "@example.com"}}],
    },
}


def with_detail(**fields):
    """The solution with some of its detail conditions replaced (None leaves one out)."""
    detail = {**SOLUTION_1["detail"], **fields}
    return {**SOLUTION_1, "detail": {k: v for k, v in detail.items() if v is not None}}


def test_ex1_starter_fails_with_hints(lab):
    assert_not_yet(check.pattern(lab, STARTER_1), '"de" (lower case) arrived', '"GB" arrived', "99.99 arrived",
                   "a test order", "@example.com address arrived")


def test_ex1_solution_passes(lab):
    verdict = check.pattern(lab, SOLUTION_1)
    assert verdict, repr(verdict)
    assert repr(verdict) == "✓ Exercise 1 (an event pattern for the orders you want): correct"


@pytest.mark.parametrize("answer", [
    json.dumps(SOLUTION_1),  # as JSON text
    {**{k: v for k, v in SOLUTION_1.items() if k != "detail"},  # the test condition as $or
     "$or": [{"detail": {"test": [False]}}, {"detail": {"test": [{"exists": False}]}}],
     "detail": {k: v for k, v in SOLUTION_1["detail"].items() if k != "test"}},
    with_detail(email=[{"anything-but": {"wildcard": "*@example.com"}}]),
])
def test_ex1_other_right_answers_pass(lab, answer):
    verdict = check.pattern(lab, answer)
    assert verdict, repr(verdict)


@pytest.mark.parametrize("answer, hint", [
    ({"amount": [{"numeric": [">", 100]}]}, 'inside "detail"'),
    ({**STARTER_1, **SOLUTION_1["detail"]}, 'inside "detail"'),  # no "detail" nesting
    (with_detail(amount=[{"numeric": [">", 100]}]), "includes 100"),
    (with_detail(country=["de", "fr", "it", "es"]), "case-sensitive"),
    (with_detail(country=[{"equals-ignore-case": c} for c in ("DE", "FR", "IT", "ES")]), '"de" (lower case) arrived'),
    (with_detail(country=["DE", "IT", "ES"]), 'an order from "FR" did not arrive'),
    (with_detail(test=None), "a test order"),
    (with_detail(test=[False]), '{"exists": false}'),
    (with_detail(test=[{"exists": False}]), '"test": false did not arrive'),
    (with_detail(email=[{"anything-but": "@example.com"}]), '{"anything-but": {"suffix": "@example.com"}}'),
    (with_detail(email=[{"anything-but": {"wildcard": "*example.com"}}]), "@notexample.com address did not arrive"),
    ({**SOLUTION_1, "source": None}, "refuses that pattern"),
    ({k: v for k, v in SOLUTION_1.items() if k != "source"}, '"shop.returns" arrived'),
    ({k: v for k, v in SOLUTION_1.items() if k != "detail-type"}, '"OrderCancelled" event arrived'),
    ({**SOLUTION_1, "detail": {"order": SOLUTION_1["detail"]}}, "lab.test_event_pattern"),
])
def test_ex1_wrong_answers_fail(lab, answer, hint):
    assert_not_yet(check.pattern(lab, answer), hint)


def test_ex1_a_pattern_put_rule_refuses_is_reported_not_raised(lab):
    assert_not_yet(check.pattern(lab, {"source": "shop.orders"}), "InvalidEventPatternException",
                   'not "source": "shop.orders"')
    assert_not_yet(check.pattern(lab, '{"source": ['), "refuses that pattern")


def test_ex1_not_a_pattern(lab):
    assert_not_yet(check.pattern(lab, None), "expected an event pattern")


def test_ex1_leaves_no_bus_or_rule_behind(lab):
    check.pattern(lab, SOLUTION_1)
    buses = [bus["Name"] for bus in lab.client("events").list_event_buses()["EventBuses"]]
    assert not [bus for bus in buses if bus.startswith("ex1-pattern-check")], buses


# --------------------------------------------------------------------------- Exercise 2
def refuse_negative(event, context):
    order = event["detail"]
    if order["amount"] < 0:
        raise ValueError(f"amount must not be negative, got {order['amount']}")
    return order["order_id"]


def ex2_setup(lab, name="ex2"):
    """The chapter's set-up cell: a bus, a rule with a Lambda target, two empty queues."""
    events, sqs = lab.client("events"), lab.client("sqs")
    events.create_event_bus(Name=name)
    for queue in (f"{name}-target-dlq", f"{name}-function-failed"):
        sqs.create_queue(QueueName=queue)
    fn = lab.function(name, refuse_negative)
    events.put_rule(Name=f"{name}-orders", EventBusName=name, EventPattern=json.dumps(
        {"source": ["shop.orders"], "detail-type": ["OrderPlaced"]}))
    events.put_targets(Rule=f"{name}-orders", EventBusName=name, Targets=[{"Id": name, "Arn": fn.arn}])
    return fn


def set_target(lab, name, target_dlq=None, retry_policy="short", target_id=None):
    """put_targets again for the chapter's target (same Id unless ``target_id``)."""
    target = {"Id": target_id or name, "Arn": lab.arn("lambda", f"function:{name}")}
    if target_dlq:
        target["DeadLetterConfig"] = {"Arn": lab.arn("sqs", target_dlq)}
    if retry_policy == "short":
        target["RetryPolicy"] = {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3_600}
    lab.client("events").put_targets(Rule=f"{name}-orders", EventBusName=name, Targets=[target])


def run_check(lab, name):
    return check.nothing_lost(lab, f"{name}-orders", name, name)


def test_ex2_starter_fails_with_hints(lab):
    ex2_setup(lab, "ex2-starter")
    assert_not_yet(run_check(lab, "ex2-starter"), "at most an hour of virtual time", "on_failure destination",
                   "the target has no dead-letter queue")


def test_ex2_solution_passes_with_the_chapters_names(lab):
    ex2 = ex2_setup(lab)  # the chapter's names: bus ex2, rule ex2-orders, function ex2
    events = lab.client("events")
    # The solution cell, as in the chapter:
    events.put_targets(Rule="ex2-orders", EventBusName="ex2", Targets=[{
        "Id": "ex2", "Arn": ex2.arn,
        "DeadLetterConfig": {"Arn": lab.arn("sqs", "ex2-target-dlq")},
        "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3_600}}])
    ex2 = lab.function("ex2", refuse_negative, on_failure=lab.arn("sqs", "ex2-function-failed"))
    verdict = check.nothing_lost(lab, "ex2-orders", "ex2", "ex2")
    assert verdict, repr(verdict)
    assert repr(verdict) == "✓ Exercise 2 (no event lost, whichever layer gives up): correct"
    assert check.nothing_lost(lab), "the defaults are the chapter's names; a second run passes too"


def test_ex2_function_dead_letter_queue_and_no_retries_pass_too(lab):
    ex2_setup(lab, "ex2-fdlq")
    lab.client("events").put_targets(Rule="ex2-fdlq-orders", EventBusName="ex2-fdlq", Targets=[{
        "Id": "ex2-fdlq", "Arn": lab.arn("lambda", "function:ex2-fdlq"),
        "DeadLetterConfig": {"Arn": lab.arn("sqs", "ex2-fdlq-target-dlq")},
        "RetryPolicy": {"MaximumRetryAttempts": 0}}])
    lab.function("ex2-fdlq", refuse_negative, dead_letter_arn=lab.arn("sqs", "ex2-fdlq-function-failed"))
    verdict = run_check(lab, "ex2-fdlq")
    assert verdict, repr(verdict)


def test_ex2_wrong_only_the_targets_queue(lab):
    ex2_setup(lab, "ex2-tonly")
    set_target(lab, "ex2-tonly", "ex2-tonly-target-dlq")
    assert_not_yet(run_check(lab, "ex2-tonly"), "the target's dead-letter queue never sees a function error")


def test_ex2_wrong_only_the_functions_destination(lab):
    ex2_setup(lab, "ex2-fonly")
    set_target(lab, "ex2-fonly")
    lab.function("ex2-fonly", refuse_negative, on_failure=lab.arn("sqs", "ex2-fonly-function-failed"))
    assert_not_yet(run_check(lab, "ex2-fonly"), "catch only what Lambda accepted",
                   "refused until the target's retry policy ran out", "put while the function was missing")


def test_ex2_wrong_both_queues_on_the_function(lab):
    ex2_setup(lab, "ex2-both-fn")
    set_target(lab, "ex2-both-fn")
    lab.function("ex2-both-fn", refuse_negative, on_failure=lab.arn("sqs", "ex2-both-fn-function-failed"),
                 dead_letter_arn=lab.arn("sqs", "ex2-both-fn-target-dlq"))
    assert_not_yet(run_check(lab, "ex2-both-fn"), "this never reached Lambda", "DeadLetterConfig")


def test_ex2_wrong_queues_swapped(lab):
    ex2_setup(lab, "ex2-swap")
    set_target(lab, "ex2-swap", "ex2-swap-function-failed")
    lab.function("ex2-swap", refuse_negative, on_failure=lab.arn("sqs", "ex2-swap-target-dlq"))
    assert_not_yet(run_check(lab, "ex2-swap"), "that queue is the target's",
                   "which is for what the function fails on")


def test_ex2_wrong_the_default_retry_policy(lab):
    ex2_setup(lab, "ex2-long")
    set_target(lab, "ex2-long", "ex2-long-target-dlq", retry_policy=None)
    lab.function("ex2-long", refuse_negative, on_failure=lab.arn("sqs", "ex2-long-function-failed"))
    assert_not_yet(run_check(lab, "ex2-long"), "the check waits at most an hour of virtual time")


def test_ex2_wrong_a_second_target_instead_of_changing_the_first(lab):
    ex2_setup(lab, "ex2-twice")
    set_target(lab, "ex2-twice", "ex2-twice-target-dlq", target_id="with-dlq")
    assert_not_yet(run_check(lab, "ex2-twice"), "delivered 2 times")


def test_ex2_a_queue_someone_reads_is_caught(lab):
    ex2_setup(lab, "ex2-read")
    set_target(lab, "ex2-read", "ex2-read-target-dlq")
    lab.function("ex2-read", refuse_negative, on_failure=lab.arn("sqs", "ex2-read-function-failed"))
    reader = lab.function("ex2-reader", lambda event, context: None)
    url = lab.client("sqs").get_queue_url(QueueName="ex2-read-function-failed")["QueueUrl"]
    mapping = lab.sqs_trigger(url, reader)
    try:
        assert_not_yet(run_check(lab, "ex2-read"), "not there any more")
    finally:
        mapping.disable()


def test_ex2_no_rule_or_function(lab):
    assert_not_yet(check.nothing_lost(lab, "nope-orders", "nope", "ex2-starter"), "there is no rule")
    assert_not_yet(check.nothing_lost(lab, "nope-orders", "nope", "nope"), "there is no function")


def test_ex2_keeps_the_learners_own_faults(lab):
    ex2_setup(lab, "ex2-faults")
    set_target(lab, "ex2-faults", "ex2-faults-target-dlq")
    lab.function("ex2-faults", refuse_negative, on_failure=lab.arn("sqs", "ex2-faults-function-failed"))
    lab.faults.fail_next("ex2-faults", 2, error="throttle")
    assert run_check(lab, "ex2-faults")
    assert [lab.faults.take("ex2-faults") for _ in range(3)] == ["throttle", "throttle", None]


# --------------------------------------------------------------------------- Exercise 3
PATHS = {"id": "$.detail.order_id", "amount": "$.detail.amount", "email": "$.detail.email"}
TEMPLATE = ('{"order": "<id>", "total": <amount>, "customer": {"email": "<email>"}, '
            '"summary": "Order <id> for <amount> EUR"}')
STARTER_3 = {"InputPathsMap": {"id": "$.detail.order_id"}, "InputTemplate": '{"order": "<id>"}'}
SOLUTION_3 = {"InputPathsMap": PATHS, "InputTemplate": TEMPLATE}


def test_ex3_starter_fails_with_a_hint(lab):
    assert_not_yet(check.transformer(lab, STARTER_3), "expected exactly ['order', 'total', 'customer', 'summary']")


def test_ex3_solution_passes(lab):
    verdict = check.transformer(lab, SOLUTION_3)
    assert verdict, repr(verdict)
    assert repr(verdict) == "✓ Exercise 3 (an input transformer): correct"


def test_ex3_unquoted_string_placeholders_pass_as_aws_quotes_them(lab):
    # API_InputTransformer: a JSON template can have "variables in quotes or out"; a string placed bare
    # gets its quotes (eb-transform-target-input), so this is right too.
    template = TEMPLATE.replace('"<id>",', "<id>,").replace('"<email>"', "<email>")
    assert check.transformer(lab, {"InputPathsMap": PATHS, "InputTemplate": template})


@pytest.mark.parametrize("answer, hint", [
    ({"InputPathsMap": PATHS, "InputTemplate": TEMPLATE.replace("<amount>,", '"<amount>",')}, "not a number"),
    ({"InputPathsMap": {**PATHS, "id": "$.order_id"}, "InputTemplate": TEMPLATE}, "order came out empty"),
    ({"InputPathsMap": PATHS, "InputTemplate": "Order <id> for <amount> EUR"}, "a template that is not JSON"),
    ({"InputPathsMap": PATHS, "InputTemplate": TEMPLATE.replace('"<id>",', '"<id>"')}, "not valid JSON"),
    ({"InputPathsMap": PATHS, "InputTemplate": TEMPLATE.replace('{"email": "<email>"}', '"<email>"')},
     "customer was"),
    ({"InputPathsMap": PATHS, "InputTemplate": TEMPLATE.replace("<id> for", "<id> of")}, "summary was"),
    ({"InputPathsMap": PATHS, "InputTemplate": TEMPLATE.replace("<id>", "<order_id>")},
     "must be a key of InputPathsMap"),
    ({"InputPathsMap": PATHS, "InputTemplate": json.loads(TEMPLATE.replace("<amount>", "0"))}, "InputTemplate is text"),
    ("{}", "expected an InputTransformer"),
])
def test_ex3_wrong_answers_fail(lab, answer, hint):
    assert_not_yet(check.transformer(lab, answer), hint)


def test_ex2_names_that_are_not_names(lab):
    assert_not_yet(check.nothing_lost(lab, None, "ex2", "ex2"), "the rule is a name")
    assert_not_yet(check.nothing_lost(lab, "ex2-orders", "bad/bus name", "ex2"), "there is no rule")
