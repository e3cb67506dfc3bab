"""The same lab code against moto's threaded server on 127.0.0.1 (the endpoint is a setting)."""

from __future__ import annotations

import os

import requests

from lambda_lab import Lab
from lambda_lab.lab import handler_environment


def _round_trip(url: str) -> tuple[str, str]:
    with Lab(seed=3, endpoint_url=url) as lab:
        sqs = lab.client("sqs")
        queue = sqs.create_queue(QueueName="via-server", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        assert queue.startswith(url)
        message_id = sqs.send_message(QueueUrl=queue, MessageBody="hello")["MessageId"]
        sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)
        lab.clock.advance(30.001)  # the server thread shares the virtual clock
        again = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0, AttributeNames=["All"])["Messages"][0]
        requests.post(f"{url}/moto-api/reset", timeout=5)
        return message_id, again["Attributes"]["ApproximateReceiveCount"]


def test_lab_runs_against_a_moto_server(moto_server):
    message_id, receives = _round_trip(moto_server)
    assert receives == "2"
    assert _round_trip(moto_server)[0] == message_id  # seeded through the server's moto API


def count_queues(event, context):
    """A handler written for AWS: its own client, no region, no endpoint."""
    import boto3

    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="seen")["QueueUrl"], MessageBody=event["word"])
    return len(sqs.list_queues().get("QueueUrls", []))


def _handler_reaches_the_lab(url):
    with Lab(seed=0, endpoint_url=url) as lab:
        sqs = lab.client("sqs")
        queue = sqs.create_queue(QueueName="seen")["QueueUrl"]
        result = lab.function("count", count_queues).invoke({"word": "hi"}).payload
        body = sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"]
        if url:
            requests.post(f"{url}/moto-api/reset", timeout=5)
        return result, body


def test_a_handlers_own_client_reaches_in_process_moto_and_a_moto_server(moto_server, monkeypatch):
    # A learner's own settings that would otherwise send the handler's client elsewhere.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://203.0.113.9:1")
    monkeypatch.setenv("AWS_PROFILE", "mine")
    monkeypatch.delenv("AWS_REGION", raising=False)
    before = dict(os.environ)
    assert _handler_reaches_the_lab(None) == _handler_reaches_the_lab(moto_server)
    assert _handler_reaches_the_lab(None)[1] == "hi"
    assert dict(os.environ) == before  # everything given back when the lab closes


def test_real_aws_leaves_the_environment_alone():
    assert handler_environment("us-east-1", "aws") == {}
    local = handler_environment("eu-west-1", "http://127.0.0.1:5000")
    assert local["AWS_REGION"] == "eu-west-1" and local["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert local["AWS_PROFILE"] is None and local["AWS_SESSION_TOKEN"] is None
