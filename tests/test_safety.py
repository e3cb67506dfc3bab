"""Safe by default: fake credentials, no request off this machine without an explicit opt-in."""

from __future__ import annotations

import builtins
import io
import os
import socket
import threading

import pytest
from moto.core.base_backend import AccountSpecificBackend

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


# --- endpoints are judged by the host the HTTP client will reach ------------------------------
def _refuse_connections(monkeypatch) -> list:
    """Record every connection attempt and fail it, so a test can show that nothing was sent."""
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("test: no connections")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.mark.parametrize(
    "url, rule",
    [
        ("http://203.0.113.5\\@127.0.0.1", "backslash"),  # urllib3 connects to 203.0.113.5
        ("http://203.0.113.5\\@127.0.0.1:5000/", "backslash"),
        ("http://user@127.0.0.1:5000", "userinfo"),
        ("http://127.0.0.1:5000 @203.0.113.5", "whitespace"),
        ("http://127.0.0.1\t:5000", "whitespace"),
        ("http://127.0.0.1\n.evil.example:5000", "control character"),
        ("ftp://127.0.0.1:5000", "scheme"),
        ("file://127.0.0.1/etc/passwd", "scheme"),
        ("http://127.0.0.1:99999", "cannot parse"),
        ("http://[::1%25lo]:5000", "would connect to"),
    ],
)
def test_ambiguous_endpoints_are_refused_before_anything_is_sent(url, rule, monkeypatch):
    attempts = _refuse_connections(monkeypatch)
    with pytest.raises(LabSafetyError, match=rule):
        Lab(endpoint_url=url)
    assert attempts == []
    assert not is_local(url)


def test_allow_remote_does_not_excuse_an_ambiguous_endpoint(monkeypatch):
    attempts = _refuse_connections(monkeypatch)
    with pytest.raises(LabSafetyError, match="ambiguous"):
        Lab(endpoint_url="http://203.0.113.5\\@127.0.0.1", allow_remote=True)
    assert attempts == []
    check_endpoint("aws", allow_remote=True)  # real AWS with the opt-in stays allowed


# --- loopback traffic never goes through a proxy -----------------------------------------------
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture
def fake_proxy():
    """A listener that counts connections and hangs up at once (a proxy must never see lab traffic)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # so the thread sees `done` soon after the test
    contacts = []
    done = threading.Event()

    def serve():
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            contacts.append(conn.getpeername())
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", contacts
    done.set()
    thread.join(timeout=5)
    listener.close()


@pytest.mark.parametrize("variable", PROXY_VARIABLES)
def test_a_local_endpoint_ignores_proxy_variables(variable, moto_server, fake_proxy, monkeypatch):
    proxy_url, contacts = fake_proxy
    for name in PROXY_VARIABLES + ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, proxy_url)
    with Lab(seed=0, endpoint_url=moto_server) as lab:
        sqs = lab.client("sqs")
        url = sqs.create_queue(QueueName="not-via-proxy")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="x")
        sqs.delete_queue(QueueUrl=url)
    assert contacts == []


def test_the_seed_reaches_a_local_server_past_a_proxy(moto_server, fake_proxy, monkeypatch):
    proxy_url, contacts = fake_proxy
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, proxy_url)
    first, again = (_first_message_id(moto_server) for _ in range(2))
    assert first == again  # the seed arrived both times (through a proxy it would be lost)
    assert contacts == []


def _first_message_id(url: str) -> str:
    with Lab(seed=7, endpoint_url=url) as lab:
        sqs = lab.client("sqs")
        queue = sqs.create_queue(QueueName="seeded")["QueueUrl"]
        message_id = sqs.send_message(QueueUrl=queue, MessageBody="x")["MessageId"]
        sqs.delete_queue(QueueUrl=queue)
        return message_id


# --- nothing of your AWS setup (or ~/.netrc) is read --------------------------------------------
def _forget_moto_session() -> None:
    """moto caches the botocore session it reads regions from; drop it so this test's env applies."""
    AccountSpecificBackend.get_session.cache_clear()


def _record_opens(monkeypatch) -> list[str]:
    """Record the path of every file the process opens from now on."""
    opened: list[str] = []

    def recording(real):
        def opener(file, *args, **kwargs):
            if isinstance(file, (str, bytes, os.PathLike)):
                opened.append(os.fsdecode(file))
            return real(file, *args, **kwargs)

        return opener

    monkeypatch.setattr(builtins, "open", recording(builtins.open))
    monkeypatch.setattr(io, "open", recording(io.open))
    monkeypatch.setattr(os, "open", recording(os.open))
    return opened


def _workload(lab: Lab) -> None:
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    lab.client("s3").create_bucket(Bucket="lab-bucket")
    lab.client("dynamodb").list_tables()
    lab.function("f", lambda e, c: None).invoke({})


def test_a_missing_aws_profile_does_not_matter(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    monkeypatch.setenv("AWS_DEFAULT_PROFILE", "does-not-exist-either")
    _forget_moto_session()
    with Lab(seed=0) as lab:
        assert lab.client("sqs").list_queues().get("QueueUrls", []) == []
    assert os.environ["AWS_PROFILE"] == "does-not-exist"  # yours again once the lab closes


@pytest.mark.parametrize("pointed", [False, True], ids=["home-defaults", "AWS_CONFIG_FILE"])
def test_nothing_under_your_home_is_opened(pointed, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    for name in (".aws/config", ".aws/credentials", ".netrc", ".aws/other-config", ".aws/other-credentials"):
        (home / name).write_text("[[[ not an ini file, nor a netrc\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    monkeypatch.delenv("NETRC", raising=False)
    if pointed:
        monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws/other-config"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws/other-credentials"))
    else:
        monkeypatch.delenv("AWS_CONFIG_FILE", raising=False)
        monkeypatch.delenv("AWS_SHARED_CREDENTIALS_FILE", raising=False)
    _forget_moto_session()
    opened = _record_opens(monkeypatch)
    with Lab(seed=0) as lab:
        _workload(lab)
    assert [path for path in opened if path.startswith(str(home))] == []


@pytest.mark.parametrize("where", ["in-process", "server"])
def test_your_netrc_is_never_opened(where, moto_server, tmp_path, monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("default login me password secret\n")  # valid: only the open can fail the test
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    opened = _record_opens(monkeypatch)
    with Lab(seed=0, endpoint_url=None if where == "in-process" else moto_server) as lab:
        lab.client("sqs").list_queues()
    assert str(netrc) not in opened


def test_real_aws_still_uses_your_profile_after_a_local_lab(tmp_path, monkeypatch):
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text("[prod]\naws_access_key_id = AKIAYOURS\naws_secret_access_key = yours\n")
    (aws / "config").write_text("[profile prod]\nregion = eu-west-3\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_PROFILE", "prod")
    attempts = _refuse_connections(monkeypatch)
    Lab(seed=0)  # in-process moto hides your profile while it runs ...
    with Lab(endpoint_url="aws", allow_remote=True) as real:  # ... and closing it gives it back
        assert real._session.get_credentials().access_key == "AKIAYOURS"
        assert real._session.profile_name == "prod"
    assert os.environ["AWS_PROFILE"] == "prod"
    assert attempts == []
