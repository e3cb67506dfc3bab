"""Schema discovery on the lab's bus: inferred documents in the registry's shapes, versions, bindings.

AWS's own samples and the "Discover from JSON" example of the EventBridge user guide are the
references for the documents; the generated bindings must round-trip every event they were inferred
from, reject an event without a required field, and read newer events (without their new fields).
"""

from __future__ import annotations

import copy
import importlib
import itertools
import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_lab.schemas import (Registry, detail_name, diff, generate_bindings, import_bindings, infer,
                                package_name)
from lambda_lab.schemas.infer import ENVELOPE_REQUIRED

SAMPLES = Path(__file__).parent / "data" / "aws-sample-events" / "aws-docs"
EC2 = "eb-ug_ec2-state-change-event.json"
S3 = "s3-ug_eventbridge-object-created.json"
HEALTH = "health-ug_ec2-operational-issue-event.json"
NULL_AND_EMPTY = "eb-ug_autoscaling-null-and-empty-event.json"


def sample(name):
    return json.loads((SAMPLES / name).read_text())


def order(detail, n=0, detail_type="Order Placed", source="com.example.orders"):
    """A custom event as PutEvents makes it (no resources given: an empty list)."""
    return {"version": "0", "id": f"00000000-0000-0000-0000-{n:012d}", "detail-type": detail_type,
            "source": source, "account": "123456789012", "time": f"2024-01-01T00:00:{n % 60:02d}Z",
            "region": "us-east-1", "resources": [], "detail": detail}


ORDERS = [
    order({"orderId": "o-1", "total": 10, "customer": {"id": "c-1", "tier": "gold"},
           "lines": [{"sku": "a", "qty": 1}], "note": None}, 1),
    order({"orderId": "o-2", "total": 20, "customer": {"id": "c-2", "tier": "silver"},
           "lines": [{"sku": "b", "qty": 2}, {"sku": "c", "qty": 1, "gift": True}], "note": "ring twice"}, 2),
]
#: The producer's next release adds a coupon.
WITH_COUPON = order({"orderId": "o-3", "total": 30, "customer": {"id": "c-1", "tier": "gold"},
                     "lines": [], "note": None, "coupon": "SAVE10"}, 3)


EXAMPLES = 1_000 if os.environ.get("LAMBDA_LAB_SLOW") else 25
#: Keys that test the names: hyphens, camelCase next to its snake_case, keywords, builtins, a digit first.
KEYS = st.sampled_from(["a", "b-c", "eventType", "event_type", "class", "list", "to_dict", "None", "2fa",
                        "state", "x y", ""])
LEAVES = (st.none() | st.booleans() | st.integers(-(10**12), 10**12)
          | st.floats(allow_nan=False, allow_infinity=False, width=32)
          | st.sampled_from(["s", "2024-01-01T00:00:00Z", 'quote " and \\ backslash', "ünïcode"]))
JSON = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
                    max_leaves=12)
FOLDERS = itertools.count()


def only(schemas):
    (schema,) = schemas.values()
    return schema


def component(schema, name=None):
    doc = schema.openapi()
    return doc["components"]["schemas"][name or doc["info"]["title"]]


@pytest.fixture
def bindings(tmp_path):
    """Generate a schema's bindings into a fresh folder and import them."""
    made = []

    def make(schema, folder="bindings"):
        package = generate_bindings(schema, tmp_path / folder)
        module = import_bindings(package)
        made.append(module.__name__)
        return module

    yield make
    for name in [m for m in sys.modules if any(m == n or m.startswith(n + ".") for n in made)]:
        del sys.modules[name]


# --- the document, as the registry writes a discovered schema ---------------------------------------
def test_the_ec2_sample_gives_the_registrys_document():
    """As AWS's registry has it (aws-toolkit-vscode's copy), less the region enum AWS's curated schema adds."""
    strings = {"type": "string"}
    assert only(infer([sample(EC2)])).openapi() == {
        "openapi": "3.0.0",
        "info": {"version": "1.0.0", "title": "EC2InstanceStateChangeNotification"},
        "paths": {},
        "components": {"schemas": {
            "AWSEvent": {
                "type": "object",
                "required": ["detail-type", "resources", "detail", "id", "source", "time", "region", "version",
                             "account"],
                "x-amazon-events-detail-type": "EC2 Instance State-change Notification",
                "x-amazon-events-source": "aws.ec2",
                "properties": {
                    "detail": {"$ref": "#/components/schemas/EC2InstanceStateChangeNotification"},
                    "account": strings, "detail-type": strings, "id": strings, "region": strings,
                    "resources": {"type": "array", "items": strings}, "source": strings,
                    "time": {"type": "string", "format": "date-time"}, "version": strings,
                },
            },
            "EC2InstanceStateChangeNotification": {
                "type": "object",
                "required": ["instance-id", "state"],
                "properties": {"instance-id": strings, "state": strings},
            },
        }},
    }


def test_discover_from_json_example_of_the_user_guide():
    """eb-schemas-infer-from-json.html: AWS's event in, AWS's generated schema out (null as {}, int64)."""
    event = {"version": "0", "id": "315c1398-40ff-a850-213b-158f73e60175",
             "detail-type": "Step Functions Execution Status Change", "source": "aws.states",
             "account": "012345678912", "time": "2019-02-26T19:42:21Z", "region": "us-east-1",
             "resources": ["arn:aws:states:us-east-1:012345678912:execution:state-machine-name:execution-name"],
             "detail": {"executionArn": "arn:aws:states:us-east-1:012345678912:execution:state-machine-name:x",
                        "stateMachineArn": "arn:aws:states:us-east-1:012345678912:stateMachine:state-machine",
                        "name": "execution-name", "status": "FAILED", "startDate": 1551225146847,
                        "stopDate": 1551225151881, "input": "{}", "output": None}}
    schema = only(infer([event]))
    assert schema.name == "aws.states@StepFunctionsExecutionStatusChange"
    detail = component(schema)
    strings, int64 = {"type": "string"}, {"type": "integer", "format": "int64"}
    assert detail["properties"] == {"executionArn": strings, "input": strings, "name": strings, "output": {},
                                    "startDate": int64, "stateMachineArn": strings, "status": strings,
                                    "stopDate": int64}
    assert list(detail["properties"]) == sorted(detail["properties"])  # AWS lists them sorted
    # AWS's own order of required looks unordered; the lab sorts it. The set is AWS's.
    assert set(detail["required"]) == {"output", "input", "executionArn", "name", "stateMachineArn", "startDate",
                                       "stopDate", "status"}


@pytest.mark.parametrize("name", [EC2, S3, HEALTH, NULL_AND_EMPTY])
def test_aws_samples_give_schemas_whose_properties_are_the_events_fields(name):
    event = sample(name)
    schema = only(infer([event]))
    doc, draft4 = schema.openapi(), schema.jsonschema()
    components, definitions = doc["components"]["schemas"], draft4["definitions"]
    envelope = components["AWSEvent"]
    assert set(envelope["properties"]) == set(event) == set(draft4["properties"])
    assert envelope["required"] == [key for key in ENVELOPE_REQUIRED if key in event] == draft4["required"]
    assert (envelope["x-amazon-events-source"], envelope["x-amazon-events-detail-type"]) == (
        event["source"], event["detail-type"])
    assert schema.detail_name == detail_name(event["detail-type"]) == doc["info"]["title"] == draft4["title"]

    def check(value, name):  # every object in the event has a component with exactly its keys
        assert set(components[name]["properties"]) == set(value) == set(definitions[name]["properties"])
        assert set(components[name].get("required", [])) == set(value)  # one event: every key
        for key, child in value.items():
            prop = components[name]["properties"][key]
            if isinstance(child, dict):
                check(child, prop["$ref"].rsplit("/", 1)[1])
            elif isinstance(child, list) and child and isinstance(child[0], dict):
                check(child[0], prop["items"]["$ref"].rsplit("/", 1)[1])

    check(event["detail"], schema.detail_name)
    assert set(components) == set(definitions) | {"AWSEvent"}


def test_the_samples_types_and_names():
    s3 = only(infer([sample(S3)]))
    assert s3.name == "aws.s3@ObjectCreated"
    assert component(s3, "Object")["properties"]["size"] == {"type": "integer", "format": "int64"}
    assert component(s3)["properties"]["bucket"] == {"$ref": "#/components/schemas/Bucket"}
    health = only(infer([sample(HEALTH)]))
    assert health.name == "aws.health@AWSHealthEvent"
    detail = component(health)["properties"]
    assert detail["eventDescription"] == {"type": "array", "items": {"$ref": "#/components/schemas/EventDescriptionItem"}}
    assert detail["affectedEntities"] == {"type": "array", "items": {"type": "object"}}  # only [] seen
    assert detail["startTime"] == {"type": "string"}  # "Fri, 27 Jan 2023 06:02:51 GMT" is not RFC 3339
    null_and_empty = component(only(infer([sample(NULL_AND_EMPTY)])))
    assert null_and_empty == {"type": "object", "required": ["eventVersion", "responseElements"],
                              "properties": {"eventVersion": {"type": "string"}, "responseElements": {}}}


def test_the_draft4_document_has_the_registry_exports_shape():
    draft4 = only(infer([sample(S3)])).jsonschema()
    assert draft4["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert list(draft4) == sorted(draft4)
    assert draft4["properties"]["detail"] == {"$ref": "#/definitions/ObjectCreated"}
    assert draft4["properties"]["time"] == {"format": "date-time", "type": "string"}
    assert draft4["definitions"]["Object"]["properties"]["size"] == {"format": "int64", "type": "integer"}


# --- what happens when events disagree ---------------------------------------------------------------
def test_a_field_in_only_some_events_is_optional():
    schema = only(infer([*ORDERS, WITH_COUPON]))
    detail = component(schema)
    assert "coupon" in detail["properties"] and "coupon" not in detail["required"]
    assert "coupon" not in schema.jsonschema()["definitions"]["OrderPlaced"]["required"]
    lines = component(schema, "LinesItem")  # array items merged across every element of every array
    assert lines["required"] == ["qty", "sku"] and lines["properties"]["gift"] == {"type": "boolean"}
    assert schema.fields()["coupon"] == "string, optional"
    assert schema.fields()["lines[].gift"] == "boolean, optional"


def test_a_field_seen_with_two_types_is_a_union_in_both_formats():
    events = [order({"code": "A5"}, 1), order({"code": 5}, 2)]
    schema = only(infer(events))
    assert component(schema)["properties"]["code"] == {
        "oneOf": [{"type": "string"}, {"type": "integer", "format": "int64"}]}
    assert schema.jsonschema()["definitions"]["OrderPlaced"]["properties"]["code"] == {
        "format": "int64", "type": ["string", "integer"]}
    with_null = only(infer([*events, order({"code": None}, 3)]))
    assert component(with_null)["properties"]["code"] == {
        "oneOf": [{"type": "string", "nullable": True}, {"type": "integer", "format": "int64"}]}
    assert with_null.jsonschema()["definitions"]["OrderPlaced"]["properties"]["code"]["type"] == [
        "string", "integer", "null"]


def test_null_objects_integers_and_date_times():
    events = [order({"ship": {"to": "x"}, "n": 1, "at": "2024-01-01T00:00:00Z", "s": "2024-01-01T00:00:00Z"}, 1),
              order({"ship": None, "n": 1.5, "at": "2024-01-02T10:00:00.5+02:00", "s": "tomorrow"}, 2)]
    detail = component(only(infer(events)))["properties"]
    assert detail["ship"] == {"oneOf": [{"$ref": "#/components/schemas/Ship"},
                                        {"type": "object", "nullable": True, "enum": [None]}]}
    assert detail["n"] == {"type": "number"}  # integers and numbers merge into number
    assert detail["at"] == {"type": "string", "format": "date-time"}
    assert detail["s"] == {"type": "string"}  # one string that is not a date-time: no format
    draft4 = only(infer(events)).jsonschema()["definitions"]["OrderPlaced"]["properties"]
    assert draft4["ship"] == {"oneOf": [{"$ref": "#/definitions/Ship"}, {"type": "null"}]}


def test_bad_events_are_refused():
    with pytest.raises(ValueError, match="'source' and a 'detail-type'"):
        infer([{"detail": {}}])
    with pytest.raises(TypeError, match="an event is a dict"):
        infer(["not an event"])


# --- versions ------------------------------------------------------------------------------------------
def test_a_producer_adding_a_field_makes_version_2_and_the_version_1_binding_still_reads_it(bindings):
    registry = Registry()
    created = registry.discover(ORDERS)
    assert [(s.version, s.event_count) for s in created] == [(1, 2)]
    assert registry.discover([copy.deepcopy(ORDERS[0])]) == []  # nothing new: same version, one more event
    assert registry.get("com.example.orders", "Order Placed").event_count == 3
    (v2,) = registry.discover([WITH_COUPON])
    v1 = registry.get("com.example.orders", "Order Placed", version=1)
    assert (v1.version, v1.event_count, v2.version, v2.event_count) == (1, 3, 2, 4)
    assert [s.version for s in registry.versions("com.example.orders", "Order Placed")] == [1, 2]
    assert "coupon" not in component(v1)["properties"]
    assert "coupon" in component(v2)["properties"] and "coupon" not in component(v2)["required"]
    assert diff(v1, v2) == {"added": ["coupon: string, optional"], "removed": [], "changed": []}
    assert registry.schemas() == [{
        "schema": "com.example.orders@OrderPlaced", "source": "com.example.orders", "detail-type": "Order Placed",
        "version": 2, "events": 4, "fields": ["coupon", "customer", "lines", "note", "orderId", "total"],
        "optional": ["coupon"]}]

    old, new = bindings(v1, "v1"), bindings(v2, "v2")
    read_by_old = old.AWSEvent.from_dict(WITH_COUPON)  # keys it does not know are ignored, as AWS's are
    assert not hasattr(read_by_old.detail, "coupon")
    assert read_by_old.detail.order_id == "o-3"
    assert read_by_old.to_dict() == {**WITH_COUPON, "detail": {k: v for k, v in WITH_COUPON["detail"].items()
                                                               if k != "coupon"}}
    read_by_new = new.AWSEvent.from_dict(WITH_COUPON)
    assert read_by_new.detail.coupon == "SAVE10" and read_by_new.to_dict() == WITH_COUPON
    assert new.AWSEvent.from_dict(ORDERS[0]).detail.coupon is None  # optional: absent is None...
    assert "coupon" not in new.AWSEvent.from_dict(ORDERS[0]).to_dict()["detail"]  # ...and stays absent


def test_a_version_per_look_at_most_and_the_latest_is_what_infer_gives():
    events = [*ORDERS, WITH_COUPON, order({"orderId": "o-4", "total": 1.5}, 4)]
    key = ("com.example.orders", "Order Placed")
    at_once, one_by_one = Registry(), Registry()
    assert [s.version for s in at_once.discover(events)] == [1]
    made = [s.version for event in events for s in one_by_one.discover([event])]
    assert made == [1, 2, 3, 4]  # each of these events changes the document
    assert at_once.get(*key).openapi() == one_by_one.get(*key).openapi() == infer(events)[key].openapi()
    assert at_once.get(*key).jsonschema() == infer(events)[key].jsonschema()
    assert [s.event_count for s in one_by_one.versions(*key)] == [1, 2, 3, 4]


def test_unknown_schemas_and_versions_are_clear_key_errors():
    registry = Registry()
    registry.discover(ORDERS)
    with pytest.raises(KeyError, match="no schema for source 'x'"):
        registry.get("x", "y")
    with pytest.raises(KeyError, match="versions 1 to 1, not 2"):
        registry.get("com.example.orders", "Order Placed", 2)


# --- bindings ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [EC2, S3, HEALTH, NULL_AND_EMPTY])
def test_bindings_round_trip_aws_samples(name, bindings):
    event = sample(name)
    module = bindings(only(infer([event])))
    parsed = module.AWSEvent.from_dict(event)
    assert parsed.to_dict() == event
    assert module.Marshaller.marshall(module.Marshaller.unmarshall(event, module.AWSEvent)) == event
    assert isinstance(parsed.detail, getattr(module, module.DETAIL_CLASS))


def test_bindings_round_trip_every_event_seen_and_accept_either_type_of_a_union(bindings):
    events = [*ORDERS, WITH_COUPON, order({"orderId": "o-4", "total": 1.5, "note": 7, "lines": [None]}, 4)]
    module = bindings(only(infer(events)))
    for event in events:
        assert module.AWSEvent.from_dict(event).to_dict() == event
    parsed = module.AWSEvent.from_dict(events[3])
    assert (parsed.detail.total, parsed.detail.note, parsed.detail.lines) == (1.5, 7, [None])
    assert module.AWSEvent.from_dict(events[0]).detail.total == 10  # an int in a number field stays an int
    assert isinstance(module.AWSEvent.from_dict(events[1]).detail.lines[1], module.LinesItem)
    wrong = copy.deepcopy(events[0])
    wrong["detail"]["note"] = True  # the union is string, integer or null: not a boolean
    with pytest.raises(module.FieldTypeError, match=r"OrderPlaced: field 'note' \(at detail.note\) should be "
                                                    r"string or integer or null, got boolean True") as error:
        module.AWSEvent.from_dict(wrong)
    assert isinstance(error.value, TypeError) and isinstance(error.value, ValueError)


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(details=st.lists(st.dictionaries(KEYS, JSON, max_size=5), min_size=1, max_size=4))
def test_bindings_round_trip_any_events_they_were_inferred_from(details, bindings):
    events = [order(detail, n) for n, detail in enumerate(details)]
    module = bindings(only(infer(events)), f"random-{next(FOLDERS)}")
    for event in events:
        assert module.AWSEvent.from_dict(event).to_dict() == event


def test_an_event_missing_a_required_field_is_rejected_with_a_clear_error(bindings):
    module = bindings(only(infer(ORDERS)))
    for path, cls in [(("detail", "customer", "tier"), "Customer"), (("detail", "orderId"), "OrderPlaced"),
                      (("detail-type",), "AWSEvent"), (("detail", "lines", 0, "sku"), "LinesItem")]:
        event = copy.deepcopy(ORDERS[0])
        parent = event
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
        where = ".".join(str(p) for p in path).replace(".0.", "[0].")
        with pytest.raises(module.MissingFieldError) as error:
            module.AWSEvent.from_dict(event)
        assert str(error.value) == f"{cls}: required field {path[-1]!r} is missing (expected at {where})"
        assert isinstance(error.value, KeyError) and isinstance(error.value, ValueError)
        assert (error.value.cls, error.value.key, error.value.path) == (cls, path[-1], where)


def test_bindings_are_laid_out_and_named_as_the_registry_does(tmp_path):
    ec2 = generate_bindings(only(infer([sample(EC2)])), tmp_path)
    assert ec2 == tmp_path / "schema" / "aws" / "ec2" / "ec2instancestatechangenotification"
    assert sorted(p.name for p in ec2.iterdir()) == [
        "AWSEvent.py", "EC2InstanceStateChangeNotification.py", "__init__.py", "marshaller.py"]
    assert (tmp_path / "schema" / "__init__.py").exists() and (tmp_path / "schema" / "aws" / "__init__.py").exists()
    text = (ec2 / "EC2InstanceStateChangeNotification.py").read_text()
    assert '    instance_id: str = prop("instance-id")' in text
    assert '    detail_type: str = prop("detail-type")' in (ec2 / "AWSEvent.py").read_text()
    assert '    detail: EC2InstanceStateChangeNotification = prop("detail")' in (ec2 / "AWSEvent.py").read_text()
    custom = generate_bindings(only(infer(ORDERS)), tmp_path)
    assert custom == tmp_path / "schema" / "com_example_orders" / "orderplaced"
    # the registry's package names, as the AWS toolkits compute them
    assert package_name("aws.partner-mongodb.com/1234567-tickets@TicketCreated") == \
        "schema.aws.partner.mongodb_com_1234567_tickets.ticketcreated"
    assert package_name("MyEvent.Special#Characters$etc") == "schema.myevent_special_characters_etc"
    assert detail_name("EC2 Instance State-change Notification") == "EC2InstanceStateChangeNotification"
    assert detail_name("userCreated") == "UserCreated"


def test_the_package_imports_by_its_registry_name(tmp_path, monkeypatch):
    generate_bindings(only(infer([sample(EC2)])), tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = importlib.import_module("schema.aws.ec2.ec2instancestatechangenotification")
        event = module.Marshaller.unmarshall(sample(EC2), module.AWSEvent)  # as AWS's bindings are used
        assert event.detail.state == "terminated"
        assert module.Marshaller.marshall(event) == sample(EC2)
    finally:
        for name in [m for m in sys.modules if m == "schema" or m.startswith("schema.")]:
            del sys.modules[name]


def test_generated_files_are_formatted_python_and_the_same_for_the_same_events(tmp_path):
    events = [*ORDERS, WITH_COUPON]
    first = generate_bindings(only(infer(events)), tmp_path / "a")
    again = generate_bindings(only(infer(copy.deepcopy(events))), tmp_path / "b")
    files = sorted(p.name for p in first.iterdir())
    assert files == sorted(p.name for p in again.iterdir()) == [
        "AWSEvent.py", "Customer.py", "LinesItem.py", "OrderPlaced.py", "__init__.py", "marshaller.py"]
    for name in files:
        text = (first / name).read_text()
        assert (again / name).read_bytes() == (first / name).read_bytes()
        assert text.startswith("# Generated by lambda_lab.schemas from 3 events")
        compile(text, name, "exec")
        lines = text.split("\n")
        assert lines[-1] == "" and lines[-2] != ""
        assert all(len(line) <= 100 and line == line.rstrip() for line in lines), name
    regenerated = generate_bindings(only(infer(events)), tmp_path / "a")
    assert (regenerated / "OrderPlaced.py").read_bytes() == (again / "OrderPlaced.py").read_bytes()


# --- on the lab's bus --------------------------------------------------------------------------------
def test_discovery_on_the_labs_bus(lab, bindings):
    events = lab.client("events")
    events.create_event_bus(Name="orders")
    details = [{"orderId": "o-1", "total": 10}, {"orderId": "o-2", "total": 12, "coupon": "SAVE"}]
    entries = [{"Source": "com.example.orders", "DetailType": "Order Placed", "Detail": json.dumps(d),
                "EventBusName": "orders"} for d in details]
    assert events.put_events(Entries=entries[:1])["FailedEntryCount"] == 0
    assert events.put_events(Entries=[{**entries[0], "EventBusName": "default", "Detail": '{"x": 1}'}])[
        "FailedEntryCount"] == 0
    registry = Registry(bus="orders")
    assert [s.version for s in registry.sync(lab.eventbridge.events)] == [1]
    assert registry.sync(lab.eventbridge.events) == []  # nothing new
    assert events.put_events(Entries=entries[1:])["FailedEntryCount"] == 0
    (v2,) = registry.sync(lab.eventbridge.events)
    assert (v2.version, v2.event_count) == (2, 2)  # the default bus's event is not this registry's
    module = bindings(v2)
    on_the_bus = [event for _, bus, event in lab.eventbridge.events if bus == "orders"]
    for event in on_the_bus:
        assert module.AWSEvent.from_dict(event).to_dict() == event
    assert [module.AWSEvent.from_dict(e).detail.coupon for e in on_the_bus] == [None, "SAVE"]
