"""Safe by default: fake credentials, no request off this machine without an explicit opt-in."""

from __future__ import annotations

import socket

import pytest

from lambda_lab import Lab, LabSafetyError
from lambda_lab.endpoints import check_endpoint, is_local


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:5000", "http://127.8.9.10:4566", "http://localhost:4566", "http://[::1]:5000"]
)
def test_loopback_endpoints_are_allowed(url):
    assert is_local(url)
    check_endpoint(url, allow_remote=False)


@pytest.mark.parametrize(
    "url",
    ["https://sqs.us-east-1.amazonaws.com", "http://10.0.0.5:4566", "http://192.168.1.20:5000",
     "http://localstack:4566", "http://localhost.evil.example:5000"],
)
def test_other_endpoints_are_refused_without_opt_in(url):
    with pytest.raises(LabSafetyError, match="not on this machine"):
        Lab(endpoint_url=url)
    check_endpoint(url, allow_remote=True)  # the explicit opt-in


def test_real_aws_needs_explicit_opt_in():
    with pytest.raises(LabSafetyError, match="allow_remote=True"):
        Lab(endpoint_url="aws")


def test_a_refused_lab_leaves_the_running_one_alone(lab):
    with pytest.raises(LabSafetyError):
        Lab(endpoint_url="http://10.1.2.3:4566")
    assert lab.client("sqs").list_queues().get("QueueUrls", []) == []


def test_your_aws_profile_and_keys_are_never_read(tmp_path, monkeypatch):
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text("[prod]\naws_access_key_id = AKIAREALKEY\naws_secret_access_key = real\n")
    (aws / "config").write_text("[profile prod]\nregion = eu-west-3\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_PROFILE", "prod")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://10.9.9.9:4566")
    with Lab(seed=0) as lab:
        sqs = lab.client("sqs")
        assert sqs.meta.region_name == "us-east-1"
        assert lab._session.get_credentials().access_key == "testing"
        sqs.create_queue(QueueName="q")


def test_no_connection_leaves_the_machine(monkeypatch):
    attempts = []
    real_connect = socket.socket.connect

    def guarded(self, address):
        attempts.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    with Lab(seed=0) as lab:
        url = lab.client("sqs").create_queue(QueueName="q")["QueueUrl"]
        lab.client("sqs").send_message(QueueUrl=url, MessageBody="x")
        lab.client("s3").create_bucket(Bucket="lab-bucket")
        lab.client("dynamodb").list_tables()
        lab.function("f", lambda e, c: None).invoke({})
    assert attempts == []
