"""EventBridge buses, rules and targets: moto stores them, the lab matches and delivers.

Rules and targets are real moto resources, made with ``put_rule`` and ``put_targets`` through
``lab.client("events")`` and listed by ``list_rules`` / ``list_targets_by_rule``. moto's own
``put_events`` cannot deliver to a Lambda or SNS target (the whole call raises
NotImplementedError), delivers for disabled rules, misses arrays of objects in patterns and
never fires a schedule (reference/moto-audit.md §6). So the lab answers ``PutEvents`` and
``TestEventPattern`` itself, on its client (hooks on ``lab.client("events")``; a client made
outside the lab sees moto as it is):

1. **PutEvents** is checked as AWS checks it (at most 10 entries; per entry: ``Detail`` a JSON
   object, the size limit, no ``aws.`` source for custom events) and answered with
   ``FailedEntryCount`` and one ``EventId`` or error per entry; a bad entry does not fail the
   others. The event a target receives carries that ``EventId`` as its ``id``.
2. **Matching**: each event is matched with ``lambda_lab.patterns`` against every ENABLED rule
   of its bus (``list_rules``), and goes to each target of each matching rule (at most 5).
3. **Delivery** of what the target's ``Input``, ``InputPath`` or ``InputTransformer`` makes of
   the event: a Lambda function through Invoke's asynchronous hand-off
   (``lambda_lab.delivery.handoff``), an SQS queue with ``send_message``, an SNS topic with
   ``publish`` (so the lab's SNS subscriptions see it).
4. **EventBridge's retries** cover the hand-off only: a throttle or a server error (inject one
   with ``lab.faults.fail_next``) is retried on the target's retry policy (by default 185 retries
   within 24 hours, ``RETRY``; the intervals are the lab's reconstruction); a client-side error (a
   missing function or queue) is not retried. Then the target's dead-letter queue (an SQS queue;
   the body is the event, with RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
   EXHAUSTED_RETRY_CONDITION and RETRY_ATTEMPTS attributes) or nothing. Once Lambda accepted the
   event, a function error is Lambda's business: its async retries, destination or DLQ.
5. **Schedules**: a rule with ``rate(...)`` or ``cron(...)`` fires on the virtual clock, while
   it is ENABLED, with AWS's "Scheduled Event".

AWS service events cannot be sent with PutEvents (their ``aws.`` source is refused); the lab
emits them onto the default bus as the service would (``lab.emit_aws_event``).

Each (event, matching target) is one row of ``lab.outcomes()``: source ``eventbridge``, item the
event id, function the target's name (function, queue or topic), ending decided by layer
``eventbridge`` (delivered, dead-lettered, dropped) or ``lambda`` (after Lambda accepted it).
"""

from __future__ import annotations

import calendar
import functools
import datetime as dt
import itertools
import json
import random
import re
import uuid
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import ledger as L
from .. import limits
from .. import patterns
from ..delivery.handoff import Handoff, hand_off
from ..delivery.retry import Phase, RetryPolicy, _eventbridge_cap_s
from ..delivery.send import parse_arn
from ..errors import ConfigurationError
from ..events import eventbridge as eb_events

if TYPE_CHECKING:
    from ..lab import Lab

SOURCE = "eventbridge"
#: The retry layer EventBridge's decisions are written under in ``lab.outcomes()``.
LAYER = "eventbridge"
DEFAULT_BUS = "default"
RETRY_URL = limits.EVENTBRIDGE_RETRY_URL
#: PutTargets' RetryPolicy ranges (eb-rule-retry-policy, API_RetryPolicy).
MAX_RETRY_ATTEMPTS_RANGE = (0, limits.EVENTBRIDGE_MAX_RETRY_ATTEMPTS)
MAX_EVENT_AGE_RANGE_S = (60, limits.EVENTBRIDGE_MAX_AGE_S)
#: Target services the lab delivers to.
TARGET_SERVICES = ("lambda", "sqs", "sns")
_HOOK_IDS = itertools.count()


@functools.lru_cache(maxsize=64)
def retry_policy(maximum_retry_attempts: int = limits.EVENTBRIDGE_MAX_RETRY_ATTEMPTS,
                 maximum_event_age_s: int = limits.EVENTBRIDGE_MAX_AGE_S) -> RetryPolicy:
    """A target's retry policy: ``maximum_retry_attempts`` retries within ``maximum_event_age_s``.

    AWS publishes the default count (185) and span (24 h), "with an exponential back off and
    jitter", not the intervals: the lab doubles from 1 s up to the cap that makes 185 retries
    span 24 hours, with equal jitter (its reconstruction).
    """
    return RetryPolicy("EventBridge target", (Phase("retry", None, 1.0, _eventbridge_cap_s(), "doubling"),),
                       max_attempts=maximum_retry_attempts + 1, max_age_s=float(maximum_event_age_s),
                       jitter="equal", source=RETRY_URL,
                       assumption="doubling from 1 s to the cap that makes 185 retries span 24 h, equal jitter")


# --------------------------------------------------------------- one service per lab

_SERVICES: "weakref.WeakKeyDictionary[Any, EventBridge]" = weakref.WeakKeyDictionary()


def service(lab: "Lab") -> "EventBridge":
    """The lab's EventBridge (made, and its hooks installed, on first use)."""
    if lab not in _SERVICES:
        _SERVICES[lab] = lab.add_source(EventBridge(lab))
    return _SERVICES[lab]


@dataclass
class Delivery:
    """One event on its way to one target."""

    event: dict[str, Any]
    payload: Any
    rule_arn: str
    target: dict[str, Any]
    entry: L.Entry
    policy: RetryPolicy
    created_s: float  # epoch seconds the event reached the bus
    depth: int = 0
    attempts: int = 0
    last: Handoff | None = None
    task: Any = field(default=None, repr=False)


class EventBridge:
    """The lab's EventBridge: answers PutEvents and TestEventPattern, fires schedules, delivers to targets."""

    def __init__(self, lab: "Lab"):
        self.lab = lab
        self.client = lab.client("events")
        self.rng = random.Random(f"eventbridge-{lab.seed}")
        #: Every event accepted on a bus: (seconds since the lab started, bus, event).
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        #: Every hand-off to a Lambda target: (seconds since the lab started, event id, target, Invoke's answer).
        self.handoffs: list[tuple[float, str, str, Handoff]] = []
        self._retrying: dict[int, Delivery] = {}
        self._due: list[Any] = []  # deliveries scheduled for now
        self._schedules: dict[str, Any] = {}  # rule ARN -> its next tick (a scheduler task)
        self._stopped = False
        self._hook = f"lambda-lab-events-{next(_HOOK_IDS)}"
        self._install()

    # --- hooks on the lab's events client and on handlers' own ---------------------------------------
    def _install(self) -> None:
        for events in self.lab.client_events("events"):
            for op, before in (("PutEvents", self._put_events), ("TestEventPattern", self._test_event_pattern)):
                events.register(f"before-parameter-build.events.{op}", _stash, unique_id=f"{self._hook}p{op}")
                events.register(f"before-call.events.{op}", before, unique_id=f"{self._hook}c{op}")
            events.register("before-parameter-build.events.PutTargets", self._check_targets,
                            unique_id=self._hook + "t")
            events.register("before-parameter-build.events.PutRule", self._check_rule, unique_id=self._hook + "r")
            events.register("after-call.events.PutRule", self._rule_put, unique_id=self._hook + "s")

    def _put_events(self, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        params = context.pop("lambda_lab_params", None)
        if params is None:
            return None
        entries = list(params.get("Entries") or [])
        problem = eb_events.check_batch(entries)
        if problem is not None:
            return _error_response(*problem)
        answers = [self._accept_entry(entry) for entry in entries]
        return _ok_response({"FailedEntryCount": sum("ErrorCode" in a for a in answers), "Entries": answers})

    def _accept_entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        problem = eb_events.check_entry(entry)
        if problem is not None:
            return {"ErrorCode": problem[0], "ErrorMessage": problem[1]}
        event_id = self.new_event_id()
        event = eb_events.from_entry(entry, event_id=event_id, account=self.lab.account_id, region=self.lab.region,
                                     now_s=self.lab.clock.now())
        self.put(event, bus=bus_name_of(entry.get("EventBusName")))
        return {"EventId": event_id}

    def _test_event_pattern(self, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        params = context.pop("lambda_lab_params", None)
        if params is None:
            return None
        try:
            result = patterns.matches(params.get("EventPattern", ""), params.get("Event", ""))
        except patterns.InvalidPatternError as error:
            return _error_response("InvalidEventPatternException", _pattern_message(error))
        except (json.JSONDecodeError, TypeError) as error:
            return _error_response("InvalidEventPatternException", f"Event is not valid JSON: {error}")
        return _ok_response({"Result": result})

    def _check_rule(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["lambda_lab_rule"] = dict(params)
        pattern, schedule = params.get("EventPattern"), params.get("ScheduleExpression")
        if pattern is not None:
            try:
                patterns.validate(pattern)
            except patterns.InvalidPatternError as error:
                raise self._error("InvalidEventPatternException", _pattern_message(error), "PutRule") from None
        if schedule is not None:
            try:
                parse_schedule(schedule)
            except ConfigurationError as error:
                raise self._error("ValidationException", f"Rule {params.get('Name')!r}: {error}", "PutRule") from None

    def _check_targets(self, params: dict[str, Any], **_: Any) -> None:
        rule = params.get("Rule")
        targets = params.get("Targets") or []
        for target in targets:
            try:
                check_target(self.lab, target)
            except ConfigurationError as error:  # as AWS answers PutTargets: a ValidationException
                raise self._error("ValidationException", f"Rule {rule!r}, target {target.get('Id')!r}: {error}",
                                  "PutTargets") from None
        self._check_target_count(rule, params.get("EventBusName"), {t.get("Id") for t in targets})

    def _check_target_count(self, rule: Any, bus: Any, ids: set) -> None:
        """At most 5 targets per rule (eb-quota); PutTargets with the Id of a target replaces it."""
        from botocore.exceptions import ClientError

        try:
            existing = {t["Id"] for t in self.client.list_targets_by_rule(Rule=rule, EventBusName=bus_name_of(bus))
                        .get("Targets", [])}
        except ClientError:
            return  # no such rule: moto answers PutTargets with AWS's ResourceNotFoundException
        if len(existing | ids) > limits.EVENTBRIDGE_TARGETS_PER_RULE:
            raise self._error("LimitExceededException", f"Rule {rule!r} would have {len(existing | ids)} targets: "
                              f"EventBridge allows {limits.EVENTBRIDGE_TARGETS_PER_RULE} per rule "
                              f"({limits.EVENTBRIDGE_QUOTAS_URL})", "PutTargets")

    def _rule_put(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        params = context.get("lambda_lab_rule")
        if parsed.get("RuleArn") and params and params.get("ScheduleExpression"):
            self._start_schedule(parsed["RuleArn"], params["Name"], params.get("EventBusName"),
                                 params["ScheduleExpression"])

    def _error(self, code: str, message: str, operation: str) -> Exception:
        """The modeled exception of the events client (``events.exceptions.<code>``), as AWS would raise it."""
        response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return self.client.exceptions.from_code(code)(response, operation)

    # --- the bus ---------------------------------------------------------------------------------------
    def new_event_id(self) -> str:
        """A seeded UUID4, as EventBridge gives each event."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def emit(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Put an AWS service event (``eb_events.service_event``) on the default bus; return it."""
        event = eb_events.service_event(kind, event_id=self.new_event_id(), account=self.lab.account_id,
                                        region=self.lab.region, time=eb_events.time_iso(self.lab.clock.now()),
                                        **fields)
        self.put(event)
        return event

    def put(self, event: dict[str, Any], bus: str = DEFAULT_BUS) -> None:
        """Put ``event`` on ``bus``: it goes to the targets of every enabled rule that matches it, now."""
        self.events.append((round(self.lab.clock.elapsed(), 6), bus, event))
        depth = self.lab.runtime.current_depth()
        for rule in self._rules(bus):
            if rule.get("State") != "ENABLED" or not rule.get("EventPattern"):
                continue
            if patterns.matches(rule["EventPattern"], event):
                self._fan_out(event, rule, bus, depth)

    def _rules(self, bus: str) -> list[dict[str, Any]]:
        """The bus's rules; none for a bus that does not exist (AWS accepts the event, and it goes nowhere)."""
        from botocore.exceptions import ClientError

        paginator = self.client.get_paginator("list_rules")
        try:
            return [rule for page in paginator.paginate(EventBusName=bus) for rule in page.get("Rules", [])]
        except ClientError:
            return []

    def _fan_out(self, event: dict[str, Any], rule: dict[str, Any], bus: str, depth: int) -> None:
        targets = self.client.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus).get("Targets", [])
        for target in targets:
            service_name, name = parse_arn(target["Arn"])
            shape = eb_events.target_payload if service_name == "lambda" else eb_events.target_body
            payload = shape(event, target, rule_arn=rule["Arn"], rule_name=rule["Name"])
            entry = self.lab.ledger.accept(SOURCE, event["id"], name)
            policy = retry_policy(**_retry_settings(target))
            d = Delivery(event, payload, rule["Arn"], target, entry, policy, self.lab.clock.now(), depth)
            task = self.lab.scheduler.after(0.0, lambda d=d: self._deliver(d), f"eventbridge {name}")
            self._due.append(task)

    # --- delivering ------------------------------------------------------------------------------------
    def _deliver(self, d: Delivery) -> None:
        self._due = [t for t in self._due if t.pending]
        d.task = None
        d.attempts += 1
        service_name, name = parse_arn(d.target["Arn"])
        if service_name == "lambda":
            answer = hand_off(self.lab, name, d.payload, source=SOURCE, entry=d.entry, depth=d.depth + 1,
                              items=(d.event["id"],))
        else:
            answer = self._send(service_name, d)
        d.last = answer
        if service_name == "lambda":
            self.handoffs.append((round(self.lab.clock.elapsed(), 6), d.event["id"], name, answer))
        if not (service_name == "lambda" and answer.accepted):  # Lambda counts its own attempts once it has it
            self.lab.ledger.attempt(d.entry)
        if answer.accepted:
            self._retrying.pop(id(d), None)
            if service_name != "lambda":
                self.lab.ledger.end(d.entry, L.PROCESSED, f"{name} ({service_name})", LAYER)
            return
        self._retry_or_give_up(d, answer)

    def _send(self, service_name: str, d: Delivery) -> Handoff:
        """Deliver to an SQS queue or SNS topic; answered as a hand-off (202, or AWS's error)."""
        from botocore.exceptions import ClientError

        body = d.payload
        try:
            with self.lab.runtime.at_depth(d.depth):
                if service_name == "sqs":
                    from ..delivery.send import queue_url

                    sqs = self.lab.client("sqs")
                    sqs.send_message(QueueUrl=queue_url(self.lab, parse_arn(d.target["Arn"])[1]), MessageBody=body)
                else:
                    self.lab.client("sns").publish(TopicArn=d.target["Arn"], Message=body)
        except ClientError as error:
            info = error.response.get("Error", {})
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            return Handoff(status, error_code=info.get("Code"), error_message=info.get("Message"))
        return Handoff(202)

    def _retry_or_give_up(self, d: Delivery, answer: Handoff) -> None:
        if not answer.retryable:  # a client-side error: not retried
            self._give_up(d, answer, None)
            return
        age = self.lab.clock.now() - d.created_s
        delay = d.policy.delay_s(d.attempts, self.rng)
        if delay is None:
            self._give_up(d, answer, RETRIES_EXHAUSTED)
            return
        if age + delay > d.policy.max_age_s:
            self._give_up(d, answer, EVENT_AGE_EXCEEDED)
            return
        self._retrying[id(d)] = d
        d.task = self.lab.scheduler.after(delay, lambda: self._deliver(d), "eventbridge retry")

    def _give_up(self, d: Delivery, answer: Handoff, condition: str | None) -> None:
        self._retrying.pop(id(d), None)
        kind = f"retried until {condition}" if condition else "not retried"
        reason = (f"{answer.error_code}: {answer.error_message} ({kind}, {d.attempts} attempt"
                  f"{'s' if d.attempts != 1 else ''})")
        dlq = (d.target.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq:
            self.lab.ledger.end(d.entry, L.DROPPED, f"{reason}; no dead-letter queue on the target", LAYER)
            return
        attributes = eb_events.dead_letter_attributes(
            rule_arn=d.rule_arn, target_arn=d.target["Arn"], error_code=_dlq_error_code(answer),
            error_message=answer.error_message or "", exhausted_condition=condition,
            retry_attempts=d.attempts - 1)
        from botocore.exceptions import ClientError
        from ..delivery.send import queue_url

        try:
            self.lab.client("sqs").send_message(QueueUrl=queue_url(self.lab, parse_arn(dlq)[1]),
                                                MessageBody=json.dumps(d.event), MessageAttributes=attributes)
        except ClientError as error:
            self.lab.ledger.end(d.entry, L.DROPPED, f"{reason}; the dead-letter queue refused it: "
                                f"{error.response.get('Error', {}).get('Code')}", LAYER)
            return
        self.lab.ledger.end(d.entry, L.DEAD_LETTER, f"{parse_arn(dlq)[1]} ({condition or answer.error_code})", LAYER)

    # --- schedules -------------------------------------------------------------------------------------
    def _start_schedule(self, rule_arn: str, name: str, bus: str | None, expression: str) -> None:
        if rule_arn in self._schedules:
            self._schedules[rule_arn].cancel()
        schedule = parse_schedule(expression)
        self._tick(rule_arn, name, bus_name_of(bus), schedule, self.lab.clock.now())

    def _tick(self, rule_arn: str, name: str, bus: str, schedule: "Schedule", after_s: float) -> None:
        at = schedule.next_after(after_s)
        self._schedules[rule_arn] = self.lab.scheduler.at(at, lambda: self._fire(rule_arn, name, bus, schedule, at),
                                                          f"eventbridge schedule {name}")

    def _fire(self, rule_arn: str, name: str, bus: str, schedule: "Schedule", at: float) -> None:
        from botocore.exceptions import ClientError

        if self._stopped:
            return
        try:
            rule = self.client.describe_rule(Name=name, EventBusName=bus)
        except ClientError:
            self._schedules.pop(rule_arn, None)  # the rule was deleted
            return
        if rule.get("ScheduleExpression") != schedule.expression:
            return  # replaced: PutRule started the new schedule
        if rule.get("State") == "ENABLED":
            event = eb_events.scheduled_event(event_id=self.new_event_id(), account=self.lab.account_id, region=self.lab.region,
                                              time=eb_events.time_iso(at), rule_arn=rule_arn)
            self.events.append((round(self.lab.clock.elapsed(), 6), bus, event))
            self._fan_out(event, rule, bus, 0)
        self._tick(rule_arn, name, bus, schedule, at)

    # --- the Source protocol ---------------------------------------------------------------------------
    def pending(self) -> bool:
        """True while a delivery is due or EventBridge will retry one (schedules never make the lab busy)."""
        return not self._stopped and (any(t.pending for t in self._due) or bool(self._retrying))

    def stop(self) -> None:
        self._stopped = True
        for task in [*self._due, *self._schedules.values(), *(d.task for d in self._retrying.values())]:
            if task is not None:
                task.cancel()
        for events in self.lab.client_events("events"):
            for op in ("PutEvents", "TestEventPattern"):
                events.unregister(f"before-parameter-build.events.{op}", unique_id=f"{self._hook}p{op}")
                events.unregister(f"before-call.events.{op}", unique_id=f"{self._hook}c{op}")
            events.unregister("before-parameter-build.events.PutTargets", unique_id=self._hook + "t")
            events.unregister("before-parameter-build.events.PutRule", unique_id=self._hook + "r")
            events.unregister("after-call.events.PutRule", unique_id=self._hook + "s")
        _SERVICES.pop(self.lab, None)

    def __repr__(self) -> str:
        return f"EventBridge({len(self.events)} events, {len(self._retrying)} retrying)"


#: EXHAUSTED_RETRY_CONDITION values, AWS's words (eb-rule-dlq).
RETRIES_EXHAUSTED, EVENT_AGE_EXCEEDED = eb_events.EXHAUSTED_RETRY_CONDITIONS
#: The DLQ's ERROR_CODE for what a hand-off or send answered (by HTTP status; eb-rule-dlq's codes).
DLQ_ERROR_CODES = {404: "NO_RESOURCE", 403: "NO_PERMISSIONS", 429: "THROTTLING", 500: "INTERNAL_ERROR"}


def _dlq_error_code(answer: Handoff) -> str:
    return DLQ_ERROR_CODES.get(answer.status_code, "INTERNAL_ERROR" if answer.status_code >= 500 else "SDK_CLIENT_ERROR")


# --------------------------------------------------------------- PutTargets, as EventBridge checks it


def check_target(lab: "Lab", target: dict[str, Any]) -> None:
    """Refuse a target PutTargets refuses, or one the lab cannot deliver to, naming the rule."""
    arn = target.get("Arn")
    service_name, _ = parse_arn(arn, "Target Arn")
    if service_name not in TARGET_SERVICES:
        raise ConfigurationError(f"the lab delivers to Lambda functions, SQS queues and SNS topics; target {arn} "
                                 f"is a {service_name} target (EventBridge supports more: this is the lab's limit)")
    policy = target.get("RetryPolicy") or {}
    for key, (low, high), unit in (("MaximumRetryAttempts", MAX_RETRY_ATTEMPTS_RANGE, ""),
                                   ("MaximumEventAgeInSeconds", MAX_EVENT_AGE_RANGE_S, "seconds")):
        if key in policy:
            limits.check_range(f"RetryPolicy.{key}", policy[key], low, high, integer=True, unit=unit, url=RETRY_URL)
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dlq is not None and parse_arn(dlq, "DeadLetterConfig Arn")[0] != "sqs":
        raise ConfigurationError(f"DeadLetterConfig: a target's dead-letter queue must be an SQS queue, got {dlq} "
                                 f"(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html)")
    problem = eb_events.check_target_input(target)
    if problem:
        raise ConfigurationError(problem)


def _retry_settings(target: dict[str, Any]) -> dict[str, int]:
    policy = target.get("RetryPolicy") or {}
    return {"maximum_retry_attempts": policy.get("MaximumRetryAttempts", limits.EVENTBRIDGE_MAX_RETRY_ATTEMPTS),
            "maximum_event_age_s": policy.get("MaximumEventAgeInSeconds", limits.EVENTBRIDGE_MAX_AGE_S)}


# --------------------------------------------------------------- schedules

SCHEDULE_URL = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html"
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_S = {"minute": 60, "hour": 3_600, "day": 86_400}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTHS = {m.upper(): n for n, m in enumerate(calendar.month_abbr) if m}


@dataclass(frozen=True)
class Schedule:
    """A rule's ``rate(...)`` or ``cron(...)``; ``next_after`` gives the next firing (epoch s, UTC)."""

    expression: str
    every_s: float | None = None
    fields: tuple[frozenset, ...] | None = None  # minutes, hours, days of month, months, days of week, years

    def next_after(self, after_s: float) -> float:
        if self.every_s is not None:
            return after_s + self.every_s
        minute = dt.datetime.fromtimestamp(after_s, dt.timezone.utc).replace(second=0, microsecond=0)
        for _ in range(366 * 24 * 60 * 5):
            minute += dt.timedelta(minutes=1)
            if self._matches(minute):
                return minute.timestamp()
        raise ConfigurationError(f"{self.expression} never fires in the next five years")

    def _matches(self, t: dt.datetime) -> bool:
        minutes, hours, days, months, weekdays, years = self.fields
        weekday = (t.isoweekday() % 7) + 1  # AWS: 1 = SUN ... 7 = SAT
        return (t.minute in minutes and t.hour in hours and t.month in months and t.year in years
                and (t.day in days) and (weekday in weekdays))


def parse_schedule(expression: str) -> Schedule:
    """``rate(5 minutes)`` or ``cron(0 12 * * ? *)`` as EventBridge reads them; else a ConfigurationError."""
    if not isinstance(expression, str):
        raise ConfigurationError(f"ScheduleExpression must be a string such as 'rate(5 minutes)', got {expression!r}")
    rate = _RATE.match(expression.strip())
    if rate:
        value, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if value < 1 or (value == 1) != (not rate.group(2).endswith("s")):
            raise ConfigurationError(f"{expression}: a rate is a positive whole number with 'minute'/'hour'/'day' for 1 "
                                     f"and 'minutes'/'hours'/'days' otherwise ({SCHEDULE_URL})")
        return Schedule(expression, every_s=value * _UNIT_S[unit])
    if expression.startswith("cron(") and expression.endswith(")"):
        return Schedule(expression, fields=_cron_fields(expression[5:-1].split(), expression))
    raise ConfigurationError(f"ScheduleExpression must be rate(value unit) or cron(fields), got {expression!r} "
                             f"({SCHEDULE_URL})")


def _cron_fields(parts: list[str], expression: str) -> tuple[frozenset, ...]:
    if len(parts) != 6:
        raise ConfigurationError(f"{expression}: a cron expression has six fields (minutes hours day-of-month month "
                                 f"day-of-week year), got {len(parts)} ({SCHEDULE_URL})")
    minute, hour, dom, month, dow, year = parts
    if (dom == "?") == (dow == "?"):
        raise ConfigurationError(f"{expression}: one of day-of-month and day-of-week must be '?' "
                                 f"(you cannot use both) ({SCHEDULE_URL})")
    spans = ((minute, 0, 59, {}), (hour, 0, 23, {}), (dom, 1, 31, {}), (month, 1, 12, _MONTHS),
             (dow, 1, 7, _DAYS), (year, 1970, 2199, {}))
    return tuple(_cron_field(text, low, high, names, expression) for text, low, high, names in spans)


def _cron_field(text: str, low: int, high: int, names: dict[str, int], expression: str) -> frozenset:
    if text in ("*", "?"):
        return frozenset(range(low, high + 1))
    values: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        if any(c in base for c in "LW#"):
            raise ConfigurationError(f"{expression}: the lab does not read the L, W and # wildcards (EventBridge "
                                     f"does): use a list or range ({SCHEDULE_URL})")
        try:
            first, _, last = base.partition("-")
            start = low if first == "*" else names.get(first.upper()) or int(first)
            end = (high if first == "*" else start) if not last else names.get(last.upper()) or int(last)
            stride = int(step) if step else 1
        except ValueError:
            raise ConfigurationError(f"{expression}: {text!r} is not a cron field ({SCHEDULE_URL})") from None
        if not (low <= start <= high and low <= end <= high) or stride < 1:
            raise ConfigurationError(f"{expression}: {text!r} is outside {low}-{high} ({SCHEDULE_URL})")
        values.update(range(start, (high if step and not last else end) + 1, stride))
    return frozenset(values)


# --------------------------------------------------------------- helpers


def _stash(params: dict[str, Any], context: dict[str, Any], model: Any, **_: Any) -> None:
    """Keep the call's parameters for its before-call handler (which sees only the serialized request)."""
    context["lambda_lab_params"] = dict(params)


def bus_name_of(bus: str | None) -> str:
    """A bus name from a name or an ARN (``.../event-bus/<name>``); the default bus when none."""
    if not bus:
        return DEFAULT_BUS
    return bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus


def _ok_response(parsed: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from botocore.awsrequest import AWSResponse

    parsed = {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}}
    return AWSResponse("https://events.lab.invalid/", 200, {}, None), parsed


def _error_response(code: str, message: str) -> tuple[Any, dict[str, Any]]:
    from botocore.awsrequest import AWSResponse

    parsed = {"Error": {"Code": code, "Message": message},
              "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}, "RetryAttempts": 0}}
    return AWSResponse("https://events.lab.invalid/", 400, {}, None), parsed


def _pattern_message(error: Exception) -> str:
    """AWS's InvalidEventPatternException message for a pattern ``lambda_lab.patterns`` refused."""
    text = str(error)
    return text if text.startswith("Event pattern is not valid") else f"Event pattern is not valid. Reason: {text}"
