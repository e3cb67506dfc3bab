"""``to_sam``: a lab's wiring as an AWS SAM project, read back, linted, transformed (issue 19)."""

from __future__ import annotations

import json
import linecache
import textwrap
from pathlib import Path

import pytest

from lambda_lab import Lab
from lambda_lab.cloud import load_template, to_sam, validate
from lambda_lab.errors import ConfigurationError

# --- handlers: module functions, so they are exportable --------------------------------------


def worker(event, context):
    return {"batchItemFailures": []}


def stream_reader(event, context):
    return {"batchItemFailures": []}


def alert_reader(event, context):
    return None


def photo_reader(event, context):
    return None


def api_handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"ok": True})}


def rule_reader(event, context):
    return event


def notifier(event, context):
    return {"sent": True}


# --- the lab -----------------------------------------------------------------------------


def _queue(lab, name, **attributes):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
    return url, lab.arn("sqs", name)


def build(lab: Lab) -> dict:
    """Every source wired once; returns the ARNs the checks need."""
    arns = {}
    _, arns["orders-dlq"] = _queue(lab, "orders-dlq")
    orders_url, arns["orders"] = _queue(
        lab, "orders", VisibilityTimeout=120, MessageRetentionPeriod=86_400,
        RedrivePolicy=json.dumps({"deadLetterTargetArn": arns["orders-dlq"], "maxReceiveCount": "3"}))
    for name in ("stream-failures", "alerts-dlq", "rule-dlq", "async-success", "async-dlq"):
        _, arns[name] = _queue(lab, name)
    sns = lab.client("sns")
    arns["alerts"] = sns.create_topic(Name="alerts")["TopicArn"]
    arns["async-failure"] = sns.create_topic(Name="async-failure")["TopicArn"]

    fn = lab.function("worker", worker, timeout_s=10, memory_mb=256)
    lab.sqs_trigger(orders_url, fn, batch_size=5, maximum_batching_window_s=2, report_batch_item_failures=True,
                    maximum_concurrency=4, filter_patterns={"body": {"kind": ["order"]}})

    ddb = lab.client("dynamodb")
    table = ddb.create_table(
        TableName="carts", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]
    fn = lab.function("stream-reader", stream_reader)
    lab.stream_trigger(table["LatestStreamArn"], fn, starting_position="TRIM_HORIZON", batch_size=50,
                       bisect_batch_on_function_error=True, maximum_retry_attempts=2, maximum_record_age_s=3_600,
                       parallelization_factor=2, on_failure=arns["stream-failures"], report_batch_item_failures=True)

    fn = lab.function("alert-reader", alert_reader)
    lab.sns_trigger(arns["alerts"], fn, filter_policy={"severity": ["high"]}, dead_letter_arn=arns["alerts-dlq"])

    lab.client("s3").create_bucket(Bucket="photos")
    fn = lab.function("photo-reader", photo_reader)
    lab.s3_trigger("photos", fn, events=["s3:ObjectCreated:*"], prefix="raw/", suffix=".jpg")

    fn = lab.function("api-handler", api_handler)
    lab.http_api({"GET /users/{userId}": fn, "$default": fn}, timeout_ms=5_000)
    lab.rest_api({"ANY /{proxy+}": fn, "GET /health": fn}, stage="prod", timeout_ms=10_000)

    events = lab.client("events")
    events.create_event_bus(Name="shop")
    fn = lab.function("rule-reader", rule_reader)
    events.put_rule(Name="big-orders", EventBusName="shop",
                    EventPattern=json.dumps({"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}))
    events.put_targets(Rule="big-orders", EventBusName="shop", Targets=[{
        "Id": "reader", "Arn": fn.arn,
        "InputTransformer": {"InputPathsMap": {"id": "$.detail.id"}, "InputTemplate": '{"order": <id>}'},
        "RetryPolicy": {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 600},
        "DeadLetterConfig": {"Arn": arns["rule-dlq"]}}])
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    events.put_targets(Rule="nightly", Targets=[{"Id": "reader", "Arn": fn.arn}])

    lab.function("notifier", notifier, reserved_concurrency=5, provisioned_concurrency=2,
                 maximum_retry_attempts=1, maximum_event_age_s=600, on_success=arns["async-success"],
                 on_failure=arns["async-failure"], dead_letter_arn=arns["async-dlq"])
    return arns


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The lab exported twice (same lab) plus once more from a rebuilt lab: (paths, template dict)."""
    root = tmp_path_factory.mktemp("sam")
    with Lab(seed=0) as lab:
        build(lab)
        first = to_sam(lab, root / "first")
        second = to_sam(lab, root / "second")
    with Lab(seed=0) as lab:
        build(lab)
        third = to_sam(lab, root / "third")
    return (first, second, third), load_template(first / "template.yaml")


def _resources(template, kind):
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def _event(template, function, kind):
    events = template["Resources"][function]["Properties"]["Events"]
    found = [e["Properties"] for e in events.values() if e["Type"] == kind]
    assert found, f"{function} has no {kind} event: {events}"
    return found


# --- (1) round trip -----------------------------------------------------------------------


def test_functions_keep_their_settings(exported):
    _, t = exported
    assert t["Transform"] == "AWS::Serverless-2016-10-31"
    worker_fn = t["Resources"]["WorkerFunction"]["Properties"]
    assert worker_fn["Runtime"] == "python3.11"
    assert worker_fn["Timeout"] == 10 and worker_fn["MemorySize"] == 256
    assert worker_fn["Handler"] == "test_sam_export.worker"
    assert worker_fn["CodeUri"] == "functions/worker/"
    n = t["Resources"]["NotifierFunction"]["Properties"]
    assert n["ReservedConcurrentExecutions"] == 5
    assert n["AutoPublishAlias"] == "live"
    assert n["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 2}
    assert n["EventInvokeConfig"] == {
        "MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 600,
        "DestinationConfig": {
            "OnSuccess": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["AsyncSuccessQueue", "Arn"]}},
            "OnFailure": {"Type": "SNS", "Destination": {"Ref": "AsyncFailureTopic"}}}}
    assert n["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["AsyncDlqQueue", "Arn"]}}
    assert {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["AsyncSuccessQueue", "QueueName"]}}} in n["Policies"]
    assert {"SNSPublishMessagePolicy": {"TopicName": {"Fn::GetAtt": ["AsyncFailureTopic", "TopicName"]}}} \
        in n["Policies"]
    assert {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["AsyncDlqQueue", "QueueName"]}}} in n["Policies"]


def test_sqs_mapping_and_queues(exported):
    _, t = exported
    (sqs,) = _event(t, "WorkerFunction", "SQS")
    assert sqs == {"Queue": {"Fn::GetAtt": ["OrdersQueue", "Arn"]}, "BatchSize": 5,
                   "MaximumBatchingWindowInSeconds": 2, "FunctionResponseTypes": ["ReportBatchItemFailures"],
                   "ScalingConfig": {"MaximumConcurrency": 4},
                   "FilterCriteria": {"Filters": [{"Pattern": '{"body":{"kind":["order"]}}'}]}, "Enabled": True}
    queue = _resources(t, "AWS::SQS::Queue")["OrdersQueue"]
    assert queue["QueueName"] == "orders"
    assert queue["VisibilityTimeout"] == 120 and queue["MessageRetentionPeriod"] == 86_400
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["OrdersDlqQueue", "Arn"]},
                                      "maxReceiveCount": 3}


def test_stream_mapping_and_table(exported):
    _, t = exported
    (ddb,) = _event(t, "StreamReaderFunction", "DynamoDB")
    assert ddb == {
        "Stream": {"Fn::GetAtt": ["CartsTable", "StreamArn"]}, "StartingPosition": "TRIM_HORIZON", "BatchSize": 50,
        "MaximumBatchingWindowInSeconds": 0, "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 2,
        "MaximumRecordAgeInSeconds": 3_600, "ParallelizationFactor": 2,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["StreamFailuresQueue", "Arn"]}}},
        "Enabled": True}
    policies = t["Resources"]["StreamReaderFunction"]["Properties"]["Policies"]
    assert policies == [{"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["StreamFailuresQueue", "QueueName"]}}}]
    table = _resources(t, "AWS::DynamoDB::Table")["CartsTable"]
    assert table["TableName"] == "carts" and table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_sns_subscription_and_its_dead_letter_queue(exported):
    _, t = exported
    (sns,) = _event(t, "AlertReaderFunction", "SNS")
    assert sns == {"Topic": {"Ref": "AlertsTopic"}, "FilterPolicy": {"severity": ["high"]},
                   "FilterPolicyScope": "MessageAttributes",
                   "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["AlertsDlqQueue", "Arn"]}}}
    assert _resources(t, "AWS::SNS::Topic")["AlertsTopic"] == {"TopicName": "alerts"}
    policy = _resources(t, "AWS::SQS::QueuePolicy")["AlertsDlqQueuePolicy"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"] == {"ArnLike": {"aws:SourceArn": {"Ref": "AlertsTopic"}}}


def test_s3_notification(exported):
    _, t = exported
    (s3,) = _event(t, "PhotoReaderFunction", "S3")
    assert s3 == {"Bucket": {"Ref": "PhotosBucket"}, "Events": ["s3:ObjectCreated:*"],
                  "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "raw/"},
                                                 {"Name": "suffix", "Value": ".jpg"}]}}}
    assert t["Resources"]["PhotosBucket"]["Type"] == "AWS::S3::Bucket"


def test_a_buckets_own_notifications_to_a_queue_and_a_topic_are_exported(lab, tmp_path):
    s3, sqs, sns = lab.client("s3"), lab.client("sqs"), lab.client("sns")
    s3.create_bucket(Bucket="audit")
    sqs.create_queue(QueueName="audit-events")
    topic = sns.create_topic(Name="uploads")["TopicArn"]
    s3.put_bucket_notification_configuration(Bucket="audit", NotificationConfiguration={
        "QueueConfigurations": [{"Id": "q", "QueueArn": lab.arn("sqs", "audit-events"),
                                 "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "logs/"}]}}}],
        "TopicConfigurations": [{"Id": "t", "TopicArn": topic, "Events": ["s3:ObjectCreated:Put"]}]})
    lab.s3_trigger("audit", lab.function("reader", photo_reader), events=["s3:ObjectRemoved:*"],
                   prefix="images/")  # the lab's relay stays out
    project = to_sam(lab, tmp_path / "app")
    resources = load_template(project / "template.yaml")["Resources"]
    bucket = resources["AuditBucket"]
    rules = {"S3Key": {"Rules": [{"Name": "prefix", "Value": "logs/"}]}}
    queue = {"Fn::GetAtt": ["AuditEventsQueue", "Arn"]}
    assert bucket["Properties"]["NotificationConfiguration"] == {
        "QueueConfigurations": [{"Event": "s3:ObjectCreated:*", "Queue": queue, "Filter": rules},
                                {"Event": "s3:ObjectRemoved:*", "Queue": queue, "Filter": rules}],
        "TopicConfigurations": [{"Event": "s3:ObjectCreated:Put", "Topic": {"Ref": "UploadsTopic"}}]}
    assert bucket["DependsOn"] == ["AuditEventsQueuePolicy", "UploadsTopicPolicy"]
    (statement,) = resources["AuditEventsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {"ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"}},
                                      "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert "lambda-lab" not in (project / "template.yaml").read_text()
    checked = validate(project)
    assert checked.ok and checked.warnings == [], checked


def test_http_and_rest_apis(exported):
    _, t = exported
    http = sorted(_event(t, "ApiHandlerFunction", "HttpApi"), key=lambda e: e.get("Path", ""))
    assert http == [
        {"ApiId": {"Ref": "HttpApi1"}, "PayloadFormatVersion": "2.0", "TimeoutInMillis": 5_000},  # $default
        {"ApiId": {"Ref": "HttpApi1"}, "Path": "/users/{userId}", "Method": "get", "PayloadFormatVersion": "2.0",
         "TimeoutInMillis": 5_000}]
    rest = sorted(_event(t, "ApiHandlerFunction", "Api"), key=lambda e: e["Path"])
    assert rest == [
        {"RestApiId": {"Ref": "RestApi1"}, "Path": "/health", "Method": "get", "TimeoutInMillis": 10_000},
        {"RestApiId": {"Ref": "RestApi1"}, "Path": "/{proxy+}", "Method": "any", "TimeoutInMillis": 10_000}]
    assert t["Resources"]["RestApi1"]["Properties"]["StageName"] == "prod"
    assert t["Resources"]["HttpApi1"]["Type"] == "AWS::Serverless::HttpApi"


def test_eventbridge_rule_and_schedule(exported):
    _, t = exported
    (rule,) = _event(t, "RuleReaderFunction", "EventBridgeRule")
    assert rule == {
        "Pattern": {"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}},
        "EventBusName": {"Ref": "ShopBus"},
        "InputTransformer": {"InputPathsMap": {"id": "$.detail.id"}, "InputTemplate": '{"order": <id>}'},
        "RetryPolicy": {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 600},
        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["RuleDlqQueue", "Arn"]}}}
    (schedule,) = _event(t, "RuleReaderFunction", "Schedule")
    assert schedule == {"Schedule": "rate(1 day)", "Enabled": True}
    assert _resources(t, "AWS::Events::EventBus")["ShopBus"] == {"Name": "shop"}
    (statement,) = _resources(t, "AWS::SQS::QueuePolicy")["RuleDlqQueuePolicy"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}


# --- (2) internals ------------------------------------------------------------------------


def test_no_lab_internals(exported):
    (first, *_), t = exported
    text = (first / "template.yaml").read_text()
    assert "lambda-lab" not in text
    assert "123456789012" not in text  # every ARN is a reference
    queues = {p["QueueName"] for p in _resources(t, "AWS::SQS::Queue").values()}
    assert queues == {"orders", "orders-dlq", "stream-failures", "alerts-dlq", "rule-dlq", "async-success",
                      "async-dlq"}
    assert not _resources(t, "AWS::SNS::Subscription")
    report = json.loads((first / "export-report.json").read_text())
    assert "lambda-lab" not in json.dumps(report)
    assert report["stubs"] == [] and len(report["functions"]) == 7


# --- (3) cfn-lint, (4) the SAM transform and cfn-lint on what it makes (``validate``) ------


@pytest.fixture(scope="module")
def validation(exported):
    (first, *_), _ = exported
    return validate(first)


def test_cfn_lint_and_the_sam_transform_find_nothing(validation):
    assert validation.errors == []
    assert validation.warnings == []  # none today: a new one is worth a look (warnings do not block a deploy)
    assert validation.ok


def test_sam_transform_makes_every_kind_of_resource(validation):
    kinds = validation.transformed_types
    assert not [k for k in kinds if k.startswith("AWS::Serverless::")]
    assert {"AWS::Lambda::Function", "AWS::Lambda::EventSourceMapping", "AWS::SNS::Subscription",
            "AWS::Events::Rule", "AWS::ApiGatewayV2::Api", "AWS::ApiGateway::RestApi",
            "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::Alias"} <= set(kinds)
    assert kinds["AWS::Lambda::Function"] == 7 and kinds["AWS::Lambda::EventSourceMapping"] == 2


# --- (5) what cannot be exported ----------------------------------------------------------


def _closure():
    greeting = "hello"

    def handler(event, context):
        return greeting

    return handler


def _cell_function(source: str, scope: dict, filename: str = "<ipykernel cell 1>"):
    """A function defined as a notebook cell defines it: ``__main__`` globals, source in linecache."""
    source = textwrap.dedent(source)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope.setdefault("__name__", "__main__")
    exec(compile(source, filename, "exec"), scope)
    return scope


@pytest.mark.parametrize("make, words", [
    (lambda: (lambda event, context: None), "lambda expression"),
    (_closure, "closure"),
])
def test_lambdas_and_closures_are_refused_with_how_to_fix(lab, tmp_path, make, words):
    lab.function("fine", worker)
    lab.function("odd", make())
    with pytest.raises(ConfigurationError) as refused:
        to_sam(lab, tmp_path / "out")
    message = str(refused.value)
    assert "'odd'" in message and words in message and "'fine'" not in message
    assert "def name(event, context)" in message and "stub_unexportable=True" in message
    out = to_sam(lab, tmp_path / "stubbed", stub_unexportable=True)
    report = json.loads((out / "export-report.json").read_text())
    assert [s["name"] for s in report["stubs"]] == ["odd"]
    assert words in report["stubs"][0]["reason"]
    assert "NotImplementedError" in (out / "functions" / "odd" / "app.py").read_text()
    assert load_template(out / "template.yaml")["Resources"]["OddFunction"]["Properties"]["Handler"] == "app.handler"


def test_cell_handler_is_exported_when_self_contained_and_refused_when_it_reads_notebook_state(lab, tmp_path):
    scope = _cell_function('''
        import json as js
        from decimal import Decimal
        TABLE = "carts"

        def helper(x):
            return x

        def clean(event, context):
            return js.dumps({"n": str(Decimal("1.5")), "count": len(event)})

        def dirty(event, context):
            return helper(TABLE)
        ''', {})
    lab.function("clean", scope["clean"])
    out = to_sam(lab, tmp_path / "clean")
    app = (out / "functions" / "clean" / "app.py").read_text()
    assert "import json as js" in app and "from decimal import Decimal" in app
    namespace: dict = {}
    exec(compile(app, "app.py", "exec"), namespace)
    assert namespace["clean"]([1, 2], None) == '{"n": "1.5", "count": 2}'
    assert load_template(out / "template.yaml")["Resources"]["CleanFunction"]["Properties"]["Handler"] == "app.clean"

    lab.function("dirty", scope["dirty"])
    with pytest.raises(ConfigurationError, match=r"reads notebook state: helper \(function\), TABLE \(str\)"):
        to_sam(lab, tmp_path / "dirty")


# --- (6) the same lab, the same files ------------------------------------------------------


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_exports_are_identical(exported):
    (first, second, third), _ = exported
    assert _files(first) == _files(second) == _files(third)
    assert set(_files(first)) >= {"template.yaml", "export-report.json", "functions/worker/test_sam_export.py"}


def test_lab_to_sam_is_the_same_export(tmp_path):
    from lambda_lab import Lab

    with Lab(seed=0) as lab:
        lab.function("plain", plain_handler_for_lab_method)
        folder = lab.to_sam(tmp_path / "project")
        assert (folder / "template.yaml").exists() and (folder / "export-report.json").exists()
        assert "PlainFunction" in load_template(folder / "template.yaml")["Resources"]


def plain_handler_for_lab_method(event, context):
    return {"ok": True}
