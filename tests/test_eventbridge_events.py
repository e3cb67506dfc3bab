"""EventBridge events against AWS's samples; PutEvents validation; what a target receives (Input,
InputPath, InputTransformer on every example of AWS's input-transformation page); target DLQ
attributes. No moto: the functions are pure."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_lab.events import eventbridge as eb
from lambda_lab.events import sns as sns_events
from lambda_lab.limits import EVENTBRIDGE_EVENT_MAX_BYTES
from shapes import shape

SAMPLES = Path(__file__).parent / "data" / "aws-sample-events"
RULE_ARN = "arn:aws:events:us-east-2:123456789012:rule/example"  # the transformation page's
T0 = 1_704_067_200.0  # 2024-01-01T00:00:00Z


def sample(path: str):
    return json.loads((SAMPLES / path).read_text())


def entry(**fields):
    base = {"Source": "com.example.orders", "DetailType": "OrderPlaced", "Detail": '{"id": 1}'}
    return {**base, **fields}


# --- The envelope ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["aws-docs/eb-ug_ec2-state-change-event.json",
                                  "aws-docs/s3-ug_eventbridge-object-created.json",
                                  "aws-docs/eb-ug_autoscaling-null-and-empty-event.json",
                                  "aws-docs/health-ug_ec2-operational-issue-event.json"])
def test_event_rebuilds_aws_samples_key_for_key_in_order(path):
    aws = sample(path)
    built = eb.event(event_id=aws["id"], detail_type=aws["detail-type"], source=aws["source"],
                     account=aws["account"], time=aws["time"], region=aws["region"],
                     resources=aws["resources"], detail=aws["detail"])
    assert built == aws
    assert list(built) == list(aws) == list(eb.ENVELOPE_KEYS)


def test_event_copies_detail_and_resources():
    detail, resources = {"a": {"b": 1}}, ["r"]
    built = eb.event(event_id="x", detail_type="t", source="s", account="1", time="t", region="r",
                     resources=resources, detail=detail)
    detail["a"]["b"] = 2
    resources.append("q")
    assert built["detail"] == {"a": {"b": 1}} and built["resources"] == ["r"]


def test_time_is_iso_utc_whole_seconds():
    assert eb.time_iso(T0) == "2024-01-01T00:00:00Z"
    assert eb.time_iso(T0 + 59.999) == "2024-01-01T00:00:59Z"
    assert eb.epoch_s("2024-01-01T00:00:00Z") == T0
    assert eb.epoch_s(dt.datetime(2024, 1, 1)) == T0  # naive: UTC
    assert eb.epoch_s(dt.datetime(2024, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == T0


# --- PutEvents entries --------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [0, 1])
def test_from_entry_delivers_the_cli_samples_entries(index):
    cli = sample("aws-docs/aws-cli-ref_put-events-entries.json")[index]
    got = eb.from_entry(cli, event_id="e-1", account="123456789012", region="us-east-1", now_s=T0)
    assert list(got) == list(eb.ENVELOPE_KEYS)
    assert got["version"] == "0" and got["id"] == "e-1"
    assert (got["source"], got["detail-type"]) == (cli["Source"], cli["DetailType"])
    assert got["detail"] == json.loads(cli["Detail"])  # a string in, an object out
    assert got["resources"] == cli["Resources"] and got["time"] == "2024-01-01T00:00:00Z"
    ec2 = sample("aws-docs/eb-ug_ec2-state-change-event.json")
    envelope = {k: v for k, v in ec2.items() if k not in ("detail", "resources")}
    assert shape({k: v for k, v in got.items() if k not in ("detail", "resources")}) == shape(envelope)


def test_from_entry_time_and_defaults():
    placed = dt.datetime(2023, 6, 1, 12, 30, 15, 999_000, tzinfo=dt.timezone.utc)
    got = eb.from_entry(entry(Time=placed, EventBusName="orders"), event_id="e", account="1", region="r", now_s=T0)
    assert got["time"] == "2023-06-01T12:30:15Z"  # the sender's time, in the past, whole seconds
    assert got["resources"] == []
    assert eb.from_entry(entry(Time=None), event_id="e", account="1", region="r", now_s=T0)["time"] == eb.time_iso(T0)
    with pytest.raises(ValueError, match="MalformedDetail"):
        eb.from_entry(entry(Detail="nope"), event_id="e", account="1", region="r", now_s=T0)


@pytest.mark.parametrize("fields, verdict", [
    ({}, None),
    ({"Detail": "{}"}, None),
    ({"Source": "awesome.app"}, None),
    ({"Source": None}, ("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")),
    ({"Source": ""}, ("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")),
    ({"DetailType": None},
     ("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument.")),
    ({"Detail": None}, ("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.")),
    ({"Source": "aws.health"}, ("NotAuthorizedForSourceException", "Not authorized for the source.")),
    ({"Source": "aws.events", "Detail": "{}"}, ("NotAuthorizedForSourceException", "Not authorized for the source.")),
    ({"Detail": "{not json"}, ("MalformedDetail", "Detail is malformed.")),
    ({"Detail": "[1, 2]"}, ("MalformedDetail", "Detail is malformed.")),
    ({"Detail": '"text"'}, ("MalformedDetail", "Detail is malformed.")),
    ({"Detail": "42"}, ("MalformedDetail", "Detail is malformed.")),
    ({"Detail": "null"}, ("MalformedDetail", "Detail is malformed.")),
])
def test_check_entry(fields, verdict):
    candidate = {k: v for k, v in entry(**fields).items() if v is not None}
    assert eb.check_entry(candidate) == verdict


def test_a_missing_field_is_reported_before_the_source():
    assert eb.check_entry({"Source": "aws.s3", "Detail": "{}"})[0] == "InvalidArgument"


def test_entry_size_counts_as_the_aws_page_says():
    cli = sample("aws-docs/aws-cli-ref_put-events-entries.json")[0]
    assert eb.entry_size_bytes(cli) == (len("com.mycompany.myapp") + len("myDetailType") + len(cli["Detail"])
                                        + len("resource1") + len("resource2"))
    assert eb.entry_size_bytes({**cli, "Time": dt.datetime(2024, 1, 1)}) == eb.entry_size_bytes(cli) + 14
    assert eb.entry_size_bytes({**cli, "EventBusName": "orders", "TraceHeader": "x"}) == eb.entry_size_bytes(cli)
    utf8 = {"Source": "é", "DetailType": "€", "Detail": "{}", "Resources": [None, "ü"]}
    assert eb.entry_size_bytes(utf8) == 2 + 3 + 2 + 2


def test_check_batch():
    assert eb.check_batch([entry()] * 10) is None
    code, message = eb.check_batch([entry()] * 11)
    assert code == "ValidationException" and message.endswith("Member must have length less than or equal to 10")
    assert eb.check_batch([])[0] == "ValidationException"
    # the limit is on the entries together, and AWS fails the whole call for it
    half = EVENTBRIDGE_EVENT_MAX_BYTES // 2
    detail = '{"x": "' + "a" * (half - 100) + '"}'
    assert eb.check_batch([entry(Detail=detail)]) is None
    assert eb.check_batch([entry(Detail=detail)] * 3) == (
        "ValidationException", "Total size of the entries in the request is over the limit.")
    # 256 KB before January 2026, 1 MB now
    big = entry(Detail='{"x": "' + "a" * 300_000 + '"}')
    assert eb.check_batch([big]) is None
    assert eb.check_batch([big], max_bytes=eb.EVENT_MAX_BYTES_BEFORE_2026) == eb.ENTRIES_TOO_LARGE
    exact = entry(Detail='{"x": ""}')
    assert eb.check_batch([exact], max_bytes=eb.entry_size_bytes(exact)) is None
    assert eb.check_batch([exact], max_bytes=eb.entry_size_bytes(exact) - 1) == eb.ENTRIES_TOO_LARGE


# --- AWS service events -----------------------------------------------------------------------------------
IDS = {"event_id": "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", "account": "123456789012", "region": "us-east-1",
       "time": "2024-01-01T00:05:00Z"}


def test_health_event_has_the_health_guides_structure():
    aws = sample("aws-docs/health-ug_ec2-operational-issue-event.json")
    got = eb.service_event("health", **IDS)
    assert shape(got) == shape(aws)
    assert list(got) == list(aws) and list(got["detail"]) == list(aws["detail"])
    assert (got["source"], got["detail-type"]) == ("aws.health", "AWS Health Event")
    assert {k: got[k] for k in ("id", "account", "region", "time")} == {
        "id": IDS["event_id"], "account": IDS["account"], "region": IDS["region"], "time": IDS["time"]}
    detail = got["detail"]
    assert detail["eventArn"] == ("arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/"
                                  f"AWS_EC2_OPERATIONAL_ISSUE_{IDS['event_id']}")
    assert detail["eventRegion"] == "us-east-1" and detail["affectedAccount"] == "123456789012"
    assert detail["lastUpdatedTime"] == "Mon, 01 Jan 2024 00:05:00 GMT"  # Health writes RFC 1123, not ISO
    assert detail["communicationId"].endswith("-1")
    assert len(detail["communicationId"]) == len(aws["detail"]["communicationId"])


def test_health_event_fields():
    got = eb.service_event("health", **IDS, service="LAMBDA", event_type_code="AWS_LAMBDA_PLANNED_LIFECYCLE_EVENT",
                           event_type_category="scheduledChange", scope="ACCOUNT_SPECIFIC", status_code="upcoming",
                           affected_entities=["arn:aws:lambda:us-east-1:123456789012:function:f"],
                           start_time="2024-02-01T00:00:00Z", description="Runtime ends")
    detail = got["detail"]
    assert got["resources"] == ["arn:aws:lambda:us-east-1:123456789012:function:f"]
    assert detail["affectedEntities"] == [{"entityValue": "arn:aws:lambda:us-east-1:123456789012:function:f"}]
    assert (detail["service"], detail["eventTypeCategory"], detail["eventScopeCode"], detail["statusCode"]) == (
        "LAMBDA", "scheduledChange", "ACCOUNT_SPECIFIC", "upcoming")
    assert detail["startTime"] == "Thu, 01 Feb 2024 00:00:00 GMT"
    assert detail["eventDescription"] == [{"language": "en_US", "latestDescription": "Runtime ends"}]
    assert "/LAMBDA/AWS_LAMBDA_PLANNED_LIFECYCLE_EVENT/" in detail["eventArn"]


def test_ec2_state_change_has_the_eventbridge_guides_structure():
    aws = sample("aws-docs/eb-ug_ec2-state-change-event.json")
    got = eb.service_event("ec2-state-change", **IDS, instance_id="i-1234567890abcdef0", state="terminated")
    assert shape(got) == shape(aws) and list(got) == list(aws) and list(got["detail"]) == list(aws["detail"])
    assert (got["source"], got["detail-type"]) == ("aws.ec2", "EC2 Instance State-change Notification")
    assert got["detail"] == {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
    assert got["resources"] == ["arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0"]


def test_s3_object_created_has_the_s3_guides_structure():
    docs = sample("aws-docs/s3-ug_eventbridge-object-created.json")
    unversioned = sample("powertools-python/s3EventBridgeNotificationObjectCreatedEvent.json")
    got = eb.service_event("s3-object-created", **IDS, bucket="example-bucket", key="IMG_m7fzo3.jpg", size=184662)
    assert shape(got) == shape(unversioned)  # no version-id on an unversioned bucket
    versioned = eb.service_event("s3-object-created", **IDS, bucket="DOC-EXAMPLE-BUCKET1", key="example-key", size=5,
                                 etag="b1946ac92492d2347c6235b4d2611184", version_id="IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
                                 sequencer="617f08299329d189", request_id="N4N7GDK58NMKJ12R", requester="123456789012",
                                 source_ip_address="1.2.3.4")
    assert shape(versioned) == shape(docs) and list(versioned) == list(docs)
    assert list(versioned["detail"]) == list(docs["detail"])
    assert list(versioned["detail"]["object"]) == list(docs["detail"]["object"])
    assert versioned["detail"] == docs["detail"]  # every detail value given: AWS's sample exactly
    assert versioned["resources"] == docs["resources"]
    assert got["detail"]["requester"] == IDS["account"] and got["detail"]["reason"] == "PutObject"
    assert len(got["detail"]["object"]["etag"]) == 32


def test_service_events_are_deterministic_and_checked():
    a = eb.service_event("s3-object-created", **IDS, bucket="b", key="k", size=1)
    assert a == eb.service_event("s3-object-created", **IDS, bucket="b", key="k", size=1)
    with pytest.raises(ValueError, match="unknown service event"):
        eb.service_event("ec2-spot-interruption", **IDS)
    with pytest.raises(TypeError):
        eb.service_event("ec2-state-change", **IDS, instance_id="i-1", state="running", colour="red")


def test_scheduled_event_matches_the_lambda_guides_sample():
    aws = sample("aws-docs/lambda-dg_eventbridge-scheduled-event.json")
    got = eb.scheduled_event(event_id=aws["id"], account=aws["account"], region=aws["region"], time=aws["time"],
                             rule_arn=aws["resources"][0])
    assert got == aws  # the same event; the sample lists the keys in another order
    assert list(got) == list(eb.ENVELOPE_KEYS)


# --- Input transformation: every example of eb-transform-target-input.html -----------------------------------
TRANSFORM = sample("aws-docs/eb-ug_input-transform-examples.json")
EC2_EVENT = sample("aws-docs/eb-ug_input-transform-example-event.json")
BREVITY = "{\n    ... // commented for brevity\n  }"


def _expected(output: str) -> tuple[bool, object]:
    """The page's output as ``(is JSON, value)``: parsed (the original event where the page elides it), else text."""
    try:
        return True, json.loads(output.replace(BREVITY, json.dumps(EC2_EVENT)))
    except ValueError:
        return False, output


def _transform(template, paths=None, **kwargs):
    return eb.transform(EC2_EVENT, TRANSFORM["inputPathsMap"] if paths is None else paths, template,
                        rule_arn=RULE_ARN, rule_name="example", **kwargs)


@pytest.mark.parametrize("example", [pytest.param(example, id=example["description"])
                                     for example in TRANSFORM["examples"] if "CloudWatch" not in example["description"]])
def test_every_example_of_the_input_transformation_page(example):
    got = _transform(example["template"])
    is_json, expected = _expected(example["output"])
    assert (json.loads(got) if is_json else got) == expected


def test_the_cloudwatch_logs_example_is_the_json_eventbridge_hands_over():
    """The page's CloudWatch Logs row shows how that target prints the payload (a bare timestamp,
    unescaped quotes); the lab has no CloudWatch Logs target and gives the JSON EventBridge sends."""
    [example] = [e for e in TRANSFORM["examples"] if "CloudWatch" in e["description"]]
    got = _transform(example["template"])
    assert got != example["output"]
    assert json.loads(got) == {"timestamp": "2015-11-11T21:29:54Z", "message": 'instance "i-0123456789" is in RUNNING'}


def test_string_examples_are_the_pages_text_exactly():
    for example in TRANSFORM["examples"][:2] + TRANSFORM["examples"][6:7]:
        assert _transform(example["template"]) == example["output"]


def test_api_reference_examples():
    """API_InputTransformer's three templates (paths renamed for the page's event)."""
    paths = {"instance": "$.detail.instance-id", "status": "$.detail.state"}
    assert _transform("<instance> is in state <status>", paths) == "i-0123456789 is in state RUNNING"
    assert _transform('<instance> is in state "<status>"', paths) == 'i-0123456789 is in state "RUNNING"'
    got = _transform('{"myInstance": <instance>,"myStatus": "<instance> is in state \\"<status>\\""}', paths)
    assert json.loads(got) == {"myInstance": "i-0123456789", "myStatus": 'i-0123456789 is in state "RUNNING"'}


NUMBERS = {**EC2_EVENT, "detail": {"n": 5, "ok": True, "none": None, "obj": {"a": 1}, "list": [1, "x"], "s": "hi"}}
NUMBER_PATHS = {name: f"$.detail.{name}" for name in NUMBERS["detail"]}


@pytest.mark.parametrize("template, expected", [
    ('{"v": <n>}', '{"v": 5}'),
    ('{"v": <ok>}', '{"v": true}'),
    ('{"v": <none>}', '{"v": null}'),
    ('{"v": <obj>}', '{"v": {"a":1}}'),
    ('{"v": <list>}', '{"v": [1,"x"]}'),
    ('{"v": <s>}', '{"v": "hi"}'),             # a string placed bare is quoted
    ('{"v": "<s>"}', '{"v": "hi"}'),           # and left alone inside quotes
    ('{"v": "n=<n> ok=<ok>"}', '{"v": "n=5 ok=true"}'),
    ('"<n> items"', '"5 items"'),
    ("<n> items, <s>", "5 items, hi"),         # plain text: values as they are
    ("[<n>, <s>, <list>]", '[5, "hi", [1,"x"]]'),
])
def test_string_and_non_string_placeholders(template, expected):
    assert eb.transform(NUMBERS, NUMBER_PATHS, template) == expected


def test_values_are_not_escaped():
    quoted = {**EC2_EVENT, "detail": {"note": 'say "hi"'}}
    got = eb.transform(quoted, {"note": "$.detail.note"}, '{"v": <note>}')
    assert got == '{"v": "say "hi""}'  # AWS: "EventBridge doesn't escape values extracted by Input Path"
    target = {"InputTransformer": {"InputPathsMap": {"note": "$.detail.note"}, "InputTemplate": '{"v": <note>}'}}
    assert eb.target_payload(quoted, target, rule_arn=RULE_ARN, rule_name="example") == got  # not JSON: text


def test_a_missing_path_gives_an_empty_value():
    paths = {"command": "$.detail.notinmessage", "state": "$.detail.state"}
    assert _transform('"info <command>, state <state>"', paths) == '"info , state RUNNING"'
    got = json.loads(_transform('{"command": <command>, "state": <state>}', paths))
    assert got == {"command": "", "state": "RUNNING"}
    assert _transform("<command>|<state>", paths) == "|RUNNING"
    assert _transform('{"r": <r>}', {"r": "$.resources[5]"}) == '{"r": ""}'


def test_array_indices_and_unknown_placeholders():
    assert _transform('"<resource>"') == '"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"'
    assert _transform('"<unknown> and <state>"') == '"<unknown> and RUNNING"'  # PutTargets refuses it anyway


def test_reserved_variables():
    original = json.loads(_transform('{"e": <aws.events.event>}'))["e"]
    assert original == {k: v for k, v in EC2_EVENT.items() if k != "detail"}  # "without the detail field"
    assert json.loads(_transform('{"e": <aws.events.event.json>}'))["e"] == EC2_EVENT
    assert json.loads(_transform("<aws.events.event.json>")) == EC2_EVENT
    got = json.loads(_transform('{"arn": <aws.events.rule-arn>, "at": "<aws.events.event.ingestion-time>"}'))
    assert got == {"arn": RULE_ARN, "at": EC2_EVENT["time"]}
    assert _transform('"<aws.events.event.ingestion-time>"', ingestion_time="2015-11-11T21:29:55Z") == \
        '"2015-11-11T21:29:55Z"'


def test_apply_input_path():
    assert eb.apply_input_path(EC2_EVENT, "$") == EC2_EVENT
    assert eb.apply_input_path(EC2_EVENT, "$.detail") == {"instance-id": "i-0123456789", "state": "RUNNING"}
    assert eb.apply_input_path(EC2_EVENT, "$.detail.instance-id") == "i-0123456789"
    assert eb.apply_input_path(EC2_EVENT, "$.detail-type") == "EC2 Instance State-change Notification"
    assert eb.apply_input_path(EC2_EVENT, "$.resources[0]") == "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"
    nested = {"detail": {"list": [{"sku": "X1"}, {"sku": "X2"}]}}
    assert eb.apply_input_path(nested, "$.detail.list[1].sku") == "X2"
    assert eb.apply_input_path(EC2_EVENT, "$.detail.nothing") is None
    assert eb.apply_input_path(EC2_EVENT, "$.resources[3]") is None
    with pytest.raises(ValueError):
        eb.apply_input_path(EC2_EVENT, "detail.state")
    with pytest.raises(ValueError):
        eb.apply_input_path(EC2_EVENT, "$.detail[*]")


@pytest.mark.parametrize("target, body, payload", [
    ({}, None, EC2_EVENT),
    ({"Input": '{"constant": [1, 2]}'}, '{"constant": [1, 2]}', {"constant": [1, 2]}),
    ({"InputPath": "$.detail"}, '{"instance-id":"i-0123456789","state":"RUNNING"}',
     {"instance-id": "i-0123456789", "state": "RUNNING"}),
    ({"InputPath": "$.detail.state"}, '"RUNNING"', "RUNNING"),
    ({"InputTransformer": {"InputPathsMap": {"state": "$.detail.state"}, "InputTemplate": '"state is <state>"'}},
     '"state is RUNNING"', "state is RUNNING"),
    ({"InputTransformer": {"InputPathsMap": {"state": "$.detail.state"}, "InputTemplate": '{\n  "s" : <state>\n}'}},
     '{"s":"RUNNING"}', {"s": "RUNNING"}),
    ({"InputTransformer": {"InputPathsMap": {"state": "$.detail.state"}, "InputTemplate": "state <state>"}},
     "state RUNNING", "state RUNNING"),
    ({"InputTransformer": {"InputTemplate": '"<aws.events.rule-name> triggered"'}}, '"example triggered"',
     "example triggered"),
])
def test_what_a_target_receives(target, body, payload):
    got_body = eb.target_body(EC2_EVENT, target, rule_arn=RULE_ARN, rule_name="example")
    assert got_body == (json.dumps(EC2_EVENT, separators=(",", ":")) if body is None else body)
    assert eb.target_payload(EC2_EVENT, target, rule_arn=RULE_ARN, rule_name="example") == payload


@pytest.mark.parametrize("transformer, problem", [
    ({"InputPathsMap": {"state": "$.detail.state"}, "InputTemplate": '"<state>"'}, None),
    ({"InputTemplate": '"<aws.events.rule-name> <aws.events.event.ingestion-time>"'}, None),
    ({"InputPathsMap": {f"v{i}": "$.detail" for i in range(100)}, "InputTemplate": '"x"'}, None),
    ({"InputPathsMap": {f"v{i}": "$.detail" for i in range(101)}, "InputTemplate": '"x"'}, "maximum is 100"),
    ({"InputPathsMap": {"aws.mine": "$.detail"}, "InputTemplate": '"<aws.mine>"'}, "reserved"),
    ({"InputPathsMap": {"aws.events.rule-name": "$.detail"}, "InputTemplate": '"x"'}, "reserved"),
    ({"InputPathsMap": {"my var": "$.detail"}, "InputTemplate": '"x"'}, "[A-Za-z0-9_-]"),
    ({"InputPathsMap": {"k" * 257: "$.detail"}, "InputTemplate": '"x"'}, "[A-Za-z0-9_-]"),
    ({"InputPathsMap": {"p": "$." + "a" * 255}, "InputTemplate": '"<p>"'}, "longer than 256"),
    ({"InputTemplate": ""}, "at least 1"),
    ({"InputTemplate": '"' + "x" * 8190 + '"'}, None),
    ({"InputTemplate": '"' + "x" * 8191 + '"'}, "maximum is 8192"),
    ({"InputPathsMap": {"a": "$.detail"}, "InputTemplate": '"<a> <b>"'},
     "InputTemplate for target t-1 contains invalid placeholder b."),
    ({"InputPathsMap": {"a": "$.detail"}, "InputTemplate": '{<a>: 1}'}, "as an object key"),
    ({"InputPathsMap": {"a": "$.detail"}, "InputTemplate": '{"<a>": <a>}'}, None),
    ({"InputPathsMap": {"a": "$.no[such] path"}, "InputTemplate": '"<a>"'}, None),  # paths are not checked
])
def test_check_transformer(transformer, problem):
    got = eb.check_transformer(transformer, target_id="t-1")
    if problem is None:
        assert got is None
    else:
        assert got is not None and problem in got


def test_check_target_input():
    assert eb.check_target_input({"Id": "t", "Arn": "a"}) is None
    assert eb.check_target_input({"Id": "t", "Input": '{"a": 1}', "InputPath": "$.detail"}) == \
        "Only one of Input, InputPath, or InputTransformer must be provided for target t."
    assert "valid JSON" in eb.check_target_input({"Id": "t", "Input": "not json"})
    assert "8192" in eb.check_target_input({"Id": "t", "Input": json.dumps("x" * 8192)})
    assert "256" in eb.check_target_input({"Id": "t", "InputPath": "$." + "a" * 255})
    assert "invalid placeholder" in eb.check_target_input({"Id": "t", "InputTransformer": {"InputTemplate": '"<x>"'}})


# --- Target dead-letter queues ---------------------------------------------------------------------------------
def test_dead_letter_attributes():
    got = eb.dead_letter_attributes(rule_arn=RULE_ARN, target_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
                                    error_code="THROTTLING", error_message="Rate exceeded",
                                    exhausted_condition="MaximumRetryAttempts", retry_attempts=185)
    assert list(got) == ["RULE_ARN", "TARGET_ARN", "ERROR_CODE", "ERROR_MESSAGE", "EXHAUSTED_RETRY_CONDITION",
                         "RETRY_ATTEMPTS"]
    assert all(value["DataType"] == "String" for value in got.values())
    assert got["RETRY_ATTEMPTS"]["StringValue"] == "185"
    assert got["EXHAUSTED_RETRY_CONDITION"]["StringValue"] == "MaximumRetryAttempts"
    aged = eb.dead_letter_attributes(rule_arn=RULE_ARN, target_arn="t", error_code="TIMEOUT", error_message="m",
                                     exhausted_condition="MaximumEventAgeInSeconds", retry_attempts=3)
    assert aged["EXHAUSTED_RETRY_CONDITION"]["StringValue"] == "MaximumEventAgeInSeconds"
    at_once = eb.dead_letter_attributes(rule_arn=RULE_ARN, target_arn="t", error_code="NO_RESOURCE",
                                        error_message="Function not found", exhausted_condition=None, retry_attempts=0)
    assert "EXHAUSTED_RETRY_CONDITION" not in at_once and at_once["RETRY_ATTEMPTS"]["StringValue"] == "0"
    with pytest.raises(ValueError):
        eb.dead_letter_attributes(rule_arn=RULE_ARN, target_arn="t", error_code="X", error_message="m",
                                  exhausted_condition="MaximumRetryAttemptsExhausted", retry_attempts=1)
    assert {"NO_PERMISSIONS", "NO_RESOURCE", "THROTTLING", "INTERNAL_ERROR"} <= set(eb.DLQ_ERROR_CODES)


# --- Package conventions --------------------------------------------------------------------------------------
def test_sample_event():
    got = eb.sample_event()
    assert got == eb.sample_event() and list(got) == list(eb.ENVELOPE_KEYS)
    assert got["detail"] == {"key1": "value1", "key2": "value2"} and got["time"] == "2024-01-01T00:00:00Z"
    other = eb.sample_event({"orderId": "o-9"}, source="com.example.orders", detail_type="OrderPlaced", resources=[])
    assert other["detail"] == {"orderId": "o-9"} and other["resources"] == [] and other["id"] != got["id"]
    assert all(path.split(".")[0] in got for path in eb.DISPLAY_FIELDS)


def test_an_eventbridge_event_is_told_by_its_envelope():
    assert eb.is_eventbridge_event(eb.sample_event())
    assert eb.is_eventbridge_event(sample("aws-docs/lambda-dg_eventbridge-scheduled-event.json"))
    assert not eb.is_eventbridge_event(sns_events.sample_event())
    assert not eb.is_eventbridge_event({"detail": {}}) and not eb.is_eventbridge_event("event")


def test_the_module_imports_only_the_standard_library():
    code = ("import sys, lambda_lab.events.eventbridge; "
            "print(sorted(m for m in ('boto3', 'botocore', 'pandas', 'moto') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
