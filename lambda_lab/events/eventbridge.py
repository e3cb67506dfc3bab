"""EventBridge events, field for field as EventBridge hands them to a target.

Shape: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events.html, checked against
AWS's sample events in tests/data/aws-sample-events/ (the EventBridge, Lambda, S3 and Health
guides' blocks, Powertools' test events; sources in its SOURCES.md). Gotchas a handler meets,
reproduced on purpose:

- ``detail-type`` has a hyphen: ``event["detail-type"]``, never an attribute or a keyword.
- The producer and the consumer see two shapes. ``PutEvents`` takes ``Source``, ``DetailType``
  and ``Detail`` as a JSON *string*
  (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html);
  the target receives ``source``, ``detail-type`` and ``detail`` as an *object*.
- ``time`` is the entry's ``Time`` when the sender gave one (so it can lie in the past), else
  the moment of the call, in whole seconds.
- ``resources`` may be empty; ``detail`` is ``{}`` at least (a scheduled event's is).
- A ``Source`` that starts with ``aws.`` is refused for custom events: only AWS services emit
  those, which is why the lab emits them itself (:func:`service_event`,
  :func:`scheduled_event`) instead of through ``put_events``.
- A bad entry fails alone (``FailedEntryCount``, an ``ErrorCode`` in its slot), but more than 10
  entries, or entries too large together (1 MB now, 256 KB before January 2026), fail the whole
  call with a ``ValidationException``.
- An input transformer quotes a string placed bare in a JSON template and does not escape it
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html): a
  value holding a ``"`` makes the payload invalid JSON.
- Unlike the record-based modules of this package, an EventBridge event has no ``Records`` and
  no ``eventSource``: :func:`is_eventbridge_event` tells one by its envelope.

What the lab does not reproduce: ``replay-name`` (archives and replays), ``TraceHeader``,
partner and cross-account buses, the IAM-driven errors (``AccessDeniedException``,
``NotAuthorizedForDetailTypeException``), the limits PutEvents names without an error to go
with them (JSON nested deeper than 1,100 levels, integers outside 64 bits, a ``DetailType`` over
128 characters), JSONPath wildcards, and the way a CloudWatch Logs target renders a transformed
payload. ``aws.events.event.ingestion-time`` is the event's ``time`` unless the caller passes
the ingestion time. Where AWS documents no answer (the order of PutEvents' checks, the
``DataType`` of the dead-letter attributes, what ``InputPath`` gives for a missing path), the
function says what the lab chose.

Also here: :func:`from_entry` and :func:`check_entry`/:func:`check_batch` (PutEvents),
:func:`target_payload` and :func:`transform` (a target's ``Input``, ``InputPath`` and
``InputTransformer``), :func:`dead_letter_attributes` (a target DLQ message), ``sample_event``
and ``DISPLAY_FIELDS`` like every module of ``events/``.
"""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
import hashlib
import json
import math
import re
import uuid
from typing import Any, Iterable, Mapping

from ..limits import EVENTBRIDGE_EVENT_MAX_BYTES, EVENTBRIDGE_PUT_EVENTS_MAX_ENTRIES

EVENTS_URL = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events.html"
PUT_EVENTS_URL = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html"
PUT_EVENTS_RESULT_URL = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html"
ENTRY_SIZE_URL = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html"
TRANSFORM_URL = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html"
INPUT_TRANSFORMER_URL = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_InputTransformer.html"
TARGET_URL = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html"
DLQ_URL = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html"
HEALTH_SCHEMA_URL = "https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html"
S3_EVENTS_URL = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html"
SCHEDULED_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-cloudwatchevents.html"

# --- Numbers not (yet) in lambda_lab.limits, each with its page -------------------------------
#: ENTRY_SIZE_URL: "If specified, the Time parameter is 14 bytes."
ENTRY_TIME_BYTES = 14
#: ENTRY_SIZE_URL and PUT_EVENTS_URL as archived: 256 KB, the limit before the January 2026
#: increase to 1 MB (``limits.EVENTBRIDGE_EVENT_MAX_BYTES``). For lessons set "before".
EVENT_MAX_BYTES_BEFORE_2026 = 256 * 1024
#: INPUT_TRANSFORMER_URL: InputPathsMap "You can have as many as 100 key-value pairs" (and the
#: botocore model: map ``max`` 100); keys match ``[A-Za-z0-9\_\-]+``, at most 256 characters.
INPUT_PATHS_MAX = 100
INPUT_PATHS_KEY_MAX_CHARS = 256
#: INPUT_TRANSFORMER_URL: InputTemplate "Minimum length of 1. Maximum length of 8192."
INPUT_TEMPLATE_MAX_CHARS = 8_192
#: TARGET_URL: Input "Maximum length of 8192"; InputPath (and each InputPathsMap value)
#: "Maximum length of 256".
TARGET_INPUT_MAX_CHARS = 8_192
INPUT_PATH_MAX_CHARS = 256

VERSION = "0"
#: The keys of a delivered event, in eb-events.html's order (the EC2 and S3 samples keep it).
ENVELOPE_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")
#: The fields a handler author reads in an event (paths into it), printed by ``show_event``.
DISPLAY_FIELDS = ("source", "detail-type", "time", "resources", "detail")
#: Sources only AWS services may use (PutEvents answers NotAuthorizedForSourceException).
RESERVED_SOURCE_PREFIX = "aws."

# --- PutEvents answers --------------------------------------------------------------------------
# Codes: PUT_EVENTS_RESULT_URL. Messages as AWS returns them, quoted from real responses in public
# threads: "Detail is malformed." (github.com/baselime/lambda-node-opentelemetry/pull/1), "Not
# authorized for the source" (github.com/aws-samples/serverless-patterns/pull/3089, the final
# period cut off there), "Total size of the entries in the request is over the limit."
# (github.com/awslabs/aws-service-catalog-puppet/issues/537). The InvalidArgument wording and the
# 10-entry message are moto's and LocalStack's (both written after AWS's answers).
MALFORMED_DETAIL = ("MalformedDetail", "Detail is malformed.")
NOT_AUTHORIZED_FOR_SOURCE = ("NotAuthorizedForSourceException", "Not authorized for the source.")
#: The whole request fails with this when its entries add up to more than the limit.
ENTRIES_TOO_LARGE = ("ValidationException", "Total size of the entries in the request is over the limit.")
#: More than 10 entries. AWS prints the whole list where this says ``[PutEventsRequestEntry]``.
TOO_MANY_ENTRIES = ("ValidationException",
                    "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to "
                    f"satisfy constraint: Member must have length less than or equal to "
                    f"{EVENTBRIDGE_PUT_EVENTS_MAX_ENTRIES}")
NO_ENTRIES = ("ValidationException",
              "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: "
              "Member must have length greater than or equal to 1")


def missing_argument(field: str) -> tuple[str, str]:
    """The answer for an entry without ``Source``, ``DetailType`` or ``Detail``."""
    return "InvalidArgument", f"Parameter {field} is not valid. Reason: {field} is a required argument."


# --- Dead-letter queues (DLQ_URL) ----------------------------------------------------------------
#: The message attributes EventBridge puts on a message in a target's DLQ, in the page's order.
DLQ_ATTRIBUTES = ("RULE_ARN", "TARGET_ARN", "ERROR_CODE", "ERROR_MESSAGE", "EXHAUSTED_RETRY_CONDITION",
                  "RETRY_ATTEMPTS")
#: "The following conditions can be returned".
EXHAUSTED_RETRY_CONDITIONS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds")
#: "a sample of the error codes a DLQ can return" (the page lists one twice; here once).
DLQ_ERROR_CODES = (
    "CONNECTION_FAILURE", "CROSS_ACCOUNT_INGESTION_FAILED", "CROSS_REGION_INGESTION_FAILED", "ERROR_FROM_TARGET",
    "EVENTS_IN_BATCH_REQUEST_REJECTED", "FAILED_TO_ASSUME_ROLE", "INTERNAL_ERROR", "INVALID_JSON",
    "INVALID_PARAMETER", "NO_PERMISSIONS", "NO_RESOURCE", "RESOURCE_ALREADY_EXISTS", "RESOURCE_LIMIT_EXCEEDED",
    "RESOURCE_MODIFICATION_COLLISION", "SDK_CLIENT_ERROR", "THIRD_ACCOUNT_HOP_DETECTED",
    "THIRD_REGION_HOP_DETECTED", "THROTTLING", "TIMEOUT", "TRANSIENT_ASSUME_ROLE", "UNKNOWN",
)

# --- Input transformation (TRANSFORM_URL) --------------------------------------------------------
RULE_ARN_VAR = "aws.events.rule-arn"
RULE_NAME_VAR = "aws.events.rule-name"
INGESTION_TIME_VAR = "aws.events.event.ingestion-time"
#: "The original event payload in JSON format (without the detail field)".
EVENT_VAR = "aws.events.event"
#: "The full original event payload in JSON format (with the detail field)".
EVENT_JSON_VAR = "aws.events.event.json"
#: Predefined variables: "reserved, and you can't create variables with these names".
RESERVED_VARIABLES = (RULE_ARN_VAR, RULE_NAME_VAR, INGESTION_TIME_VAR, EVENT_VAR, EVENT_JSON_VAR)
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_PATHS_KEY = re.compile(r"[A-Za-z0-9_\-]+")
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


class _Json:
    """A value that goes into a template as JSON text wherever it stands (the event variables)."""

    def __init__(self, value: Any):
        self.value = value


# --- Time -----------------------------------------------------------------------------------------
def time_iso(epoch_s: float) -> str:
    """An event's ``time``: ISO 8601 in UTC, whole seconds, ``Z`` (``2024-01-01T00:00:00Z``)."""
    return dt.datetime.fromtimestamp(math.floor(epoch_s), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_s(value: dt.datetime | float | int | str) -> float:
    """Seconds since the epoch of a PutEvents ``Time`` as boto3 takes it (a naive datetime is UTC)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return epoch_s(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def _rfc1123(time: str) -> str:
    """``2023-01-27T09:01:22Z`` -> ``Fri, 27 Jan 2023 09:01:22 GMT`` (how Health writes its times)."""
    return email.utils.format_datetime(dt.datetime.fromtimestamp(epoch_s(time), dt.timezone.utc), usegmt=True)


# --- Events ---------------------------------------------------------------------------------------
def event(*, event_id: str, detail_type: str, source: str, account: str, time: str, region: str,
          resources: Iterable[str], detail: Mapping[str, Any]) -> dict[str, Any]:
    """The event as EventBridge delivers it to a target, keys in eb-events.html's order.

    ``time`` is already text (:func:`time_iso`); ``detail`` is copied, so the caller's dict
    and the delivered event do not share state.
    """
    return {"version": VERSION, "id": event_id, "detail-type": detail_type, "source": source, "account": account,
            "time": time, "region": region, "resources": list(resources), "detail": copy.deepcopy(dict(detail))}


def is_eventbridge_event(value: Any) -> bool:
    """True for a delivered EventBridge event (it has no ``Records`` and no ``eventSource``)."""
    return (isinstance(value, dict) and "Records" not in value
            and all(key in value for key in ("detail-type", "source", "detail")))


def entry_size_bytes(entry: Mapping[str, Any]) -> int:
    """What PutEvents counts for one entry (ENTRY_SIZE_URL): 14 bytes for ``Time`` if given, then
    the UTF-8 bytes of ``Source``, ``DetailType``, ``Detail`` and each of ``Resources``.

    ``EventBusName`` and ``TraceHeader`` do not count. The delivered event is always larger.
    """
    size = ENTRY_TIME_BYTES if entry.get("Time") is not None else 0
    for field in ("Source", "DetailType", "Detail"):
        if entry.get(field) is not None:
            size += len(str(entry[field]).encode("utf-8"))
    for resource in entry.get("Resources") or ():
        if resource is not None:
            size += len(str(resource).encode("utf-8"))
    return size


def check_entry(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """PutEvents' verdict on one entry: ``(ErrorCode, ErrorMessage)`` in its result slot, or None.

    In this order: a missing (or empty) ``Source``, ``DetailType``, ``Detail`` (InvalidArgument);
    a ``Source`` starting with ``aws.`` (NotAuthorizedForSourceException); a ``Detail`` that is
    not a JSON object (MalformedDetail: AWS wants "A valid JSON object", so ``[1]`` or ``"x"``
    fail too). AWS does not document which check comes first; this order is the lab's. Sizes
    are a matter of the whole request: :func:`check_batch`.
    """
    for field in ("Source", "DetailType", "Detail"):
        if not entry.get(field):
            return missing_argument(field)
    if str(entry["Source"]).startswith(RESERVED_SOURCE_PREFIX):
        return NOT_AUTHORIZED_FOR_SOURCE
    try:
        detail = json.loads(entry["Detail"])
    except (TypeError, ValueError):
        return MALFORMED_DETAIL
    if not isinstance(detail, dict):
        return MALFORMED_DETAIL
    return None


def check_batch(entries: Iterable[Mapping[str, Any]], *, max_bytes: int = EVENTBRIDGE_EVENT_MAX_BYTES
                ) -> tuple[str, str] | None:
    """PutEvents' verdict on the whole request: ``(code, message)`` of the exception, or None.

    More than 10 entries, or entries whose sizes (:func:`entry_size_bytes`) add up to more than
    ``max_bytes``, fail the call before any entry is looked at; AWS answers the second with
    "Total size of the entries in the request is over the limit.". ``max_bytes`` is 1 MB now
    (``limits.EVENTBRIDGE_EVENT_MAX_BYTES``), 256 KB before January 2026
    (:data:`EVENT_MAX_BYTES_BEFORE_2026`). An empty list boto3 refuses before sending.
    """
    entries = list(entries)
    if not entries:
        return NO_ENTRIES
    if len(entries) > EVENTBRIDGE_PUT_EVENTS_MAX_ENTRIES:
        return TOO_MANY_ENTRIES
    if sum(entry_size_bytes(entry) for entry in entries) > max_bytes:
        return ENTRIES_TOO_LARGE
    return None


def from_entry(entry: Mapping[str, Any], *, event_id: str, account: str, region: str, now_s: float
               ) -> dict[str, Any]:
    """The event EventBridge delivers for one accepted PutEvents entry (boto3's parameters).

    ``Time`` (a datetime, epoch seconds or ISO text) becomes ``time``; without it, ``now_s``
    (the call's moment on the lab's clock). ``Resources`` defaults to ``[]``; ``Detail`` is
    parsed; ``EventBusName`` only chooses the bus. Raises ValueError for an entry
    :func:`check_entry` refuses.
    """
    verdict = check_entry(entry)
    if verdict is not None:
        raise ValueError(f"{verdict[0]}: {verdict[1]}")
    when = entry.get("Time")
    return event(event_id=event_id, detail_type=entry["DetailType"], source=entry["Source"], account=account,
                 time=time_iso(now_s if when is None else epoch_s(when)), region=region,
                 resources=entry.get("Resources") or [], detail=json.loads(entry["Detail"]))


# --- Events AWS services emit ---------------------------------------------------------------------
#: kind -> (source, detail-type) of the AWS service events the lab emits onto the default bus.
SERVICE_EVENTS = {
    "health": ("aws.health", "AWS Health Event"),
    "ec2-state-change": ("aws.ec2", "EC2 Instance State-change Notification"),
    "s3-object-created": ("aws.s3", "Object Created"),
}


def _hex(seed: str, digits: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:digits]


def _health(*, event_id: str, account: str, region: str, time: str, service: str = "EC2",
            event_type_code: str | None = None, event_type_category: str = "issue", scope: str = "PUBLIC",
            status_code: str = "open", description: str = "A description of the event will be provided here",
            affected_entities: Iterable[str] = (), start_time: str | None = None, end_time: str | None = None,
            ) -> tuple[list[str], dict[str, Any]]:
    """HEALTH_SCHEMA_URL, sample "Public Health Event - Amazon EC2 operational issue"."""
    code = event_type_code or f"AWS_{service}_OPERATIONAL_ISSUE"
    entities = list(affected_entities)
    detail = {
        "eventArn": f"arn:aws:health:{region}::event/{service}/{code}/{code}_{event_id}",
        "service": service,
        "eventTypeCode": code,
        "eventTypeCategory": event_type_category,
        "eventScopeCode": scope,
        "communicationId": f"{_hex(event_id, 40)}-1",
        "startTime": _rfc1123(start_time or time),
        "endTime": _rfc1123(end_time or time),
        "lastUpdatedTime": _rfc1123(time),
        "statusCode": status_code,
        "eventRegion": region,
        "eventDescription": [{"language": "en_US", "latestDescription": description}],
        "affectedEntities": [{"entityValue": entity} for entity in entities],
        "page": "1",
        "totalPages": "1",
        "backupEvent": "false",
        "affectedAccount": account,
        "personas": ["OPERATIONS"],
    }
    return entities, detail


def _ec2_state_change(*, event_id: str, account: str, region: str, time: str, instance_id: str, state: str
                      ) -> tuple[list[str], dict[str, Any]]:
    """EVENTS_URL's sample (its stray space before the instance id is not reproduced)."""
    return [f"arn:aws:ec2:{region}:{account}:instance/{instance_id}"], {"instance-id": instance_id, "state": state}


def _s3_object_created(*, event_id: str, account: str, region: str, time: str, bucket: str, key: str, size: int,
                       etag: str | None = None, version_id: str | None = None, sequencer: str | None = None,
                       request_id: str | None = None, requester: str | None = None,
                       source_ip_address: str = "127.0.0.1", reason: str = "PutObject",
                       ) -> tuple[list[str], dict[str, Any]]:
    """S3_EVENTS_URL's "Object Created" sample; ``version-id`` only for a versioned bucket, as in
    Powertools' sample of an unversioned one. The key is passed as given: the page does not say
    that this path URL-encodes it, as S3 notifications do."""
    obj: dict[str, Any] = {"key": key, "size": int(size), "etag": (etag or _hex(f"{event_id}/etag", 32)).strip('"')}
    if version_id:
        obj["version-id"] = version_id
    obj["sequencer"] = sequencer or _hex(f"{event_id}/sequencer", 16).upper()
    detail = {"version": "0", "bucket": {"name": bucket}, "object": obj,
              "request-id": request_id or _hex(f"{event_id}/request", 16).upper(),
              "requester": requester or account, "source-ip-address": source_ip_address, "reason": reason}
    return [f"arn:aws:s3:::{bucket}"], detail


_SERVICE_BUILDERS = {"health": _health, "ec2-state-change": _ec2_state_change, "s3-object-created": _s3_object_created}


def service_event(kind: str, *, event_id: str, account: str, region: str, time: str, **fields: Any) -> dict[str, Any]:
    """An event an AWS service puts on the default bus, built on AWS's documented sample.

    ``kind`` and its fields (the rest take the sample's values, ids derived from ``event_id``):

    - ``"health"`` (``aws.health`` / ``AWS Health Event``, HEALTH_SCHEMA_URL): ``service``
      (``EC2``), ``event_type_code`` (``AWS_<service>_OPERATIONAL_ISSUE``),
      ``event_type_category`` (``issue``), ``scope`` (``PUBLIC`` or ``ACCOUNT_SPECIFIC``),
      ``status_code`` (``open``), ``description``, ``affected_entities`` (ids, also the
      event's ``resources``), ``start_time``/``end_time`` (ISO; default ``time``). Health's own
      times are RFC 1123 text (``Fri, 27 Jan 2023 06:02:51 GMT``), not ISO 8601.
    - ``"ec2-state-change"`` (``aws.ec2``, EVENTS_URL): ``instance_id``, ``state``.
    - ``"s3-object-created"`` (``aws.s3`` / ``Object Created``, S3_EVENTS_URL): ``bucket``,
      ``key``, ``size``; optional ``etag``, ``version_id``, ``sequencer``, ``request_id``,
      ``requester`` (the account), ``source_ip_address``, ``reason`` (``PutObject``).
    """
    builder = _SERVICE_BUILDERS.get(kind)
    if builder is None:
        raise ValueError(f"unknown service event {kind!r}; the lab emits {sorted(SERVICE_EVENTS)}")
    resources, detail = builder(event_id=event_id, account=account, region=region, time=time, **fields)
    source, detail_type = SERVICE_EVENTS[kind]
    return event(event_id=event_id, detail_type=detail_type, source=source, account=account, time=time,
                 region=region, resources=resources, detail=detail)


def scheduled_event(*, event_id: str, account: str, region: str, time: str, rule_arn: str) -> dict[str, Any]:
    """What a schedule rule (``rate(...)``, ``cron(...)``) sends: ``aws.events`` / ``Scheduled
    Event``, the rule's ARN as the only resource, ``detail`` ``{}`` (SCHEDULED_URL's sample; its
    keys are listed there in another order, which JSON does not keep)."""
    return event(event_id=event_id, detail_type="Scheduled Event", source="aws.events", account=account,
                 time=time, region=region, resources=[rule_arn], detail={})


# --- What a target receives ------------------------------------------------------------------------
def _lookup(value: Any, path: str) -> tuple[bool, Any]:
    """Follow a JSONPath of the subset EventBridge documents (``$``, ``$.a.b-c``, ``$.a[0].b``)."""
    path = path.strip()
    if not path.startswith("$"):
        raise ValueError(f"a JSON path starts with '$': {path!r}")
    position = 1
    while position < len(path):
        step = _PATH_STEP.match(path, position)
        if step is None:
            raise ValueError(f"unsupported JSON path {path!r} at {path[position:]!r}")
        name, index = step.groups()
        if name is not None:
            if not isinstance(value, dict) or name not in value:
                return False, None
            value = value[name]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return False, None
            value = value[int(index)]
        position = step.end()
    return True, value


def apply_input_path(event: Any, path: str) -> Any:
    """The part of ``event`` a target's ``InputPath`` selects (``$`` is the whole event).

    A path that leads nowhere gives None (delivered as ``null``): AWS does not document this
    case, so that is the lab's choice.
    """
    return _lookup(event, path)[1]


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _render(value: Any, *, json_template: bool, in_string: bool) -> str:
    """One placeholder's text. Strings: as they are inside quotes or in a plain-text template,
    wrapped in quotes (not escaped) where a JSON template has them bare. Anything else: JSON."""
    if value is _MISSING:
        value = ""
    if isinstance(value, _Json):
        return _compact(value.value)
    if isinstance(value, str):
        return f'"{value}"' if json_template and not in_string else value
    return _compact(value)


def _variables(event: Mapping[str, Any], input_paths_map: Mapping[str, str] | None, *, rule_arn: str,
               rule_name: str, ingestion_time: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, path in (input_paths_map or {}).items():
        try:
            found, value = _lookup(event, path)
        except ValueError:  # PutTargets does not check paths; one the lab cannot follow matches nothing
            found, value = False, None
        values[name] = value if found else _MISSING
    values[RULE_ARN_VAR] = rule_arn
    values[RULE_NAME_VAR] = rule_name
    values[INGESTION_TIME_VAR] = ingestion_time if ingestion_time is not None else event.get("time", "")
    values[EVENT_VAR] = _Json({key: value for key, value in event.items() if key != "detail"})
    values[EVENT_JSON_VAR] = _Json(event)
    return values


def is_json_template(template: str) -> bool:
    """Is the template JSON (an object, an array or a string), or plain text?"""
    return template.lstrip()[:1] in ("{", "[", '"')


def transform(event: Mapping[str, Any], input_paths_map: Mapping[str, str] | None, input_template: str, *,
              rule_arn: str = "", rule_name: str = "", ingestion_time: str | None = None) -> str:
    """The text an ``InputTransformer`` makes of ``event`` (TRANSFORM_URL), before minifying.

    Each ``<name>`` of ``input_paths_map`` or of the predefined variables is replaced:

    - in a JSON template, a string value placed bare gets quotes (``<instance>`` ->
      ``"i-0123456789"``) and one inside a JSON string goes in as it is; neither is escaped,
      as AWS documents ("EventBridge doesn't escape values extracted by Input Path");
    - numbers, booleans, null, objects and arrays go in as JSON text, wherever they stand;
    - ``<aws.events.event>`` (the event without ``detail``) and ``<aws.events.event.json>``
      (the whole event) go in as JSON objects: use them as a field's value;
    - ``<aws.events.rule-arn>``, ``<aws.events.rule-name>`` and
      ``<aws.events.event.ingestion-time>`` (the event's ``time`` unless given) are strings;
    - a path that matches nothing gives an empty string: ``""`` bare, nothing inside quotes
      (AWS: "that variable isn't created"; what a target then receives was recorded against
      AWS by LocalStack's tests for the quoted case).

    A template that is not JSON (``<instance> is in state <status>``, API_InputTransformer's
    first example) is plain text: values go in as they are. Placeholders that name no variable
    are left as written (PutTargets refuses them: :func:`check_transformer`).
    """
    values = _variables(event, input_paths_map, rule_arn=rule_arn, rule_name=rule_name,
                        ingestion_time=ingestion_time)
    json_template = is_json_template(input_template)
    out: list[str] = []
    in_string = False
    i, n = 0, len(input_template)
    while i < n:
        ch = input_template[i]
        if json_template and in_string and ch == "\\":
            out.append(input_template[i:i + 2])
            i += 2
            continue
        if json_template and ch == '"':
            in_string = not in_string
        elif ch == "<":
            match = _PLACEHOLDER.match(input_template, i)
            if match and match.group(1) in values:
                out.append(_render(values[match.group(1)], json_template=json_template, in_string=in_string))
                i = match.end()
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _minified(text: str) -> str:
    """JSON text minified, as EventBridge passes it on; text that is not JSON as it is."""
    try:
        return _compact(json.loads(text))
    except ValueError:
        return text


def target_body(event: Mapping[str, Any], target: Mapping[str, Any], *, rule_arn: str, rule_name: str,
                ingestion_time: str | None = None) -> str:
    """The text a target receives for ``event`` (an SQS message body, an SNS message, Lambda's
    payload), from the target's ``Input`` (constant JSON, passed as written), ``InputPath``,
    ``InputTransformer`` or, without any, the event itself. JSON is minified."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath") is not None:
        return _compact(apply_input_path(event, target["InputPath"]))
    transformer = target.get("InputTransformer")
    if transformer is not None:
        return _minified(transform(event, transformer.get("InputPathsMap"), transformer["InputTemplate"],
                                   rule_arn=rule_arn, rule_name=rule_name, ingestion_time=ingestion_time))
    return _compact(event)


def target_payload(event: Mapping[str, Any], target: Mapping[str, Any], *, rule_arn: str, rule_name: str,
                   ingestion_time: str | None = None) -> Any:
    """What a Lambda target's handler receives: :func:`target_body` parsed as JSON (a template
    that yields a JSON string gives a ``str``), or the plain text of a non-JSON template."""
    body = target_body(event, target, rule_arn=rule_arn, rule_name=rule_name, ingestion_time=ingestion_time)
    try:
        return json.loads(body)
    except ValueError:
        return body


def _placeholder_keys(template: str) -> list[str]:
    """Placeholders used as an object key in a JSON template (``{<name>: 1}``)."""
    keys, in_string, i = [], False, 0
    while i < len(template):
        ch = template[i]
        if in_string and ch == "\\":
            i += 2
            continue
        if ch == '"':
            in_string = not in_string
        elif ch == "<" and not in_string:
            match = _PLACEHOLDER.match(template, i)
            if match and template[match.end():].lstrip().startswith(":"):
                keys.append(match.group(1))
        i += 1
    return keys


def check_transformer(transformer: Mapping[str, Any], *, target_id: str = "") -> str | None:
    """What PutTargets says of an ``InputTransformer`` (message of its ValidationException), or None.

    Documented rules (INPUT_TRANSFORMER_URL, TRANSFORM_URL, the botocore model): a template of
    1 to 8,192 characters; at most 100 ``InputPathsMap`` entries, keys of ``[A-Za-z0-9_-]``
    (so none starts with ``aws.``: those names are reserved), keys and paths of at most 256
    characters; no placeholder as an object key. The paths themselves are not checked ("There
    is no validation when creating JSON path for your template"). A placeholder that names no
    variable gets LocalStack's wording of AWS's answer; the other messages are the lab's.
    """
    template = transformer.get("InputTemplate")
    paths = transformer.get("InputPathsMap") or {}
    if not template:
        return "InputTemplate is required and must be at least 1 character long."
    if len(template) > INPUT_TEMPLATE_MAX_CHARS:
        return (f"InputTemplate is {len(template)} characters long; the maximum is {INPUT_TEMPLATE_MAX_CHARS} "
                f"({INPUT_TRANSFORMER_URL}).")
    if len(paths) > INPUT_PATHS_MAX:
        return f"InputPathsMap has {len(paths)} entries; the maximum is {INPUT_PATHS_MAX} ({INPUT_TRANSFORMER_URL})."
    for name, path in paths.items():
        if name.startswith(RESERVED_SOURCE_PREFIX) or name in RESERVED_VARIABLES:
            return (f"InputPathsMap key {name!r} is reserved: names starting with 'aws.' are EventBridge's "
                    f"({TRANSFORM_URL}).")
        if not _PATHS_KEY.fullmatch(name) or len(name) > INPUT_PATHS_KEY_MAX_CHARS:
            return (f"InputPathsMap key {name!r} must be 1 to {INPUT_PATHS_KEY_MAX_CHARS} characters of "
                    f"[A-Za-z0-9_-] ({INPUT_TRANSFORMER_URL}).")
        if len(str(path)) > INPUT_PATH_MAX_CHARS:
            return f"InputPathsMap path for {name!r} is longer than {INPUT_PATH_MAX_CHARS} characters ({TARGET_URL})."
    for name in _PLACEHOLDER.findall(template):
        if name not in paths and name not in RESERVED_VARIABLES:
            return f"InputTemplate for target {target_id} contains invalid placeholder {name}."
    if template.lstrip().startswith("{"):
        keys = _placeholder_keys(template)
        if keys:
            return (f"InputTemplate uses placeholder <{keys[0]}> as an object key, which a JSON template "
                    f"cannot do ({INPUT_TRANSFORMER_URL}).")
    return None


def check_target_input(target: Mapping[str, Any]) -> str | None:
    """PutTargets' verdict on a target's input settings: at most one of ``Input``, ``InputPath``
    and ``InputTransformer`` (LocalStack's wording of AWS's answer), each within its limits."""
    given = [name for name in ("Input", "InputPath", "InputTransformer") if target.get(name) is not None]
    if len(given) > 1:
        return f"Only one of Input, InputPath, or InputTransformer must be provided for target {target.get('Id', '')}."
    if target.get("Input") is not None:
        text = str(target["Input"])
        if len(text) > TARGET_INPUT_MAX_CHARS:
            return f"Input is longer than {TARGET_INPUT_MAX_CHARS} characters ({TARGET_URL})."
        try:
            json.loads(text)
        except ValueError:
            return f"Input must be valid JSON text ({TARGET_URL})."
    if target.get("InputPath") is not None and len(str(target["InputPath"])) > INPUT_PATH_MAX_CHARS:
        return f"InputPath is longer than {INPUT_PATH_MAX_CHARS} characters ({TARGET_URL})."
    if target.get("InputTransformer") is not None:
        return check_transformer(target["InputTransformer"], target_id=str(target.get("Id", "")))
    return None


# --- Target dead-letter queues ------------------------------------------------------------------------
def dead_letter_attributes(*, rule_arn: str, target_arn: str, error_code: str, error_message: str,
                           exhausted_condition: str | None, retry_attempts: int) -> dict[str, dict[str, str]]:
    """The SQS message attributes on an event EventBridge puts in a target's DLQ (DLQ_URL), in
    boto3's ``MessageAttributes`` form and the page's order. The body is the event.

    ``exhausted_condition`` is ``MaximumRetryAttempts`` or ``MaximumEventAgeInSeconds``; None
    (an error EventBridge does not retry, sent at once) leaves the attribute out: the page
    does not say what it holds then. ``error_code`` should be one of :data:`DLQ_ERROR_CODES`
    (the page calls its list a sample, so others pass). Every attribute is a ``String``: the
    page gives no data types.
    """
    if exhausted_condition is not None and exhausted_condition not in EXHAUSTED_RETRY_CONDITIONS:
        raise ValueError(f"exhausted_condition must be one of {EXHAUSTED_RETRY_CONDITIONS} or None, "
                         f"not {exhausted_condition!r}")
    values = {"RULE_ARN": rule_arn, "TARGET_ARN": target_arn, "ERROR_CODE": error_code,
              "ERROR_MESSAGE": error_message, "EXHAUSTED_RETRY_CONDITION": exhausted_condition,
              "RETRY_ATTEMPTS": str(int(retry_attempts))}
    return {name: {"DataType": "String", "StringValue": values[name]} for name in DLQ_ATTRIBUTES
            if values[name] is not None}


# --- Sample ----------------------------------------------------------------------------------------
#: The first entry of the AWS CLI reference's ``put-events`` example (aws-cli-ref_put-events-entries.json).
SAMPLE_ENTRY = {"Source": "com.mycompany.myapp", "Detail": '{ "key1": "value1", "key2": "value2" }',
                "Resources": ["resource1", "resource2"], "DetailType": "myDetailType"}
#: When sample events happen: the lab's start, 2024-01-01T00:00:00Z.
SAMPLE_EPOCH_S = 1_704_067_200.0


def sample_event(detail: Mapping[str, Any] | None = None, *, source: str = SAMPLE_ENTRY["Source"],
                 detail_type: str = SAMPLE_ENTRY["DetailType"], resources: Iterable[str] | None = None,
                 account: str = "123456789012", region: str = "us-east-1") -> dict[str, Any]:
    """A well-formed custom event without a bus, for calling a handler directly in a test.

    By default what EventBridge delivers for the AWS CLI reference's example entry
    (``com.mycompany.myapp`` / ``myDetailType``, ``{"key1": "value1", "key2": "value2"}``), at
    the lab's start. The id is derived from the arguments: equal arguments give equal events.
    """
    entry = dict(SAMPLE_ENTRY, Source=source, DetailType=detail_type,
                 Detail=SAMPLE_ENTRY["Detail"] if detail is None else json.dumps(dict(detail)),
                 Resources=list(SAMPLE_ENTRY["Resources"] if resources is None else resources))
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps([account, region, entry], sort_keys=True)))
    return from_entry(entry, event_id=event_id, account=account, region=region, now_s=SAMPLE_EPOCH_S)
