"""Exercise checks for chapter 06_eventbridge.

Each check sets up its own scenario in the learner's lab, with fresh names and orders whose ids,
amounts and addresses are drawn at random, so only behaviour passes, never a typed-in value. The
orders are ``OrderPlaced`` events from ``shop.orders`` whose ``detail`` looks like
``{"order_id": "o-1a2b3c4d", "amount": 150, "country": "DE", "email": "ann@shopper.net"}``.

- ``pattern``: a fresh bus and rule with the learner's event pattern and a recording Lambda
  target; puts wanted orders and near misses (:data:`EX1_RULE`) and compares what arrived.
- ``nothing_lost``: puts good and failing orders on the chapter's rule, some whose hand-off
  Lambda refuses (injected server errors, until the target's retry policy runs out) and one while
  the function is missing; every (event, target) row must end processed, or in the right one of
  the chapter's two queues, and the queue must hold it.
- ``transformer``: a fresh rule with an SQS target and a Lambda target, both with the learner's
  ``InputTransformer``; each must receive :data:`EX3_SHAPE` for every order put.

What the hints rest on: exact matching is case-sensitive, a pattern condition on a field the event
lacks never matches except ``{"exists": false}``, ``anything-but`` with a plain string excludes
that one value (``{"anything-but": {"suffix": ...}}`` excludes a suffix)
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html);
EventBridge retries the hand-off only, then the target's dead-letter queue; once Lambda accepted
the event a function error is Lambda's business (its on-failure destination or DLQ)
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html); in a JSON input
template a placeholder inside quotes becomes text, one outside quotes keeps its JSON type (a
string gets quotes), and a path that matches nothing gives an empty value
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html).
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from typing import TYPE_CHECKING, Any

from . import Problems, Verdict, fresh_name, report, short
from .. import ledger as L
from ..errors import LabError

if TYPE_CHECKING:
    from ..lab import Lab

EX1 = "Exercise 1 (an event pattern for the orders you want)"
EX2 = "Exercise 2 (no event lost, whichever layer gives up)"
EX3 = "Exercise 3 (an input transformer)"

SOURCE = "shop.orders"
DETAIL_TYPE = "OrderPlaced"


def _order_id() -> str:
    return f"o-{secrets.token_hex(4)}"


def _email(domain: str | None = None) -> str:
    domain = domain or secrets.choice(("shopper.net", "mail.test", "post.eu"))
    return f"{secrets.choice(('ann', 'bo', 'chen', 'dora', 'emil'))}-{secrets.token_hex(2)}@{domain}"


def _amount() -> float | int:
    """An amount well above 100: a whole number or one with cents."""
    whole = 101 + secrets.randbelow(899)
    return whole if secrets.randbelow(2) else whole + (1 + secrets.randbelow(99)) / 100


def _entry(bus: str, detail: dict[str, Any], source: str = SOURCE, detail_type: str = DETAIL_TYPE) -> dict[str, Any]:
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": bus}


def _put(lab: "Lab", entries: list[dict[str, Any]]) -> list[str | None]:
    """Put ``entries`` (10 at a time); the event id of each, None for an entry PutEvents refused."""
    events = lab.client("events")
    ids: list[str | None] = []
    for start in range(0, len(entries), 10):
        answer = events.put_events(Entries=entries[start:start + 10])
        ids.extend(e.get("EventId") for e in answer["Entries"])
    return ids


def _client_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return ClientError, BotoCoreError, LabError, ValueError, TypeError


def _error_text(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        info = response["Error"]
        return f"{info.get('Code')}: {info.get('Message')}"
    return f"{type(error).__name__}: {error}"


# --------------------------------------------------------------------------- Exercise 1
#: The rule of Exercise 1, as the exercise states it.
EX1_RULE = ('OrderPlaced events from shop.orders whose detail.country is exactly "DE", "FR", "IT" or "ES", whose '
            'detail.amount is 100 or more, that are not test orders (detail.test is true; an order without a '
            '"test" field, or with "test": false, is a real one), and whose detail.email does not end in '
            '"@example.com"')

_TOP_LEVEL = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail", "$or")
_TEST_ABSENT_HINT = ('orders without a "test" field did not arrive: a condition on a field the event lacks never '
                     'matches, except {"exists": false}; a real order has "test": false or no "test" at all, so '
                     'allow both in the rule list for "test"')
_FALLBACK_KEY = "fallback"
_DROP = object()  # a field to leave out of the event


def _ex1_cases() -> list[tuple[str, bool, dict[str, Any], dict[str, str], str]]:
    """The check's events: (kind, should it arrive?, detail, envelope overrides, hint if it goes wrong).

    Wanted orders first (each field at a value the rule keeps), then one near miss per condition.
    """
    def order(country: str = "DE", **fields: Any) -> dict[str, Any]:
        return {"order_id": _order_id(), "amount": _amount(), "country": country, "email": _email(), **fields}

    return [
        ("DE", True, order("DE"), {}, ""),
        ("FR", True, order("FR", test=False), {}, ""),
        ("IT", True, order("IT"), {}, ""),
        ("ES", True, order("ES"), {}, ""),
        ("100", True, order(secrets.choice(("DE", "FR")), amount=100), {},
         'an order of exactly 100 did not arrive: "100 or more" includes 100, so {"numeric": [">=", 100]} '
         '(">" leaves 100 out)'),
        ("notexample", True, order("IT", email=_email("notexample.com")), {},
         'an order from an @notexample.com address did not arrive: it does not end in "@example.com" (the '
         'suffix starts with the "@")'),
        ("lower", False, order("de"), {},
         'an order from "de" (lower case) arrived: the exercise wants exactly "DE", "FR", "IT" and "ES". Exact '
         'matching is case-sensitive, so list the upper-case codes ("equals-ignore-case" would let "de" in)'),
        ("GB", False, order("GB"), {},
         'an order from "GB" arrived: only "DE", "FR", "IT" and "ES" should, so list exactly those four in '
         '"country"'),
        ("99.99", False, order("FR", amount=99.99), {},
         'an order of 99.99 arrived: the amount must be 100 or more, {"numeric": [">=", 100]}'),
        ("test", False, order("ES", test=True), {},
         'a test order ("test": true) arrived: leave out the orders whose "test" is true'),
        ("example", False, order("DE", email=_email("example.com")), {},
         'an order from an @example.com address arrived: exclude the ending with '
         '{"anything-but": {"suffix": "@example.com"}} ("anything-but" with a plain string excludes only that '
         'exact value)'),
        ("source", False, order("DE"), {"Source": "shop.returns"},
         'an event from the source "shop.returns" arrived: match "source": ["shop.orders"]'),
        ("detail-type", False, order("FR"), {"DetailType": "OrderCancelled"},
         'an "OrderCancelled" event arrived: match "detail-type": ["OrderPlaced"]'),
    ]


def _as_pattern(learner_pattern: Any) -> tuple[str | None, dict | None, str | None]:
    """(JSON text for PutRule, the pattern as a dict when it parses, a problem) for what the learner gave."""
    if isinstance(learner_pattern, str):
        try:
            parsed = json.loads(learner_pattern)
        except ValueError:
            parsed = None  # PutRule says why
        return learner_pattern, parsed if isinstance(parsed, dict) else None, None
    if isinstance(learner_pattern, dict):
        try:
            return json.dumps(learner_pattern), learner_pattern, None
        except (TypeError, ValueError) as error:
            return None, None, f"the pattern is not JSON ({error}): use dicts, lists, strings, numbers, True/False/None"
    return None, None, (f"expected an event pattern (a dict such as {{\"source\": [\"shop.orders\"], ...}}), got "
                        f"{short(learner_pattern)}")


def _ex1_refused_hint(error: BaseException) -> str:
    text = _error_text(error)
    hint = f"EventBridge refuses that pattern (PutRule answered {text})"
    if "must be an array" in text:
        hint += ('. Every value to match is a list, even a single one: "source": ["shop.orders"], not '
                 '"source": "shop.orders"')
    return hint


def _missing_hint(lab: "Lab", pattern: str, event: dict[str, Any], kind: str, own_hint: str) -> tuple[str, str]:
    """Why a wanted event did not arrive, as (key, hint): the first one-field change that makes it match."""
    detail = event["detail"]

    def matches_with(**changes: Any) -> bool:
        changed = {**detail, **changes}
        for name, value in changes.items():
            if value is _DROP:
                changed.pop(name)
        return lab.test_event_pattern(pattern, {**event, "detail": changed})

    if "test" not in detail and matches_with(test=False):
        return "test-absent", _TEST_ABSENT_HINT
    if detail.get("test") is False and matches_with(test=_DROP):
        return "test-false", ('an order with "test": false did not arrive: it is a real order; only "test": true '
                              'marks a test order')
    country = detail["country"]
    if matches_with(country=country.lower()):
        return "case", (f'an order from "{country}" did not arrive, but one from "{country.lower()}" would: exact '
                        f'matching is case-sensitive, and the events say "{country}" (upper case)')
    if country != "DE" and matches_with(country="DE"):
        return "country", (f'an order from "{country}" did not arrive: the four countries are "DE", "FR", "IT" '
                           f'and "ES"')
    if kind == "100" and matches_with(amount=100.5):
        return kind, own_hint
    if kind == "notexample" and matches_with(email=_email("shopper.net")):
        return kind, own_hint
    return _FALLBACK_KEY, ""


def pattern(lab: "Lab", learner_pattern: Any) -> Verdict:
    """Exercise 1: a rule with ``learner_pattern`` delivers exactly the orders of :data:`EX1_RULE`.

    Makes a fresh bus and rule with the pattern (a dict or its JSON) and a recording Lambda target,
    puts the wanted orders and one near miss per condition (:func:`_ex1_cases`, random ids, amounts
    and addresses), runs the lab and compares which event ids arrived.
    """
    text, parsed, problem = _as_pattern(learner_pattern)
    if problem:
        return report(EX1, [problem])
    name = fresh_name(lab, "ex1-pattern-check")
    events = lab.client("events")
    arrived: list[str] = []
    fn = lab.function(name, lambda event, context: arrived.append(event["id"]))
    events.create_event_bus(Name=name)
    rule_made = False
    try:
        try:
            events.put_rule(Name=name, EventBusName=name, EventPattern=text)
        except _client_errors() as error:
            return report(EX1, [_ex1_refused_hint(error)])
        rule_made = True
        events.put_targets(Rule=name, EventBusName=name, Targets=[{"Id": "record", "Arn": fn.arn}])
        cases = _ex1_cases()
        entries = [{**_entry(name, detail), **envelope} for _, _, detail, envelope, _ in cases]
        ids = _put(lab, entries)
        lab.run_until_idle()
        put_events = {event["id"]: event for _, bus, event in lab.eventbridge.events if bus == name}
    finally:
        if rule_made:
            events.remove_targets(Rule=name, EventBusName=name, Ids=["record"])
            events.delete_rule(Name=name, EventBusName=name)
        events.delete_event_bus(Name=name)
    got = set(arrived)
    problems = Problems()
    stray = [key for key in parsed if key not in _TOP_LEVEL] if isinstance(parsed, dict) else []
    if stray:
        problems.add(f"your pattern matches {', '.join(repr(k) for k in stray)} at the top level of the event, "
                     f"which has no such field: the order's fields are inside \"detail\", so nest them: "
                     f"{{\"detail\": {{\"country\": [...], \"amount\": [...], ...}}}}")
    for (kind, wanted, _, _, hint), event_id in zip(cases, ids):
        if not wanted and event_id in got:
            problems.add(hint, key=kind)
    fallback = 0
    for (kind, wanted, detail, _, hint), event_id in zip(cases, ids):
        if wanted and event_id not in got:
            key, why = _missing_hint(lab, text, put_events[event_id], kind, hint)
            if key == _FALLBACK_KEY:
                fallback += 1
                if fallback == 1:
                    example = detail
            else:
                problems.add(why, key=key)
    if fallback and not stray:  # fields outside detail explain it already
        wanted_count = sum(1 for case in cases if case[1])
        problems.add(f"{fallback} of the {wanted_count} orders that should arrive did not, for example one with "
                     f"detail {json.dumps(example)}: try your pattern on such an event with "
                     f"lab.test_event_pattern(pattern, event)", key=_FALLBACK_KEY)
    return report(EX1, problems.lines())


# --------------------------------------------------------------------------- Exercise 2
#: What the chapter's ``refuse_negative`` handler fails on: a negative amount.
EX2_FAILING_AMOUNT = -5
#: The longest the check waits, in virtual seconds, for EventBridge to give up on a hand-off.
EX2_WAIT_S = 3_600
#: A retry policy the check can wait out: at most this many retries, or at most EX2_WAIT_S of event age.
EX2_MAX_RETRIES = 10
_DEFAULT_RETRIES, _DEFAULT_AGE_S = 185, 86_400

_GOOD, _FAILS, _TRANSIENT, _EXHAUSTED, _MISSING = "good", "fails", "transient", "exhausted", "missing"
_HANDOFF_KINDS = {
    _TRANSIENT: "an order whose hand-off Lambda refused twice (a server error)",
    _EXHAUSTED: "an order whose hand-off Lambda refused until the target's retry policy ran out",
    _MISSING: "an order put while the function was missing (a client-side error EventBridge does not retry)",
}


def _take_faults(lab: "Lab", function: str) -> list[str]:
    """Remove and return the hand-off faults waiting for ``function``."""
    taken = []
    while (fault := lab.faults.take(function)) is not None:
        taken.append(fault)
    return taken


def _restore_faults(lab: "Lab", function: str, faults: list[str]) -> None:
    for fault, run in itertools.groupby(faults):
        lab.faults.fail_next(function, len(list(run)), error=fault)


def _queue_of(where: Any) -> str:
    """The queue (or other target) named first in a ledger row's ``where``."""
    return re.split(r"[\s,]+", str(where).strip(), maxsplit=1)[0]


def _event_ids_in(lab: "Lab", queue: str) -> set[str] | None:
    """The ids of the EventBridge events a queue holds (the event itself, a DLQ copy of it, or
    Lambda's invocation record of it); None when there is no such queue."""
    from botocore.exceptions import ClientError

    from ..helpers.sqs import receive_all

    try:
        url = lab.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
    except ClientError:
        return None
    ids = set()
    for message in receive_all(lab, url):
        try:
            body = json.loads(message["Body"])
        except ValueError:
            continue
        if isinstance(body, dict) and isinstance(body.get("requestPayload"), dict):
            body = body["requestPayload"]
        if isinstance(body, dict) and "id" in body:
            ids.add(str(body["id"]))
    return ids


def _ex2_target(lab: "Lab", rule: str, bus: str, function: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The rule's target for ``function``, or the problems that stop the check."""
    from ..delivery.send import parse_arn

    events = lab.client("events")
    try:
        described = events.describe_rule(Name=rule, EventBusName=bus)
        targets = events.list_targets_by_rule(Rule=rule, EventBusName=bus).get("Targets", [])
    except _client_errors() as error:
        return None, [f"there is no rule {rule!r} on the bus {bus!r} ({_error_text(error)}): run the exercise's "
                      f"set-up cell"]
    problems = []
    if described.get("State") != "ENABLED":
        problems.append(f"the rule {rule!r} is {described.get('State')}: a disabled rule sends nothing "
                        f"(events.enable_rule(Name={rule!r}, EventBusName={bus!r}))")
    mine = []
    for target in targets:
        try:
            if parse_arn(target["Arn"]) == ("lambda", function):
                mine.append(target)
        except LabError:
            continue
    if not mine:
        problems.append(f"the rule {rule!r} has no target for the function {function!r}: keep it "
                        f"(put_targets with the same Id changes a target; remove_targets removes it)")
    elif len(mine) > 1:
        ids = ", ".join(repr(t["Id"]) for t in mine)
        problems.append(f"the rule {rule!r} has {len(mine)} targets for {function!r} (Ids {ids}), so every event "
                        f"is delivered {len(mine)} times: put_targets with the Id of an existing target replaces "
                        f"it, a new Id adds another target. Remove the extra ones with remove_targets")
    return (mine[0] if len(mine) == 1 else None), problems


def _short_policy(target: dict[str, Any]) -> bool:
    policy = target.get("RetryPolicy") or {}
    return (policy.get("MaximumRetryAttempts", _DEFAULT_RETRIES) <= EX2_MAX_RETRIES
            or policy.get("MaximumEventAgeInSeconds", _DEFAULT_AGE_S) <= EX2_WAIT_S)


def nothing_lost(lab: "Lab", rule: str = "ex2-orders", bus: str = "ex2", function: str = "ex2", *,
                 target_dlq: str | None = None, function_queue: str | None = None) -> Verdict:
    """Exercise 2: every (event, target) row of ``rule``'s target ``function`` ends processed or in a queue.

    ``target_dlq`` (default ``<function>-target-dlq``) must receive what EventBridge gave up on (the
    target's ``DeadLetterConfig``), ``function_queue`` (default ``<function>-function-failed``) what
    Lambda gave up on (the function's ``on_failure`` or ``dead_letter_arn``). Puts two good orders
    and two the function fails on, one whose hand-off fails twice (``lab.faults.fail_next``, server
    errors), one whose hand-off fails until the target's retry policy runs out (only when that
    policy ends within :data:`EX2_WAIT_S`), and one while the function is missing; then reads the
    ledger and the two queues.
    """
    for label, value in (("rule", rule), ("bus", bus), ("function", function)):
        if not isinstance(value, str) or not value:
            return report(EX2, [f"the {label} is a name (a non-empty string), got {short(value)}"])
    target_dlq = target_dlq or f"{function}-target-dlq"
    function_queue = function_queue or f"{function}-function-failed"
    fn = lab.runtime.functions.get(function)
    if fn is None:
        return report(EX2, [f"there is no function {function!r} in the lab: run the exercise's set-up cell"])
    target, problems = _ex2_target(lab, rule, bus, function)
    if target is None:
        return report(EX2, problems)
    quick = _short_policy(target)
    if not quick:
        problems.append(f"give the target a short RetryPolicy (MaximumRetryAttempts <= {EX2_MAX_RETRIES} or "
                        f"MaximumEventAgeInSeconds <= {EX2_WAIT_S}): the check waits at most an hour of virtual "
                        f"time for EventBridge to give up on a hand-off, and by default it retries 185 times over "
                        f"24 hours")
    put: dict[str, str] = {}  # event id -> kind

    def put_order(kind: str, amount: float) -> None:
        [event_id] = _put(lab, [_entry(bus, {"order_id": _order_id(), "amount": amount})])
        if event_id is not None:
            put[event_id] = kind

    saved = _take_faults(lab, function)  # the learner's own injected faults would upset the scenario
    try:
        for kind, amount in ((_GOOD, 10 + secrets.randbelow(90)), (_FAILS, EX2_FAILING_AMOUNT),
                             (_GOOD, 100 + secrets.randbelow(900)), (_FAILS, EX2_FAILING_AMOUNT)):
            put_order(kind, amount)
        lab.run_until_idle(max_s=2 * EX2_WAIT_S)
        lab.faults.fail_next(function, 2, error="server")
        put_order(_TRANSIENT, 20 + secrets.randbelow(80))
        lab.run_until_idle(max_s=2 * EX2_WAIT_S)
        _take_faults(lab, function)  # left over when the policy allowed fewer than two retries
        if quick:
            lab.faults.fail_next(function, 4 * _DEFAULT_RETRIES, error="server")
            put_order(_EXHAUSTED, 20 + secrets.randbelow(80))
            lab.run_until_idle(max_s=2 * EX2_WAIT_S)
            _take_faults(lab, function)
        lab.runtime.functions.pop(function)  # what DeleteFunction does: the hand-off gets 404
        try:
            put_order(_MISSING, 30 + secrets.randbelow(70))
            lab.run(1)
        finally:
            lab.runtime.register(fn)
        lab.run_until_idle(max_s=2 * EX2_WAIT_S)
    finally:
        _take_faults(lab, function)
        _restore_faults(lab, function, saved)
    rows = lab.outcomes(function, source="eventbridge")
    rows = rows[rows["item"].isin(list(put))]
    config = lab.async_queue.config_for(fn)
    function_sinks = [arn for arn in (config.on_failure, config.dead_letter_arn) if arn]
    target_dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
    in_queue: dict[str, set[str] | None] = {}
    hints = Problems()
    for row in rows.itertuples():
        kind = put[row.item]
        if row.ending == L.PENDING:
            continue  # counted below
        if row.ending == L.PROCESSED:
            if kind == _FAILS:
                hints.add(f"an order the function fails on ended processed ({row.where}): keep the chapter's "
                          f"refuse_negative handler", key="processed")
            continue
        queue = _queue_of(row.where) if row.ending in (L.DEAD_LETTER, L.DESTINATION) else None
        if queue is not None and queue not in in_queue:
            in_queue[queue] = _event_ids_in(lab, queue)
        if queue is not None and in_queue[queue] is not None and row.item not in in_queue[queue]:
            hints.add(f"an event the lab put in {queue} is not there any more: is something reading that queue? "
                      f"Leave both queues for the check to read", key="consumed")
        if kind == _GOOD:
            hints.add(f"a good order ended {row.ending!r} ({row.where}): the function should process it; keep the "
                      f"chapter's refuse_negative handler", key="good")
        elif kind == _FAILS:
            _fails_hint(hints, row, queue, target_dlq, function_queue)
        else:
            _handoff_hint(hints, row, kind, queue, target_dlq, function_queue, target_dead_letter, function_sinks)
    missing = set(put) - set(rows["item"])
    if missing:
        hints.add(f"{len(missing)} of the check's {len(put)} orders never reached {function!r}: does the rule's "
                  f"pattern still match source {SOURCE!r} and detail-type {DETAIL_TYPE!r}?")
    pending = rows[rows["ending"] == L.PENDING]
    if len(pending):
        hints.add(f"{len(pending)} order(s) were still in flight after two hours of virtual time: shorten the "
                  f"function's retries (maximum_retry_attempts, maximum_event_age_s)")
    return report(EX2, problems + hints.lines())


def _fails_hint(hints: Problems, row: Any, queue: str | None, target_dlq: str, function_queue: str) -> None:
    """A function error must end in the function's queue (Lambda's layer)."""
    if queue == function_queue:
        return
    if queue == target_dlq:
        hints.add(f"an order the function fails on ended in {target_dlq}, sent there by Lambda (the function's "
                  f"on_failure or dead_letter_arn): that queue is the target's, for what EventBridge could not "
                  f"hand off. Send the function's failures to {function_queue}", key="fails-wrong-queue")
    elif queue is not None:
        hints.add(f"an order the function fails on ended in {queue}: send the function's failures to "
                  f"{function_queue} (on_failure or dead_letter_arn on lab.function)", key="fails-other")
    else:
        hints.add(f"an order the function fails on ended {row.ending!r} ({row.where}): Lambda accepted it, "
                  f"retried it and then had nowhere to put it. Once Lambda accepted the event EventBridge is done, so "
                  f"the target's dead-letter queue never sees a function error: give the function an on_failure "
                  f"destination (or a dead_letter_arn) to {function_queue}", key="fails-lost")


def _handoff_hint(hints: Problems, row: Any, kind: str, queue: str | None, target_dlq: str, function_queue: str,
                  target_dead_letter: str | None, function_sinks: list[str]) -> None:
    """What EventBridge could not hand to Lambda must end in the target's dead-letter queue.

    The hint is added with the kind of event as its place, so one hint names every kind it fits.
    """
    what = _HANDOFF_KINDS[kind]
    if queue == target_dlq and row.layer == "eventbridge":
        return
    if queue == function_queue:
        hints.add(f"ended in {function_queue}, which is for what the function fails on (Lambda's layer): make "
                  f"{target_dlq} the target's DeadLetterConfig", what, key="handoff-wrong-queue")
    elif queue is not None:
        hints.add(f"ended in {queue}: make {target_dlq} the target's DeadLetterConfig", what, key="handoff-other")
    elif target_dead_letter:
        hints.add(f"dropped although the target has a dead-letter queue ({target_dead_letter}): {row.where}. Does "
                  f"that queue exist?", what, key="handoff-dlq-broken")
    elif function_sinks:
        hints.add(f"dropped. The function's on_failure and dead_letter_arn catch only what Lambda accepted and then "
                  f"gave up on, and this never reached Lambda: EventBridge drops what it cannot hand off unless the "
                  f"target has a DeadLetterConfig. Call put_targets again with the same Id and "
                  f"DeadLetterConfig={{'Arn': <the ARN of {target_dlq}>}}", what, key="handoff-lost")
    else:
        hints.add(f"dropped: the target has no dead-letter queue. Give it one: put_targets again with the same Id "
                  f"and DeadLetterConfig={{'Arn': <the ARN of {target_dlq}>}}", what, key="handoff-lost")


# --------------------------------------------------------------------------- Exercise 3
#: What each target must receive for an order, as text (the check compares parsed JSON).
EX3_SHAPE = ('{"order": "<order id>", "total": <amount, a JSON number>, "customer": {"email": "<email>"}, '
             '"summary": "Order <order id> for <amount> EUR"}')
_EX3_KEYS = ("order", "total", "customer", "summary")
_LAMBDA, _SQS = "the Lambda target", "the SQS target"
_EMPTY_HINT = ("{fields} came out empty: a JSON path that matches nothing gives an empty value, and the order's "
               "fields are inside detail (\"$.detail.order_id\", not \"$.order_id\")")


def _ex3_expected(detail: dict[str, Any]) -> dict[str, Any]:
    amount = json.dumps(detail["amount"])
    return {"order": detail["order_id"], "total": detail["amount"], "customer": {"email": detail["email"]},
            "summary": f"Order {detail['order_id']} for {amount} EUR"}


def _ex3_hints(got: Any, expected: dict[str, Any], template: str) -> list[tuple[str, str]]:
    """What is wrong with what a target received, as (kind of mistake, hint); empty when it is right."""
    from ..events.eventbridge import is_json_template

    if got == expected:
        return []
    if isinstance(got, str):
        if not is_json_template(template):
            return [("text", f"the target received plain text ({short(got, 60)}): a template that is not JSON is "
                             f"delivered as text. Write the template as a JSON object, {EX3_SHAPE}")]
        return [("invalid", f"the template made text that is not valid JSON ({short(got, 60)}), so the target "
                            f"received it as a plain string: check the template's quotes, commas and braces "
                            f"(json.loads of the template with sample values in place shows where)")]
    if not isinstance(got, dict):
        return [("shape", f"the target received {short(got, 60)}, expected an object {EX3_SHAPE}")]
    hints: list[tuple[str, str]] = []
    if set(got) != set(_EX3_KEYS):
        hints.append(("keys", f"the object's keys are {sorted(got)}, expected exactly {list(_EX3_KEYS)}"))
    empty = [key for key in ("order", "total") if got.get(key) == ""]
    email = got.get("customer", {}).get("email") if isinstance(got.get("customer"), dict) else None
    if email == "":
        empty.append("customer.email")
    if empty:
        hints.append(("empty", _EMPTY_HINT.format(fields=" and ".join(empty))))
    if "order" in got and got["order"] != "" and got["order"] != expected["order"]:
        hints.append(("order", f"order was {short(got['order'], 30)}, expected the order id {expected['order']!r} "
                               f"(a string)"))
    if "total" in got and got["total"] != "" and got["total"] != expected["total"]:
        total = got["total"]
        if isinstance(total, str) and total == json.dumps(expected["total"]):
            hints.append(("quoted", f"total is the string {total!r}, not a number: a placeholder inside quotes goes "
                                    f"in as text. Write <amount> without quotes: \"total\": <amount>"))
        else:
            hints.append(("total", f"total was {short(total, 30)}, expected the amount {expected['total']!r} "
                                   f"(a number)"))
    if "customer" in got and got["customer"] != expected["customer"] and email != "":
        hints.append(("customer", f"customer was {short(got['customer'], 50)}, expected an object with the "
                                  f"email, {json.dumps(expected['customer'])}"))
    if "summary" in got and got["summary"] != expected["summary"] and not empty:
        hints.append(("summary", f"summary was {short(got['summary'], 50)}, expected {expected['summary']!r}"))
    return hints or [("other", f"the target received {short(got, 80)}, expected {short(expected, 80)}")]


def transformer(lab: "Lab", input_transformer: Any) -> Verdict:
    """Exercise 3: with ``input_transformer`` an SQS target and a Lambda target each receive :data:`EX3_SHAPE`.

    Makes a fresh bus, rule, queue and recording function, gives both targets the transformer, and
    puts three orders with random ids, amounts (a whole number, one with cents) and addresses, one
    at a time; compares what each target received (the message body and the handler's event, as
    JSON) with the expected object.
    """
    if not isinstance(input_transformer, dict):
        return report(EX3, [f"expected an InputTransformer, a dict {{\"InputPathsMap\": {{...}}, \"InputTemplate\": "
                            f"\"...\"}}, got {short(input_transformer)}"])
    template = input_transformer.get("InputTemplate")
    if isinstance(template, (dict, list)):
        return report(EX3, ["InputTemplate is text: write the JSON template as a string, "
                            "'{\"order\": \"<id>\", ...}', not as a dict"])
    if not isinstance(template, str) or not template:
        return report(EX3, [f"the InputTransformer needs an InputTemplate (text), got {short(template)}"])
    name = fresh_name(lab, "ex3-transformer-check")
    events, sqs = lab.client("events"), lab.client("sqs")
    received: list[Any] = []
    fn = lab.function(name, lambda event, context: received.append(event))
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    events.create_event_bus(Name=name)
    events.put_rule(Name=name, EventBusName=name,
                    EventPattern=json.dumps({"source": [SOURCE], "detail-type": [DETAIL_TYPE]}))
    problems = Problems()
    targets = [{"Id": "queue", "Arn": lab.arn("sqs", name), "InputTransformer": input_transformer},
               {"Id": "function", "Arn": fn.arn, "InputTransformer": input_transformer}]
    try:
        try:
            events.put_targets(Rule=name, EventBusName=name, Targets=targets)
        except _client_errors() as error:
            hint = f"EventBridge refuses that transformer (PutTargets: {_error_text(error)})"
            if "invalid placeholder" in str(error):
                hint += ": every <name> in InputTemplate must be a key of InputPathsMap (or a predefined variable)"
            return report(EX3, [hint])
        amounts = [101 + secrets.randbelow(899), 10 + secrets.randbelow(990) + (1 + secrets.randbelow(99)) / 100,
                   1 + secrets.randbelow(5_000)]
        for amount in amounts:
            detail = {"order_id": _order_id(), "amount": amount, "country": secrets.choice(("DE", "FR")),
                      "email": _email()}
            expected = _ex3_expected(detail)
            before = len(received)
            _put(lab, [_entry(name, detail)])
            lab.run_until_idle()
            got_lambda = received[before:]
            got_sqs = _drain(lab, url)
            for label, got in ((_SQS, got_sqs), (_LAMBDA, got_lambda)):
                if len(got) != 1:
                    problems.add(f"received {len(got)} messages for one order, expected 1", label,
                                 key=f"count-{label}")
                    continue
                for kind, hint in _ex3_hints(got[0], expected, template):
                    problems.add(hint, label, key=kind)
    finally:
        events.remove_targets(Rule=name, EventBusName=name, Ids=["queue", "function"])
        events.delete_rule(Name=name, EventBusName=name)
        events.delete_event_bus(Name=name)
        sqs.delete_queue(QueueUrl=url)
    return report(EX3, problems.lines())


def _drain(lab: "Lab", url: str) -> list[Any]:
    """Receive and delete every message of the check's queue; the bodies, parsed as JSON when they are."""
    from ..sources.sqs import RECEIVE_MAX, receive

    sqs = lab.client("sqs")
    bodies = []
    while messages := receive(sqs, url, RECEIVE_MAX):
        for message in messages:
            try:
                bodies.append(json.loads(message["Body"]))
            except ValueError:
                bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies
