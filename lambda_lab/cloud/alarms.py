"""``alarms(template)``: the CloudWatch alarms chapter 08 recommends, as resources for a SAM template.

Read from the template only, like ``review``. For each function:

- ``Errors`` and ``Throttles`` (AWS/Lambda, Sum over 5 minutes) at 1 or more;
- with a DynamoDB or Kinesis event: ``IteratorAge`` (Maximum) at :data:`ITERATOR_AGE_MS` or more,
  a shard falling behind or blocked;
- with an asynchronous source (S3, SNS, EventBridgeRule or Schedule event, or an
  ``EventInvokeConfig``): ``AsyncEventsDropped`` at 1 or more;
- with a ``DeadLetterQueue``: ``DeadLetterErrors``; with a destination (``EventInvokeConfig`` or a
  stream event's on-failure destination): ``DestinationDeliveryFailures``; each at 1 or more.

For each queue of the template: a queue an SQS event reads gets ``ApproximateAgeOfOldestMessage``
(AWS/SQS, Maximum) at :data:`OLDEST_MESSAGE_S` or more; a queue anything dead-letters into (a
redrive policy, a function's or a target's DLQ, an on-failure destination) gets
``ApproximateNumberOfMessagesVisible`` at 1 or more: something failed and waits for a look.

The metrics are AWS's (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html,
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html),
the same names ``lab.metrics()`` computes. The thresholds are the lab's starting points, not AWS
numbers: tune them to what your users can wait. The alarms have no actions: add an SNS topic
that pages you as ``AlarmActions``. Missing data (no traffic) is not breaching.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from .review import read_template, resource_of
from .sam import GetAtt, Ref

PERIOD_S = 300
#: The lab's starting points (see the module docstring).
ITERATOR_AGE_MS = 60_000
OLDEST_MESSAGE_S = 300
ASYNC_EVENTS = ("S3", "SNS", "EventBridgeRule", "Schedule")
STREAM_EVENTS = ("DynamoDB", "Kinesis")
QUEUE = "AWS::SQS::Queue"


def _alarm(description: str, namespace: str, metric: str, dimension: str, value: Any, statistic: str,
           threshold: float) -> dict[str, Any]:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": description, "Namespace": namespace, "MetricName": metric,
        "Dimensions": [{"Name": dimension, "Value": value}], "Statistic": statistic, "Period": PERIOD_S,
        "EvaluationPeriods": 1, "Threshold": threshold, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching"}}


def _lambda(logical: str, metric: str, statistic: str, threshold: float, why: str) -> tuple[str, dict[str, Any]]:
    return f"{logical}{metric}Alarm", _alarm(f"{logical}: {why}", "AWS/Lambda", metric, "FunctionName",
                                             Ref(logical), statistic, threshold)


def _function_alarms(logical: str, props: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    events = [e for e in (props.get("Events") or {}).values() if isinstance(e, dict)]
    kinds = {e.get("Type") for e in events}
    yield _lambda(logical, "Errors", "Sum", 1, "the handler failed")
    yield _lambda(logical, "Throttles", "Sum", 1, "invocations were throttled (concurrency)")
    if kinds & set(STREAM_EVENTS):
        yield _lambda(logical, "IteratorAge", "Maximum", ITERATOR_AGE_MS,
                      f"a shard is {ITERATOR_AGE_MS // 1000} s or more behind, or blocked")
    invoke = props.get("EventInvokeConfig") or {}
    if kinds & set(ASYNC_EVENTS) or invoke:
        yield _lambda(logical, "AsyncEventsDropped", "Sum", 1, "asynchronous events were dropped")
    if props.get("DeadLetterQueue"):
        yield _lambda(logical, "DeadLetterErrors", "Sum", 1, "events could not be sent to the dead-letter queue")
    stream_destination = any((e.get("Properties") or {}).get("DestinationConfig") for e in events
                             if e.get("Type") in STREAM_EVENTS)
    if invoke.get("DestinationConfig") or stream_destination:
        yield _lambda(logical, "DestinationDeliveryFailures", "Sum", 1, "records could not be sent to a destination")


def _dead_letter_targets(resources: dict[str, Any]) -> Iterator[Any]:
    """Every value in the template that names where failures go."""
    for resource in resources.values():
        props = resource.get("Properties") or {}
        yield (props.get("RedrivePolicy") or {}).get("deadLetterTargetArn")
        yield (props.get("DeadLetterQueue") or {}).get("TargetArn")
        yield ((props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get("OnFailure", {}).get(
            "Destination")
        for target in props.get("Targets") or []:
            yield (target.get("DeadLetterConfig") or {}).get("Arn")
        for event in (props.get("Events") or {}).values():
            event_props = (event or {}).get("Properties") or {}
            yield ((event_props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
            yield (event_props.get("RedrivePolicy") or {}).get("deadLetterTargetArn")
            yield (event_props.get("DeadLetterConfig") or {}).get("Arn")


def _queue_alarms(resources: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    sources, dead = set(), set()
    for resource in resources.values():
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            if (event or {}).get("Type") == "SQS":
                sources.add(resource_of((event.get("Properties") or {}).get("Queue"), resources, QUEUE))
    for value in _dead_letter_targets(resources):
        dead.add(resource_of(value, resources, QUEUE))
    for logical in resources:
        name = GetAtt(logical, "QueueName")
        if logical in sources:
            yield f"{logical}OldestMessageAlarm", _alarm(
                f"{logical}: a message has waited {OLDEST_MESSAGE_S} s or more", "AWS/SQS",
                "ApproximateAgeOfOldestMessage", "QueueName", name, "Maximum", OLDEST_MESSAGE_S)
        if logical in dead:
            yield f"{logical}MessagesAlarm", _alarm(
                f"{logical}: failed messages are waiting for a look", "AWS/SQS",
                "ApproximateNumberOfMessagesVisible", "QueueName", name, "Maximum", 1)


def alarms(path_or_template: str | Path | dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The alarms for a template's functions and queues: logical id -> ``AWS::CloudWatch::Alarm``."""
    resources = read_template(path_or_template).get("Resources") or {}
    out: dict[str, dict[str, Any]] = {}
    for logical, resource in resources.items():
        if resource.get("Type") == "AWS::Serverless::Function":
            out.update(_function_alarms(logical, resource.get("Properties") or {}))
    out.update(_queue_alarms(resources))
    return {name: alarm for name, alarm in out.items() if name not in resources}
