"""The AWS calls each handler makes in the lab: ``lab.calls``, for the IAM policies the export writes.

While a lab runs, :class:`CallRecorder` notes every call a handler makes through a client it made
itself (``boto3.client``/``boto3.resource``: boto3's default session, where handlers written for
AWS make theirs) with the function that was running (``lambda_lab.runtime.running_function``),
the IAM action the call needs and the resource it named. ``lambda_lab.cloud.permissions`` turns
them into policies.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .runtime import running_function

if TYPE_CHECKING:
    from .lab import Lab


#: S3 operations whose IAM action has another name (the rest are s3:<Operation>).
S3_ACTIONS = {"HeadObject": "s3:GetObject", "ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket",
              "HeadBucket": "s3:ListBucket", "CopyObject": "s3:PutObject"}


@dataclass(frozen=True)
class Call:
    """One call a handler made: the function, the IAM action, the service and the resource's name."""

    function: str
    action: str  # e.g. dynamodb:PutItem
    service: str  # the IAM prefix (DynamoDB Streams calls are dynamodb:...)
    resource: str  # a table, queue, topic, bucket or bus name; "*" when the call names none


def _names(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """The resources a call names, by the parameter each service uses."""
    if service == "dynamodb":
        if "RequestItems" in params:
            return sorted(params["RequestItems"])
        if "TransactItems" in params:
            return sorted({next(iter(i.values())).get("TableName", "*") for i in params["TransactItems"]})
        return [params["TableName"]] if "TableName" in params else ["*"]
    if service == "sqs":
        if "QueueUrl" in params:
            from .sources.sqs import queue_name  # here: the lab starts without loading its sources

            return [queue_name(str(params["QueueUrl"]))]
        return [params["QueueName"]] if "QueueName" in params else ["*"]
    if service == "sns":
        arn = params.get("TopicArn") or params.get("TargetArn")
        return [str(arn).rsplit(":", 1)[-1]] if arn else ["*"]
    if service == "s3":
        return [params["Bucket"]] if "Bucket" in params else ["*"]
    if service == "events" and operation == "PutEvents":
        from .sources.eventbridge import bus_name_of

        return sorted({bus_name_of(e.get("EventBusName")) for e in params.get("Entries", [])})
    return ["*"]


def action_of(service: str, operation: str) -> str:
    """The IAM action an API operation needs (``s3:HeadObject`` needs ``s3:GetObject``)."""
    if service == "s3" and operation in S3_ACTIONS:
        return S3_ACTIONS[operation]
    return f"{service}:{operation}"


class CallRecorder:
    """Every call a running handler makes through boto3's default session (``lab.calls``)."""

    def __init__(self, lab: "Lab"):
        self.lab = lab
        self._calls: dict[Call, None] = {}  # insertion-ordered set
        self._lock = threading.Lock()
        self._hook = f"lambda-lab-calls-{id(self)}"
        self._events = lab.handler_session_events()
        self._events.register("before-parameter-build", self._before, unique_id=self._hook)

    def _before(self, params: dict[str, Any], model: Any = None, **_: Any) -> None:
        function = running_function()
        if function is None or model is None:
            return
        service = model.service_model.signing_name
        for name in _names(service, model.name, params):
            call = Call(function, action_of(service, model.name), service, name)
            with self._lock:
                self._calls.setdefault(call, None)

    def of(self, function: str) -> list[Call]:
        """The calls ``function``'s handler made, in the order first seen."""
        with self._lock:
            return [c for c in self._calls if c.function == function]

    def stop(self) -> None:
        """Record no more (the lab calls this on close)."""
        self._events.unregister("before-parameter-build", unique_id=self._hook)
