"""Chapter 03's exercise checks: the starter fails with a hint, the solution passes, plausible wrong answers fail.

One lab serves the module (each check makes fresh names): a topic's first publish costs moto an RSA key.
"""

from __future__ import annotations

import json

import pytest

from lambda_lab import Lab
from lambda_lab.check import sns as check
from verdicts import assert_not_yet


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=0) as shared:
        yield shared


# --------------------------------------------------------------------------- Exercise 1
def starter_1(event, context):
    ...  # your code here


def solution_1(event, context):
    return [json.loads(json.loads(record["body"])["Message"]) for record in event["Records"]]


def envelope_only(event, context):  # forgot the second json.loads: the SNS envelope
    return [json.loads(record["body"]) for record in event["Records"]]


def message_string(event, context):  # the Message, still a string
    return [json.loads(record["body"])["Message"] for record in event["Records"]]


def sns_shape(event, context):  # wrote it for a Lambda subscriber: Records[].Sns
    return [json.loads(record["Sns"]["Message"]) for record in event["Records"]]


def raw_delivery(event, context):  # assumed raw message delivery: the body is the envelope here
    return [json.loads(record["body"]) for record in event["Records"]]


def first_record_only(event, context):
    return [json.loads(json.loads(event["Records"][0]["body"])["Message"])]


def test_ex1_starter_fails_with_a_hint(lab):
    assert_not_yet(check.unwrapped_orders(lab, starter_1), "list of orders")


def test_ex1_solution_passes(lab):
    verdict = check.unwrapped_orders(lab, solution_1)
    assert verdict, repr(verdict)


@pytest.mark.parametrize("wrong, hint", [
    (envelope_only, "SNS envelope"),
    (raw_delivery, "SNS envelope"),
    (message_string, "json.loads"),
    (sns_shape, "Records[].body"),
    (first_record_only, "one order per record"),
])
def test_ex1_wrong_answers_fail(lab, wrong, hint):
    assert_not_yet(check.unwrapped_orders(lab, wrong), hint)


def test_ex1_not_a_function(lab):
    assert_not_yet(check.unwrapped_orders(lab, "handler"), "expected a function")


# --------------------------------------------------------------------------- Exercise 2
def fragile(event, context):
    order = json.loads(event["Records"][0]["Sns"]["Message"])
    if order["amount"] <= 0:
        raise ValueError(f"amount must be positive, got {order['amount']}")
    return order["order_id"]


def _ex2_setup(lab, name):
    sqs = lab.client("sqs")
    for queue in (f"{name}-subscription-dlq", f"{name}-function-dlq"):
        sqs.create_queue(QueueName=queue)
    return lab.client("sns").create_topic(Name=name)["TopicArn"]


def test_ex2_starter_the_blogs_configuration_fails(lab):
    topic = _ex2_setup(lab, "ex2-starter")
    lab.sns_trigger(topic, lab.function("ex2-starter", fragile),
                    dead_letter_arn=lab.arn("sqs", "ex2-starter-subscription-dlq"))
    assert_not_yet(check.nothing_lost(lab, topic, "ex2-starter"), "on_failure destination or a dead_letter_arn")


def test_ex2_solution_passes(lab):
    topic = _ex2_setup(lab, "ex2-solution")
    lab.function("ex2-solution", fragile)
    lab.sns_trigger(topic, lab.runtime.functions["ex2-solution"],
                    dead_letter_arn=lab.arn("sqs", "ex2-solution-subscription-dlq"))
    lab.function("ex2-solution", fragile, on_failure=lab.arn("sqs", "ex2-solution-function-dlq"))  # as the chapter
    verdict = check.nothing_lost(lab, topic, "ex2-solution")
    assert verdict, repr(verdict)


def test_ex2_function_dead_letter_queue_passes_too(lab):
    topic = _ex2_setup(lab, "ex2-fdlq")
    fn = lab.function("ex2-fdlq", fragile, dead_letter_arn=lab.arn("sqs", "ex2-fdlq-function-dlq"))
    lab.sns_trigger(topic, fn, dead_letter_arn=lab.arn("sqs", "ex2-fdlq-subscription-dlq"))
    assert check.nothing_lost(lab, topic, "ex2-fdlq")


def test_ex2_wrong_only_the_functions_queue(lab):
    topic = _ex2_setup(lab, "ex2-fn-only")
    fn = lab.function("ex2-fn-only", fragile, on_failure=lab.arn("sqs", "ex2-fn-only-function-dlq"))
    lab.sns_trigger(topic, fn)
    assert_not_yet(check.nothing_lost(lab, topic, "ex2-fn-only"), "give the subscription a dead-letter queue")


def test_ex2_wrong_no_retries_and_only_the_subscriptions_queue(lab):
    topic = _ex2_setup(lab, "ex2-noretry")
    fn = lab.function("ex2-noretry", fragile, maximum_retry_attempts=0)
    lab.sns_trigger(topic, fn, dead_letter_arn=lab.arn("sqs", "ex2-noretry-subscription-dlq"))
    assert_not_yet(check.nothing_lost(lab, topic, "ex2-noretry"), "on_failure")


def test_ex2_wrong_on_success_instead_of_on_failure(lab):
    topic = _ex2_setup(lab, "ex2-onsuccess")
    fn = lab.function("ex2-onsuccess", fragile, on_success=lab.arn("sqs", "ex2-onsuccess-function-dlq"))
    lab.sns_trigger(topic, fn, dead_letter_arn=lab.arn("sqs", "ex2-onsuccess-subscription-dlq"))
    assert_not_yet(check.nothing_lost(lab, topic, "ex2-onsuccess"), "on_failure")


def test_ex2_no_subscription(lab):
    topic = _ex2_setup(lab, "ex2-nosub")
    lab.function("ex2-nosub", fragile)
    assert_not_yet(check.nothing_lost(lab, topic, "ex2-nosub"), "no lab.sns_trigger")


# --------------------------------------------------------------------------- Exercise 3
SOLUTION_3 = {"type": ["order"], "amount": [{"numeric": [">=", 100]}]}


def test_ex3_starter_fails_with_a_hint(lab):
    assert_not_yet(check.filter_policy(lab, {}, "MessageAttributes"), "write one")


def test_ex3_solution_passes(lab):
    verdict = check.filter_policy(lab, SOLUTION_3, "MessageBody")
    assert verdict, repr(verdict)
    assert check.filter_policy(lab, json.dumps(SOLUTION_3), "MessageBody")  # as JSON text too


@pytest.mark.parametrize("policy, scope, hint", [
    (SOLUTION_3, "MessageAttributes", "scope is MessageBody"),  # right policy, default scope: all dropped
    ({"type": ["order"], "amount": [{"numeric": [">", 100]}]}, "MessageBody", "of 100 was filtered out"),
    ({"amount": [{"numeric": [">=", 100]}]}, "MessageBody", "'refund' of 500 arrived"),
    ({"type": [{"prefix": "order"}], "amount": [{"numeric": [">=", 100]}]}, "MessageBody", "'order-test'"),
    ({"type": ["order"], "amount": ["100"]}, "MessageBody", "drops everything"),
    ({"type": ["order"]}, "MessageBody", "of 12 arrived"),
])
def test_ex3_wrong_answers_fail(lab, policy, scope, hint):
    assert_not_yet(check.filter_policy(lab, policy, scope), hint)


def test_ex3_a_policy_sns_refuses_is_reported_not_raised(lab):
    assert_not_yet(check.filter_policy(lab, {"amount": [{"numeric": ["=>", 100]}]}, "MessageBody"), "refuses")
