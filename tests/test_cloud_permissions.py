"""IAM from what handlers did: ``lab.calls`` records their AWS calls, the export allows exactly those."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from lambda_lab import Lab
from lambda_lab.calls import Call, action_of
from lambda_lab.cloud import load_template, validate
from lambda_lab.cloud.permissions import SAM_TEMPLATES, policies


def order_writer(event, context):
    import boto3

    boto3.resource("dynamodb").Table("orders").put_item(Item={"order_id": event["id"]})
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="emails")["QueueUrl"], MessageBody=event["id"])


def reader(event, context):
    import boto3

    return boto3.client("dynamodb").get_item(TableName="orders", Key={"order_id": {"S": event["id"]}})


def _build(lab: Lab) -> None:
    lab.client("dynamodb").create_table(
        TableName="orders", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}])
    lab.client("sqs").create_queue(QueueName="emails")


def test_the_templates_grant_what_sam_says_they_grant():
    data = json.loads(resources.files("samtranslator").joinpath(
        "policy_templates_data/policy_templates.json").read_text())["Templates"]
    for service, templates in SAM_TEMPLATES.items():
        for name, parameter, actions in templates:
            statements = data[name]["Definition"]["Statement"]
            granted = {a for st in statements for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
            assert set(actions) == granted, name
            assert list(data[name]["Parameters"]) == [parameter], name


def test_a_handlers_calls_are_recorded_with_action_and_resource(lab):
    _build(lab)
    assert lab.function("writer", order_writer).invoke({"id": "o-1"}).function_error is None
    lab.function("reader", reader).invoke({"id": "o-1"})
    import boto3

    boto3.client("sqs").list_queues()  # a notebook cell's own call: no handler running, not recorded
    assert lab.calls.of("writer") == [Call("writer", "dynamodb:PutItem", "dynamodb", "orders"),
                                      Call("writer", "sqs:GetQueueUrl", "sqs", "emails"),
                                      Call("writer", "sqs:SendMessage", "sqs", "emails")]
    assert lab.calls.of("reader") == [Call("reader", "dynamodb:GetItem", "dynamodb", "orders")]


@pytest.mark.parametrize("actions, expected", [
    (["dynamodb:GetItem"], [{"DynamoDBReadPolicy": {"TableName": "t"}}]),
    (["dynamodb:PutItem"], [{"DynamoDBWritePolicy": {"TableName": "t"}}]),
    (["dynamodb:PutItem", "dynamodb:GetItem"], [{"DynamoDBCrudPolicy": {"TableName": "t"}}]),
    (["dynamodb:DeleteItem"], [{"DynamoDBCrudPolicy": {"TableName": "t"}}]),
    (["dynamodb:DescribeStream"], [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:DescribeStream"], "Resource": "arn:t"}]}]),
])
def test_the_narrowest_template_that_covers_the_calls(actions, expected):
    calls = [Call("f", a, "dynamodb", "t") for a in actions]
    assert policies(calls, lambda service, name: name, lambda service, name: f"arn:{name}") == expected


def test_what_no_template_covers_is_an_inline_statement_next_to_the_template():
    calls = [Call("f", "sqs:SendMessage", "sqs", "q"), Call("f", "sqs:GetQueueUrl", "sqs", "q")]
    assert policies(calls, lambda s, n: n, lambda s, n: f"arn:{n}") == [
        {"SQSSendMessagePolicy": {"QueueName": "q"}},
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sqs:GetQueueUrl"],
                                                 "Resource": "arn:q"}]}]


def test_s3_operations_need_their_iam_actions():
    assert action_of("s3", "HeadObject") == "s3:GetObject"
    assert action_of("s3", "PutObject") == "s3:PutObject"
    assert action_of("dynamodb", "PutItem") == "dynamodb:PutItem"


def test_the_export_allows_exactly_what_the_handlers_did_and_validates(lab, tmp_path):
    _build(lab)
    lab.function("writer", order_writer).invoke({"id": "o-1"})
    lab.function("idle", reader)  # never ran: nothing to allow
    project = lab.to_sam(tmp_path / "app")
    resources_ = load_template(project / "template.yaml")["Resources"]
    assert resources_["WriterFunction"]["Properties"]["Policies"] == [
        {"DynamoDBWritePolicy": {"TableName": {"Ref": "OrdersTable"}}},
        {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["EmailsQueue", "QueueName"]}}},
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sqs:GetQueueUrl"],
                                                 "Resource": {"Fn::GetAtt": ["EmailsQueue", "Arn"]}}]}]
    assert "Policies" not in resources_["IdleFunction"]["Properties"]
    report = json.loads((project / "export-report.json").read_text())
    assert report["calls"] == {"writer": ["dynamodb:PutItem orders", "sqs:GetQueueUrl emails",
                                          "sqs:SendMessage emails"]}
    checked = validate(project)
    assert checked.ok and checked.warnings == [], checked


def test_a_resource_the_lab_does_not_hold_keeps_a_portable_arn(lab, tmp_path):
    def missing(event, context):
        import boto3

        boto3.client("sqs").get_queue_url(QueueName="elsewhere")

    lab.function("f", missing).invoke({})
    statement = policies(lab.calls.of("f"), lambda s, n: n, lambda s, n: n)
    assert statement[0]["Statement"][0]["Action"] == ["sqs:GetQueueUrl"]
    project = lab.to_sam(tmp_path / "app", stub_unexportable=True)
    text = (project / "template.yaml").read_text()
    assert "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:elsewhere" in text
    assert "123456789012" not in text


def test_closing_the_lab_stops_recording():
    with Lab(seed=0) as lab:
        recorder = lab.calls
    before = list(recorder._calls)
    with Lab(seed=1) as other:
        other.client("sqs").create_queue(QueueName="emails")
        other.function("f", order_writer).invoke({"id": "x"})
    assert list(recorder._calls) == before
