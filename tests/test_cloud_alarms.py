"""``alarms``: the CloudWatch alarms chapter 08 recommends, added to the export by ``to_sam(alarms=True)``."""

from __future__ import annotations

import pytest

from lambda_lab import Lab
from lambda_lab.cloud import alarms, load_template, to_sam, validate
from test_sam_export import build

EXPECTED = {
    # every function: errors and throttles
    **{f"{fn}Function{m}Alarm": m for fn in ("AlertReader", "ApiHandler", "Notifier", "PhotoReader", "RuleReader",
                                             "StreamReader", "Worker") for m in ("Errors", "Throttles")},
    # asynchronous sources (SNS, S3, EventBridge) and the function with an EventInvokeConfig
    **{f"{fn}FunctionAsyncEventsDroppedAlarm": "AsyncEventsDropped" for fn in ("AlertReader", "Notifier",
                                                                               "PhotoReader", "RuleReader")},
    "NotifierFunctionDeadLetterErrorsAlarm": "DeadLetterErrors",
    "NotifierFunctionDestinationDeliveryFailuresAlarm": "DestinationDeliveryFailures",
    "StreamReaderFunctionIteratorAgeAlarm": "IteratorAge",
    "StreamReaderFunctionDestinationDeliveryFailuresAlarm": "DestinationDeliveryFailures",
    # the queue an SQS event reads, and every queue failures go to (the topic async-failure is not a queue)
    "OrdersQueueOldestMessageAlarm": "ApproximateAgeOfOldestMessage",
    **{f"{q}QueueMessagesAlarm": "ApproximateNumberOfMessagesVisible" for q in ("AlertsDlq", "AsyncDlq", "OrdersDlq",
                                                                                "RuleDlq", "StreamFailures")},
}


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    root = tmp_path_factory.mktemp("alarms")
    with Lab(seed=0) as lab:
        build(lab)
        return to_sam(lab, root / "plain"), to_sam(lab, root / "alarms", alarms=True)


def _alarms(project):
    resources = load_template(project / "template.yaml")["Resources"]
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}


def test_no_alarms_unless_asked(projects):
    plain, _ = projects
    assert _alarms(plain) == {}


def test_each_function_and_queue_gets_the_alarms_its_sources_call_for(projects):
    _, with_alarms = projects
    assert {name: props["MetricName"] for name, props in _alarms(with_alarms).items()} == EXPECTED


def test_alarms_watch_the_right_resource_with_the_lab_thresholds(projects):
    _, with_alarms = projects
    found = _alarms(with_alarms)
    errors = found["WorkerFunctionErrorsAlarm"]
    assert errors["Namespace"] == "AWS/Lambda" and errors["Statistic"] == "Sum" and errors["Threshold"] == 1
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "WorkerFunction"}}]
    age = found["StreamReaderFunctionIteratorAgeAlarm"]
    assert age["Statistic"] == "Maximum" and age["Threshold"] == 60_000
    dlq = found["OrdersDlqQueueMessagesAlarm"]
    assert dlq["Namespace"] == "AWS/SQS" and dlq["Threshold"] == 1
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["OrdersDlqQueue", "QueueName"]}}]
    assert found["OrdersQueueOldestMessageAlarm"]["Threshold"] == 300
    assert {p["TreatMissingData"] for p in found.values()} == {"notBreaching"}
    assert {p["ComparisonOperator"] for p in found.values()} == {"GreaterThanOrEqualToThreshold"}


def test_the_export_with_alarms_validates(projects):
    _, with_alarms = projects
    checked = validate(with_alarms)
    assert checked.ok and checked.warnings == [], checked
    assert checked.transformed_types["AWS::CloudWatch::Alarm"] == len(EXPECTED)


def test_a_queue_nothing_reads_or_fails_into_gets_no_alarm_and_outside_arns_are_skipped():
    template = {"Resources": {
        "SpareQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {
            "DeadLetterQueue": {"Type": "SQS", "TargetArn": "arn:aws:sqs:us-east-1:111122223333:elsewhere"},
            "Events": {"Api": {"Type": "HttpApi", "Properties": {"Path": "/", "Method": "get"}}}}}}}
    assert sorted(alarms(template)) == ["FnDeadLetterErrorsAlarm", "FnErrorsAlarm", "FnThrottlesAlarm"]
