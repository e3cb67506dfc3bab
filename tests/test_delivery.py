"""The delivery layer: retry policies, sending to an ARN, the hand-off and its faults, the relay."""

from __future__ import annotations

import json
import random
import statistics

import pytest

from lambda_lab import ConfigurationError
from lambda_lab.delivery import (EVENTBRIDGE_TARGET, SNS_MANAGED, Relay, hand_off, lambda_async_errors,
                                 lambda_async_throttles, send, stream_mapping)
from lambda_lab.helpers.sqs import receive_all


# --- retry policies ----------------------------------------------------------------------
def schedule(policy, limit=1_000_000):
    return list(policy.schedule(limit))


def test_async_errors_retry_after_one_then_two_minutes():
    assert [at for _, _, at, _ in schedule(lambda_async_errors())] == [0.0, 60.0, 180.0]
    assert [at for _, _, at, _ in schedule(lambda_async_errors(0))] == [0.0]
    policy = lambda_async_errors(1)
    assert policy.gives_up(1, 10.0) is None and policy.gives_up(2, 70.0) == "RetriesExhausted"
    assert lambda_async_errors(2, 60).gives_up(1, 60.0) == "EventAgeExceeded"


def test_async_throttles_double_from_1_s_to_5_minutes_until_the_event_is_6_hours_old():
    policy = lambda_async_throttles()
    delays = [d for _, d, _, _ in schedule(policy)][1:]
    assert delays[:10] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert set(delays[9:]) == {300.0}
    assert schedule(policy)[-1][2] <= 21_600 < schedule(policy)[-1][2] + 300
    jittered = [policy.delay_s(4, random.Random(seed)) for seed in range(200)]
    assert min(jittered) >= 4 and max(jittered) <= 8 and len(set(jittered)) > 100


def test_sns_managed_policy_is_100_015_attempts_over_about_23_days():
    rows = schedule(SNS_MANAGED)
    assert len(rows) == 100_015
    phases = [phase for *_, phase in rows]
    assert phases[:4] == ["immediate", "immediate", "immediate", "pre-backoff"]
    assert phases.count("pre-backoff") == 2 and phases.count("backoff") == 10
    backoff = [d for _, d, _, p in rows if p == "backoff"]
    assert backoff[0] == pytest.approx(1.0) and backoff[-1] == pytest.approx(20.0)
    assert rows[-1][2] / 86_400 == pytest.approx(23.15, abs=0.05)


def test_eventbridge_reconstruction_keeps_the_documented_count_and_span():
    rows = schedule(EVENTBRIDGE_TARGET)
    assert len(rows) == 186  # the first attempt and 185 retries
    assert rows[-1][2] == pytest.approx(86_400, rel=1e-6)
    assert "reconstruction" in EVENTBRIDGE_TARGET.assumption


def test_stream_mapping_limits():
    assert stream_mapping().gives_up(10_000, 10**6) is None
    assert stream_mapping(maximum_retry_attempts=2).gives_up(3, 0) == "RetriesExhausted"
    assert stream_mapping(maximum_record_age_s=60).gives_up(1, 60) == "EventAgeExceeded"


# --- sending -------------------------------------------------------------------------------
def test_send_reaches_sqs_and_records_failures_without_raising(lab):
    url = lab.client("sqs").create_queue(QueueName="out")["QueueUrl"]
    ok = send(lab, lab.arn("sqs", "out"), {"a": 1}, function="f", purpose="destination", depth=1)
    missing = send(lab, lab.arn("sqs", "nope"), {"a": 1}, function="f", purpose="dead_letter", depth=1)
    too_big = send(lab, lab.arn("sqs", "out"), "x" * (1024 * 1024 + 1), function="f", purpose="destination", depth=1)
    assert ok.ok and [json.loads(m["Body"]) for m in receive_all(lab, url)] == [{"a": 1}]
    assert not missing.ok and missing.error.startswith("AWS.SimpleQueueService.NonExistentQueue")
    assert not too_big.ok and "over SQS's 1,048,576-byte limit" in too_big.error
    frame = lab.sends.to_frame()
    assert frame["ok"].tolist() == [True, False, False]
    assert frame["purpose"].tolist() == ["destination", "dead_letter", "destination"]


def test_send_to_a_function_continues_the_chain(lab):
    depths = []
    lab.function("next", lambda e, c: depths.append(lab.runtime.current_depth()))
    send(lab, lab.arn("lambda", "function:next"), {}, function="f", purpose="destination", depth=3)
    lab.run_until_idle()
    assert depths == [4]


def test_send_carries_depth_to_a_queue_with_a_mapping(lab):
    url = lab.client("sqs").create_queue(QueueName="chain")["QueueUrl"]
    depths = []
    lab.sqs_trigger(url, lab.function("reader", lambda e, c: depths.append(lab.runtime.current_depth())))
    send(lab, lab.arn("sqs", "chain"), {}, function="f", purpose="destination", depth=5)
    lab.run_until_idle()
    assert depths == [6]


# --- the hand-off --------------------------------------------------------------------------
def test_hand_off_answers_as_invoke_does(lab):
    lab.function("f", lambda e, c: None)
    entry = lab.ledger.accept("sns", "m-1", "f")
    accepted = hand_off(lab, "f", {}, source="sns", entry=entry, depth=1)
    assert (accepted.status_code, accepted.accepted) == (202, True)
    missing = hand_off(lab, "ghost", {}, source="sns", entry=lab.ledger.accept("sns", "m-2", "ghost"), depth=1)
    assert (missing.status_code, missing.error_code, missing.retryable) == (404, "ResourceNotFoundException", False)
    lab.run_until_idle()
    assert lab.outcomes()["ending"].tolist() == ["processed", "pending"]


def test_injected_faults_fail_the_next_n_hand_offs_then_stop(lab):
    lab.function("f", lambda e, c: None)
    lab.faults.fail_next("f", 2, "throttle")
    lab.faults.fail_next("f", 1, "server")
    answers = [hand_off(lab, "f", {}, source="sns", entry=lab.ledger.accept("sns", str(i), "f"), depth=1)
               for i in range(4)]
    assert [a.status_code for a in answers] == [429, 429, 500, 202]
    assert [a.retryable for a in answers[:3]] == [True, True, True]
    with pytest.raises(ConfigurationError, match="throttle, server"):
        lab.faults.fail_next("f", 1, "timeout")


def test_reserved_concurrency_zero_is_accepted_then_dead_lettered(lab):
    lab.client("sqs").create_queue(QueueName="dlq")
    lab.function("f", lambda e, c: None, reserved_concurrency=0, dead_letter_arn=lab.arn("sqs", "dlq"))
    answer = hand_off(lab, "f", {}, source="sns", entry=lab.ledger.accept("sns", "m", "f"), depth=1)
    lab.run_until_idle()
    assert answer.status_code == 202
    assert lab.outcomes()[["ending", "where"]].values.tolist() == [["dead_letter", "dlq"]]


# --- the relay -----------------------------------------------------------------------------
def test_relay_carries_sns_messages_and_lists_the_lambda_subscription(lab):
    sns = lab.client("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    relay = Relay(lab, "sns", "orders-f")
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=relay.arn)["SubscriptionArn"]
    function_arn = lab.arn("lambda", "function:f")

    def as_lambda(parsed):
        for s in parsed.get("Subscriptions", []):
            if s["Endpoint"] == relay.arn:
                s["Protocol"], s["Endpoint"] = "lambda", function_arn

    relay.show_as("sns", "ListSubscriptionsByTopic", as_lambda)
    sns.publish(TopicArn=topic, Message="hello")
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"], s["SubscriptionArn"]) for s in listed] == [("lambda", function_arn, sub)]
    bodies = relay.drain()
    assert [b["Message"] for b in bodies] == ["hello"] and relay.waiting() == 0
    relay.stop()
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["Protocol"] == "sqs"


def test_sns_jitter_spreads_each_interval_ten_percent_and_keeps_the_schedule_length():
    """SNS "applies jittering to delivery retries" without saying how much: the lab's spread keeps
    each interval within 10 % and its mean, so 100,015 attempts still take about 23 days."""
    rng = random.Random(1)
    base = SNS_MANAGED.base_delay_s(20)  # a 20 s post-backoff interval
    delays = [SNS_MANAGED.delay_s(20, rng) for _ in range(2_000)]
    assert 0.9 * base <= min(delays) < max(delays) <= 1.1 * base
    assert statistics.mean(delays) == pytest.approx(base, rel=0.01)
    assert SNS_MANAGED.delay_s(1, rng) == 0.0  # the immediate retries stay immediate
