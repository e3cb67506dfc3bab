"""``review``: the production checklist run against an exported SAM template (``lambda_lab.cloud.review``)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lambda_lab import Lab
from lambda_lab.cloud import load_template, review
from lambda_lab.cloud.review import (ASYNC_URL, COLUMNS, DDB_BATCH_FAILURES_URL, DDB_ERRORS_URL, EVENTBRIDGE_DLQ_URL,
                                     HTTP_API_QUOTAS_URL, REST_API_QUOTAS_URL, SNS_DLQ_URL, SQS_CONFIGURE_URL,
                                     SQS_ERRORS_URL)
from lambda_lab.sources.sqs import VisibilityTimeoutWarning
# Module functions, so they are exportable (the export copies their module).
from test_sam_export import alert_reader, api_handler, photo_reader, rule_reader, stream_reader, worker

# --- one builder per source: well wired unless told otherwise ------------------------------


def _queue(lab, name, **attributes):
    url = lab.client("sqs").create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})
    return url["QueueUrl"], lab.arn("sqs", name)


def _failures(lab):
    return _queue(lab, "async-failures")[1]


def sqs(lab, visibility=60, timeout=10, window=0, max_receive=5, dlq=True, report=True):
    attributes = {"VisibilityTimeout": visibility}
    if dlq:
        _, dlq_arn = _queue(lab, "orders-dlq")
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive})
    url, _ = _queue(lab, "orders", **attributes)
    fn = lab.function("worker", worker, timeout_s=timeout)
    lab.sqs_trigger(url, fn, batch_size=10, maximum_batching_window_s=window, report_batch_item_failures=report)


def stream(lab, retries=2, record_age=-1, bisect=True, on_failure=True, report=True):
    table = lab.client("dynamodb").create_table(
        TableName="carts", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]
    options = {"maximum_retry_attempts": retries, "maximum_record_age_s": record_age,
               "bisect_batch_on_function_error": bisect, "report_batch_item_failures": report}
    if on_failure:
        options["on_failure"] = _queue(lab, "stream-failures")[1]
    fn = lab.function("stream-reader", stream_reader)
    lab.stream_trigger(table["LatestStreamArn"], fn, starting_position="TRIM_HORIZON", **options)


def sns(lab, dlq=True, on_failure=True):
    topic = lab.client("sns").create_topic(Name="alerts")["TopicArn"]
    fn = lab.function("alert-reader", alert_reader, **({"on_failure": _failures(lab)} if on_failure else {}))
    lab.sns_trigger(topic, fn, dead_letter_arn=_queue(lab, "alerts-dlq")[1] if dlq else None)


def s3(lab, on_failure=True, dead_letter=False):
    lab.client("s3").create_bucket(Bucket="photos")
    options = {"on_failure": _failures(lab)} if on_failure else {}
    if dead_letter:
        options["dead_letter_arn"] = _queue(lab, "photos-dlq")[1]
    lab.s3_trigger("photos", lab.function("photo-reader", photo_reader, **options), events=["s3:ObjectCreated:*"])


def http(lab, timeout=10):
    lab.http_api({"GET /orders": lab.function("api-handler", api_handler, timeout_s=timeout)})


def rest(lab, timeout=10):
    lab.rest_api({"GET /health": lab.function("rest-handler", api_handler, timeout_s=timeout)})


def _target(lab, arn, dlq, **target):
    if dlq:
        target["DeadLetterConfig"] = {"Arn": _queue(lab, "rule-dlq")[1]}
    return {"Id": "reader", "Arn": arn, **target}


def rule(lab, dlq=True):
    fn = lab.function("rule-reader", rule_reader, on_failure=_failures(lab))
    events = lab.client("events")
    events.put_rule(Name="big-orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="big-orders", Targets=[_target(lab, fn.arn, dlq)])


def schedule(lab, dlq=True):
    fn = lab.function("nightly-reader", rule_reader, on_failure=_failures(lab))
    events = lab.client("events")
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    events.put_targets(Rule="nightly", Targets=[_target(lab, fn.arn, dlq)])


def queue_rule(lab, dlq=True):
    _, audit = _queue(lab, "audit")
    events = lab.client("events")
    events.put_rule(Name="audit", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="audit", Targets=[_target(lab, audit, dlq, Id="audit-queue")])


EVERY_SOURCE = (sqs, stream, sns, s3, http, rest, rule, schedule, queue_rule)


def _review(tmp_path, *wiring):
    """Wire each ``(builder, options)`` (or builder) in a fresh lab, export it, review the template."""
    with Lab(seed=0) as lab:
        for item in wiring:
            build, options = item if isinstance(item, tuple) else (item, {})
            build(lab, **options)
        return review(lab.to_sam(tmp_path / "project"))


def _to_fix(frame):
    return {(r.resource, r.check) for r in frame.itertuples() if not r.ok}


# --- a well-wired lab passes, in template order ---------------------------------------------


def test_well_wired_lab_passes_every_check_in_template_order(tmp_path):
    frame = _review(tmp_path, *EVERY_SOURCE)
    assert list(frame.columns) == ["source", "resource", "check", "has", "should", "ok", "source_url"]
    assert frame["ok"].dtype == bool
    assert frame["ok"].all(), frame[~frame["ok"]].to_dict("records")
    assert list(zip(frame["resource"], frame["check"])) == [
        ("AlertReaderFunction/AlertsTopicSns", "subscription DLQ"),
        ("AlertReaderFunction", "on-failure destination or DLQ"),
        ("ApiHandlerFunction/HttpApi1GETOrders", "integration timeout"),
        ("NightlyReaderFunction/NightlySchedule", "rule DLQ"),
        ("NightlyReaderFunction", "on-failure destination or DLQ"),
        ("PhotoReaderFunction", "on-failure destination or DLQ"),  # an S3 event has no check of its own
        ("RestHandlerFunction/RestApi1GETHealth", "integration timeout"),
        ("RuleReaderFunction/BigOrdersRule", "rule DLQ"),
        ("RuleReaderFunction", "on-failure destination or DLQ"),
        ("StreamReaderFunction/CartsTableStream", "report batch item failures"),
        ("StreamReaderFunction/CartsTableStream", "bounded retries"),
        ("StreamReaderFunction/CartsTableStream", "bisect batch on error"),
        ("StreamReaderFunction/CartsTableStream", "on-failure destination"),
        ("WorkerFunction/OrdersQueueSqs", "visibility timeout"),
        ("WorkerFunction/OrdersQueueSqs", "redrive policy"),
        ("WorkerFunction/OrdersQueueSqs", "report batch item failures"),
        ("AuditRule/audit-queue", "rule DLQ"),
    ]
    assert frame.attrs["summary"] == "17 checks: 17 ok, 0 to fix"
    assert frame.attrs["not_checked"] == []
    assert set(zip(frame["source"], frame["check"], frame["source_url"])) == {  # the ten checks, each with its doc
        ("sqs", "visibility timeout", SQS_CONFIGURE_URL),
        ("sqs", "redrive policy", SQS_ERRORS_URL),
        ("sqs", "report batch item failures", SQS_ERRORS_URL),
        ("dynamodb", "report batch item failures", DDB_BATCH_FAILURES_URL),
        ("dynamodb", "bounded retries", DDB_ERRORS_URL),
        ("dynamodb", "bisect batch on error", DDB_ERRORS_URL),
        ("dynamodb", "on-failure destination", DDB_ERRORS_URL),
        ("async", "on-failure destination or DLQ", ASYNC_URL),
        ("eventbridge", "rule DLQ", EVENTBRIDGE_DLQ_URL),
        ("sns", "subscription DLQ", SNS_DLQ_URL),
        ("apigateway", "integration timeout", HTTP_API_QUOTAS_URL),
        ("apigateway", "integration timeout", REST_API_QUOTAS_URL),
    }
    sqs_row = frame[frame["check"] == "visibility timeout"].iloc[0]
    assert sqs_row["has"] == "OrdersQueue VisibilityTimeout 60 s"
    assert sqs_row["should"] == ">= 6 x Timeout 10 s + MaximumBatchingWindowInSeconds 0 s = 60 s"


def test_rows_are_deterministic_and_every_input_form_agrees(tmp_path):
    first = _review(tmp_path / "a", *EVERY_SOURCE)
    second = _review(tmp_path / "b", *EVERY_SOURCE)
    pd.testing.assert_frame_equal(first, second)
    folder = tmp_path / "a" / "project"
    for form in (str(folder), folder / "template.yaml", load_template(folder / "template.yaml")):
        again = review(form)
        pd.testing.assert_frame_equal(again, first)
        assert again.attrs == first.attrs


# --- each check fails for its plausible wrong setting -----------------------------------------

WORKER = "WorkerFunction/OrdersQueueSqs"
STREAM = "StreamReaderFunction/CartsTableStream"


@pytest.mark.parametrize("wiring, to_fix", [
    ((sqs, {"visibility": 10}), {(WORKER, "visibility timeout")}),  # = the function timeout
    ((sqs, {"visibility": 60, "window": 5}), {(WORKER, "visibility timeout")}),  # forgot the window
    ((sqs, {"max_receive": 1}), {(WORKER, "redrive policy")}),
    ((sqs, {"dlq": False}), {(WORKER, "redrive policy")}),
    ((sqs, {"report": False}), {(WORKER, "report batch item failures")}),
    ((stream, {"retries": -1}), {(STREAM, "bounded retries")}),  # the default: until the record expires
    ((stream, {"bisect": False}), {(STREAM, "bisect batch on error")}),
    ((stream, {"on_failure": False}), {(STREAM, "on-failure destination")}),
    ((stream, {"report": False}), {(STREAM, "report batch item failures")}),
    ((s3, {"on_failure": False}), {("PhotoReaderFunction", "on-failure destination or DLQ")}),
    ((sns, {"on_failure": False}), {("AlertReaderFunction", "on-failure destination or DLQ")}),
    ((sns, {"dlq": False}), {("AlertReaderFunction/AlertsTopicSns", "subscription DLQ")}),
    ((rule, {"dlq": False}), {("RuleReaderFunction/BigOrdersRule", "rule DLQ")}),
    ((schedule, {"dlq": False}), {("NightlyReaderFunction/NightlySchedule", "rule DLQ")}),
    ((queue_rule, {"dlq": False}), {("AuditRule/audit-queue", "rule DLQ")}),
    ((http, {"timeout": 60}), {("ApiHandlerFunction/HttpApi1GETOrders", "integration timeout")}),
    ((rest, {"timeout": 30}), {("RestHandlerFunction/RestApi1GETHealth", "integration timeout")}),
], ids=["visibility-equals-timeout", "visibility-forgets-window", "max-receive-count-1", "no-queue-dlq",
    "sqs-no-batch-failures", "stream-retries-default", "stream-no-bisect", "stream-no-on-failure",
    "stream-no-batch-failures", "s3-no-destination", "sns-no-destination", "sns-no-subscription-dlq",
    "rule-no-dlq", "schedule-no-dlq", "queue-target-no-dlq", "http-api-60s", "rest-api-30s"])
def test_each_check_fails_for_its_wrong_setting(tmp_path, wiring, to_fix):
    build, options = wiring
    if build is sqs and options.get("visibility", 60) < 6 * 10 + options.get("window", 0):
        with pytest.warns(VisibilityTimeoutWarning):  # the lab says so too
            frame = _review(tmp_path, wiring)
    else:
        frame = _review(tmp_path, wiring)
    assert _to_fix(frame) == to_fix
    n = len(frame)
    assert frame.attrs["summary"] == f"{n} check{'s' * (n != 1)}: {n - len(to_fix)} ok, {len(to_fix)} to fix"


def test_what_the_failing_rows_say(tmp_path):
    with pytest.warns(VisibilityTimeoutWarning):
        frame = _review(tmp_path, (sqs, {"visibility": 60, "window": 5, "max_receive": 1}),
                        (stream, {"retries": -1, "bisect": False, "on_failure": False}), (http, {"timeout": 60}))
    says = {r.check: (r.has, r.should) for r in frame.itertuples() if not r.ok}
    assert says["visibility timeout"] == (
        "OrdersQueue VisibilityTimeout 60 s", ">= 6 x Timeout 10 s + MaximumBatchingWindowInSeconds 5 s = 65 s")
    assert says["redrive policy"][0] == "OrdersQueue: maxReceiveCount 1 to OrdersDlqQueue"
    assert says["bounded retries"][0] == "MaximumRetryAttempts -1, MaximumRecordAgeInSeconds -1"
    assert says["bisect batch on error"][0] == "BisectBatchOnFunctionError false"
    assert says["on-failure destination"][0] == "no OnFailure destination"
    assert says["integration timeout"] == (
        "Timeout 60 s", "Timeout x 1000 <= TimeoutInMillis 30,000 (else the client gets a 503/504 while the "
                        "function runs on)")


@pytest.mark.parametrize("wiring", [
    (sqs, {"visibility": 65, "window": 5}),  # exactly 6 x timeout + window
    (stream, {"retries": -1, "record_age": 3_600}),  # a bounded record age is enough
    (s3, {"on_failure": False, "dead_letter": True}),  # a DLQ instead of a destination
    (http, {"timeout": 30}),  # 30 s = TimeoutInMillis 30,000
], ids=["visibility-boundary", "record-age", "dead-letter-queue", "http-boundary"])
def test_the_alternatives_and_boundaries_pass(tmp_path, wiring):
    frame = _review(tmp_path, wiring)
    assert len(frame) and frame["ok"].all(), frame[~frame["ok"]].to_dict("records")


# --- a template as a dict: defaults, Globals, what cannot be checked ----------------------------


def _sqs_template(queue, **function):
    return {"Resources": {
        "JobsQueue": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:jobs-dlq", "maxReceiveCount": 5})}},
        "JobFunction": {"Type": "AWS::Serverless::Function", "Properties": {**function, "Events": {
            "Jobs": {"Type": "SQS", "Properties": {"Queue": queue}}}}}}}


def test_defaults_and_globals_apply():
    template = _sqs_template({"Ref": "JobsQueue"})  # no VisibilityTimeout (30 s), no Timeout (3 s)
    frame = review(template)
    # 30 >= 6 x 3; a RedrivePolicy as a JSON string counts; no FunctionResponseTypes
    assert list(frame["ok"]) == [True, True, False]
    assert frame["should"].iloc[0] == ">= 6 x Timeout 3 s + MaximumBatchingWindowInSeconds 0 s = 18 s"
    template["Globals"] = {"Function": {"Timeout": 20}}
    frame = review(template)
    assert frame["has"].iloc[0] == "JobsQueue VisibilityTimeout 30 s" and not frame["ok"].iloc[0]
    assert frame["should"].iloc[0].endswith("= 120 s")


def test_a_queue_outside_the_template_is_not_checked():
    frame = review(_sqs_template("arn:aws:sqs:us-east-1:123456789012:jobs", Timeout=5))
    assert list(frame["check"]) == ["report batch item failures"]
    assert frame.attrs["not_checked"] == [
        "JobFunction/Jobs: visibility timeout (queue arn:aws:sqs:us-east-1:123456789012:jobs is not in this template)",
        "JobFunction/Jobs: redrive policy (queue arn:aws:sqs:us-east-1:123456789012:jobs is not in this template)"]
    assert frame.attrs["summary"] == "1 check: 0 ok, 1 to fix; 2 not checked"


def test_an_empty_template_has_no_rows():
    frame = review({"Resources": {}})
    assert list(frame.columns) == COLUMNS and frame.empty
    assert frame.attrs["summary"] == "0 checks: 0 ok, 0 to fix"
