# %% [markdown]
# # 06 · EventBridge: rules match events on a bus and hand them to targets
#
# Services and applications put events on an event bus; rules match them with event patterns and
# send each match to up to five targets. A Lambda target is invoked asynchronously. The usual
# telling: EventBridge is the old CloudWatch Events, it reacts to "over 90 AWS services", and a
# pattern such as "source is aws.health and detail-type is AWS Health Event" keeps your function
# from seeing what it does not care about. This chapter runs that rule and the rest of the
# pattern language on real events, and shows what the story leaves out: a typo in a pattern fails
# silently, EventBridge retries only the hand-off (for a day), and a failing function is Lambda's
# business, with a different dead-letter queue.
#
# **You will learn to:** write rules and targets with boto3 · read the event a target receives ·
# use every pattern operator, and test a pattern before you trust it · send custom events and read
# `FailedEntryCount` · follow a failed delivery through EventBridge's retries to the target's DLQ ·
# tell it from a failing function · reshape the event with an input transformer · run a function
# on a schedule.
#
# **Time:** 40 minutes · **Prerequisites:** chapters 01 and 03.
#
# ## EventBridge at a glance
#
# | | EventBridge → Lambda |
# |---|---|
# | invocation model | **asynchronous**: EventBridge hands the event to Lambda's queue ([services-cloudwatchevents](https://docs.aws.amazon.com/lambda/latest/dg/services-cloudwatchevents.html)) |
# | matching | event patterns on rules; up to 5 targets per rule ([eb-quota](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html)) |
# | retries | **hand-off failures** (throttles, server errors): EventBridge, up to 185 retries over 24 h ([eb-rule-retry-policy](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html)); **function errors**: Lambda's asynchronous retries |
# | failures end in | the **target's** DLQ (what EventBridge could not hand off); the **function's** destination or DLQ (function errors) |
# | events | up to 10 entries per `PutEvents`, 1 MB each (256 KB before January 2026) |

# %%
import json

import matplotlib.pyplot as plt
import pandas as pd

from lambda_lab import Lab, notebook, show, show_event
from lambda_lab.check import eventbridge as check
from lambda_lab.helpers.sqs import receive_all

notebook.setup()
lab = Lab(seed=0)
events, sqs = lab.client("events"), lab.client("sqs")
lab

# %% [markdown]
# ## 1. The picture
#
# ```
#  PutEvents / an AWS service ──> event bus ──> rule: event pattern ──match──> target (up to 5 per rule)
#                                                   │                            │ hand-off fails: EventBridge retries, then the target's DLQ
#                                              no match: nothing              Lambda accepted it: Lambda's async retries, destination, DLQ
# ```
#
# ## 2. Build it
#
# The blog post's rule: "only invoke my function if the source is aws.health and the detail-type
# is AWS Health Event".

# %%
health_events = []
on_health = lab.function("on-health", lambda event, context: health_events.append(event))
events.put_rule(Name="health-alerts", EventPattern=json.dumps(
    {"source": ["aws.health"], "detail-type": ["AWS Health Event"]}))
events.put_targets(Rule="health-alerts", Targets=[{"Id": "on-health", "Arn": on_health.arn}])
events.list_targets_by_rule(Rule="health-alerts")["Targets"]

# %% [markdown]
# ## 3. Read the event
#
# Only AWS Health can send an `aws.health` event. You cannot:

# %%
events.put_events(Entries=[{"Source": "aws.health", "DetailType": "AWS Health Event", "Detail": "{}"}])["Entries"]

# %% [markdown]
# The lab emits AWS service events onto the default bus as the service would, built from AWS's
# documented samples:

# %%
lab.emit_aws_event("health", service="EC2")
lab.run_until_idle()
show_event(health_events[0])

# %% [markdown]
# The whole event. `detail-type` has a hyphen (`event["detail-type"]` in Python), `detail` is an
# object (not a string, as it was when it was put), and `id` is the event's id on the bus
# ([eb-events-structure](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html)).

# %%
show(health_events[0])

# %% [markdown]
# > **A claim you will meet:** *"Formerly known as CloudWatch Events ... You can react to events
# > from over 90 AWS services."*
# >
# > **What AWS documents:** EventBridge "was formerly called Amazon CloudWatch Events" and uses
# > the same API; new features (partner sources, Schema Registry, Pipes, Scheduler, archives) land
# > in EventBridge only ([CloudWatch Events](https://docs.aws.amazon.com/AmazonCloudWatch/latest/events/)).
# > And it is now **over 200** AWS services: "EventBridge also automatically ingests events from
# > over 200 AWS services" ([REL06-BP03](https://docs.aws.amazon.com/wellarchitected/latest/reliability-pillar/rel_monitor_aws_resources_notification_monitor.html));
# > 90 was the figure at the 2019 launch.
#
# ## 4. Handle it
#
# Your own events: orders put on a custom bus, and a rule for large ones.

# %%
orders = []


def big_order(event, context):
    detail = event["detail"]
    orders.append((detail["order_id"], detail["amount"]))


events.create_event_bus(Name="shop")
events.put_rule(Name="big-orders", EventBusName="shop", EventPattern=json.dumps(
    {"source": ["shop.orders"], "detail-type": ["OrderPlaced"], "detail": {"amount": [{"numeric": [">=", 100]}]}}))
events.put_targets(Rule="big-orders", EventBusName="shop",
                   Targets=[{"Id": "big", "Arn": lab.function("big-order", big_order).arn}])


def place(order_id, amount, bus="shop", **extra):
    detail = json.dumps({"order_id": order_id, "amount": amount, **extra})
    return {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": detail, "EventBusName": bus}


answer = events.put_events(Entries=[place("o-1", 40), place("o-2", 150), place("o-3", 100)])
lab.run_until_idle()
answer["FailedEntryCount"], orders

# %% [markdown]
# `PutEvents` can succeed for some entries and fail for others: read `FailedEntryCount` and each
# entry's `ErrorCode`, and resend what failed
# ([API_PutEvents](https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html)).

# %%
answer = events.put_events(Entries=[place("o-4", 200), {**place("o-5", 1), "Detail": "not json"}])
lab.run_until_idle()
answer["FailedEntryCount"], answer["Entries"]

# %% [markdown]
# ## 5. When things go wrong
#
# ### 5.1 Every pattern operator, with a near miss
#
# `lab.test_event_pattern(pattern, event)` answers as EventBridge's `TestEventPattern` API does
# ([eb-create-pattern-operators](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html)).

# %%
def order_event(**detail):
    return {"version": "0", "id": "1", "detail-type": "OrderPlaced", "source": "shop.orders",
            "account": lab.account_id, "time": "2024-01-01T00:00:00Z", "region": lab.region, "resources": [],
            "detail": {"order_id": "o-1", "amount": 150, "country": "DE", "email": "ann@example.com",
                       "ip": "10.0.4.7", "tags": ["gift", "express"], **detail}}


operators = {
    "exact value": ({"country": ["DE"]}, {"country": "de"}),
    "prefix": ({"order_id": [{"prefix": "o-"}]}, {"order_id": "x-1"}),
    "suffix": ({"email": [{"suffix": "@example.com"}]}, {"email": "ann@example.org"}),
    "anything-but": ({"country": [{"anything-but": ["US", "CA"]}]}, {"country": "US"}),
    "numeric range": ({"amount": [{"numeric": [">", 100, "<=", 500]}]}, {"amount": 100}),
    "exists": ({"coupon": [{"exists": False}]}, {"coupon": "SAVE10"}),
    "cidr": ({"ip": [{"cidr": "10.0.0.0/16"}]}, {"ip": "10.1.0.7"}),
    "equals-ignore-case": ({"country": [{"equals-ignore-case": "de"}]}, {"country": "FR"}),
    "wildcard": ({"email": [{"wildcard": "*@*.com"}]}, {"email": "ann@example.org"}),
    "array value": ({"tags": ["express"]}, {"tags": ["gift"]}),
    "$or": ({"$or": [{"amount": [{"numeric": [">", 1000]}]}, {"country": ["DE"]}]}, {"country": "FR"}),
}
pd.DataFrame([{"operator": name, "pattern": json.dumps(detail),
               "matches": lab.test_event_pattern({"detail": detail}, order_event()),
               "near miss": json.dumps(miss),
               "near miss matches": lab.test_event_pattern({"detail": detail}, order_event(**miss))}
              for name, (detail, miss) in operators.items()])

# %% [markdown]
# ### 5.2 A pattern that never matches
#
# A rule for refunds, written in a hurry:

# %%
refunds = []
events.put_rule(Name="refunds", EventBusName="shop", EventPattern=json.dumps(
    {"source": ["shop.orders"], "detail-type": ["RefundRequested"], "detail": {"Amount": [{"numeric": [">", 0]}]}}))
events.put_targets(Rule="refunds", EventBusName="shop",
                   Targets=[{"Id": "refund", "Arn": lab.function("refund", lambda e, c: refunds.append(e)).arn}])
refund = {"Source": "shop.orders", "DetailType": "RefundRequested", "EventBusName": "shop",
          "Detail": json.dumps({"order_id": "o-2", "amount": 150})}
events.put_events(Entries=[refund])["FailedEntryCount"], lab.run_until_idle().invocations, refunds

# %% [markdown]
# Accepted, matched by nothing, and no error anywhere: field names are case-sensitive, and the
# event says `amount`. Test a pattern against a real event before you trust it:

# %%
rule = events.describe_rule(Name="refunds", EventBusName="shop")
sample = {**order_event(amount=150), "detail-type": "RefundRequested"}
lab.test_event_pattern(rule["EventPattern"], sample)

# %% [markdown]
# Some mistakes are refused at once, as AWS refuses them: a value that is not in a list.

# %%
try:
    events.put_rule(Name="typo", EventPattern=json.dumps({"source": "shop.orders"}))
except events.exceptions.InvalidEventPatternException as error:
    print(error.response["Error"]["Message"])

# %% [markdown]
# ### 5.3 EventBridge retries the hand-off, for a day
#
# When Lambda refuses the hand-off (a throttle or a server error: here injected with
# `lab.faults.fail_next`), EventBridge retries it. AWS publishes the count (185) and the span
# (24 hours), "with an exponential back off and jitter", not the intervals: the lab's intervals
# are a reconstruction. The target has a dead-letter queue:

# %%
sqs.create_queue(QueueName="audit-dlq")
audit = lab.function("audit", lambda event, context: None)
events.put_rule(Name="audit-all", EventBusName="shop", EventPattern=json.dumps({"source": ["shop.orders"]}))
events.put_targets(Rule="audit-all", EventBusName="shop", Targets=[{
    "Id": "audit", "Arn": audit.arn, "DeadLetterConfig": {"Arn": lab.arn("sqs", "audit-dlq")}}])
lab.faults.fail_next("audit", count=1_000, error="server")
events.put_events(Entries=[place("o-9", 20)])
lab.run_until_idle(max_s=2 * 86_400)
tries = pd.DataFrame([(t, answer.status_code) for t, _, target, answer in lab.eventbridge.handoffs
                      if target == "audit"], columns=["at_s", "status"])
len(tries), round(float(tries["at_s"].max() - tries["at_s"].min()) / 3_600, 1)

# %%
fig, ax = plt.subplots()
ax.plot((tries["at_s"] - tries["at_s"].min()) / 3_600, range(1, len(tries) + 1), marker=".", linestyle="none")
ax.set(xlabel="hours since the first attempt", ylabel="attempts so far", title="EventBridge retrying a hand-off")
plt.show()

# %% [markdown]
# The first attempt and 185 retries, over about 18.5 hours: the lab draws each wait between half and
# all of its interval (the jitter), so they add up to less than the 24 hours the intervals would
# make without it. Then the event went to the target's DLQ, with why in its message attributes
# ([eb-rule-dlq](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html)):

# %%
[dead] = receive_all(lab, sqs.get_queue_url(QueueName="audit-dlq")["QueueUrl"])
{name: value["StringValue"] for name, value in dead["MessageAttributes"].items()}

# %% [markdown]
# A missing function is a client-side error: no retry at all, straight to the DLQ (or nowhere).
#
# ### 5.4 A failing function is Lambda's business
#
# Once Lambda has accepted the event, EventBridge is done with it. A function that raises is
# retried by Lambda's asynchronous queue (twice, about 1 and 2 minutes apart), and what it gives up
# on goes to the **function's** on-failure destination, not the target's DLQ:

# %%
sqs.create_queue(QueueName="fragile-failed")
fragile = lab.function("fragile", lambda event, context: 1 / 0, on_failure=lab.arn("sqs", "fragile-failed"))
events.put_targets(Rule="big-orders", EventBusName="shop", Targets=[{
    "Id": "fragile", "Arn": fragile.arn, "DeadLetterConfig": {"Arn": lab.arn("sqs", "audit-dlq")}}])
events.put_events(Entries=[place("o-10", 500)])
lab.run_until_idle()
lab.outcomes(function="fragile")[["item", "attempts", "ending", "where", "layer"]]

# %% [markdown]
# ### 5.5 Reshape the event: an input transformer
#
# A target can receive part of the event (`InputPath`), a constant (`Input`), or a new document
# built from it (`InputTransformer`): `InputPathsMap` names values by JSON path, and
# `InputTemplate` places them. A string value goes inside quotes in the template, a number or an
# object without them ([eb-transform-target-input](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html)):

# %%
notices = []
events.put_targets(Rule="big-orders", EventBusName="shop", Targets=[{
    "Id": "notice", "Arn": lab.function("notice", lambda event, context: notices.append(event)).arn,
    "InputTransformer": {"InputPathsMap": {"id": "$.detail.order_id", "amount": "$.detail.amount"},
                         "InputTemplate": '{"order": "<id>", "amount": <amount>, "text": "Order <id> of <amount> EUR"}'}}])
events.remove_targets(Rule="big-orders", EventBusName="shop", Ids=["fragile"])
events.put_events(Entries=[place("o-11", 120)])
lab.run_until_idle()
notices

# %% [markdown]
# ### 5.6 On a schedule
#
# A rule with a `ScheduleExpression` instead of a pattern fires on its own, with an event from
# `aws.events` ([eb-scheduled-rule-pattern](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html)):

# %%
ticks = []
events.put_rule(Name="hourly", ScheduleExpression="rate(1 hour)")
events.put_targets(Rule="hourly", Targets=[{"Id": "tick", "Arn": lab.function(
    "tick", lambda event, context: ticks.append((event["time"], event["detail-type"]))).arn}])
lab.run(3 * 3_600)
events.disable_rule(Name="hourly")
lab.run(3 * 3_600)
ticks

# %% [markdown]
# Three ticks, then none: a disabled rule does not fire (moto's own scheduler never fires, and its
# `put_events` still delivers to disabled rules; the lab does neither).
#
# ### 5.7 What is on the bus: schema discovery and code bindings
#
# > **A claim you will meet:** *"Use EventBridge Schema Discovery. It will automatically catalog all
# > the events flowing through your bus and generate code bindings for them."*
#
# Discovery infers a schema for every `source` and `detail-type` it sees, and the Schema Registry
# generates bindings for Go, Java, Python and TypeScript
# ([eb-schema](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-schema.html),
# [eb-schema-code-bindings](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-schema-code-bindings.html)).
# Nothing local does it, so the lab does, from the events its buses accepted (`lambda_lab.schemas`):

# %%
registry = lab.schemas("shop")
pd.DataFrame(registry.schemas())[["schema", "version", "events", "fields"]]

# %% [markdown]
# The schema of `OrderPlaced`, in the registry's OpenAPI 3 form (JSON Schema draft 4 is the
# alternative, `schema.jsonschema()`):

# %%
placed = registry.get("shop.orders", "OrderPlaced")
show(placed.openapi()["components"]["schemas"]["OrderPlaced"])

# %% [markdown]
# Bindings: a package of dataclasses laid out as the registry lays them out, written to a scratch
# folder (never into the workbook), and a handler that uses them:

# %%
import tempfile

from lambda_lab.schemas import import_bindings

scratch = tempfile.TemporaryDirectory(prefix="lambda-lab-schemas-")
v1 = import_bindings(placed.bindings(scratch.name))
typed = []


def typed_handler(event, context):
    order = v1.AWSEvent.from_dict(event)
    typed.append((order.detail.order_id, order.detail.amount, order.detail_type))


events.put_targets(Rule="big-orders", EventBusName="shop", Targets=[{"Id": "typed", "Arn": lab.function(
    "typed", typed_handler).arn}])
events.put_events(Entries=[place("o-12", 300)])
lab.run_until_idle()
typed

# %% [markdown]
# A producer adds a field. The next look makes a **new version**, with the new field optional (old
# events do not have it), and what the old bindings do with the new events does not break: they
# read them and drop the field they do not know.

# %%
events.put_events(Entries=[place("o-13", 400, currency="EUR")])
lab.run_until_idle()
placed_v2 = lab.schemas("shop").get("shop.orders", "OrderPlaced")
placed_v2.version, placed_v2.fields(), typed[-1]

# %%
new_event = [e for _, bus, e in lab.eventbridge.events if bus == "shop"][-1]
v2 = import_bindings(placed_v2.bindings(scratch.name + "/v2"))
{"v1 to_dict has currency": "currency" in v1.AWSEvent.from_dict(new_event).to_dict()["detail"],
 "v2 round-trips the event": v2.AWSEvent.from_dict(new_event).to_dict() == new_event}

# %% [markdown]
# An old consumer that forwards events drops what it does not know. Regenerate the bindings when
# the registry shows a new version.

# %% [markdown]
# ## Exercises
#
# **Exercise 1:** Write an event pattern (a dict) for `OrderPlaced` events from the source
# `shop.orders` whose `detail`:
#
# - has a `country` of exactly `"DE"`, `"FR"`, `"IT"` or `"ES"` (upper case, as the events write it);
# - has an `amount` of 100 or more;
# - is not a test order: an order is a test order when its `test` field is `true` (an order without
#   a `test` field, or with `"test": false`, is a real one);
# - has an `email` that does not end in `"@example.com"`.
#
# The details look like `{"order_id": "o-1a2b3c4d", "amount": 150, "country": "DE", "email":
# "ann@shopper.net"}`, some with a `test` field. The check makes its own bus and rule with your
# pattern, puts wanted orders and near misses, and compares which arrive.

# %% tags=["exercise"]
ex1_pattern = {"source": ["shop.orders"], "detail-type": ["OrderPlaced"]}  # add the conditions on detail

# %% jupyter={"source_hidden": true} tags=["solution"]
ex1_pattern = {"source": ["shop.orders"], "detail-type": ["OrderPlaced"], "detail": {
    "country": ["DE", "FR", "IT", "ES"],
    "amount": [{"numeric": [">=", 100]}],
    "test": [False, {"exists": False}],
    "email": [{"anything-but": {"suffix": "@example.com"}}]}}

# %% tags=["check"]
check.pattern(lab, ex1_pattern)

# %% [markdown]
# **Exercise 2:** The bus `ex2` has a rule `ex2-orders` whose Lambda target is the function `ex2`,
# which refuses orders with a negative amount. Make sure no event is lost, whichever layer gives up
# on it: every event must end processed, or in one of two queues, `ex2-target-dlq` for what
# EventBridge could not hand to Lambda and `ex2-function-failed` for what the function failed on.
# Change the target with `put_targets` and the same `Id` (that replaces it), with a short
# `RetryPolicy` (at most 10 retries, or a maximum event age of at most an hour: the check waits an
# hour of virtual time at most), and re-register the function with `lab.function` to change its
# settings. The check puts good and failing orders, some whose hand-off Lambda refuses, and one
# while the function is deleted.

# %%
def refuse_negative(event, context):
    order = event["detail"]
    if order["amount"] < 0:
        raise ValueError(f"amount must not be negative, got {order['amount']}")
    return order["order_id"]


events.create_event_bus(Name="ex2")
for name in ("ex2-target-dlq", "ex2-function-failed"):
    sqs.create_queue(QueueName=name)
ex2 = lab.function("ex2", refuse_negative)
events.put_rule(Name="ex2-orders", EventBusName="ex2", EventPattern=json.dumps(
    {"source": ["shop.orders"], "detail-type": ["OrderPlaced"]}))
events.put_targets(Rule="ex2-orders", EventBusName="ex2", Targets=[{"Id": "ex2", "Arn": ex2.arn}])
events.list_targets_by_rule(Rule="ex2-orders", EventBusName="ex2")["Targets"]

# %% tags=["exercise"]
events.put_targets(Rule="ex2-orders", EventBusName="ex2", Targets=[{"Id": "ex2", "Arn": ex2.arn}])
ex2 = lab.function("ex2", refuse_negative)

# %% jupyter={"source_hidden": true} tags=["solution"]
events.put_targets(Rule="ex2-orders", EventBusName="ex2", Targets=[{
    "Id": "ex2", "Arn": ex2.arn,
    "DeadLetterConfig": {"Arn": lab.arn("sqs", "ex2-target-dlq")},
    "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3_600}}])
ex2 = lab.function("ex2", refuse_negative, on_failure=lab.arn("sqs", "ex2-function-failed"))

# %% tags=["check"]
check.nothing_lost(lab, "ex2-orders", "ex2", "ex2")

# %% [markdown]
# **Exercise 3:** Write an `InputTransformer` (a dict with `InputPathsMap` and `InputTemplate`). For
# an order whose detail is `{"order_id": "o-1a2b3c4d", "amount": 250, "country": "DE", "email":
# "ann@shopper.net"}`, the target must receive `{"order": "o-1a2b3c4d", "total": 250, "customer":
# {"email": "ann@shopper.net"}, "summary": "Order o-1a2b3c4d for 250 EUR"}`, with `total` a number
# and `order` a string. The check gives your transformer to an SQS target and a Lambda target,
# puts orders it makes up, and compares what each receives.

# %% tags=["exercise"]
ex3_transformer = {"InputPathsMap": {"id": "$.detail.order_id"}, "InputTemplate": '{"order": "<id>"}'}

# %% jupyter={"source_hidden": true} tags=["solution"]
ex3_transformer = {"InputPathsMap": {"id": "$.detail.order_id", "amount": "$.detail.amount",
                                     "email": "$.detail.email"},
                   "InputTemplate": '{"order": "<id>", "total": <amount>, "customer": {"email": "<email>"}, '
                                    '"summary": "Order <id> for <amount> EUR"}'}

# %% tags=["check"]
check.transformer(lab, ex3_transformer)

# %% [markdown]
# ## Summary
#
# - Rules match events on a bus with event patterns and send each match to up to 5 targets; a
#   Lambda target is invoked asynchronously.
# - Custom events cannot use an `aws.` source; `PutEvents` can fail per entry: read
#   `FailedEntryCount`.
# - A pattern that matches nothing fails silently: test it with `TestEventPattern`.
# - EventBridge retries the **hand-off** (185 retries over 24 hours by default), then the
#   **target's** DLQ; a function error is retried by **Lambda** and ends in the **function's**
#   destination or DLQ.
# - Input transformers reshape what a target receives; scheduled rules fire while enabled.
#
# ## In production
#
# - **What the lab plays.** moto stores buses, rules and targets; the lab answers `PutEvents` and
#   `TestEventPattern` on `lab.client("events")`, matches with `lambda_lab.patterns`, and delivers
#   to Lambda, SQS and SNS targets. Other target types, archives and replays, Pipes, Scheduler and
#   partner buses are not modelled.
# - **Retry intervals** are the lab's reconstruction of "185 times within 24 hours with exponential
#   back off and jitter".
# - **Service events** come from AWS's documented samples; on AWS, delivery of some service events
#   is "best effort" ([eb-service-event-delivery-level](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-delivery-level.html)).
# - **Event size**: 1 MB per entry since January 2026 (256 KB before).

# %%
lab.close()

# %% [markdown] tags=["navigation"]
# [← 05 · API Gateway](05_api_gateway.ipynb) · [index](index.md) · [07 · Event storms →](07_event_storms.ipynb)
