"""``review(path_or_template)``: the workbook's production checklist, run against an exported SAM template.

It reads the template only (a project folder, its ``template.yaml`` or a template already loaded
with ``load_template``): no AWS call, no lab. One row per (resource, check) that applies:

1. SQS event: the queue's VisibilityTimeout (30 s if absent) >= 6 x the function's Timeout (3 s if
   absent) + MaximumBatchingWindowInSeconds (0 if absent) (``SQS_CONFIGURE_URL``).
2. SQS event: the source queue has a RedrivePolicy (a dead-letter queue) with maxReceiveCount >= 5
   (``SQS_ERRORS_URL``).
3. SQS and DynamoDB events: FunctionResponseTypes contains ReportBatchItemFailures
   (``SQS_ERRORS_URL``, ``DDB_BATCH_FAILURES_URL``).
4. DynamoDB event: bounded retries, MaximumRetryAttempts 0-10,000 or MaximumRecordAgeInSeconds
   60-604,800 (``DDB_ERRORS_URL``).
5. DynamoDB event: BisectBatchOnFunctionError true (``DDB_ERRORS_URL``).
6. DynamoDB event: DestinationConfig.OnFailure.Destination set (``DDB_ERRORS_URL``).
7. A function with an asynchronous source (S3, SNS, EventBridgeRule or Schedule event): an
   on-failure destination (EventInvokeConfig) or a DeadLetterQueue; one row per function,
   source ``async`` (``ASYNC_URL``).
8. EventBridgeRule and Schedule events, and each target of an AWS::Events::Rule: DeadLetterConfig
   set (``EVENTBRIDGE_DLQ_URL``).
9. SNS event: a RedrivePolicy on the subscription (``SNS_DLQ_URL``).
10. HttpApi and Api events: the function's Timeout x 1000 <= the event's TimeoutInMillis (30,000
    for HttpApi, 29,000 for Api if absent) (``HTTP_API_QUOTAS_URL``, ``REST_API_QUOTAS_URL``).

Rows come in template order: each function's events in order, each event's checks in the order
above, then the function's ``async`` row; each AWS::Events::Rule's targets in order. A check that
cannot be decided from the template (an SQS event on a queue that is not in it, a value that is
an intrinsic function) has no row: it is listed in ``frame.attrs["not_checked"]``.
``frame.attrs["summary"]`` reads like ``"12 checks: 9 ok, 3 to fix"``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from .sam import load_template

SQS_CONFIGURE_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html"
SQS_ERRORS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html"
DDB_BATCH_FAILURES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html"
DDB_ERRORS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html"
ASYNC_URL = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html"
EVENTBRIDGE_DLQ_URL = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html"
SNS_DLQ_URL = "https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html"
HTTP_API_QUOTAS_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html"
REST_API_QUOTAS_URL = ("https://docs.aws.amazon.com/apigateway/latest/developerguide/"
                       "api-gateway-execution-service-limits-table.html")

COLUMNS = ["source", "resource", "check", "has", "should", "ok", "source_url"]
FUNCTION_TIMEOUT_DEFAULT_S = 3
VISIBILITY_TIMEOUT_DEFAULT_S = 30
# SQS_CONFIGURE_URL: "We recommend setting your queue visibility timeout to six times your function
# timeout, plus the value of MaximumBatchingWindowInSeconds."
VISIBILITY_FACTOR = 6
# SQS_ERRORS_URL: "set the maxReceiveCount on the source queue's redrive policy to at least 5".
MAX_RECEIVE_COUNT_MIN = 5
RETRY_ATTEMPTS_RANGE = (0, 10_000)
RECORD_AGE_RANGE_S = (60, 604_800)
API_TIMEOUT_DEFAULT_MS = {"HttpApi": 30_000, "Api": 29_000}
API_URLS = {"HttpApi": HTTP_API_QUOTAS_URL, "Api": REST_API_QUOTAS_URL}
ASYNC_EVENT_TYPES = ("S3", "SNS", "EventBridgeRule", "Schedule")

Row = dict[str, Any]


@dataclass
class _Function:
    """A function being reviewed: its merged properties and where undecidable checks are noted."""

    logical: str
    props: dict[str, Any]
    resources: dict[str, Any]
    not_checked: list[str]

    @property
    def timeout_s(self) -> float | None:
        return _number(self.props.get("Timeout"), FUNCTION_TIMEOUT_DEFAULT_S)

    def skip(self, resource: str, check: str, why: str) -> None:
        self.not_checked.append(f"{resource}: {check} ({why})")


# --------------------------------------------------------------------------- entry point


def review(path_or_template: str | Path | dict[str, Any]) -> pd.DataFrame:
    """The production checklist for a SAM template: one row per (resource, check), see the module doc."""
    template = read_template(path_or_template)
    resources = template.get("Resources") or {}
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    rows: list[Row] = []
    not_checked: list[str] = []
    for logical, resource in resources.items():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function":
            fn = _Function(logical, _merged(globals_fn, props), resources, not_checked)
            rows += _function_rows(fn)
        elif resource.get("Type") == "AWS::Events::Rule":
            rows += _rule_resource_rows(logical, props)
    frame = pd.DataFrame(rows, columns=COLUMNS).astype({"ok": bool})
    frame.attrs["not_checked"] = not_checked
    frame.attrs["summary"] = _summary(frame, not_checked)
    return frame


def read_template(path_or_template: str | Path | dict[str, Any]) -> dict[str, Any]:
    """A template from a project folder, its template.yaml, or as already loaded (a dict)."""
    if isinstance(path_or_template, dict):
        return path_or_template
    path = Path(path_or_template)
    return load_template(path / "template.yaml" if path.is_dir() else path)


def _merged(base: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """SAM's Globals under a function's properties (maps merge, other values are replaced)."""
    out = dict(base)
    for key, value in props.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            value = _merged(out[key], value)
        out[key] = value
    return out


def _summary(frame: pd.DataFrame, not_checked: list[str]) -> str:
    ok = int(frame["ok"].sum())
    text = f"{len(frame)} check{'' if len(frame) == 1 else 's'}: {ok} ok, {len(frame) - ok} to fix"
    return text + (f"; {len(not_checked)} not checked" if not_checked else "")


# --------------------------------------------------------------------------- helpers


def _row(source: str, resource: str, check: str, has: str, should: str, ok: bool, url: str) -> Row:
    return {"source": source, "resource": resource, "check": check, "has": has, "should": should,
            "ok": bool(ok), "source_url": url}


def _number(value: Any, default: float | None = None) -> float | None:
    """A number from a template value (``default`` if absent, None if it is an intrinsic function)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(value: float) -> str:
    return f"{value:g}" if value != int(value) else f"{int(value):,}"


def _name(value: Any) -> str:
    """A reference as the template reader sees it: the logical id of a Ref/GetAtt, else the value."""
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), = value.items()
        if key == "Ref":
            return str(inner)
        if key == "Fn::GetAtt":
            return str(inner[0] if isinstance(inner, list) else inner.split(".", 1)[0])
        if key == "Fn::Sub":
            return str(inner if isinstance(inner, str) else inner[0])
    return str(value)


def resource_of(value: Any, resources: dict[str, Any], kind: str) -> str | None:
    """The logical id a Ref/GetAtt points to when it is a resource of type ``kind`` in the template."""
    if not (isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt")):
        return None
    logical = _name(value)
    return logical if (resources.get(logical) or {}).get("Type") == kind else None


# --------------------------------------------------------------------------- functions


def _function_rows(fn: _Function) -> list[Row]:
    events = fn.props.get("Events") or {}
    rows: list[Row] = []
    for name, event in events.items():
        checks = EVENT_CHECKS.get(event.get("Type"))
        if checks:
            rows += checks(fn, f"{fn.logical}/{name}", event.get("Properties") or {})
    if any(e.get("Type") in ASYNC_EVENT_TYPES for e in events.values()):
        rows.append(_async_row(fn))
    return rows


def _sqs_rows(fn: _Function, resource: str, props: dict[str, Any]) -> list[Row]:
    queue = resource_of(props.get("Queue"), fn.resources, "AWS::SQS::Queue")
    rows: list[Row] = []
    if queue is None:
        why = f"queue {_name(props.get('Queue'))} is not in this template"
        fn.skip(resource, "visibility timeout", why)
        fn.skip(resource, "redrive policy", why)
    else:
        queue_props = fn.resources[queue].get("Properties") or {}
        visibility = _visibility_row(fn, resource, props, queue, queue_props)
        rows += [visibility] if visibility else []
        rows.append(_redrive_row(resource, queue, queue_props))
    rows.append(_batch_failures_row("sqs", resource, props, SQS_ERRORS_URL))
    return rows


def _visibility_row(fn: _Function, resource: str, props: dict[str, Any], queue: str,
                    queue_props: dict[str, Any]) -> Row | None:
    visibility = _number(queue_props.get("VisibilityTimeout"), VISIBILITY_TIMEOUT_DEFAULT_S)
    window = _number(props.get("MaximumBatchingWindowInSeconds"), 0)
    timeout = fn.timeout_s
    if visibility is None or window is None or timeout is None:
        fn.skip(resource, "visibility timeout", "a value is an intrinsic function")
        return None
    need = VISIBILITY_FACTOR * timeout + window
    should = (f">= {VISIBILITY_FACTOR} x Timeout {_text(timeout)} s + MaximumBatchingWindowInSeconds "
              f"{_text(window)} s = {_text(need)} s")
    return _row("sqs", resource, "visibility timeout", f"{queue} VisibilityTimeout {_text(visibility)} s",
                should, visibility >= need, SQS_CONFIGURE_URL)


def _redrive_row(resource: str, queue: str, queue_props: dict[str, Any]) -> Row:
    redrive = queue_props.get("RedrivePolicy")
    if isinstance(redrive, str):  # CloudFormation also takes the policy as a JSON string
        redrive = json.loads(redrive)
    should = (f"a RedrivePolicy on the source queue (not on the function) with maxReceiveCount "
              f">= {MAX_RECEIVE_COUNT_MIN}")
    if not isinstance(redrive, dict) or not redrive.get("deadLetterTargetArn"):
        return _row("sqs", resource, "redrive policy", f"{queue}: no RedrivePolicy", should, False, SQS_ERRORS_URL)
    count = _number(redrive.get("maxReceiveCount"), 0) or 0
    has = f"{queue}: maxReceiveCount {_text(count)} to {_name(redrive['deadLetterTargetArn'])}"
    return _row("sqs", resource, "redrive policy", has, should, count >= MAX_RECEIVE_COUNT_MIN, SQS_ERRORS_URL)


def _batch_failures_row(source: str, resource: str, props: dict[str, Any], url: str) -> Row:
    types = props.get("FunctionResponseTypes") or []
    has = f"FunctionResponseTypes {', '.join(map(str, types))}" if types else "no FunctionResponseTypes"
    return _row(source, resource, "report batch item failures", has,
                "FunctionResponseTypes contains ReportBatchItemFailures (retry only the failed items)",
                "ReportBatchItemFailures" in types, url)


def _dynamodb_rows(fn: _Function, resource: str, props: dict[str, Any]) -> list[Row]:
    return [_batch_failures_row("dynamodb", resource, props, DDB_BATCH_FAILURES_URL),
            _retries_row(resource, props), _bisect_row(resource, props), _stream_failure_row(resource, props)]


def _retries_row(resource: str, props: dict[str, Any]) -> Row:
    retries = _number(props.get("MaximumRetryAttempts"), -1)
    age = _number(props.get("MaximumRecordAgeInSeconds"), -1)
    bounded = (retries is not None and RETRY_ATTEMPTS_RANGE[0] <= retries <= RETRY_ATTEMPTS_RANGE[1]) or \
        (age is not None and RECORD_AGE_RANGE_S[0] <= age <= RECORD_AGE_RANGE_S[1])
    has = (f"MaximumRetryAttempts {props.get('MaximumRetryAttempts', '-1 (default)')}, "
           f"MaximumRecordAgeInSeconds {props.get('MaximumRecordAgeInSeconds', '-1 (default)')}")
    should = ("MaximumRetryAttempts 0-10,000 or MaximumRecordAgeInSeconds 60-604,800 (-1 retries until the "
              "record expires, 24 h, blocking the shard)")
    return _row("dynamodb", resource, "bounded retries", has, should, bounded, DDB_ERRORS_URL)


def _bisect_row(resource: str, props: dict[str, Any]) -> Row:
    bisect = props.get("BisectBatchOnFunctionError")
    has = f"BisectBatchOnFunctionError {str(bisect).lower()}" if bisect is not None else \
        "BisectBatchOnFunctionError not set (false)"
    return _row("dynamodb", resource, "bisect batch on error", has,
                "BisectBatchOnFunctionError true (split a failing batch to isolate the bad record)",
                bisect is True, DDB_ERRORS_URL)


def _stream_failure_row(resource: str, props: dict[str, Any]) -> Row:
    destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    has = f"OnFailure to {_name(destination)}" if destination else "no OnFailure destination"
    return _row("dynamodb", resource, "on-failure destination", has,
                "DestinationConfig.OnFailure.Destination set (else records skipped after the retries are lost)",
                bool(destination), DDB_ERRORS_URL)


def _async_row(fn: _Function) -> Row:
    on_failure = (((fn.props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {})
                  .get("OnFailure") or {}).get("Destination")
    dlq = (fn.props.get("DeadLetterQueue") or {}).get("TargetArn")
    found = []
    if on_failure:
        found.append(f"OnFailure to {_name(on_failure)}")
    if dlq:
        found.append(f"DeadLetterQueue {_name(dlq)}")
    return _row("async", fn.logical, "on-failure destination or DLQ", "; ".join(found) or "neither",
                "EventInvokeConfig.DestinationConfig.OnFailure or a DeadLetterQueue (else events that fail "
                "every retry are dropped)", bool(found), ASYNC_URL)


def _rule_event_rows(fn: _Function, resource: str, props: dict[str, Any]) -> list[Row]:
    return [_rule_dlq_row(resource, props)]


def _rule_dlq_row(resource: str, target: dict[str, Any]) -> Row:
    dlq = target.get("DeadLetterConfig") or {}
    # SAM's events take {Arn: ...} or {Type: SQS} (SAM creates the queue); a rule's target takes Arn.
    where = dlq.get("Arn") or dlq.get("Type")
    has = f"DeadLetterConfig {_name(where)}" if where else "no DeadLetterConfig"
    return _row("eventbridge", resource, "rule DLQ", has,
                "DeadLetterConfig set (else events EventBridge cannot deliver are dropped after its retries)",
                bool(where), EVENTBRIDGE_DLQ_URL)


def _sns_rows(fn: _Function, resource: str, props: dict[str, Any]) -> list[Row]:
    dlq = (props.get("RedrivePolicy") or {}).get("deadLetterTargetArn")
    has = f"RedrivePolicy to {_name(dlq)}" if dlq else "no RedrivePolicy"
    return [_row("sns", resource, "subscription DLQ", has,
                 "a RedrivePolicy on the subscription (for messages SNS cannot deliver to Lambda)",
                 bool(dlq), SNS_DLQ_URL)]


def _api_rows(fn: _Function, resource: str, props: dict[str, Any], kind: str) -> list[Row]:
    limit = _number(props.get("TimeoutInMillis"), API_TIMEOUT_DEFAULT_MS[kind])
    timeout = fn.timeout_s
    if limit is None or timeout is None:
        fn.skip(resource, "integration timeout", "a value is an intrinsic function")
        return []
    return [_row("apigateway", resource, "integration timeout", f"Timeout {_text(timeout)} s",
                 f"Timeout x 1000 <= TimeoutInMillis {_text(limit)} (else the client gets a 503/504 while the "
                 f"function runs on)", timeout * 1000 <= limit, API_URLS[kind])]


def _rule_resource_rows(logical: str, props: dict[str, Any]) -> list[Row]:
    return [_rule_dlq_row(f"{logical}/{target.get('Id', n)}", target)
            for n, target in enumerate(props.get("Targets") or [])]


EVENT_CHECKS: dict[str, Callable[[_Function, str, dict[str, Any]], list[Row]]] = {
    "SQS": _sqs_rows, "DynamoDB": _dynamodb_rows, "SNS": _sns_rows, "EventBridgeRule": _rule_event_rows,
    "Schedule": _rule_event_rows, "HttpApi": partial(_api_rows, kind="HttpApi"),
    "Api": partial(_api_rows, kind="Api")}
