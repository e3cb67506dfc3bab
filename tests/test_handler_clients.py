"""A handler written for AWS makes its own boto3 clients: the lab hears what it does with them.

Sources listen to the lab's client and to boto3's default session (``lab.client_events``), so a
send, put, publish or write from ``boto3.client(...)`` inside a handler wakes the source at once,
as the same call through ``lab.client(...)`` does. Without it, an SQS send would wait for the
poller's back-off, a PutEvents would go to moto (which matches no rule for the lab) and be lost,
and a handler publishing to its own topic would loop with no recursion detection.
"""

from __future__ import annotations

import json


def forward_to_queue(event, context):
    import boto3

    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="work")["QueueUrl"], MessageBody=event["word"])


def put_order_event(event, context):
    import boto3

    boto3.client("events").put_events(Entries=[{"Source": "shop.orders", "DetailType": "OrderPlaced",
                                                "Detail": json.dumps({"id": event["id"]})}])


def upload(event, context):
    import boto3

    boto3.client("s3").put_object(Bucket="photos", Key=event["key"], Body=b"x")


def recorder(lab, name):
    seen = []

    def record(event, context):
        seen.append(event)
        return {"batchItemFailures": []}

    return lab.function(name, record), seen


def test_a_send_from_a_handlers_client_is_received_at_once(lab):
    url = lab.client("sqs").create_queue(QueueName="work")["QueueUrl"]
    reader, seen = recorder(lab, "reader")
    lab.sqs_trigger(url, reader)
    lab.run(120)  # idle long enough for the poller's back-off to reach 20 s
    sent_at = lab.clock.elapsed()
    lab.function("writer", forward_to_queue).invoke({"word": "hi"})
    summary = lab.run_until_idle()
    assert [r["body"] for e in seen for r in e["Records"]] == ["hi"]
    assert lab.log.records[-1].start - sent_at < 1.0
    assert summary.idle


def test_put_events_from_a_handler_reaches_the_rule_target(lab):
    target, seen = recorder(lab, "target")
    events = lab.client("events")
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop.orders"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "t", "Arn": target.arn}])
    lab.function("shop", put_order_event).invoke({"id": "o-1"})
    lab.run_until_idle()
    assert [e["detail"] for e in seen] == [{"id": "o-1"}]
    assert list(lab.outcomes(function="target")["ending"]) == ["processed"]


def test_an_upload_from_a_handler_notifies_the_bucket_trigger(lab):
    lab.client("s3").create_bucket(Bucket="photos")
    reader, seen = recorder(lab, "thumbnails")
    lab.s3_trigger("photos", reader)
    lab.function("uploader", upload).invoke({"key": "cat.jpg"})
    lab.run_until_idle()
    assert [r["s3"]["object"]["key"] for e in seen for r in e["Records"]] == ["cat.jpg"]


def _hooked(events, name):
    """The handlers registered for event ``name`` on an emitter (botocore keeps them in a prefix trie)."""
    emitter = getattr(events, "_emitter", events)
    return list(emitter._handlers.prefix_search(name))


def test_closing_the_lab_removes_its_hooks_from_boto3s_default_session():
    import boto3

    from lambda_lab import Lab

    with Lab(seed=0) as lab:
        url = lab.client("sqs").create_queue(QueueName="work")["QueueUrl"]
        mapping = lab.sqs_trigger(url, recorder(lab, "reader")[0])
        session = boto3.DEFAULT_SESSION
        assert mapping._on_send in _hooked(session.events, "after-call.sqs.SendMessage")
    assert mapping._on_send not in _hooked(session.events, "after-call.sqs.SendMessage")


def publish_to_own_topic(event, context):
    """Publishes to the topic that triggers it: a recursive loop, as in chapter 03."""
    import boto3

    boto3.client("sns").publish(TopicArn=event["Records"][0]["Sns"]["TopicArn"], Message="again")


def test_a_loop_through_a_handlers_own_sns_client_is_stopped_as_aws_stops_it(lab):
    topic = lab.client("sns").create_topic(Name="loop")["TopicArn"]
    looper = lab.function("looper", publish_to_own_topic)
    lab.sns_trigger(topic, looper)
    lab.client("sns").publish(TopicArn=topic, Message="start")
    summary = lab.run_until_idle(max_s=300)  # without the guard the loop would run the whole time
    assert summary.idle
    endings = lab.outcomes(function="looper")["ending"].tolist()
    assert "dropped" in endings  # the chain was cut, as AWS's recursive loop detection does
    assert len(endings) < 30


def test_a_too_long_message_from_a_handlers_own_sns_client_is_refused(lab):
    topic = lab.client("sns").create_topic(Name="big")["TopicArn"]

    def shout(event, context):
        import boto3

        boto3.client("sns").publish(TopicArn=topic, Message="x" * (256 * 1024 + 1))

    result = lab.function("shout", shout).invoke({})
    assert result.function_error and "InvalidParameter" in result.payload["errorMessage"]
