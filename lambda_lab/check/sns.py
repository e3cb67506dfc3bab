"""Exercise checks for chapter 03_sns.

Each check sets up its own scenario in the learner's lab, with fresh names and orders whose ids
are drawn at random, so only behaviour passes, never a typed-in value:

- ``unwrapped_orders``: a queue subscribed to a topic feeds the learner's handler through an SQS
  event source mapping; the handler must return the orders the publisher sent.
- ``nothing_lost``: publishes good and failing orders to the learner's topic, and one while the
  function is missing (a client-side error SNS does not retry); every one must end processed or
  in a queue someone can read.
- ``filter_policy``: subscribes a recording function with the learner's filter policy and scope
  and publishes a fixed mix of messages; exactly the wanted ones must arrive.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any, Callable

from . import Verdict, fresh_name, report, short
from .. import ledger as L
from ..errors import LabError

if TYPE_CHECKING:
    from ..lab import Lab

Handler = Callable[[Any, Any], Any]

EX1 = "Exercise 1 (unwrap the envelope)"
EX2 = "Exercise 2 (two dead-letter queues)"
EX3 = "Exercise 3 (a filter policy that keeps what you want)"


def _orders(count: int) -> list[dict]:
    return [{"order_id": f"o-{secrets.token_hex(4)}", "amount": 10 * (n + 1)} for n in range(count)]


# --------------------------------------------------------------------------- Exercise 1
def unwrapped_orders(lab: "Lab", handler: Handler) -> Verdict:
    """Exercise 1: SNS → SQS (no raw delivery) → Lambda; ``handler`` returns the batch's orders as dicts, in order."""
    if not callable(handler):
        return report(EX1, [f"expected a function handler(event, context), got {short(handler)}"])
    name = fresh_name(lab, "ex1-check")
    sns, sqs = lab.client("sns"), lab.client("sqs")
    topic = sns.create_topic(Name=name)["TopicArn"]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=lab.arn("sqs", name))
    fn = lab.function(name, handler, timeout_s=5)
    mapping = lab.sqs_trigger(url, fn, batch_size=10)
    orders = _orders(3)
    for order in orders:
        sns.publish(TopicArn=topic, Message=json.dumps(order), Subject="new order",
                    MessageAttributes={"channel": {"DataType": "String", "StringValue": "web"}})
    lab.run(1)
    mapping.disable()
    problems: list[str] = []
    runs = [inv for inv in lab.log if inv.function == name and inv.outcome != "dropped"]
    got: list[Any] = []
    for inv in runs:
        if inv.outcome != "success":
            hint = ""
            if inv.error_type == "KeyError" and "Sns" in str(inv.error_message):
                hint = (" (an SQS event has Records[].body, not Records[].Sns: the body is the SNS envelope, "
                        "a JSON string)")
            problems.append(f"the handler raised {inv.error_type}: {inv.error_message}{hint}")
            continue
        result = inv.result
        if not isinstance(result, list):
            problems.append(f"return a list of orders (one per record), got {short(result)}")
            continue
        got.extend(result)
    if not problems:
        if got == orders:
            return report(EX1, [])
        first = got[0] if got else None
        if isinstance(first, dict) and "Message" in first and "TopicArn" in first:
            problems.append("that is the SNS envelope (json.loads of the body); the order is its 'Message', "
                            "another JSON string")
        elif isinstance(first, str):
            problems.append(f"got a string ({short(first)}): parse it with json.loads to get the order dict")
        elif len(got) < len(orders) and all(o in orders for o in got):
            problems.append(f"got {len(got)} of {len(orders)} orders: a batch holds several records, "
                            f"return one order per record")
        else:
            problems.append(f"expected the published orders {short(orders)}, got {short(got)}")
    if not runs:
        problems.append("the handler was never invoked")
    return report(EX1, problems)


# --------------------------------------------------------------------------- Exercise 2
#: What the chapter's ``fragile`` handler refuses: an amount of zero or less.
EX2_FAILING_AMOUNT = -5


def _subscriptions(lab: "Lab", topic_arn: str, function: str) -> list[Any]:
    from ..sources.sns import SnsSubscription

    return [s for s in lab.sources if isinstance(s, SnsSubscription) and s.topic_arn == topic_arn
            and s.fn.name == function and not s._stopped]


def nothing_lost(lab: "Lab", topic_arn: str, function: str = "ex2") -> Verdict:
    """Exercise 2: every message ends processed or in a queue, whichever layer gives up on it.

    Publishes two good orders and two the function fails on, then one while the function is
    missing (as after DeleteFunction: a client-side error), and reads where each ended.
    """
    subs = _subscriptions(lab, topic_arn, function)
    if not subs:
        return report(EX2, [f"no lab.sns_trigger subscribes {function!r} to {topic_arn.rsplit(':', 1)[-1]!r}"])
    fn = lab.runtime.functions.get(function)
    if fn is None:
        return report(EX2, [f"there is no function {function!r} in the lab"])
    sns = lab.client("sns")
    published: dict[str, str] = {}
    for amount in (10, EX2_FAILING_AMOUNT, 20, EX2_FAILING_AMOUNT):
        body = json.dumps({"order_id": f"o-{secrets.token_hex(4)}", "amount": amount})
        published[sns.publish(TopicArn=topic_arn, Message=body)["MessageId"]] = "fails" if amount <= 0 else "good"
    lab.run_until_idle()
    lab.runtime.functions.pop(function)  # what DeleteFunction does: the hand-off gets 404
    try:
        body = json.dumps({"order_id": f"o-{secrets.token_hex(4)}", "amount": 30})
        published[sns.publish(TopicArn=topic_arn, Message=body)["MessageId"]] = "missing"
        lab.run(1)
    finally:
        lab.runtime.register(fn)
    lab.run_until_idle()
    rows = lab.outcomes(function, source="sns")
    rows = rows[rows["item"].isin(list(published))]
    problems: list[str] = []
    queues = set(lab.client("sqs").list_queues().get("QueueUrls", []))
    queue_names = {url.rsplit("/", 1)[-1] for url in queues}
    for row in rows.itertuples():
        kind = published[row.item]
        if row.ending == L.PROCESSED:
            continue
        if row.ending in (L.DEAD_LETTER, L.DESTINATION) and str(row.where).split(" ")[0] in queue_names:
            continue
        if kind == "fails":
            problems.append(f"an order the function fails on ended {row.ending!r} ({row.where}): Lambda retried it, "
                            f"then had nowhere to put it. That is the function's job: give the function an "
                            f"on_failure destination or a dead_letter_arn (an SQS queue)")
        elif kind == "missing":
            problems.append(f"a message SNS could not hand to Lambda (function missing) ended {row.ending!r} "
                            f"({str(row.where)[:90]}...): give the subscription a dead-letter queue "
                            f"(dead_letter_arn on lab.sns_trigger)")
        else:
            problems.append(f"a good order ended {row.ending!r} ({row.where})")
    missing = set(published) - set(rows["item"])
    if missing:
        problems.append(f"{len(missing)} published message(s) never reached {function!r}; is the subscription "
                        f"filtering them out?")
    return report(EX2, sorted(set(problems)))


# --------------------------------------------------------------------------- Exercise 3
#: (message body, should it arrive?) for the exercise: orders of 100 or more, type exactly "order".
EX3_MESSAGES = (
    ({"type": "order", "amount": 150, "country": "DE"}, True),
    ({"type": "order", "amount": 100, "country": "FR"}, True),
    ({"type": "order", "amount": 2500.5, "country": "DE"}, True),
    ({"type": "order", "amount": 99.5, "country": "DE"}, False),
    ({"type": "refund", "amount": 500, "country": "DE"}, False),
    ({"type": "order", "amount": 12, "country": "FR"}, False),
    ({"type": "order-test", "amount": 300, "country": "DE"}, False),
)


def filter_policy(lab: "Lab", policy: Any, scope: Any = "MessageAttributes") -> Verdict:
    """Exercise 3: with ``policy`` and ``scope``, a subscriber gets exactly the orders of 100 or more."""
    if policy is None or policy == {} or policy == "":
        return report(EX3, ["with no filter policy (or {}) every message arrives: write one"])
    name = fresh_name(lab, "ex3-check")
    sns = lab.client("sns")
    topic = sns.create_topic(Name=name)["TopicArn"]
    got: list[str] = []
    fn = lab.function(name, lambda event, context: got.append(event["Records"][0]["Sns"]["Message"]))
    try:
        lab.sns_trigger(topic, fn, filter_policy=policy, filter_policy_scope=scope)
    except (LabError, ValueError, TypeError) as exc:
        return report(EX3, [f"SNS refuses that subscription: {type(exc).__name__}: {exc}"])
    bodies = []
    for body, _ in EX3_MESSAGES:
        text = json.dumps({**body, "order_id": f"o-{secrets.token_hex(4)}"})
        bodies.append(text)
        sns.publish(TopicArn=topic, Message=text,
                    MessageAttributes={"channel": {"DataType": "String", "StringValue": "web"}})
    lab.run_until_idle()
    arrived = set(got)
    problems = []
    if not arrived:
        hint = (" The fields are in the message body; a policy applies to the message attributes unless its scope "
                "is MessageBody." if scope in (None, "MessageAttributes") else "")
        problems.append(f"no message arrived: the policy drops everything.{hint}")
    else:
        for text, (body, keep) in zip(bodies, EX3_MESSAGES):
            if keep and text not in arrived:
                problems.append(f"{_describe(body)} was filtered out, but should arrive")
            elif not keep and text in arrived:
                problems.append(f"{_describe(body)} arrived, but should be filtered out")
    return report(EX3, problems)


def _describe(body: dict) -> str:
    return f"a {body['type']!r} of {body['amount']}"
