"""SNS subscriptions that invoke a Lambda function (``lab.sns_trigger(topic_arn, fn, ...)``).

How the lab does it, and why. On AWS the subscription has protocol ``lambda`` and SNS calls
Invoke with ``InvocationType=Event``. moto's ``lambda`` protocol tries Docker and builds a fake
event (reference/moto-audit.md §4, §8), and its filter policies are wrong for several
operators. So the subscription the lab makes in moto is a real ``sqs`` subscription, without
a filter policy, to the lab's hidden relay queue ``lambda-lab-sns-<id>``
(``lambda_lab.delivery.relay``): moto fills it with the JSON envelope on every Publish and
PublishBatch, the lab drains it and plays SNS's side of the hand-off:

1. **Filter** with the subscription's filter policy (``lambda_lab.filter_policy``): a message
   that does not match ends in ``lab.outcomes()`` as ``dropped`` (``FilteredOut``), decided by
   SNS; the function never sees it.
2. **Hand off** the AWS-shaped event (``lambda_lab.events.sns``) with Invoke's asynchronous
   answer (``lambda_lab.delivery.handoff``). On 202 Lambda's async queue owns it: function
   errors retried after about 1 and 2 minutes, throttles until the maximum event age, then
   the function's on-failure destination or dead-letter queue (layer ``lambda``).
3. **SNS's own retries** happen only when the hand-off fails. A server-side error (inject one
   with ``lab.faults.fail_next(fn.name, error="server")``) is retried on SNS's managed
   delivery policy (``lambda_lab.delivery.retry.SNS_MANAGED``: 3 immediate, 2 at 1 s, 10 with
   backoff 1-20 s, 100,000 at 20 s). A client-side error (the function was deleted) is not
   retried. What SNS gives up on goes to the subscription's dead-letter queue (its
   ``RedrivePolicy``) if it has one, else it is discarded (layer ``sns``).

Each (message, subscription) is one row of ``lab.outcomes()``: source ``sns``, item the
message id. Messages published from a handler continue its chain, so a loop through SNS is
stopped after about 16 invocations as for SQS and S3.

What the lab's ``sns`` client shows and refuses (hooks on ``lab.client("sns")`` only; clients
made outside the lab see moto as it is):

- ``list_subscriptions``, ``list_subscriptions_by_topic`` and ``get_subscription_attributes``
  show the subscription as AWS holds it (protocol ``lambda``, the function's ARN as endpoint,
  ``FilterPolicy``, ``FilterPolicyScope``, ``RedrivePolicy``), not the relay queue;
- ``set_subscription_attributes`` on it changes the lab's filter policy or dead-letter queue;
  ``unsubscribe`` ends it;
- ``subscribe(Protocol="lambda")`` is refused (it would reach moto's Docker path): use
  ``lab.sns_trigger``;
- ``publish``/``publish_batch`` over the topic's ``MaximumMessageSize`` (body plus attributes)
  are refused as SNS refuses them, and ``MaximumMessageSize`` is checked (1,024-1,048,576) and
  shown by ``get_topic_attributes``. moto itself still refuses a message body over 256 KiB.
"""

from __future__ import annotations

import functools
import itertools
import json
import random
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import ledger as L
from .. import limits
from ..delivery.handoff import Handoff, hand_off
from ..delivery.relay import Relay
from ..delivery.retry import SNS_MANAGED
from ..delivery.send import DEAD_LETTER, parse_arn, queue_url, send
from ..errors import ConfigurationError
from ..events import sns as sns_events

if TYPE_CHECKING:
    from ..lab import Lab
    from ..runtime import Function

SOURCE = "sns"
#: The retry layer SNS's decisions are written under in ``lab.outcomes()``.
LAYER = "sns"
#: Read the relay queue after this many publishes even before the delivery is due (moto's
#: SQS slows down with depth, moto-audit §10).
DRAIN_EVERY = 25
#: Seconds between a Publish and the hand-off to Lambda. SNS publishes no number; it is fast.
DELIVERY_DELAY_S = 0.0
#: AWS's words for a Lambda subscription to a FIFO topic (Subscribe, HTTP 400).
FIFO_MESSAGE = "Invalid parameter: Invalid protocol type: lambda"
TOO_LONG_MESSAGE = "Invalid parameter: Message too long"
BATCH_TOO_LONG_MESSAGE = "The length of all the batch messages put together is more than the limit."
LAMBDA_PROTOCOL_REFUSED = (
    "the lab does not pass Subscribe(Protocol='lambda') to moto: moto would try to run the function in "
    "Docker and send it a made-up event. Use lab.sns_trigger(topic_arn, fn, filter_policy=..., "
    "dead_letter_arn=...), which makes the same subscription and shows it in list_subscriptions as "
    "protocol lambda")
_HOOK_IDS = itertools.count()


# --- one registry per lab: the lab client's hooks read it ----------------------------------------
@dataclass
class _Registry:
    subscriptions: dict[str, "SnsSubscription"] = field(default_factory=dict)  # subscription ARN -> it
    max_sizes: dict[str, int] = field(default_factory=dict)  # topic ARN -> MaximumMessageSize set
    depths: dict[str, int] = field(default_factory=dict)  # message id -> chain depth of its publisher
    count: itertools.count = field(default_factory=itertools.count)


_REGISTRIES: "weakref.WeakKeyDictionary[Any, _Registry]" = weakref.WeakKeyDictionary()


def _registry(lab: "Lab") -> _Registry:
    if lab not in _REGISTRIES:
        _REGISTRIES[lab] = _Registry()
    return _REGISTRIES[lab]


def guard_client(lab: "Lab", client: Any) -> None:
    """Install the lab's SNS hooks on ``client`` (``lab.client("sns")``, once, when it is made).

    The same hooks go on boto3's default session until the lab closes, so a handler's own
    ``boto3.client("sns")`` is checked, wakes the subscriptions and carries its chain depth
    (recursive loop detection) as the lab's client does.
    """
    _guard(lab, client.meta.events)
    session = lab.handler_session_events()
    registered = _guard(lab, session)
    lab.on_close(lambda: [session.unregister(name, unique_id=uid) for name, uid in registered])


def _guard(lab: "Lab", events: Any) -> list[tuple[str, str]]:
    """Register the SNS hooks on ``events``; return (event name, unique id) of each."""
    hid = f"lambda-lab-sns-guard-{next(_HOOK_IDS)}"
    hooks: list[tuple[str, Any, str]] = [
        ("before-parameter-build.sns.Subscribe", _refuse_lambda_protocol, hid + "s")]
    for op in ("Publish", "PublishBatch"):
        hooks += [(f"before-parameter-build.sns.{op}", _Publishing(lab).before, f"{hid}b{op}"),
                  (f"after-call.sns.{op}", _Publishing(lab).after, f"{hid}a{op}")]
    for op in ("CreateTopic", "SetTopicAttributes"):
        hooks += [(f"before-parameter-build.sns.{op}", _TopicSize(lab).before, f"{hid}t{op}"),
                  (f"after-call.sns.{op}", _TopicSize(lab).after, f"{hid}u{op}")]
    hooks += [("after-call.sns.GetTopicAttributes", _TopicSize(lab).show, hid + "g"),
              ("before-call.sns.SetSubscriptionAttributes", _SubscriptionAttributes(lab).before, hid + "ss"),
              ("after-call.sns.Unsubscribe", _SubscriptionAttributes(lab).unsubscribed, hid + "un"),
              ("before-parameter-build.sns.Unsubscribe", _SubscriptionAttributes(lab).unsubscribing, hid + "ub")]
    for name, handler, unique_id in hooks:
        events.register(name, handler, unique_id=unique_id)
    return [(name, unique_id) for name, _, unique_id in hooks]


def _refuse_lambda_protocol(params: dict[str, Any], **_: Any) -> None:
    if str(params.get("Protocol", "")).lower() == "lambda":
        raise ConfigurationError(LAMBDA_PROTOCOL_REFUSED)


def client_error(code: str, message: str, operation: str) -> Exception:
    """botocore's ``ClientError`` as SNS would raise it (HTTP 400, sender fault)."""
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Type": "Sender", "Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)


def maximum_message_size(lab: "Lab", topic_arn: str) -> int:
    """The topic's ``MaximumMessageSize`` as the lab knows it (set through its client), else the default."""
    return _registry(lab).max_sizes.get(topic_arn, limits.SNS_MAXIMUM_MESSAGE_SIZE_DEFAULT_BYTES)


class _Publishing:
    """Publish and PublishBatch: refuse what is too long, note the publisher's depth, wake the subscriptions."""

    def __init__(self, lab: "Lab"):
        self.lab = lab

    def before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        topic = params.get("TopicArn") or params.get("TargetArn") or ""
        limit = maximum_message_size(self.lab, topic)
        if model.name == "Publish":
            size = sns_events.message_size_bytes(str(params.get("Message", "")), params.get("MessageAttributes"))
            if size > limit:
                raise client_error("InvalidParameter", TOO_LONG_MESSAGE, "Publish")
        else:
            entries = params.get("PublishBatchRequestEntries") or []
            size = sum(sns_events.message_size_bytes(str(e.get("Message", "")), e.get("MessageAttributes"))
                       for e in entries)
            if size > limit:
                raise client_error("BatchRequestTooLong", BATCH_TOO_LONG_MESSAGE, "PublishBatch")
        context["lambda_lab_sns"] = (topic, self.lab.runtime.current_depth())

    def after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        noted = context.pop("lambda_lab_sns", None)
        if noted is None or parsed.get("Error"):
            return
        topic, depth = noted
        ids = [parsed["MessageId"]] if "MessageId" in parsed else [e["MessageId"] for e in parsed.get("Successful", [])]
        registry = _registry(self.lab)
        if depth:
            registry.depths.update((message_id, depth) for message_id in ids)
        for subscription in list(registry.subscriptions.values()):
            if subscription.topic_arn == topic and ids:
                subscription.published(len(ids))


class _TopicSize:
    """MaximumMessageSize: checked as SNS checks it, remembered (moto drops it), shown by GetTopicAttributes."""

    def __init__(self, lab: "Lab"):
        self.lab = lab

    def before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name == "CreateTopic":
            value = (params.get("Attributes") or {}).get("MaximumMessageSize")
        elif params.get("AttributeName") == "MaximumMessageSize":
            value = params.get("AttributeValue")
        else:
            return
        if value is None:
            return
        size = _whole_number(value)
        low, high = limits.SNS_MAXIMUM_MESSAGE_SIZE_MIN_BYTES, limits.SNS_MAXIMUM_MESSAGE_SIZE_MAX_BYTES
        if size is None or not low <= size <= high:
            raise client_error("InvalidParameter", f"Invalid parameter: MaximumMessageSize must be an integer "
                               f"between {low:,} and {high:,} bytes, got {value!r}", model.name)
        context["lambda_lab_sns_size"] = (params.get("TopicArn"), size)

    def after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        noted = context.pop("lambda_lab_sns_size", None)
        if noted is None or parsed.get("Error"):
            return
        topic = parsed.get("TopicArn") or noted[0]
        if topic:
            _registry(self.lab).max_sizes[topic] = noted[1]

    def show(self, parsed: dict[str, Any], **_: Any) -> None:
        attributes = parsed.get("Attributes")
        if parsed.get("Error") or not attributes or "TopicArn" not in attributes:
            return
        attributes["MaximumMessageSize"] = str(maximum_message_size(self.lab, attributes["TopicArn"]))


def _whole_number(value: Any) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if str(number) == str(value).strip() else None


class _SubscriptionAttributes:
    """SetSubscriptionAttributes and Unsubscribe on a lab subscription: the lab holds its settings."""

    def __init__(self, lab: "Lab"):
        self.lab = lab

    def before(self, params: dict[str, Any], model: Any, **_: Any) -> Any:
        body = params.get("body") or {}
        subscription = _registry(self.lab).subscriptions.get(body.get("SubscriptionArn", ""))
        if subscription is None:
            return None  # not the lab's: moto answers
        name, value = body.get("AttributeName"), body.get("AttributeValue")
        subscription.set_attribute(name, value)
        if name == "RedrivePolicy":
            return None  # moto keeps it too (it never uses it), so other clients see it
        return _empty_response()

    def unsubscribing(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["lambda_lab_sns_unsubscribe"] = params.get("SubscriptionArn")

    def unsubscribed(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        arn = context.pop("lambda_lab_sns_unsubscribe", None)
        subscription = _registry(self.lab).subscriptions.get(arn or "")
        if subscription is not None and not parsed.get("Error"):
            subscription.unsubscribe()


def _empty_response() -> tuple[Any, dict[str, Any]]:
    """What a ``before-call`` handler returns to answer a call itself: (HTTP response, parsed)."""
    from botocore.awsrequest import AWSResponse

    return AWSResponse("https://sns.lambda-lab.invalid/", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}


# --- the subscription -----------------------------------------------------------------------------
@dataclass
class Delivery:
    """One message on its way from SNS to Lambda for one subscription."""

    message_id: str
    record: dict[str, Any]
    entry: "L.Entry"
    depth: int  # chain depth of the publisher (0: a cell)
    attempts: int = 0  # hand-offs tried
    last: Handoff | None = None
    task: Any = None


class SnsSubscription:
    """A subscription (protocol ``lambda``) of ``fn`` to a standard topic; the lab plays SNS's side."""

    def __init__(
        self,
        lab: "Lab",
        topic_arn: str,
        fn: "Function",
        filter_policy: dict[str, Any] | str | None = None,
        filter_policy_scope: str = "MessageAttributes",
        dead_letter_arn: str | None = None,
    ):
        self.lab, self.topic_arn, self.fn = lab, topic_arn, fn
        self._check(lab, topic_arn, fn)
        self.filter_policy_scope = _check_scope(filter_policy_scope)
        self.filter_policy = _check_policy(filter_policy, self.filter_policy_scope)
        self.dead_letter_arn = self._check_dead_letter(dead_letter_arn) if dead_letter_arn is not None else None
        registry = _registry(lab)
        self._check_duplicate(registry)
        _share_moto_signing_key()
        self.rng = random.Random(f"sns-{lab.seed}-{topic_arn}-{fn.name}")
        lab.async_queue  # created before this source, so lab.busy() asks it first (it is cheaper)
        topic_name = topic_arn.rsplit(":", 1)[-1]
        self.relay = Relay(lab, SOURCE, f"{topic_name}-{next(registry.count)}")
        sns = lab.client("sns")
        self.arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=self.relay.arn,
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
        if self.dead_letter_arn:
            sns.set_subscription_attributes(SubscriptionArn=self.arn, AttributeName="RedrivePolicy",
                                            AttributeValue=self.redrive_policy())
        registry.subscriptions[self.arn] = self
        self.delivered: list[dict[str, Any]] = []  # every event handed to Lambda's async queue
        self.filtered: list[str] = []  # message ids the filter policy dropped
        self.handoffs: list[tuple[float, str, Handoff]] = []  # (s since start, message id, Invoke's answer)
        self._retrying: dict[str, Delivery] = {}  # message id -> a delivery SNS will try again
        self._taken: list[dict[str, Any]] = []
        self._since_poll = 0
        self._poll_task: Any = None
        self._stopped = False
        self._show()

    # --- checks, as Subscribe and SetSubscriptionAttributes refuse ------------------------------------
    def _check(self, lab: "Lab", topic_arn: str, fn: "Function") -> None:
        from botocore.exceptions import ClientError

        if lab.runtime.functions.get(fn.name) is not fn:
            raise ConfigurationError(f"function {fn.name!r} is not registered in this lab")
        try:
            attributes = lab.client("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]
        except ClientError as exc:
            raise ConfigurationError(f"topic {topic_arn!r} does not exist in this lab; create it first "
                                     f"(lab.client('sns').create_topic(Name=...))") from exc
        if topic_arn.endswith(".fifo") or str(attributes.get("FifoTopic", "")).lower() == "true":
            raise ConfigurationError(f"InvalidParameter: {FIFO_MESSAGE}. Lambda supports SNS triggers for standard "
                                     f"topics only; FIFO topics deliver to SQS queues ({limits.SNS_LAMBDA_URL})")

    def _check_duplicate(self, registry: _Registry) -> None:
        for other in registry.subscriptions.values():
            if other.topic_arn == self.topic_arn and other.fn.name == self.fn.name and not other._stopped:
                raise ConfigurationError(
                    f"InvalidParameter: Invalid parameter: Attributes Reason: Subscription already exists "
                    f"({other.arn}): {self.fn.name} is already subscribed to {self.topic_arn}; change its "
                    f"attributes with set_subscription_attributes")

    def _check_dead_letter(self, arn: Any) -> str:
        if not isinstance(arn, str):
            raise ConfigurationError(f"dead_letter_arn must be an SQS queue ARN, got {arn!r}")
        service, name = parse_arn(arn, "RedrivePolicy deadLetterTargetArn")
        if service != "sqs":
            raise ConfigurationError(f"RedrivePolicy: deadLetterTargetArn must be an SQS queue ARN, got {arn} "
                                     f"({limits.SNS_DLQ_URL})")
        region, account = arn.split(":")[3:5]
        if (region, account) != (self.lab.region, self.lab.account_id):
            raise ConfigurationError(f"RedrivePolicy: the dead-letter queue must be in the subscription's account "
                                     f"and region ({self.lab.account_id}, {self.lab.region}), got {arn} "
                                     f"({limits.SNS_DLQ_URL})")
        if name.endswith(".fifo"):
            raise ConfigurationError(f"RedrivePolicy: a standard topic's subscription needs a standard queue as its "
                                     f"dead-letter queue, got {arn} ({limits.SNS_DLQ_URL})")
        from botocore.exceptions import ClientError

        try:
            queue_url(self.lab, name)
        except ClientError as exc:
            raise ConfigurationError(f"RedrivePolicy: {arn} does not exist in this lab; create it first") from exc
        return arn

    def set_attribute(self, name: str | None, value: str | None) -> None:
        """SetSubscriptionAttributes on this subscription: FilterPolicy, FilterPolicyScope, RedrivePolicy."""
        if name == "FilterPolicy":
            self.filter_policy = _check_policy(value or None, self.filter_policy_scope)
        elif name == "FilterPolicyScope":
            scope = _check_scope(value)
            if self.filter_policy is not None:
                _check_policy(self.filter_policy, scope)  # a nested policy cannot move to MessageAttributes
            self.filter_policy_scope = scope
        elif name == "RedrivePolicy":
            target = json.loads(value).get("deadLetterTargetArn") if value else None
            self.dead_letter_arn = self._check_dead_letter(target) if target else None
        elif name == "RawMessageDelivery":
            raise client_error("InvalidParameter",
                               "Invalid parameter: Delivery protocol [lambda] does not support raw message delivery.",
                               "SetSubscriptionAttributes")
        else:
            raise client_error("InvalidParameter", f"Invalid parameter: AttributeName {name!r} (the lab's lambda "
                               "subscriptions take FilterPolicy, FilterPolicyScope and RedrivePolicy)",
                               "SetSubscriptionAttributes")

    def redrive_policy(self) -> str:
        return json.dumps({"deadLetterTargetArn": self.dead_letter_arn}) if self.dead_letter_arn else ""

    # --- what the lab's client shows ------------------------------------------------------------------
    def _show(self) -> None:
        for operation in ("ListSubscriptions", "ListSubscriptionsByTopic"):
            self.relay.show_as("sns", operation, self._show_listing)
        self.relay.show_as("sns", "GetSubscriptionAttributes", self._show_attributes)

    def _show_listing(self, parsed: dict[str, Any]) -> None:
        for entry in parsed.get("Subscriptions", []):
            if entry.get("SubscriptionArn") == self.arn:
                entry["Protocol"], entry["Endpoint"] = "lambda", self.fn.arn

    def _show_attributes(self, parsed: dict[str, Any]) -> None:
        attributes = parsed.get("Attributes", {})
        if attributes.get("SubscriptionArn") != self.arn:
            return
        attributes["Protocol"], attributes["Endpoint"] = "lambda", self.fn.arn
        attributes.pop("RawMessageDelivery", None)  # AWS shows it for sqs and http(s) subscriptions only
        for key in ("FilterPolicy", "FilterPolicyScope", "RedrivePolicy"):
            attributes.pop(key, None)
        if self.filter_policy is not None:
            attributes["FilterPolicy"] = json.dumps(self.filter_policy)
            attributes["FilterPolicyScope"] = self.filter_policy_scope
        if self.dead_letter_arn:
            attributes["RedrivePolicy"] = self.redrive_policy()

    # --- the Source protocol --------------------------------------------------------------------------
    def pending(self) -> bool:
        """True while a delivery is scheduled, SNS will retry one, or the relay holds notifications."""
        if self._stopped:
            return False
        if self._poll_task is not None or self._taken or self._retrying:
            return True
        if self.relay.filled_since_last_look():
            self._schedule_poll()
            return True
        return False

    def stop(self) -> None:
        """Stop delivering (the lab calls this on close); the subscription stays in moto."""
        self._stopped = True
        for task in [self._poll_task, *(d.task for d in self._retrying.values())]:
            if task is not None:
                task.cancel()
        self._poll_task = None
        self.relay.stop()

    def unsubscribe(self) -> None:
        """Unsubscribe (through the lab's client): stop, and end what SNS was still retrying as dropped."""
        for delivery in list(self._retrying.values()):
            self._end(delivery, L.DROPPED, "subscription deleted while SNS was retrying the delivery")
        self.stop()
        _registry(self.lab).subscriptions.pop(self.arn, None)
        if self in self.lab.sources:
            self.lab.sources.remove(self)

    # --- reading the relay --------------------------------------------------------------------------
    def published(self, count: int) -> None:
        """The lab's client published ``count`` messages to the topic: deliver them."""
        if self._stopped:
            return
        before, self._since_poll = self._since_poll, self._since_poll + count
        if self._since_poll // DRAIN_EVERY > before // DRAIN_EVERY:
            self._taken.extend(self.relay.drain())
        self._schedule_poll()

    def _schedule_poll(self) -> None:
        if self._poll_task is None and not self._stopped:
            self._poll_task = self.lab.scheduler.after(DELIVERY_DELAY_S, self._run_poll, f"sns {self.fn.name}")

    def _run_poll(self) -> None:
        self._poll_task = None
        self._since_poll = 0
        notifications, self._taken = self._taken + self.relay.drain(), []
        for notification in notifications:
            self._accept(notification)

    def _accept(self, notification: dict[str, Any]) -> None:
        message_id = notification["MessageId"]
        entry = self.lab.ledger.accept(SOURCE, message_id, self.fn.name)
        filtered_out = self._filtered_out(notification)
        if filtered_out is not None:
            self.filtered.append(message_id)
            self.lab.ledger.end(entry, L.DROPPED, filtered_out, LAYER)
            return
        rec = sns_events.record(notification, self.arn, signature_seed=f"{self.lab.seed}/{message_id}/{self.arn}")
        depth = _registry(self.lab).depths.get(message_id, 0)
        self._hand_off(Delivery(message_id, rec, entry, depth))

    def _filtered_out(self, notification: dict[str, Any]) -> str | None:
        """None if SNS delivers the message to this subscription; else why not (the ledger's ``where``)."""
        if self.filter_policy is None:
            return None
        from .. import filter_policy

        return filter_policy.filtered_out_reason(self.filter_policy, notification.get("MessageAttributes") or {},
                                                 notification.get("Message", ""), self.filter_policy_scope)

    # --- SNS's side of the hand-off -------------------------------------------------------------------
    def _hand_off(self, d: Delivery) -> None:
        d.task = None
        d.attempts += 1
        event = sns_events.event([d.record])
        answer = hand_off(self.lab, self.fn.name, event, source=SOURCE, entry=d.entry, depth=d.depth + 1,
                          items=(d.message_id,))
        d.last = answer
        self.handoffs.append((round(self.lab.clock.elapsed(), 6), d.message_id, answer))
        if answer.accepted:
            self._retrying.pop(d.message_id, None)
            self.delivered.append(event)
            return
        delay = SNS_MANAGED.delay_s(d.attempts, self.rng) if answer.retryable else None
        if delay is None:
            self._give_up(d)
            return
        self._retrying[d.message_id] = d
        d.task = self.lab.scheduler.after(delay, lambda: self._hand_off(d), f"sns {self.fn.name} retry")

    def _give_up(self, d: Delivery) -> None:
        self._retrying.pop(d.message_id, None)
        answer = d.last
        kind = "server-side" if answer.retryable else "client-side"
        reason = (f"{answer.error_code}: {answer.error_message} ({kind} error, {d.attempts} delivery "
                  f"attempt{'s' if d.attempts != 1 else ''})")
        if not self.dead_letter_arn:
            self._end(d, L.DROPPED, f"{reason}; no subscription dead-letter queue: message discarded")
            return
        result = send(self.lab, self.dead_letter_arn, sns_events.envelope(d.record), function=self.fn.name,
                      purpose=DEAD_LETTER, depth=d.depth)
        if result.ok:
            self._end(d, L.DEAD_LETTER, result.target)
        else:
            self._end(d, L.DROPPED, f"{reason}; dead-letter write failed ({result.target}: {result.error})")

    def _end(self, d: Delivery, ending: str, where: str) -> None:
        self._retrying.pop(d.message_id, None)
        if d.task is not None:
            d.task.cancel()
            d.task = None
        self.lab.ledger.end(d.entry, ending, where, LAYER)

    def __repr__(self) -> str:
        extra = f", filter_policy={self.filter_policy!r}" if self.filter_policy is not None else ""
        dlq = f", dead_letter_arn={self.dead_letter_arn!r}" if self.dead_letter_arn else ""
        return f"SnsSubscription({self.topic_arn!r} -> {self.fn.name!r}{extra}{dlq})"


def _share_moto_signing_key() -> None:
    """Make in-process moto sign with one RSA key for every subscription.

    moto draws a fresh 2048-bit key for each subscription on its first publish (about 0.1 s of
    CPU each) to sign the envelopes it sends to SQS subscribers, the lab's relays among them.
    The lab rebuilds Lambda's event with its own stand-in signature, and moto's keys are random
    anyway, so one key per process changes nothing a learner sees but the time.
    """
    from moto.sns import models
    from cryptography.hazmat.primitives.asymmetric import rsa

    if getattr(models.Subscription.private_key, "shared_by_lab", False):
        return

    @functools.lru_cache(maxsize=1)
    def shared_key() -> Any:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def private_key(self: Any) -> Any:
        return shared_key()

    private_key.shared_by_lab = True  # type: ignore[attr-defined]
    models.Subscription.private_key = private_key


def _check_scope(scope: Any) -> str:
    """The scope as SNS takes it (None: MessageAttributes); else SNS's refusal (``filter_policy.check_scope``)."""
    from .. import filter_policy

    return filter_policy.check_scope(scope)


def _check_policy(policy: Any, scope: str) -> dict[str, Any] | None:
    """The policy as a dict, validated as SNS validates it (``filter_policy.validate``); None for none.

    ``""`` removes a policy, as SetSubscriptionAttributes does; ``{}`` lets every message through.
    """
    if policy is None or policy == "":
        return None
    from .. import filter_policy

    checked = filter_policy.validate(policy, scope)
    return checked or None
