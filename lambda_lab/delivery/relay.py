"""The relay: how events reach the lab from services that moto cannot hand to Lambda.

The decision, once for every push source (S3 and SNS now; EventBridge next):

- moto holds a real, working wiring to a hidden SQS queue, ``lambda-lab-<kind>-<id>``,
  instead of the Lambda wiring: a ``QueueConfiguration`` for S3, an ``sqs``
  subscription for SNS, an SQS target for EventBridge. moto's own paths to Lambda are
  never used: S3's and SNS's try Docker, SNS applies moto's filter policy (wrong for
  several operators; ``$or`` in body scope makes Publish raise), and one Lambda or SNS
  target makes every matching ``put_events`` raise NotImplementedError
  (reference/moto-audit.md §4, §6, §8).
- The lab drains the queue, rebuilds the event AWS would send, applies the source's
  own rules (filters, retries, dead-letter queues) and hands each item on.
- What the lab's clients list is rewritten to what AWS would show: an
  ``after-call`` hook on ``lab.client(service)`` replaces the relay entry with the
  Lambda one (``show_as``). Clients made outside the lab (``boto3.client(...)``)
  are not covered: they see the hidden queue, and calls they make that would create a
  Lambda wiring reach moto unchanged.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..lab import Lab

#: A ReceiveMessage returns at most 10 messages.
RECEIVE_MAX = 10
_HOOK_IDS = itertools.count()


class Relay:
    """A hidden SQS queue that a moto service fills and the lab drains."""

    def __init__(self, lab: "Lab", kind: str, ident: str):
        """``kind`` names the source (``s3``, ``sns``, ``events``); ``ident`` its configuration."""
        self.lab = lab
        self.name = relay_queue_name(kind, ident)
        sqs = lab.client("sqs")
        self.url = sqs.create_queue(QueueName=self.name)["QueueUrl"]
        self.arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self._hooks: list[tuple[str, str, str]] = []  # (service, event, unique id)
        self._looked_at: float | None = None

    def drain(self) -> list[Any]:
        """Every message body in the queue, in order, JSON-decoded; the queue is left empty."""
        bodies: list[Any] = []
        while got := self.receive():
            bodies.extend(got)
        return bodies

    def receive(self) -> list[Any]:
        """Up to 10 bodies, deleted at once: Lambda accepts an event as soon as it has it."""
        sqs = self.lab.client("sqs")
        got = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=RECEIVE_MAX,
                                  WaitTimeSeconds=0).get("Messages", [])
        if got:
            sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
        return [json.loads(m["Body"]) for m in got]

    def waiting(self) -> int:
        """Messages in the queue now (ApproximateNumberOfMessages)."""
        attrs = self.lab.client("sqs").get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"])

    def filled_since_last_look(self) -> bool:
        """Whether the queue holds messages, asked at most once per virtual instant.

        For a source's ``pending``: messages written through another client (or straight to
        moto) are found at the next instant the lab looks, without a GetQueueAttributes on every
        one of the scheduler's checks at the same instant.
        """
        now = self.lab.clock.now()
        if self._looked_at == now:
            return False
        self._looked_at = now
        return bool(self.waiting())

    def show_as(self, service: str, operation: str, rewrite: Callable[[dict[str, Any]], None]) -> None:
        """Let ``rewrite(parsed)`` edit the lab client's answers to ``operation`` in place.

        For list calls, so ``lab.client("sns").list_subscriptions_by_topic(...)`` shows the
        Lambda subscription AWS would hold rather than the relay queue.
        """
        hook_id = f"lambda-lab-relay-{next(_HOOK_IDS)}"

        def after(parsed: dict[str, Any], **_: Any) -> None:
            if not parsed.get("Error"):
                rewrite(parsed)

        event = f"after-call.{service}.{operation}"
        self.lab.client(service).meta.events.register(event, after, unique_id=hook_id)
        self._hooks.append((service, event, hook_id))

    def stop(self) -> None:
        """Remove the listing hooks (the queue stays, as the service's wiring does)."""
        for service, event, hook_id in self._hooks:
            self.lab.client(service).meta.events.unregister(event, unique_id=hook_id)
        self._hooks.clear()


def relay_queue_name(kind: str, ident: str) -> str:
    """``lambda-lab-<kind>-<ident>``, cut to SQS's 80-character name limit."""
    return (f"lambda-lab-{kind}-" + re.sub(r"[^A-Za-z0-9_-]", "-", ident))[:80]

