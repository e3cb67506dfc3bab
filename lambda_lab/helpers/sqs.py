"""Chapter helpers for SQS: send many messages, count and read what a queue holds, redrive a DLQ.

Each call goes through ``lab.client("sqs")``, so an SQS mapping on the queue sees the sends at
once, as a long poll would.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..sources.sqs import COUNT_ATTRIBUTES, RECEIVE_MAX, is_fifo, queue_attributes, receive

if TYPE_CHECKING:
    from ..lab import Lab


def send_all(
    lab: "Lab", queue_url: str, bodies: Iterable[str], group_id: str | Callable[[str], str] | None = None,
) -> list[str]:
    """Send ``bodies`` in order (SendMessageBatch, 10 at a time); return the message ids.

    For a FIFO queue pass ``group_id`` (or a callable body -> group id); each
    message gets a deduplication id from its position so equal bodies are kept.
    """
    sqs = lab.client("sqs")
    fifo = is_fifo(queue_url)
    ids: list[str] = []
    items = list(bodies)
    for start in range(0, len(items), RECEIVE_MAX):
        entries = []
        for n, body in enumerate(items[start:start + RECEIVE_MAX]):
            entry: dict[str, Any] = {"Id": str(n), "MessageBody": body}
            if fifo:
                entry["MessageGroupId"] = group_id(body) if callable(group_id) else (group_id or "default")
                entry["MessageDeduplicationId"] = f"{start + n}-{hashlib.sha256(body.encode()).hexdigest()[:32]}"
            entries.append(entry)
        resp = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        by_id = {e["Id"]: e["MessageId"] for e in resp.get("Successful", [])}
        ids.extend(by_id[str(n)] for n in range(len(entries)) if str(n) in by_id)
    return ids


def queue_counts(lab: "Lab", queue_url: str) -> dict[str, int]:
    """Visible, in-flight and delayed message counts of a queue (GetQueueAttributes)."""
    attrs = queue_attributes(lab.client("sqs"), queue_url)
    return {state: int(attrs[name]) for state, name in COUNT_ATTRIBUTES.items()}


def receive_all(lab: "Lab", queue_url: str) -> list[dict]:
    """Every visible message in a queue (bodies and attributes), leaving them in flight.

    For looking inside a dead-letter queue in a chapter; the messages become
    visible again after the queue's visibility timeout.
    """
    sqs = lab.client("sqs")
    out: list[dict] = []
    while True:
        messages = receive(sqs, queue_url, RECEIVE_MAX)
        if not messages:
            return out
        out.extend(messages)


def redrive(lab: "Lab", dlq_url: str, source_url: str, max_messages: int | None = None) -> int:
    """Move messages from a dead-letter queue back to ``source_url``; return how many moved.

    A stand-in for SQS's StartMessageMoveTask, which moto lacks. Each message is
    sent again with its body and message attributes (and, for FIFO, its group and
    a fresh deduplication id, so the 5-minute dedup window cannot swallow it),
    then deleted from the dead-letter queue. The moved copy gets a new message id
    and starts again at ApproximateReceiveCount 1.
    """
    sqs = lab.client("sqs")
    fifo = is_fifo(source_url)
    moved = 0
    while max_messages is None or moved < max_messages:
        want = RECEIVE_MAX if max_messages is None else min(RECEIVE_MAX, max_messages - moved)
        messages = receive(sqs, dlq_url, want)
        if not messages:
            break
        for m in messages:
            sqs.send_message(**_resend_params(source_url, m, fifo))
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
            moved += 1
    return moved


def _resend_params(source_url: str, message: dict, fifo: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"QueueUrl": source_url, "MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        params["MessageAttributes"] = message["MessageAttributes"]
    if fifo:
        params["MessageGroupId"] = message["Attributes"]["MessageGroupId"]
        params["MessageDeduplicationId"] = hashlib.sha256(message["MessageId"].encode()).hexdigest()
    return params
