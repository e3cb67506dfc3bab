"""``validate(path)``: cfn-lint, the SAM transform and cfn-lint again on an export, offline."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from pathlib import Path

import pytest

from lambda_lab import Lab
from lambda_lab.cloud import Validation, to_sam, validate

# --- handlers: module functions, so they are exportable --------------------------------------


def worker(event, context):
    return {"batchItemFailures": []}


def reader(event, context):
    return None


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A small export: a queue with a dead-letter queue feeding ``worker``, a topic feeding ``reader``."""
    root = tmp_path_factory.mktemp("validate") / "project"
    with Lab(seed=0) as lab:
        sqs = lab.client("sqs")
        dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(QueueName="orders", Attributes={
            "VisibilityTimeout": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})})["QueueUrl"]
        lab.sqs_trigger(url, lab.function("worker", worker, timeout_s=10), batch_size=5)
        topic = lab.client("sns").create_topic(Name="alerts")["TopicArn"]
        lab.sns_trigger(topic, lab.function("reader", reader))
        to_sam(lab, root)
    return root


@pytest.fixture
def copy(project, tmp_path) -> Path:
    """A copy of the export that a test may edit."""
    return Path(shutil.copytree(project, tmp_path / "project"))


def _edit(folder: Path, old: str, new: str) -> None:
    template = folder / "template.yaml"
    text = template.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in the export:\n{text}"
    template.write_text(text.replace(old, new))


def _line_of(folder: Path, words: str) -> int:
    lines = (folder / "template.yaml").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if words in line)


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"", p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


# --- a clean export -------------------------------------------------------------------------


def test_a_clean_export_validates(project):
    result = validate(project)
    assert result.ok and result.errors == [] and result.warnings == []
    types = result.transformed_types
    assert types["AWS::Lambda::Function"] == 2 and types["AWS::IAM::Role"] == 2
    assert types["AWS::Lambda::EventSourceMapping"] == 1 and types["AWS::SNS::Subscription"] == 1
    assert types["AWS::SQS::Queue"] == 2 and types["AWS::SNS::Topic"] == 1
    assert not [t for t in types if t.startswith("AWS::Serverless::")]  # the transform replaced them all
    assert list(types) == sorted(types)
    made = sum(types.values())
    assert result.summary() == f"cfn-lint: 0 errors, 0 warnings; SAM transform: {made} CloudFormation resources"
    assert repr(result) == result.summary()


def test_validate_takes_a_string_path(project):
    assert validate(str(project)) == validate(project)


# --- what cfn-lint finds --------------------------------------------------------------------


def test_a_property_cloudformation_refuses_is_named_after_the_transform(copy):
    _edit(copy, "BatchSize: 5", "BatchSize: 0")
    result = validate(copy)
    assert not result.ok and result.warnings == []
    (error,) = result.errors
    assert error.startswith("E3034 0 is less than the minimum of 1")
    assert re.search(r" at Resources/WorkerFunction\w*/Properties/BatchSize \(after the SAM transform\)$", error)
    assert result.transformed_types["AWS::Lambda::EventSourceMapping"] == 1  # the transform took it
    assert result.summary().startswith("cfn-lint: 1 error, 0 warnings; SAM transform: ")


def test_an_unknown_property_is_named_with_its_line_in_the_template(copy):
    _edit(copy, "VisibilityTimeout: 60", "VisibilityTimeout: 60\n      Colour: blue")
    result = validate(copy)
    line = _line_of(copy, "Colour: blue")
    # Once: the same finding on the queue after the transform (SAM passes it through) is not repeated.
    assert result.errors == ["E3002 Additional properties are not allowed ('Colour' was unexpected) "
                             f"at Resources/OrdersQueue/Properties/Colour (template.yaml, line {line})"]


def test_a_reference_to_a_missing_resource_names_it_in_a_short_message(copy):
    _edit(copy, "!GetAtt 'OrdersDlqQueue.Arn'", "!GetAtt 'RefundsQueue.Arn'")
    result = validate(copy)
    (error,) = result.errors
    assert error.startswith("E1010 'RefundsQueue' is not one of the ")
    assert "allowed values at Resources/OrdersQueue/Properties/RedrivePolicy/deadLetterTargetArn" in error
    assert "[" not in error  # the list of every resource is left out: long, and in hash order after the transform
    assert validate(copy) == result


def test_a_template_that_does_not_parse_is_not_transformed(copy):
    (copy / "template.yaml").write_text((copy / "template.yaml").read_text() + "  : [\n")
    result = validate(copy)
    assert [e.split(" ", 1)[0] for e in result.errors] == ["E0000"]
    assert result.transformed_types == {}
    assert result.summary().endswith("SAM transform: not run (template.yaml does not parse)")


# --- what the SAM transform refuses ---------------------------------------------------------


def test_an_event_sam_refuses_is_an_error_from_the_sam_transform(copy):
    _edit(copy, "Queue: !GetAtt 'OrdersQueue.Arn'\n            ", "")
    result = validate(copy)
    refused = [e for e in result.errors if "SAM transform" in e]
    assert refused == ["E0001 Resource with id [WorkerFunctionOrdersQueueSqs] is invalid. Missing required property "
                       "'Queue'. (the SAM transform refused the template)"]
    assert result.transformed_types == {} and not result.ok
    assert result.summary().endswith("; SAM transform: refused the template (1 error)")
    lint = len(result.errors) - 1
    assert lint > 0  # cfn-lint's check of SAM's own schema finds it too
    assert result.summary().startswith(f"cfn-lint: {lint} errors, 0 warnings")


# --- offline, and leaving everything as it was ---------------------------------------------


def test_runs_offline_without_your_aws_settings_and_gives_os_environ_back(project, tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[profile elsewhere]\nregion = cn-north-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "not-a-profile")  # botocore would raise ProfileNotFound if it read it
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    monkeypatch.delenv("AWS_SHARED_CREDENTIALS_FILE", raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("validate opened a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr("botocore.client.BaseClient._make_api_call", no_network)
    from samtranslator.translator.arn_generator import ArnGenerator

    before, region = dict(os.environ), ArnGenerator.BOTO_SESSION_REGION_NAME
    result = validate(project)
    assert result.ok, result
    assert dict(os.environ) == before
    assert ArnGenerator.BOTO_SESSION_REGION_NAME == region


def test_os_environ_is_given_back_when_the_transform_fails(project, monkeypatch):
    import samtranslator.translator.transform as sam

    seen = {}

    def broken(template, parameters, policies):
        seen.update({name: os.environ.get(name) for name in ("AWS_DEFAULT_REGION", "AWS_PROFILE",
                                                              "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")})
        raise RuntimeError("a bug in the transform")

    monkeypatch.setattr(sam, "transform", broken)
    monkeypatch.setenv("AWS_PROFILE", "mine")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    before = dict(os.environ)
    with pytest.raises(RuntimeError, match="a bug in the transform"):
        validate(project)
    assert dict(os.environ) == before
    assert seen == {"AWS_DEFAULT_REGION": "us-east-1", "AWS_PROFILE": None, "AWS_CONFIG_FILE": os.devnull,
                    "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


@pytest.mark.parametrize("edit", [None, ("Queue: !GetAtt 'OrdersQueue.Arn'\n            ", "")],
                         ids=["clean", "refused"])
def test_nothing_is_written_inside_the_project(copy, edit):
    if edit:
        _edit(copy, *edit)
    before = _snapshot(copy)
    result = validate(copy)
    assert isinstance(result, Validation) and result.ok == (edit is None)
    assert _snapshot(copy) == before
