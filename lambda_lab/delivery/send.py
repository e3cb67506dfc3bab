"""Sending a payload to an ARN: an SQS queue, an SNS topic, an EventBridge bus or a function.

Lambda's async queue sends invocation records to destinations and events to
dead-letter queues; SNS and EventBridge send to their own dead-letter queues. All of
them go through ``send``. It carries the recursion depth of the chain with it, so a
source fed by the send (a queue with a mapping, a function) sees the chain continue.
A failed send (queue deleted, payload too large, FIFO target, a payload that is not
JSON) never raises: it comes back as a ``SendResult`` with AWS's error code, and
``lab.sends`` keeps every attempt, so a failed write can never stop ``lab.run_until_idle``.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import limits
from ..errors import ConfigurationError

if TYPE_CHECKING:
    from ..lab import Lab

#: What one send was for: the metric a failure counts towards.
DESTINATION, DEAD_LETTER = "destination", "dead_letter"

SENDS_COLUMNS = ["time", "function", "purpose", "target", "ok", "error"]


@dataclass(frozen=True)
class SendResult:
    """One send: where to, whether it arrived, and AWS's error when it did not."""

    time: float  # seconds since the lab started
    function: str
    purpose: str  # DESTINATION or DEAD_LETTER
    arn: str
    ok: bool
    error: str | None = None

    @property
    def target(self) -> str:
        """The queue, topic, bus or function name."""
        return parse_arn(self.arn)[1]


class SendLog:
    """Every send the lab made on a function's behalf (``lab.sends``)."""

    def __init__(self) -> None:
        self.records: list[SendResult] = []

    def add(self, result: SendResult) -> SendResult:
        self.records.append(result)
        return result

    def failures(self, purpose: str | None = None) -> list[SendResult]:
        """Failed sends, optionally only those for ``purpose``."""
        return [r for r in self.records if not r.ok and (purpose is None or r.purpose == purpose)]

    def to_frame(self) -> pd.DataFrame:
        rows = [{"time": r.time, "function": r.function, "purpose": r.purpose, "target": r.target,
                 "ok": r.ok, "error": r.error} for r in self.records]
        return pd.DataFrame(rows, columns=SENDS_COLUMNS)

    def __len__(self) -> int:
        return len(self.records)


def parse_arn(arn: str, role: str = "target") -> tuple[str, str]:
    """``(service, resource name)`` of an ARN; ``ConfigurationError`` if it is not one."""
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) < 6 or parts[0] != "arn":
        raise ConfigurationError(f"{role} must be an ARN (arn:aws:<service>:<region>:<account>:<resource>), got {arn!r}")
    service, resource = parts[2], ":".join(parts[5:])
    if service == "lambda":
        resource = resource.split(":")[1] if resource.startswith("function:") else resource
    elif service == "events":
        resource = resource.split("/", 1)[1] if resource.startswith("event-bus/") else resource
    elif service == "s3":
        resource = resource.lstrip(":")
    return service, resource


def queue_url(lab: "Lab", name: str) -> str:
    """The URL of queue ``name`` (raises botocore's ClientError if it does not exist)."""
    return lab.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


# lab -> queue name -> URL. A queue's URL depends only on its account, region and name, so it
# stays right after the queue is deleted (SendMessage then fails with NonExistentQueue, as
# on AWS) or recreated; caching it halves the SQS calls of every destination and DLQ write.
_QUEUE_URLS: "weakref.WeakKeyDictionary[Any, dict[str, str]]" = weakref.WeakKeyDictionary()


def _cached_queue_url(lab: "Lab", name: str) -> str:
    urls = _QUEUE_URLS.setdefault(lab, {})
    if name not in urls:
        urls[name] = queue_url(lab, name)
    return urls[name]


def send(
    lab: "Lab",
    arn: str,
    payload: Any,
    *,
    function: str,
    purpose: str,
    depth: int,
    attributes: dict[str, dict[str, str]] | None = None,
    detail_type: str = "",
    event_source: str = "lambda",
    resources: list[str] | None = None,
) -> SendResult:
    """Send ``payload`` (JSON-encoded) to ``arn`` on ``function``'s behalf; never raises for AWS errors.

    ``depth`` is the chain depth of the invocation the payload comes from: whatever the
    send triggers runs one deeper. ``attributes`` are SQS/SNS message attributes;
    ``detail_type``, ``event_source`` and ``resources`` fill an EventBridge entry.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    service, name = parse_arn(arn)
    body, error = encode(payload)
    try:
        if error is None:
            with lab.runtime.at_depth(depth):
                error = _send(lab, service, name, arn, body, payload, attributes, depth,
                              detail_type, event_source, resources)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        error = f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    except BotoCoreError as exc:
        error = f"{type(exc).__name__}: {exc}"
    result = SendResult(round(lab.clock.elapsed(), 6), function, purpose, arn, error is None, error)
    return lab.sends.add(result)


def encode(payload: Any) -> tuple[str, str | None]:
    """``(JSON text, None)``, or ``("", error)`` when ``payload`` cannot be JSON (every target takes JSON)."""
    try:
        return json.dumps(payload, default=str), None
    except (TypeError, ValueError, RecursionError) as exc:  # dict keys that are not strings, a cycle
        return "", f"InvalidParameterValue: the payload is not valid JSON ({type(exc).__name__}: {exc})"


def _send(lab: "Lab", service: str, name: str, arn: str, body: str, payload: Any,
          attributes: dict | None, depth: int, detail_type: str, event_source: str,
          resources: list[str] | None) -> str | None:
    """Do the send; return an error text for refusals the lab detects itself, else None."""
    size = len(body.encode())
    if service == "sqs":
        if size > limits.SQS_MESSAGE_MAX_BYTES:
            return f"InvalidParameterValue: message of {size:,} bytes is over SQS's {limits.SQS_MESSAGE_MAX_BYTES:,}-byte limit"
        params: dict[str, Any] = {"QueueUrl": _cached_queue_url(lab, name), "MessageBody": body}
        if attributes:
            params["MessageAttributes"] = attributes
        lab.client("sqs").send_message(**params)
    elif service == "sns":
        if size > limits.SNS_MESSAGE_MAX_BYTES:
            return f"InvalidParameter: message of {size:,} bytes is over SNS's {limits.SNS_MESSAGE_MAX_BYTES:,}-byte limit"
        params = {"TopicArn": arn, "Message": body}
        if attributes:
            params["MessageAttributes"] = attributes
        lab.client("sns").publish(**params)
    elif service == "events":
        if size > limits.EVENTBRIDGE_EVENT_MAX_BYTES:
            return (f"ValidationException: event of {size:,} bytes is over EventBridge's "
                    f"{limits.EVENTBRIDGE_EVENT_MAX_BYTES:,}-byte limit")
        entry = {"Source": event_source, "DetailType": detail_type, "Detail": body, "EventBusName": name}
        if resources:
            entry["Resources"] = resources
        answer = lab.client("events").put_events(Entries=[entry])
        if answer.get("FailedEntryCount"):
            failed = answer["Entries"][0]
            return f"{failed.get('ErrorCode', 'Error')}: {failed.get('ErrorMessage', '')}"
    elif service == "lambda":
        target = lab.runtime.functions.get(name)
        if target is None:
            return f"ResourceNotFoundException: Function not found: {arn}"
        if size > limits.ASYNC_PAYLOAD_MAX_BYTES:  # Invoke answers 413 for an oversized async payload
            return (f"RequestEntityTooLargeException: payload of {size:,} bytes is over the "
                    f"{limits.ASYNC_PAYLOAD_MAX_BYTES:,}-byte limit for asynchronous invocation ({limits.INVOKE_URL})")
        lab.async_queue.submit(target, payload, source="destination", depth=depth + 1)
    else:
        return f"InvalidParameterValue: the lab cannot send to {service} ARNs ({arn})"
    return None


def check_home(lab: "Lab", arn: str, role: str) -> None:
    """Refuse a target in another region or account: the lab has one of each."""
    region, account = arn.split(":")[3:5]
    if (region, account) == (lab.region, lab.account_id):
        return
    raise ConfigurationError(
        f"{role}: {arn} is in region {region or '(none)'}, account {account or '(none)'}. AWS accepts "
        f"cross-account destinations (with a resource-based policy on the target), but this lab has one "
        f"account ({lab.account_id}) and one region ({lab.region}): this is the lab's limit, "
        f"not AWS's. Create the target in the lab (lab.arn(...) builds its ARN)")


def resource_exists(lab: "Lab", service: str, name: str, arn: str) -> bool:
    """True if the queue, topic, bus or function ``arn`` names exists in the lab."""
    from botocore.exceptions import ClientError

    try:
        if service == "sqs":
            queue_url(lab, name)
        elif service == "sns":
            lab.client("sns").get_topic_attributes(TopicArn=arn)
        elif service == "events":
            lab.client("events").describe_event_bus(Name=name)
        elif service == "lambda":
            return name in lab.runtime.functions
    except ClientError:
        return False
    return True
