"""lab.sns_trigger: the subscription as boto3 shows it, SNS's and Lambda's retry layers, the ledger.

One lab serves the module (fresh names per test): a subscription's first publish costs moto an
RSA key, so the tests share what they can.
"""

from __future__ import annotations

import itertools
import json

import pytest
from botocore.exceptions import ClientError

from lambda_lab import Lab
from lambda_lab.delivery.retry import SNS_MANAGED
from lambda_lab.errors import ConfigurationError, InvalidParameterException
from lambda_lab.helpers.sqs import receive_all

NAMES = itertools.count()


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=0) as shared:
        yield shared


def setup(lab, handler=None, **options):
    """A fresh topic and function; returns (topic ARN, function, calls)."""
    n = next(NAMES)
    topic = lab.client("sns").create_topic(Name=f"topic-{n}")["TopicArn"]
    calls = []

    def record(event, context):
        calls.append(event)
        return handler(event, context) if handler else None

    return topic, lab.function(f"fn-{n}", record, **options), calls


def queue(lab, name):
    sqs = lab.client("sqs")
    return sqs.create_queue(QueueName=name)["QueueUrl"], lab.arn("sqs", name)


def rows(lab, fn):
    return lab.outcomes(fn.name, source="sns")


def test_the_subscription_shows_as_a_lambda_subscription(lab):
    topic, fn, _ = setup(lab)
    _, dlq = queue(lab, "shown-dlq")
    policy = {"color": ["red"]}
    sub = lab.sns_trigger(topic, fn, filter_policy=policy, dead_letter_arn=dlq)
    sns = lab.client("sns")
    [listed] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert (listed["SubscriptionArn"], listed["Protocol"], listed["Endpoint"]) == (sub.arn, "lambda", fn.arn)
    everything = sns.list_subscriptions()["Subscriptions"]
    assert not any("lambda-lab-" in s["Endpoint"] for s in everything)  # the relay queue is hidden
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub.arn)["Attributes"]
    assert attributes["Protocol"] == "lambda" and attributes["Endpoint"] == fn.arn
    assert json.loads(attributes["FilterPolicy"]) == policy and attributes["FilterPolicyScope"] == "MessageAttributes"
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq}
    sns.set_subscription_attributes(SubscriptionArn=sub.arn, AttributeName="FilterPolicyScope",
                                    AttributeValue="MessageBody")
    sns.set_subscription_attributes(SubscriptionArn=sub.arn, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"order": {"size": ["big"]}}))
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub.arn)["Attributes"]
    assert attributes["FilterPolicyScope"] == "MessageBody" and "order" in json.loads(attributes["FilterPolicy"])
    with pytest.raises(InvalidParameterException):  # a nested policy cannot apply to attributes
        sns.set_subscription_attributes(SubscriptionArn=sub.arn, AttributeName="FilterPolicyScope",
                                        AttributeValue="MessageAttributes")


def test_publish_and_publish_batch_reach_the_function(lab):
    topic, fn, calls = setup(lab)
    lab.sns_trigger(topic, fn)
    sns = lab.client("sns")
    first = sns.publish(TopicArn=topic, Message="one")["MessageId"]
    batch = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": str(i), "Message": f"b{i}"} for i in range(3)])["Successful"]
    assert lab.run_until_idle().idle
    assert sorted(e["Records"][0]["Sns"]["Message"] for e in calls) == ["b0", "b1", "b2", "one"]
    got = rows(lab, fn)
    assert sorted(got["item"]) == sorted([first, *(b["MessageId"] for b in batch)])
    assert (got["ending"] == "processed").all() and (got["layer"] == "lambda").all()


def test_function_errors_are_retried_by_lambda_then_go_to_the_destination(lab):
    url, failure = queue(lab, "sns-on-failure")
    topic, fn, calls = setup(lab, lambda e, c: 1 / 0, on_failure=failure)
    sub = lab.sns_trigger(topic, fn)
    lab.client("sns").publish(TopicArn=topic, Message="boom")
    lab.run_until_idle()
    log = lab.log.to_frame(fn.name)
    assert list(log["outcome"]) == ["error"] * 3
    assert [round(b - a) for a, b in zip(log["start"], log["start"][1:])] == [60, 120]
    assert [a.status_code for _, _, a in sub.handoffs] == [202]  # SNS handed it off once
    [row] = rows(lab, fn).to_dict("records")
    assert (row["ending"], row["layer"], row["where"]) == ("destination", "lambda", "sns-on-failure")
    [record] = [json.loads(m["Body"]) for m in receive_all(lab, url)]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"]["Records"][0]["Sns"]["Message"] == "boom"


def test_throttles_wait_in_lambdas_queue_until_the_maximum_event_age(lab):
    url, dlq = queue(lab, "sns-fn-dlq")
    topic, fn, _ = setup(lab, reserved_concurrency=1, duration_ms=200_000, timeout_s=300,
                         maximum_event_age_s=60, dead_letter_arn=dlq)
    lab.sns_trigger(topic, fn)
    lab.client("sns").publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "first"}, {"Id": "b", "Message": "second"}])
    lab.run_until_idle()
    got = rows(lab, fn).sort_values("accepted")
    assert sorted(got["ending"]) == ["dead_letter", "processed"]
    assert (got["layer"] == "lambda").all()
    assert (lab.log.to_frame(fn.name)["outcome"] == "throttled").sum() >= 2
    [dead] = receive_all(lab, url)
    assert json.loads(dead["Body"])["Records"][0]["EventSource"] == "aws:sns"


def test_server_errors_at_the_hand_off_are_retried_by_sns(lab):
    topic, fn, calls = setup(lab)
    sub = lab.sns_trigger(topic, fn)
    lab.faults.fail_next(fn.name, 7, error="server")
    lab.client("sns").publish(TopicArn=topic, Message="eventually")
    lab.run_until_idle()
    times = [t for t, _, _ in sub.handoffs]
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:])]
    base = [SNS_MANAGED.base_delay_s(k) for k in range(1, 8)]  # 0, 0 (immediate), 1, 1, then from 1 s
    assert gaps[:2] == [0.0, 0.0]
    # SNS jitters its retries: each gap within 10 % of the documented interval, and not all exactly on it
    assert all(0.9 * b - 1e-3 <= g <= 1.1 * b + 1e-3 for g, b in zip(gaps, base)), (gaps, base)
    assert any(abs(g - b) > 1e-3 for g, b in zip(gaps[2:], base[2:]))
    assert [a.status_code for _, _, a in sub.handoffs] == [500] * 7 + [202]
    assert len(calls) == 1
    [row] = rows(lab, fn).to_dict("records")
    assert (row["ending"], row["layer"]) == ("processed", "lambda")


def test_a_deleted_function_is_a_client_error_for_the_subscription_dlq(lab):
    url, dlq = queue(lab, "sns-sub-dlq")
    topic, fn, calls = setup(lab)
    sub = lab.sns_trigger(topic, fn, dead_letter_arn=dlq)
    other_topic, other, _ = setup(lab)
    lab.sns_trigger(other_topic, other)  # no dead-letter queue: lost
    for f in (fn, other):
        lab.runtime.functions.pop(f.name)
    lab.client("sns").publish(TopicArn=topic, Message="nobody home", Subject="s")
    lab.client("sns").publish(TopicArn=other_topic, Message="lost")
    lab.run_until_idle()
    assert [a.error_code for _, _, a in sub.handoffs] == ["ResourceNotFoundException"]  # not retried
    [row] = rows(lab, fn).to_dict("records")
    assert (row["ending"], row["layer"], row["where"]) == ("dead_letter", "sns", "sns-sub-dlq")
    [message] = receive_all(lab, url)
    envelope = json.loads(message["Body"])  # what an SQS subscriber would get: ...URL keys
    assert envelope["Message"] == "nobody home" and "UnsubscribeURL" in envelope and envelope["Subject"] == "s"
    [lost] = rows(lab, other).to_dict("records")
    assert (lost["ending"], lost["layer"]) == ("dropped", "sns") and "client-side" in lost["where"]
    assert calls == []


def test_filtered_out_messages_are_dropped_by_sns(lab):
    topic, fn, calls = setup(lab)
    lab.sns_trigger(topic, fn, filter_policy={"color": ["red"]})
    body_topic, body_fn, body_calls = setup(lab)
    lab.sns_trigger(body_topic, body_fn, filter_policy=json.dumps({"size": [{"numeric": [">", 10]}]}),
                    filter_policy_scope="MessageBody")
    sns = lab.client("sns")
    red = {"color": {"DataType": "String", "StringValue": "red"}}
    blue = {"color": {"DataType": "String", "StringValue": "blue"}}
    kept = sns.publish(TopicArn=topic, Message="r", MessageAttributes=red)["MessageId"]
    sns.publish(TopicArn=topic, Message="b", MessageAttributes=blue)
    sns.publish(TopicArn=topic, Message="none")
    sns.publish(TopicArn=body_topic, Message=json.dumps({"size": 11}))
    sns.publish(TopicArn=body_topic, Message=json.dumps({"size": 9}))
    lab.run_until_idle()
    assert [e["Records"][0]["Sns"]["MessageId"] for e in calls] == [kept]
    got = rows(lab, fn)
    dropped = got[got["ending"] == "dropped"]
    assert len(dropped) == 2 and (dropped["layer"] == "sns").all()
    assert dropped["where"].str.startswith("FilteredOut").all()
    assert [json.loads(e["Records"][0]["Sns"]["Message"]) for e in body_calls] == [{"size": 11}]
    assert sorted(rows(lab, body_fn)["ending"]) == ["dropped", "processed"]


def test_refusals_name_the_aws_rule(lab):
    sns = lab.client("sns")
    fifo = sns.create_topic(Name="refused.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    topic, fn, _ = setup(lab)
    with pytest.raises(ConfigurationError, match="Invalid protocol type: lambda"):
        lab.sns_trigger(fifo, fn)
    with pytest.raises(ConfigurationError, match="lab.sns_trigger"):
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn.arn)
    with pytest.raises(ConfigurationError, match="does not exist"):
        lab.sns_trigger(lab.arn("sns", "no-such-topic"), fn)
    with pytest.raises(ConfigurationError, match="SQS queue ARN"):
        lab.sns_trigger(topic, fn, dead_letter_arn=topic)
    with pytest.raises(InvalidParameterException):
        lab.sns_trigger(topic, fn, filter_policy={"a": {"b": ["nested"]}})  # attributes scope cannot nest
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []  # nothing half made
    lab.sns_trigger(topic, fn)
    with pytest.raises(ConfigurationError, match="already exists"):
        lab.sns_trigger(topic, fn)


def test_messages_over_the_topics_maximum_size_are_refused(lab):
    sns = lab.client("sns")
    topic, fn, calls = setup(lab)
    lab.sns_trigger(topic, fn)
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["MaximumMessageSize"] == "262144"
    with pytest.raises(ClientError, match="Message too long"):
        sns.publish(TopicArn=topic, Message="x" * (256 * 1024 + 1))
    sns.set_topic_attributes(TopicArn=topic, AttributeName="MaximumMessageSize", AttributeValue="1024")
    with pytest.raises(ClientError, match="Message too long"):  # attributes count too
        sns.publish(TopicArn=topic, Message="x" * 1000,
                    MessageAttributes={"k": {"DataType": "String", "StringValue": "v" * 30}})
    with pytest.raises(ClientError) as refused:
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
            {"Id": str(i), "Message": "x" * 600} for i in range(2)])
    assert refused.value.response["Error"]["Code"] == "BatchRequestTooLong"
    with pytest.raises(ClientError, match="MaximumMessageSize"):
        sns.set_topic_attributes(TopicArn=topic, AttributeName="MaximumMessageSize", AttributeValue="2000000")
    sns.publish(TopicArn=topic, Message="x" * 1000)
    lab.run_until_idle()
    assert len(calls) == 1
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["MaximumMessageSize"] == "1024"


def test_a_loop_through_sns_is_stopped_at_16(lab):
    topic = lab.client("sns").create_topic(Name="loop")["TopicArn"]

    def handler(event, context):
        lab.client("sns").publish(TopicArn=topic, Message="again")

    fn = lab.function("looping", handler)
    lab.sns_trigger(topic, fn)
    lab.client("sns").publish(TopicArn=topic, Message="start")
    lab.run_until_idle()
    log = lab.log.to_frame(fn.name)
    assert (log["outcome"] == "success").sum() == 16
    assert log["error_type"].eq("RecursiveInvocationDropped").sum() == 1
    assert (rows(lab, fn)["ending"] != "pending").all()


def test_unsubscribe_through_the_lab_client_stops_delivery(lab):
    topic, fn, calls = setup(lab)
    sub = lab.sns_trigger(topic, fn)
    sns = lab.client("sns")
    sns.unsubscribe(SubscriptionArn=sub.arn)
    sns.publish(TopicArn=topic, Message="after")
    lab.run_until_idle()
    assert calls == [] and sub not in lab.sources


def test_moto_signs_every_subscription_with_one_key(lab):
    """moto would draw a 2048-bit RSA key per subscription (about 0.1 s each): the lab shares one."""
    from moto.sns import models

    sns = lab.client("sns")
    fn = lab.function("signed", lambda event, context: None)
    for name in ("one", "two"):
        lab.sns_trigger(sns.create_topic(Name=name)["TopicArn"], fn)
    subscriptions = [s for s in models.sns_backends[lab.account_id][lab.region].subscriptions.values()]
    assert len(subscriptions) >= 2
    assert len({id(s.private_key()) for s in subscriptions}) == 1
