"""The same lab code against moto's threaded server on 127.0.0.1 (the endpoint is a setting)."""

from __future__ import annotations

import requests

from lambda_lab import Lab


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
