"""``to_sam(lab, path)``: what a lab has wired, as a deployable AWS SAM project.

The project is ``template.yaml``, one code folder per function (``functions/<name>/``, see
``lambda_lab.cloud.handlers``) and ``export-report.json`` (what was exported, stubbed, left out).

What is read, and how:

- functions from ``lab.runtime.functions`` and their asynchronous settings from ``lab.async_queue``;
- triggers from the lab's sources (SQS and DynamoDB Streams mappings, SNS subscriptions, S3
  notifications, HTTP and REST APIs) and EventBridge rules and targets from ``lab.client("events")``;
- queues, topics, tables, buckets and buses with public boto3 calls through ``lab.client(...)``;
- each function's IAM policies from its destinations and dead-letter queue, and from the calls its
  handler made through its own boto3 clients (``lab.calls``, ``lambda_lab.cloud.permissions``).

The lab's internals never appear: relay queues (``lambda-lab-*``, ``lambda_lab.delivery.relay``),
the SQS subscriptions of topics to them and the QueueConfigurations of buckets that feed them.
Names that are unique per account and region (queues, topics, tables, functions, buses) are kept,
so handlers that use them by name keep working; bucket names are global, so buckets get names
from CloudFormation (the report says so). Logical ids are derived from names (``orders-dlq`` ->
``OrdersDlqQueue``), so the same lab exports to the same files.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import ConfigurationError
from . import handlers as code
from . import permissions

if TYPE_CHECKING:
    from ..lab import Lab

RUNTIME = "python3.11"
HIDDEN_PREFIX = "lambda-lab-"
ALIAS = "live"
#: SQS's defaults (CreateQueue): attributes equal to them are left out of the template.
SQS_DEFAULTS = {"MessageRetentionPeriod": 345_600, "DelaySeconds": 0, "MaximumMessageSize": 1_048_576,
                "ReceiveMessageWaitTimeSeconds": 0}
DESTINATION_TYPES = {"sqs": "SQS", "sns": "SNS", "lambda": "Lambda", "events": "EventBridge"}


# --------------------------------------------------------------------------- intrinsics


def Ref(logical: str) -> dict[str, Any]:
    return {"Ref": logical}


def GetAtt(logical: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical, attribute]}


def Sub(text: str) -> dict[str, Any]:
    return {"Fn::Sub": text}


class _Dumper(yaml.SafeDumper):
    """Writes ``{"Ref": x}``, ``{"Fn::GetAtt": [a, b]}`` and ``{"Fn::Sub": s}`` as ``!Ref``/``!GetAtt``/``!Sub``."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_dict(dumper: yaml.SafeDumper, data: dict) -> Any:
    if len(data) == 1:
        (key, value), = data.items()
        if key == "Ref" and isinstance(value, str):
            return dumper.represent_scalar("!Ref", value)
        if key == "Fn::GetAtt" and isinstance(value, list) and len(value) == 2:
            return dumper.represent_scalar("!GetAtt", f"{value[0]}.{value[1]}")
        if key == "Fn::Sub" and isinstance(value, str):
            return dumper.represent_scalar("!Sub", value)
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items())


_Dumper.add_representer(dict, _represent_dict)


class Loader(yaml.SafeLoader):
    """Reads a template back: ``!Ref``/``!GetAtt``/``!Sub`` (and other ``!`` tags) as CloudFormation's JSON form."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


Loader.add_multi_constructor("!", _construct_tag)


def load_template(path: str | Path) -> dict[str, Any]:
    """A template.yaml as a dict, intrinsic functions in their JSON form (``{"Ref": ...}``)."""
    return yaml.load(Path(path).read_text(), Loader=Loader)


# --------------------------------------------------------------------------- names


def logical_id(name: str, suffix: str) -> str:
    """``orders-dlq`` + ``Queue`` -> ``OrdersDlqQueue`` (CloudFormation allows letters and digits only)."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", name) if p]
    camel = "".join(p[0].upper() + p[1:] for p in parts) or "Unnamed"
    if camel[0].isdigit():
        camel = "R" + camel
    return (camel + suffix)[:255]


def _listed(call: Any, key: str, token: str = "NextToken", start: str = "NextToken", **kwargs: Any) -> list[Any]:
    """Every item under ``key`` of a List call, page by page (``token`` in the answer is ``start`` in the next call)."""
    items: list[Any] = []
    while True:
        page = call(**kwargs)
        items += page.get(key, [])
        if not page.get(token):
            return items
        kwargs[start] = page[token]


def _number(value: Any) -> Any:
    """An integral float as an int (CloudFormation's integer properties refuse ``30.0``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _arn_parts(arn: str) -> tuple[str, str]:
    """(service, resource name) of an ARN: ``arn:aws:sqs:r:a:orders`` -> (sqs, orders)."""
    parts = arn.split(":")
    service = parts[2] if len(parts) > 2 else ""
    resource = ":".join(parts[5:]) if len(parts) > 5 else arn
    if service == "lambda":
        resource = parts[6] if len(parts) > 6 else resource
    elif service == "events":
        resource = resource.split("/", 1)[-1]
    return service, resource


class _Export:
    """One export in progress: the template's resources and the report's lists."""

    def __init__(self, lab: "Lab"):
        self.lab = lab
        self.resources: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        self.by_arn: dict[str, tuple[str, str]] = {}  # ARN -> (kind, logical id)
        self.left_out: list[str] = []
        self.notes: list[str] = []
        self.queue_senders: dict[str, list[tuple[str, Any]]] = {}  # queue logical id -> [(service, source ARN)]
        self.topic_senders: dict[str, list[tuple[str, Any]]] = {}
        self.bucket_senders: dict[str, list[str]] = {}  # bucket logical id -> queues and topics it notifies

    def add(self, logical: str, resource: dict[str, Any]) -> str:
        base, n = logical, 2
        while logical in self.resources:
            logical, n = f"{base}{n}", n + 1
        self.resources[logical] = resource
        return logical

    # --- references --------------------------------------------------------------
    def arn_of(self, arn: str, why: str) -> Any:
        """The template's expression for ``arn``: a reference when the export holds the resource."""
        if arn in self.by_arn:
            kind, logical = self.by_arn[arn]
            return Ref(logical) if kind == "topic" else GetAtt(logical, "Arn")
        service, name = _arn_parts(arn)
        if service == "events" and name == "default":
            return Sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default")
        self.left_out.append(f"{why}: {arn} is not in the lab, so the template keeps the ARN as it is")
        return arn

    def name_of(self, arn: str) -> Any:
        """The resource's name (for SAM policy templates), as a reference when it is in the export."""
        if arn in self.by_arn:
            kind, logical = self.by_arn[arn]
            return {"queue": GetAtt(logical, "QueueName"), "topic": GetAtt(logical, "TopicName"),
                    "function": Ref(logical), "bus": Ref(logical)}[kind]
        return _arn_parts(arn)[1]

    def _lab_arn(self, service: str, name: str) -> str:
        """The ARN the lab gives a resource a handler named (``lab.calls``)."""
        if service == "s3":
            return f"arn:aws:s3:::{name}"
        resource = {"dynamodb": f"table/{name}", "events": f"event-bus/{name}"}.get(service, name)
        return self.lab.arn(service, resource)

    def resource_name(self, service: str, name: str) -> Any:
        """A policy template's name parameter for a resource a handler used: a reference when exported."""
        kind, logical = self.by_arn.get(self._lab_arn(service, name), (None, None))
        if kind in ("queue", "topic"):
            return GetAtt(logical, "QueueName" if kind == "queue" else "TopicName")
        return Ref(logical) if kind in ("table", "bucket", "bus") else name

    def resource_arn(self, service: str, name: str) -> Any:
        """An inline statement's Resource for a resource a handler used (objects too, for a bucket)."""
        arn = self._lab_arn(service, name)
        if arn in self.by_arn:
            kind, logical = self.by_arn[arn]
            if kind == "bucket":
                return [GetAtt(logical, "Arn"), Sub(f"${{{logical}.Arn}}/*")]
            return Ref(logical) if kind == "topic" else GetAtt(logical, "Arn")
        if service == "s3":
            return [f"arn:${{AWS::Partition}}:s3:::{name}", f"arn:${{AWS::Partition}}:s3:::{name}/*"]
        return Sub(arn.replace("arn:aws:", "arn:${AWS::Partition}:", 1).replace(
            f":{self.lab.region}:", ":${AWS::Region}:", 1).replace(f":{self.lab.account_id}:", ":${AWS::AccountId}:", 1))

    def send_policy(self, arn: str) -> dict[str, Any] | None:
        """The SAM policy template that lets a function send to ``arn``."""
        service = _arn_parts(arn)[0]
        template = {"sqs": ("SQSSendMessagePolicy", "QueueName"), "sns": ("SNSPublishMessagePolicy", "TopicName"),
                    "lambda": ("LambdaInvokePolicy", "FunctionName"),
                    "events": ("EventBridgePutEventsPolicy", "EventBusName")}.get(service)
        if template is None:
            return None
        return {template[0]: {template[1]: self.name_of(arn)}}

    def allow_send(self, arn: str, service: str, source: Any) -> None:
        """Note that ``service`` (s3, sns, events) sends to queue or topic ``arn`` (a resource policy follows)."""
        if arn not in self.by_arn:
            return
        kind, logical = self.by_arn[arn]
        target = self.queue_senders if kind == "queue" else self.topic_senders if kind == "topic" else None
        if target is not None and (service, source) not in target.setdefault(logical, []):
            target[logical].append((service, source))

    # --- resources ---------------------------------------------------------------
    def queues(self) -> None:
        sqs = self.lab.client("sqs")
        urls = sorted(sqs.list_queues().get("QueueUrls", []), key=lambda u: u.rsplit("/", 1)[-1])
        found = []
        for url in urls:
            name = url.rsplit("/", 1)[-1]
            if name.startswith(HIDDEN_PREFIX):
                continue
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            logical = self.add(logical_id(name.removesuffix(".fifo"), "Queue"), {})
            self.by_arn[attrs["QueueArn"]] = ("queue", logical)
            found.append((logical, name, attrs))
        for logical, name, attrs in found:
            props: dict[str, Any] = {"QueueName": name}
            if attrs.get("FifoQueue") == "true":
                props["FifoQueue"] = True
                if attrs.get("ContentBasedDeduplication") == "true":
                    props["ContentBasedDeduplication"] = True
            props["VisibilityTimeout"] = int(attrs.get("VisibilityTimeout", 30))
            for key, default in SQS_DEFAULTS.items():
                if key in attrs and int(attrs[key]) != default:
                    props[key] = int(attrs[key])
            if attrs.get("RedrivePolicy"):
                redrive = json.loads(attrs["RedrivePolicy"])
                props["RedrivePolicy"] = {
                    "deadLetterTargetArn": self.arn_of(redrive["deadLetterTargetArn"], f"queue {name}'s RedrivePolicy"),
                    "maxReceiveCount": int(redrive["maxReceiveCount"])}
            self.resources[logical] = {"Type": "AWS::SQS::Queue", "Properties": props}

    def topics(self) -> list[str]:
        sns = self.lab.client("sns")
        arns = [t["TopicArn"] for t in _listed(sns.list_topics, "Topics")]
        kept = []
        for arn in sorted(arns):
            name = arn.rsplit(":", 1)[-1]
            if name.startswith(HIDDEN_PREFIX):
                continue
            attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
            props: dict[str, Any] = {"TopicName": name}
            if attrs.get("FifoTopic") == "true":
                props["FifoTopic"] = True
                if attrs.get("ContentBasedDeduplication") == "true":
                    props["ContentBasedDeduplication"] = True
            logical = self.add(logical_id(name.removesuffix(".fifo"), "Topic"), {"Type": "AWS::SNS::Topic",
                                                                               "Properties": props})
            self.by_arn[arn] = ("topic", logical)
            kept.append(arn)
        return kept

    def topic_subscriptions(self, topics: list[str]) -> None:
        """Subscriptions of topics to the reader's own queues (the lab's relay subscriptions are skipped)."""
        sns = self.lab.client("sns")
        for arn in topics:
            for sub in sns.list_subscriptions_by_topic(TopicArn=arn).get("Subscriptions", []):
                endpoint, protocol = sub.get("Endpoint", ""), sub.get("Protocol")
                if protocol == "lambda" or HIDDEN_PREFIX in endpoint:
                    continue  # Lambda subscriptions come from the lab's sources
                if protocol != "sqs" or endpoint not in self.by_arn:
                    self.left_out.append(f"subscription of {arn} to {protocol} endpoint {endpoint}")
                    continue
                attrs = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
                props: dict[str, Any] = {"TopicArn": Ref(self.by_arn[arn][1]), "Protocol": "sqs",
                                         "Endpoint": self.arn_of(endpoint, "subscription")}
                if attrs.get("RawMessageDelivery") == "true":
                    props["RawMessageDelivery"] = True
                if attrs.get("FilterPolicy"):
                    props["FilterPolicy"] = json.loads(attrs["FilterPolicy"])
                    props["FilterPolicyScope"] = attrs.get("FilterPolicyScope", "MessageAttributes")
                if attrs.get("RedrivePolicy"):
                    dlq = json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"]
                    props["RedrivePolicy"] = {"deadLetterTargetArn": self.arn_of(dlq, "subscription DLQ")}
                    self.allow_send(dlq, "sns", Ref(self.by_arn[arn][1]))
                queue = self.by_arn[endpoint][1]
                self.add(f"{self.by_arn[arn][1]}To{queue}Subscription",
                         {"Type": "AWS::SNS::Subscription", "Properties": props})
                self.allow_send(endpoint, "sns", Ref(self.by_arn[arn][1]))

    def tables(self) -> None:
        ddb = self.lab.client("dynamodb")
        names = _listed(ddb.list_tables, "TableNames", "LastEvaluatedTableName", "ExclusiveStartTableName")
        for name in sorted(names):
            table = ddb.describe_table(TableName=name)["Table"]
            billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
            props: dict[str, Any] = {
                "TableName": name,
                "AttributeDefinitions": [{"AttributeName": a["AttributeName"], "AttributeType": a["AttributeType"]}
                                         for a in table["AttributeDefinitions"]],
                "KeySchema": [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]}
                              for k in table["KeySchema"]],
                "BillingMode": billing,
            }

            def throughput(desc: dict[str, Any]) -> dict[str, int]:
                t = desc.get("ProvisionedThroughput", {})
                return {"ReadCapacityUnits": int(t.get("ReadCapacityUnits") or 1),
                        "WriteCapacityUnits": int(t.get("WriteCapacityUnits") or 1)}

            if billing == "PROVISIONED":
                props["ProvisionedThroughput"] = throughput(table)
            for key, kind in (("GlobalSecondaryIndexes", "global"), ("LocalSecondaryIndexes", "local")):
                indexes = []
                for index in table.get(key, []):
                    entry = {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"],
                             "Projection": index.get("Projection", {"ProjectionType": "ALL"})}
                    if kind == "global" and billing == "PROVISIONED":
                        entry["ProvisionedThroughput"] = throughput(index)
                    indexes.append(entry)
                if indexes:
                    props[key] = indexes
            stream = table.get("StreamSpecification", {})
            if stream.get("StreamEnabled"):
                props["StreamSpecification"] = {"StreamViewType": stream["StreamViewType"]}
            ttl = ddb.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
            if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
                props["TimeToLiveSpecification"] = {"AttributeName": ttl["AttributeName"], "Enabled": True}
            logical = self.add(logical_id(name, "Table"), {"Type": "AWS::DynamoDB::Table", "Properties": props})
            self.by_arn[table["TableArn"]] = ("table", logical)
            if table.get("LatestStreamArn"):
                self.by_arn[table["LatestStreamArn"]] = ("stream", logical)

    def buckets(self) -> None:
        s3 = self.lab.client("s3")
        for bucket in sorted(b["Name"] for b in s3.list_buckets().get("Buckets", [])):
            if bucket.startswith(HIDDEN_PREFIX):
                continue
            props: dict[str, Any] = {}
            if s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled":
                props["VersioningConfiguration"] = {"Status": "Enabled"}
            resource: dict[str, Any] = {"Type": "AWS::S3::Bucket"}
            logical = self.add(logical_id(bucket, "Bucket"), resource)
            notifications = self._bucket_notifications(s3, bucket, logical)
            if notifications:
                props["NotificationConfiguration"] = notifications
            if props:
                resource["Properties"] = props
            self.by_arn[f"arn:aws:s3:::{bucket}"] = ("bucket", logical)
            self.notes.append(f"bucket {bucket} is {logical}: bucket names are global, so CloudFormation names it "
                              f"(read the name from the stack's resources)")

    def _bucket_notifications(self, s3: Any, bucket: str, logical: str) -> dict[str, Any]:
        """The bucket's own notifications to queues and topics (the lab's relays and Lambda triggers aside)."""
        config = s3.get_bucket_notification_configuration(Bucket=bucket)
        out: dict[str, Any] = {}
        for key, arn_key, target in (("QueueConfigurations", "QueueArn", "Queue"),
                                     ("TopicConfigurations", "TopicArn", "Topic")):
            entries = []
            for conf in config.get(key, []):
                arn = conf[arn_key]
                if HIDDEN_PREFIX in arn:
                    continue
                rules = conf.get("Filter", {}).get("Key", {}).get("FilterRules", [])
                for event in conf["Events"]:  # CloudFormation takes one event per entry
                    entry: dict[str, Any] = {"Event": event, target: self.arn_of(arn, f"bucket {bucket}'s "
                                                                                     f"notification")}
                    if rules:
                        entry["Filter"] = {"S3Key": {"Rules": [{"Name": r["Name"].lower(), "Value": r["Value"]}
                                                               for r in rules]}}
                    entries.append(entry)
                # The bucket's name is CloudFormation's, unknown here: any bucket of this account may send.
                self.allow_send(arn, "s3", Sub("arn:${AWS::Partition}:s3:::*"))
                if arn in self.by_arn:
                    self.bucket_senders.setdefault(logical, []).append(self.by_arn[arn][1])
            if entries:
                out[key] = entries
        return out

    def buses(self) -> None:
        for bus in self._buses():
            if bus["Name"] == "default" or bus["Name"].startswith(HIDDEN_PREFIX):
                continue
            logical = self.add(logical_id(bus["Name"], "Bus"),
                               {"Type": "AWS::Events::EventBus", "Properties": {"Name": bus["Name"]}})
            self.by_arn[bus["Arn"]] = ("bus", logical)

    def _buses(self) -> list[dict[str, Any]]:
        buses = _listed(self.lab.client("events").list_event_buses, "EventBuses")
        return sorted(buses, key=lambda b: (b["Name"] != "default", b["Name"]))

    def resource_policies(self) -> None:
        """Queue and topic policies for what S3, SNS and EventBridge send (notifications, DLQs, targets)."""
        policy_of: dict[str, str] = {}
        for logical, senders in sorted(self.queue_senders.items()):
            statements = [_allow(service, "sqs:SendMessage", GetAtt(logical, "Arn"), source)
                          for service, source in senders]
            policy_of[logical] = self.add(f"{logical}Policy", {"Type": "AWS::SQS::QueuePolicy", "Properties": {
                "Queues": [Ref(logical)], "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}})
        for logical, senders in sorted(self.topic_senders.items()):
            statements = [_allow(service, "sns:Publish", Ref(logical), source) for service, source in senders]
            policy_of[logical] = self.add(f"{logical}Policy", {"Type": "AWS::SNS::TopicPolicy", "Properties": {
                "Topics": [Ref(logical)], "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}})
        for bucket, targets in self.bucket_senders.items():
            # S3 checks that it may send when the notification is put: the policy must exist first.
            self.resources[bucket]["DependsOn"] = sorted({policy_of[t] for t in targets})


def _allow(service: str, action: str, resource: Any, source: Any) -> dict[str, Any]:
    """A resource policy statement letting ``service`` do ``action`` for ``source`` (an ARN pattern)."""
    condition: dict[str, Any] = {"ArnLike": {"aws:SourceArn": source}}
    if service == "s3":  # the source pattern names no account: pin it to this one
        condition["StringEquals"] = {"aws:SourceAccount": Ref("AWS::AccountId")}
    return {"Effect": "Allow", "Principal": {"Service": f"{service}.amazonaws.com"}, "Action": action,
            "Resource": resource, "Condition": condition}


def to_sam(lab: "Lab", path: str | Path, *, stub_unexportable: bool = False, alarms: bool = False) -> Path:
    """Write a deployable AWS SAM project for what ``lab`` has wired into ``path``; return ``path``.

    ``path/template.yaml``, ``path/functions/<name>/`` (each handler's code) and
    ``path/export-report.json``. A handler that cannot be exported as code (a lambda expression,
    a closure, a cell function reading notebook state) is refused with ``ConfigurationError``
    saying how to fix it; ``stub_unexportable=True`` writes a stub for it instead and lists it in
    the report. ``alarms=True`` adds the CloudWatch alarms of ``lambda_lab.cloud.alarms``.
    ``sam build && sam deploy --guided`` in ``path`` deploys it.
    """
    out = Path(path)
    with lab.lock:
        functions = [lab.runtime.functions[name] for name in sorted(lab.runtime.functions)]
        reasons = {fn.name: code.stub_needed(fn.handler) for fn in functions}
        refused = {name: why for name, why in reasons.items() if why}
        if refused and not stub_unexportable:
            lines = "; ".join(f"function {name!r}: {why}" for name, why in refused.items())
            raise ConfigurationError(f"cannot export as code: {lines}. To make it exportable, {code.HOW_TO_FIX}")
        export = _Export(lab)
        export.queues()
        topics = export.topics()
        export.tables()
        export.buckets()
        export.buses()
        fn_ids: dict[str, str] = {}
        for fn in functions:
            fn_ids[fn.name] = export.add(logical_id(fn.name, "Function"), {})
            export.by_arn[fn.arn] = ("function", fn_ids[fn.name])
        export.topic_subscriptions(topics)
        all_events = function_events(export, functions, fn_ids)
        out.mkdir(parents=True, exist_ok=True)
        if (out / "functions").exists():
            shutil.rmtree(out / "functions")
        exported = []
        for fn in functions:
            folder = out / "functions" / fn.name
            done = code.export(fn.name, fn.handler, folder, reason=reasons[fn.name])
            exported.append(done)
            export.resources[fn_ids[fn.name]] = _function_resource(export, fn, done, all_events.get(fn.name, {}))
        export.resource_policies()
    if alarms:
        from .alarms import alarms as recommended  # it reads templates this module writes

        export.resources.update(recommended({"Resources": export.resources}))
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "Exported by lambda_lab.to_sam from a lab's wiring (functions, triggers and resources).",
        "Resources": export.resources,
    }
    if export.outputs:
        template["Outputs"] = export.outputs
    text = yaml.dump(template, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120,
                     allow_unicode=True)
    (out / "template.yaml").write_text(text)
    report = {
        "template": "template.yaml",
        "functions": [{"name": e.function, "handler": e.handler, "code": e.mode,
                       "files": [f"functions/{e.function}/{f}" for f in e.files], "notes": e.notes}
                      for e in exported if e.mode != "stub"],
        "stubs": [{"name": e.function, "reason": e.reason} for e in exported if e.mode == "stub"],
        "resources": {logical: r["Type"] for logical, r in export.resources.items()},
        "left_out": sorted(set(export.left_out)) + [
            "the lab's model of each handler (duration_ms, init_duration_ms, memory_used_mb), of the account "
            "(account_concurrency, environment_idle_s) and its fault injection: AWS measures these, nothing "
            "configures them"],
        "calls": {fn.name: sorted({f"{c.action} {c.resource}" for c in lab.calls.of(fn.name)})
                  for fn in functions if lab.calls.of(fn.name)},
        "notes": export.notes + ["each function's Policies cover its destinations, its dead-letter queue and the AWS "
                                 "calls its handler made in the lab through its own boto3 clients (listed under "
                                 "calls): a call it did not make in the lab needs a policy of its own"],
    }
    (out / "export-report.json").write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    return out


def _function_resource(export: _Export, fn: Any, done: code.Exported, events: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {
        "FunctionName": fn.name,
        "Runtime": RUNTIME,
        "Handler": done.handler,
        "CodeUri": f"functions/{fn.name}/",
        "Timeout": _number(fn.timeout_s),
        "MemorySize": fn.memory_mb,
    }
    if fn.reserved_concurrency is not None:
        props["ReservedConcurrentExecutions"] = fn.reserved_concurrency
    if fn.provisioned_concurrency:
        props["AutoPublishAlias"] = ALIAS
        props["ProvisionedConcurrencyConfig"] = {"ProvisionedConcurrentExecutions": fn.provisioned_concurrency}
    policies: list[Any] = []
    queue = getattr(fn.lab, "_async_queue", None)
    config = queue.configs.get(fn.name) if queue is not None else None
    if config is not None:
        invoke: dict[str, Any] = {"MaximumRetryAttempts": config.maximum_retry_attempts,
                                  "MaximumEventAgeInSeconds": _number(config.maximum_event_age_s)}
        destinations = {}
        for key, arn in (("OnSuccess", config.on_success), ("OnFailure", config.on_failure)):
            if arn:
                service = _arn_parts(arn)[0]
                destinations[key] = {"Type": DESTINATION_TYPES.get(service, service),
                                     "Destination": export.arn_of(arn, f"{fn.name}'s {key} destination")}
                policies.append(export.send_policy(arn))
        if destinations:
            invoke["DestinationConfig"] = destinations
        props["EventInvokeConfig"] = invoke
        if config.dead_letter_arn:
            service = _arn_parts(config.dead_letter_arn)[0]
            props["DeadLetterQueue"] = {"Type": DESTINATION_TYPES.get(service, service),
                                        "TargetArn": export.arn_of(config.dead_letter_arn, f"{fn.name}'s DLQ")}
            policies.append(export.send_policy(config.dead_letter_arn))
        if config.duplicate_rate:
            export.left_out.append(f"{fn.name}: duplicate_rate {config.duplicate_rate} (a lab setting, not AWS's)")
    for event in events.values():
        policies += event.pop("_policies", [])
    policies += permissions.policies(export.lab.calls.of(fn.name), export.resource_name, export.resource_arn)
    unique: list[Any] = []
    for policy in policies:
        if policy is not None and policy not in unique:
            unique.append(policy)
    if unique:
        props["Policies"] = unique
    if events:
        props["Events"] = events
    return {"Type": "AWS::Serverless::Function", "Properties": props}


# --------------------------------------------------------------------------- events


def _filters(patterns: list[dict]) -> dict[str, Any]:
    """FilterCriteria with each pattern as the JSON string AWS stores."""
    return {"Filters": [{"Pattern": json.dumps(p, separators=(",", ":"))} for p in patterns]}


def function_events(export: _Export, functions: list[Any], fn_ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every function's SAM ``Events``, by function name (a ``_policies`` entry per event for the caller)."""
    from ..sources.apigateway import Api
    from ..sources.dynamodb import StreamEventSourceMapping
    from ..sources.s3 import S3Notification
    from ..sources.sns import SnsSubscription
    from ..sources.sqs import SqsEventSourceMapping

    events: dict[str, dict[str, Any]] = {fn.name: {} for fn in functions}

    def put(fn_name: str, base: str, event: dict[str, Any]) -> None:
        if fn_name not in events:
            export.left_out.append(f"a {event['Type']} trigger of {fn_name}, which is no longer a function of the lab")
            return
        mine = events[fn_name]
        name, n = base, 2
        while name in mine:
            name, n = f"{base}{n}", n + 1
        mine[name] = event

    apis = {"http": 0, "rest": 0}
    for source in export.lab.sources:
        if isinstance(source, SqsEventSourceMapping) and not source.stopped:
            queue = export.by_arn.get(source.queue_arn, ("queue", None))[1]
            props: dict[str, Any] = {"Queue": export.arn_of(source.queue_arn, f"{source.fn.name}'s SQS trigger"),
                                     "BatchSize": source.batch_size}
            if source.window_s:
                props["MaximumBatchingWindowInSeconds"] = _number(source.window_s)
            if source.report_batch_item_failures:
                props["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
            if source.maximum_concurrency is not None:
                props["ScalingConfig"] = {"MaximumConcurrency": source.maximum_concurrency}
            if source.filters:
                props["FilterCriteria"] = _filters(source.filters)
            props["Enabled"] = bool(source.enabled)
            put(source.fn.name, f"{queue or 'Queue'}Sqs", {"Type": "SQS", "Properties": props})
        elif isinstance(source, StreamEventSourceMapping) and not source.stopped:
            s = source.settings
            table = export.by_arn.get(source.stream_arn, ("stream", None))[1] or \
                next((logical for arn, (kind, logical) in export.by_arn.items()
                      if kind == "table" and arn.endswith(f"/{source.table}")), None)
            props = {"Stream": GetAtt(table, "StreamArn") if table else source.stream_arn,
                     "StartingPosition": source.starting_position, "BatchSize": s["batch_size"],
                     "MaximumBatchingWindowInSeconds": _number(s["maximum_batching_window_s"]),
                     "BisectBatchOnFunctionError": bool(s["bisect_batch_on_function_error"]),
                     "MaximumRetryAttempts": s["maximum_retry_attempts"],
                     "MaximumRecordAgeInSeconds": s["maximum_record_age_s"],
                     "ParallelizationFactor": s["parallelization_factor"]}
            if s["tumbling_window_s"]:
                props["TumblingWindowInSeconds"] = _number(s["tumbling_window_s"])
            if s["report_batch_item_failures"]:
                props["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
            policies = []
            if s["on_failure"]:
                props["DestinationConfig"] = {"OnFailure": {
                    "Destination": export.arn_of(s["on_failure"], f"{source.fn.name}'s stream on-failure destination")}}
                policies.append(export.send_policy(s["on_failure"]))
            if source.filters:
                props["FilterCriteria"] = _filters(source.filters)
            props["Enabled"] = bool(s["enabled"])
            put(source.fn.name, f"{table or 'Table'}Stream", {"Type": "DynamoDB", "Properties": props,
                                                             "_policies": policies})
        elif isinstance(source, SnsSubscription) and not getattr(source, "_stopped", False):
            topic = export.arn_of(source.topic_arn, f"{source.fn.name}'s SNS subscription")
            props = {"Topic": topic}
            if source.filter_policy is not None:
                props["FilterPolicy"] = source.filter_policy
                props["FilterPolicyScope"] = source.filter_policy_scope
            if source.dead_letter_arn:
                props["RedrivePolicy"] = {"deadLetterTargetArn": export.arn_of(
                    source.dead_letter_arn, f"{source.fn.name}'s SNS subscription DLQ")}
                export.allow_send(source.dead_letter_arn, "sns", topic)
            base = export.by_arn.get(source.topic_arn, ("topic", "Topic"))[1]
            put(source.fn.name, f"{base}Sns", {"Type": "SNS", "Properties": props})
        elif isinstance(source, S3Notification) and not getattr(source, "_stopped", False):
            bucket = export.by_arn.get(f"arn:aws:s3:::{source.bucket}", ("bucket", None))[1]
            if bucket is None:
                export.left_out.append(f"{source.fn.name}'s S3 trigger: bucket {source.bucket} is gone")
                continue
            props = {"Bucket": Ref(bucket), "Events": list(source.events)}
            rules = [{"Name": n, "Value": v} for n, v in (("prefix", source.prefix), ("suffix", source.suffix)) if v]
            if rules:
                props["Filter"] = {"S3Key": {"Rules": rules}}
            put(source.fn.name, f"{bucket}S3", {"Type": "S3", "Properties": props})
            if source.delivery_delay_s != 1.0:
                export.left_out.append(f"{source.fn.name}'s S3 trigger: delivery_delay_s (a lab setting)")
        elif isinstance(source, Api):
            apis[source.kind] += 1
            _api(export, source, apis[source.kind], put)
    _eventbridge(export, functions, fn_ids, put)
    return events


def _api(export: _Export, api: Any, number: int, put: Any) -> None:
    """An explicit HttpApi or Api resource, and one event per route on the function behind it."""
    http = api.kind == "http"
    logical = export.add(f"{'Http' if http else 'Rest'}Api{number}", {})
    props: dict[str, Any] = {}
    throttle = {}
    from .. import limits

    if api.throttle_rate_per_s < limits.APIGW_ACCOUNT_RATE_PER_S or api.throttle_burst < limits.APIGW_ACCOUNT_BURST:
        throttle = {"ThrottlingBurstLimit": int(api.throttle_burst),
                    "ThrottlingRateLimit": _number(api.throttle_rate_per_s)}
    if http:
        if api.stage != "$default":
            props["StageName"] = api.stage
        if throttle:
            props["DefaultRouteSettings"] = throttle
        url = f"https://${{{logical}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/"
        if api.stage != "$default":
            url += f"{api.stage}/"
    else:
        props["StageName"] = api.stage
        props["EndpointConfiguration"] = {"Type": api.endpoint_type}
        if api.binary_media_types:
            props["BinaryMediaTypes"] = [t.replace("/", "~1") for t in api.binary_media_types]
        if throttle:
            props["MethodSettings"] = [{"ResourcePath": "/*", "HttpMethod": "*", **throttle}]
        url = f"https://${{{logical}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{api.stage}/"
    export.resources[logical] = {"Type": "AWS::Serverless::HttpApi" if http else "AWS::Serverless::Api",
                                 "Properties": props}
    export.outputs[f"{logical}Url"] = {"Description": f"invoke URL of the lab's {api.kind.upper()} API {api.id}",
                                       "Value": Sub(url)}
    for route in api.table.routes:
        if http:
            event: dict[str, Any] = {"ApiId": Ref(logical)}
            if not route.is_default:
                event["Path"], event["Method"] = route.path, route.method.lower()
            event["PayloadFormatVersion"] = api.payload_format_version
            event["TimeoutInMillis"] = int(api.timeout_ms)
        else:
            event = {"RestApiId": Ref(logical), "Path": route.path, "Method": route.method.lower(),
                     "TimeoutInMillis": int(api.timeout_ms)}
        words = "Default" if route.is_default else logical_id(f"{route.method} {route.path}", "")
        put(route.fn.name, f"{logical}{words}", {"Type": "HttpApi" if http else "Api", "Properties": event})


def _eventbridge(export: _Export, functions: list[Any], fn_ids: dict[str, str], put: Any) -> None:
    """EventBridgeRule / Schedule events for Lambda targets; AWS::Events::Rule for queue and topic targets."""
    client = export.lab.client("events")
    by_fn_arn = {fn.arn: fn for fn in functions}
    for bus in export._buses():
        bus_name = bus["Name"]
        if bus_name.startswith(HIDDEN_PREFIX):
            continue
        rules = _listed(client.list_rules, "Rules", EventBusName=bus_name)
        for rule in sorted(rules, key=lambda r: r["Name"]):
            if rule["Name"].startswith(HIDDEN_PREFIX) or rule.get("ManagedBy"):
                continue
            targets = client.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus_name).get("Targets", [])
            others = []
            for target in sorted(targets, key=lambda t: t["Id"]):
                arn = target["Arn"]
                if HIDDEN_PREFIX in arn:
                    continue
                fn_arn = ":".join(arn.split(":")[:7])
                if fn_arn not in by_fn_arn:
                    others.append(target)
                    continue
                fn = by_fn_arn[fn_arn]
                _rule_event(export, rule, bus_name, target, fn, put)
            if others:
                _plain_rule(export, rule, bus_name, others)
                if len(others) < len(targets):
                    export.notes.append(f"rule {rule['Name']} on bus {bus_name} is two rules in the template: its "
                                        f"Lambda targets are events of their functions (SAM makes a rule for each), "
                                        f"its other targets stay on an AWS::Events::Rule")


def _target_settings(export: _Export, rule_name: str, target: dict[str, Any], source: Any) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key in ("Input", "InputPath"):
        if target.get(key) is not None:
            props[key] = target[key]
    if target.get("InputTransformer"):
        transformer = {"InputTemplate": target["InputTransformer"]["InputTemplate"]}
        if target["InputTransformer"].get("InputPathsMap"):
            transformer = {"InputPathsMap": target["InputTransformer"]["InputPathsMap"], **transformer}
        props["InputTransformer"] = transformer
    if target.get("RetryPolicy"):
        props["RetryPolicy"] = {k: v for k, v in target["RetryPolicy"].items()
                                if k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds")}
    dlq = target.get("DeadLetterConfig", {}).get("Arn")
    if dlq:
        props["DeadLetterConfig"] = {"Arn": export.arn_of(dlq, f"rule {rule_name}'s target DLQ")}
        export.allow_send(dlq, "events", source)
    return props


def _rule_event(export: _Export, rule: dict[str, Any], bus: str, target: dict[str, Any], fn: Any, put: Any) -> None:
    base = logical_id(rule["Name"], "")
    # SAM names the rule it makes after the stack: any rule of this account and region may send.
    settings = _target_settings(export, rule["Name"], target, Sub(
        "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/*"))
    if rule.get("ScheduleExpression"):
        props: dict[str, Any] = {"Schedule": rule["ScheduleExpression"], "Enabled": rule.get("State") == "ENABLED"}
        if rule.get("Description"):
            props["Description"] = rule["Description"]
        for key in ("InputPath", "InputTransformer"):
            if settings.pop(key, None) is not None:
                export.left_out.append(f"rule {rule['Name']}: a Schedule event has no {key} in SAM")
        props.update(settings)
        put(fn.name, f"{base}Schedule", {"Type": "Schedule", "Properties": props})
        return
    props = {"Pattern": json.loads(rule["EventPattern"])}
    if bus != "default":
        props["EventBusName"] = export.name_of(_bus_arn(export, bus))
    props.update(settings)
    if rule.get("State") != "ENABLED":
        props["State"] = rule.get("State", "DISABLED")
    put(fn.name, f"{base}Rule", {"Type": "EventBridgeRule", "Properties": props})


def _bus_arn(export: _Export, bus: str) -> str:
    for arn, (kind, logical) in export.by_arn.items():
        if kind == "bus" and arn.endswith(f"event-bus/{bus}"):
            return arn
    return export.lab.arn("events", f"event-bus/{bus}")


def _plain_rule(export: _Export, rule: dict[str, Any], bus: str, targets: list[dict[str, Any]]) -> None:
    """A rule whose targets are queues or topics (its Lambda targets are events on their functions)."""
    logical = logical_id(rule["Name"] + ("" if bus == "default" else f"-{bus}"), "Rule")
    logical = export.add(logical, {})
    props: dict[str, Any] = {"Name": rule["Name"], "State": rule.get("State", "ENABLED")}
    if bus != "default":
        props["EventBusName"] = export.name_of(_bus_arn(export, bus))
    if rule.get("EventPattern"):
        props["EventPattern"] = json.loads(rule["EventPattern"])
    if rule.get("ScheduleExpression"):
        props["ScheduleExpression"] = rule["ScheduleExpression"]
    entries = []
    for target in targets:
        entry = {"Id": target["Id"], "Arn": export.arn_of(target["Arn"], f"rule {rule['Name']}'s target"),
                 **_target_settings(export, rule["Name"], target, GetAtt(logical, "Arn"))}
        if _arn_parts(target["Arn"])[0] == "sqs" and target["Arn"].endswith(".fifo"):
            if target.get("SqsParameters"):
                entry["SqsParameters"] = target["SqsParameters"]
        export.allow_send(target["Arn"], "events", GetAtt(logical, "Arn"))
        entries.append(entry)
    props["Targets"] = entries
    export.resources[logical] = {"Type": "AWS::Events::Rule", "Properties": props}
