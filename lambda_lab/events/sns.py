"""SNS notifications, field for field as SNS hands them to Lambda.

Shape: https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html, checked against AWS's
sample events in tests/data/aws-sample-events/ (aws-docs/lambda-dg_sns-event.json,
sam-cli/sns-notification.json, powertools-python/snsEvent.json; sources in its SOURCES.md).
Gotchas a handler meets, reproduced on purpose:

- The keys are PascalCase (``EventSource``, ``Sns.MessageId``), unlike SQS's and S3's.
- ``Sns.Message`` is a string: a JSON payload must be ``json.loads``-ed.
- The signature fields end in ``Url`` (``SigningCertUrl``, ``UnsubscribeUrl``) here, but in
  ``URL`` in the JSON envelope an SQS subscriber (or a subscription's dead-letter queue)
  receives: :func:`record` turns one into the other, :func:`envelope` turns it back.
- ``Subject`` is ``null`` when the publisher gave none (the envelope leaves it out);
  ``MessageAttributes`` is ``{}`` when there are none; a ``Binary`` value is base64 text.
- One record per event: SNS invokes the function once per message.

What the lab does not reproduce: ``Signature`` is a seeded stand-in of the right length
(a 2048-bit RSA signature in base64), not a signature anyone can verify, and
``SigningCertUrl`` names a certificate no server holds. moto signs with a key it draws at
random on every run, so its signature would change run to run; neither could be checked.

Like every module in ``events/``: ``record`` (one record, from the notification),
``event`` (what the function receives), ``sample_event`` (a well-formed event without a
topic) and ``DISPLAY_FIELDS`` (what ``show_event`` prints).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any, Iterable

EVENT_SOURCE = "aws:sns"
EVENT_VERSION = "1.0"
#: The fields a handler author reads in one record (paths into it), printed by ``show_event``.
DISPLAY_FIELDS = ("Sns.MessageId", "Sns.Subject", "Sns.Message", "Sns.MessageAttributes", "EventSubscriptionArn")
#: A topic's signature version unless its ``SignatureVersion`` attribute says 2 (SHA1; every AWS sample).
SIGNATURE_VERSION = "1"
#: The envelope's keys (what an SQS subscriber reads) -> the Lambda record's.
URL_KEYS = {"SigningCertURL": "SigningCertUrl", "UnsubscribeURL": "UnsubscribeUrl"}
#: Key order in the Lambda record's ``Sns`` (the SAM CLI template's, AWS's documented order).
SNS_ORDER = ("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion", "Signature",
             "SigningCertUrl", "UnsubscribeUrl", "MessageAttributes")
#: Key order in the JSON envelope (https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html).
ENVELOPE_ORDER = ("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
                  "Signature", "SigningCertURL", "UnsubscribeURL", "MessageAttributes")


def unsubscribe_url(subscription_arn: str) -> str:
    """The link that ends a subscription, on the subscription's own region's endpoint."""
    region = subscription_arn.split(":")[3]
    return f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"


def signing_cert_url(region: str, seed: str) -> str:
    """``https://sns.<region>.amazonaws.com/SimpleNotificationService-<32 hex>.pem``."""
    return f"https://sns.{region}.amazonaws.com/SimpleNotificationService-{_hex(seed, 32)}.pem"


def signature(seed: str) -> str:
    """A stand-in with the form of a 2048-bit RSA signature in base64 (344 characters), same seed same text."""
    raw = b"".join(hashlib.sha256(f"{seed}/{n}".encode()).digest() for n in range(8))
    return base64.b64encode(raw).decode()


def record(notification: dict[str, Any], subscription_arn: str, *, signature_seed: str | None = None) -> dict[str, Any]:
    """One Lambda record from a notification in SNS's JSON envelope (``Message``, ``MessageId``, ...).

    ``notification`` is what an SQS subscriber receives (``...URL`` keys, ``Subject`` only when
    given); the record renames the URL keys, always has ``Subject`` and ``MessageAttributes``,
    and points ``UnsubscribeUrl`` at ``subscription_arn``. With ``signature_seed`` the
    signature is the lab's seeded stand-in (see the module's docstring).
    """
    sns: dict[str, Any] = {URL_KEYS.get(k, k): v for k, v in notification.items()}
    sns.setdefault("Type", "Notification")
    sns.setdefault("Subject", None)
    sns["MessageAttributes"] = {name: {"Type": a["Type"], "Value": a["Value"]}
                                for name, a in (notification.get("MessageAttributes") or {}).items()}
    sns["UnsubscribeUrl"] = unsubscribe_url(subscription_arn)
    if signature_seed is not None:
        sns["SignatureVersion"] = SIGNATURE_VERSION
        sns["Signature"] = signature(signature_seed)
        sns["SigningCertUrl"] = signing_cert_url(subscription_arn.split(":")[3], subscription_arn)
    ordered = {key: sns[key] for key in SNS_ORDER if key in sns}
    ordered.update({k: v for k, v in sns.items() if k not in ordered})
    return {"EventSource": EVENT_SOURCE, "EventVersion": EVENT_VERSION, "EventSubscriptionArn": subscription_arn,
            "Sns": ordered}


def envelope(rec: dict[str, Any]) -> dict[str, Any]:
    """The JSON envelope of a record's notification, as an SQS subscriber or a dead-letter queue receives it.

    ``...URL`` keys; ``Subject`` only if there is one; ``MessageAttributes`` only if any.
    """
    sns = {k: v for k, v in rec["Sns"].items() if not (k == "Subject" and v is None)}
    if not sns.get("MessageAttributes"):
        sns.pop("MessageAttributes", None)
    back = {v: k for k, v in URL_KEYS.items()}
    renamed = {back.get(k, k): v for k, v in sns.items()}
    return {key: renamed[key] for key in ENVELOPE_ORDER if key in renamed}


def event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The event a function receives: ``{"Records": [...]}``; SNS sends one record per event."""
    return {"Records": list(records)}


def message_size_bytes(message: str, attributes: dict[str, Any] | None = None) -> int:
    """What SNS counts against a topic's ``MaximumMessageSize``: the body plus every attribute's
    name, data type and value, in bytes (https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html).

    ``attributes`` in Publish's form (``{"name": {"DataType": ..., "StringValue": ...}}``).
    """
    size = len(message.encode())
    for name, value in (attributes or {}).items():
        size += len(name.encode()) + len(str(value.get("DataType", "")).encode())
        if "BinaryValue" in value:
            raw = value["BinaryValue"]
            size += len(raw) if isinstance(raw, (bytes, bytearray)) else len(str(raw).encode())
        else:
            size += len(str(value.get("StringValue", "")).encode())
    return size


#: The sample's attributes (with-sns.html), the binary one base64-encoded as SNS delivers it.
SAMPLE_ATTRIBUTES = {"Test": {"Type": "String", "Value": "TestString"},
                     "TestBinary": {"Type": "Binary", "Value": base64.b64encode(b"TestBinary").decode()}}
#: When sample events happen: the lab's start, 2024-01-01T00:00:00Z.
SAMPLE_TIME_ISO = "2024-01-01T00:00:00.000Z"


def sample_event(
    message: str = "Hello from SNS!",
    *,
    subject: str | None = "TestInvoke",
    message_attributes: dict[str, dict[str, str]] | None = None,
    topic_arn: str = "arn:aws:sns:us-east-1:123456789012:sns-lambda",
) -> dict[str, Any]:
    """A well-formed SNS event without a topic, for calling a handler directly in a test.

    The defaults are AWS's sample's (with-sns.html): ``Hello from SNS!``, subject
    ``TestInvoke``, a topic named ``sns-lambda``, attributes ``Test`` and ``TestBinary``
    (base64 here, as SNS sends binary values). ``message_attributes`` in the event's form
    (``{"name": {"Type": "String", "Value": "x"}}``; ``{}`` for none). Ids are
    deterministic: equal arguments give equal events.
    """
    if message_attributes is None:
        message_attributes = SAMPLE_ATTRIBUTES
    message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{topic_arn}/{subject}/{message}"))
    subscription_arn = f"{topic_arn}:{uuid.uuid5(uuid.NAMESPACE_URL, topic_arn + '/lambda')}"
    notification: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic_arn,
        "Message": message,
        "Timestamp": SAMPLE_TIME_ISO,
    }
    if subject is not None:
        notification["Subject"] = subject
    if message_attributes:
        notification["MessageAttributes"] = message_attributes
    return event([record(notification, subscription_arn, signature_seed=message_id)])


def _hex(seed: str, digits: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:digits]
