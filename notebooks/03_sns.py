# %% [markdown]
# # 03 · SNS: a topic hands each message to Lambda, and two layers retry it
#
# A message published to an SNS topic goes to every subscriber; when one of them is a Lambda
# function, SNS hands the message to Lambda and moves on. The usual telling of this story is
# short: fire and forget, the event is just the message, SNS retries a failing function, always
# configure a DLQ. This chapter runs that story and corrects it: the event is an envelope, a
# failing function is retried by **Lambda**, SNS retries only the hand-off (for 23 days), and
# there are **two** dead-letter queues, of which the obvious one catches almost nothing.
#
# **You will learn to:** subscribe a function to a topic · read the SNS event and its `Message`
# string · tell SNS's retries from Lambda's · put a dead-letter queue on both layers · write a
# filter policy that does not silently drop messages · unwrap the envelope a queue subscriber
# receives · buffer a topic through a queue with `MaximumConcurrency`.
#
# **Time:** 35 minutes · **Prerequisites:** chapters 01 and 02.
#
# ## SNS at a glance
#
# | | SNS → Lambda |
# |---|---|
# | invocation model | **asynchronous**: SNS calls Invoke with `InvocationType=Event`; Lambda queues the message and answers `202` ([with-sns](https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html)) |
# | batching | none: one record per event, one invocation per message and subscription |
# | retries | **function errors**: Lambda's asynchronous retries, ~1 min then ~2 min ([invocation-async-error-handling](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)); **hand-off failures**: SNS, up to 100,015 attempts over 23 days ([sns-message-delivery-retries](https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html)) |
# | failures end in | the **function's** on-failure destination or DLQ (function errors); the **subscription's** DLQ (what SNS could not hand off); else nowhere |
# | filtering | a filter policy per subscription, on message attributes or the body; a non-matching message is dropped by SNS |
# | topics | standard topics only: "FIFO topics aren't supported" ([with-sns](https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html)) |

# %%
import json

import matplotlib.pyplot as plt

from lambda_lab import Lab, notebook, plots, show, show_event
from lambda_lab.check import sns as check
from lambda_lab.helpers.sqs import queue_counts, receive_all
from lambda_lab.plots import sns as plots_sns
from lambda_lab.sim.backoff import aws_schedules, lambda_async_error_schedule, sns_managed_schedule

notebook.setup()
lab = Lab(seed=0)
sns, sqs = lab.client("sns"), lab.client("sqs")
lab

# %% [markdown]
# ## 1. The picture
#
# ```
#  publish ──> SNS topic ──(subscription: filter policy)──> Invoke(InvocationType=Event) ──> Lambda's async queue ──> handler
#                 │                         │                       │                               │
#          other subscribers      no match: dropped       fails: SNS retries the hand-off   fails: Lambda retries the function
#          (queues, e-mail ...)                           gives up: subscription's DLQ      gives up: function's destination / DLQ
# ```
#
# There are two hand-offs and two owners. SNS owns a message until Lambda **accepts** it (`202`);
# from then on Lambda's asynchronous queue owns it, exactly as for S3 in chapter 01, and SNS counts
# it as delivered whatever your function does with it.

# %% [markdown]
# ## 2. Build it
#
# A topic and a subscription. On AWS the subscription has protocol `lambda` and the function's ARN
# as endpoint; `lab.sns_trigger` makes it (and the permission SNS needs to invoke the function).

# %%
orders_topic = sns.create_topic(Name="orders")["TopicArn"]
seen_events = []


def blog_handler(event, context):
    seen_events.append(event)
    order = event  # "the event structure is just the message SNS published"
    return f"shipping order {order['order_id']}"


blog = lab.function("blog", blog_handler)
lab.sns_trigger(orders_topic, blog)
sns.list_subscriptions_by_topic(TopicArn=orders_topic)["Subscriptions"]

# %% [markdown]
# ## 3. Read the event
#
# > **A claim you will meet:** *"SNS invokes your function asynchronously, meaning it doesn't wait
# > for a response. The event structure is also simpler; it's just the message SNS published."*
#
# The handler above takes the claim at its word. We publish one order and let the virtual clock run:

# %%
order = {"order_id": 1, "amount": 30}
sns.publish(TopicArn=orders_topic, Message=json.dumps(order), Subject="new order",
            MessageAttributes={"channel": {"DataType": "String", "StringValue": "web"}})
lab.run_until_idle()
lab.log.to_frame("blog")[["start", "outcome", "attempt", "error_type", "error_message"]]

# %% [markdown]
# Three attempts, a minute and then two minutes apart, each a `KeyError`, and then the event was
# dropped. The event is not the message. It is a `Records` list with one record, and the message
# is a **string** inside it, under `Sns.Message`:

# %%
show_event(seen_events[0])

# %% [markdown]
# The whole record. The keys are PascalCase, unlike SQS's and S3's; `MessageAttributes` use
# `Type`/`Value` (not the `DataType`/`StringValue` you published with); `Subject` is `null` when
# the publisher gave none
# ([with-sns](https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html)). (The lab's
# `Signature` has the right form but signs nothing.)

# %%
show(seen_events[0]["Records"][0])

# %% [markdown]
# > **What AWS documents:** the function receives the message in SNS's envelope,
# > `event["Records"][0]["Sns"]["Message"]`, always a string: a JSON payload must be parsed with
# > `json.loads`. The first half of the claim holds: SNS does not wait for your function; it waits
# > only for Lambda to accept the event.
#
# ## 4. Handle it

# %%
shipped = []


def ship_handler(event, context):
    for record in event["Records"]:  # one record per event, but loop anyway: it costs nothing
        order = json.loads(record["Sns"]["Message"])
        shipped.append(order["order_id"])


lab.sns_trigger(orders_topic, lab.function("ship", ship_handler))
sns.publish(TopicArn=orders_topic, Message=json.dumps({"order_id": 2, "amount": 45}))
lab.run_until_idle()
shipped

# %% [markdown]
# One message, two subscribers: `ship` shipped order 2, and `blog` failed on it three more times.
#
# ## 5. When things go wrong
#
# ### 5.1 Who retries a failing function?
#
# > **A claim you will meet:** *"SNS has its own retry policy with exponential backoff if your
# > function fails. It will keep trying for a while before finally giving up and dumping the event
# > into a Dead-Letter Queue (DLQ), if you've configured one."*
# >
# > **What AWS documents:** two layers, and neither is "SNS retries your function". *"Lambda
# > processes SNS messages asynchronously by queuing the messages and handling retries. If Amazon
# > SNS can't reach Lambda or the message is rejected, Amazon SNS retries at increasing intervals
# > over several hours"* ([with-sns](https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html)).
# > SNS retries the **hand-off** to Lambda; once Lambda has accepted the message, a failing
# > **function** is retried by Lambda's asynchronous invocation: twice, after about 1 and 2 minutes
# > ([invocation-async-error-handling](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)).
#
# To see both at work on one message, we make the Lambda service refuse the next five hand-offs
# with a server error (`lab.faults.fail_next`), and give the function a dependency that fails twice.

# %%
flaky_calls = []


def flaky_handler(event, context):
    flaky_calls.append(event["Records"][0]["Sns"]["MessageId"])
    if len(flaky_calls) <= 2:
        raise ConnectionError("warehouse API unavailable")


layers_topic = sns.create_topic(Name="layers")["TopicArn"]
flaky_subscription = lab.sns_trigger(layers_topic, lab.function("flaky", flaky_handler))
lab.faults.fail_next("flaky", 5, error="server")
sns.publish(TopicArn=layers_topic, Message=json.dumps({"order_id": 3, "amount": 12}))
lab.run_until_idle()
attempts = plots_sns.layer_attempts(flaky_subscription.handoffs, lab.log.to_frame("flaky"))
attempts[["layer", "at_s", "detail"]]

# %%
plots_sns.two_layers(attempts, title="One message: SNS retries the hand-off, Lambda the function")
plt.show()

# %% [markdown]
# SNS tried six times in about three seconds (three at once, two about a second apart, then its
# backoff; SNS jitters each interval) until Lambda answered `202`. From then on SNS was done, and Lambda ran the function three times,
# a minute and two minutes apart. The function's errors never reached SNS.

# %% [markdown]
# ### 5.2 SNS's schedule: 100,015 attempts over 23 days
#
# For Lambda and SQS endpoints SNS uses its *AWS-managed* delivery policy, which nobody can change:
# 3 immediate retries, 2 one second apart, 10 with exponential backoff from 1 s to 20 s, then
# 100,000 twenty seconds apart
# ([sns-message-delivery-retries](https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html)).
# `lambda_lab.sim.backoff` writes AWS's retry schedules down as tables; side by side, Lambda's
# for a failing function and SNS's for a failing hand-off:

# %%
schedules = aws_schedules().loc[["Lambda async, function error", "SNS delivery to Lambda / SQS"]]
schedules[["attempts", "first_retry_s", "max_delay_s", "span_h", "span_days", "retries"]].round(2)

# %% [markdown]
# On a linear axis the first fifteen attempts would be one dot at zero. On a logarithmic time axis
# every phase shows: the burst in the first seconds, the backoff to 20 s, and then a straight line
# of a retry every 20 s for three weeks. Lambda's retry of a failing function is over in three minutes.

# %%
plots_sns.schedules_log({"SNS hand-off (AWS-managed policy)": sns_managed_schedule(),
                         "Lambda, function error": lambda_async_error_schedule()},
                        title="Who retries, how often, for how long")
plt.show()

# %% [markdown]
# Only **server-side** errors are retried like this. A **client-side** error (the function was
# deleted, or SNS lost its permission to invoke it) is not retried at all
# ([sns-dead-letter-queues](https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html)).
#
# ### 5.3 Two dead-letter queues
#
# > **A claim you will meet:** *"Always configure a DLQ."*
# >
# > **What AWS documents:** good advice, but which one? The **subscription's** dead-letter queue
# > (its `RedrivePolicy`) receives what SNS gives up on: client-side errors at once, server-side
# > errors after 23 days
# > ([sns-dead-letter-queues](https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html)).
# > A message whose **function** failed was delivered, as far as SNS is concerned; Lambda gives it up
# > to the **function's** on-failure destination or dead-letter queue, or drops it
# > ([invocation-async-retain-records](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html)).
#
# A reader who follows the claim configures the dead-letter queue on the subscription, where the
# SNS console offers it. Here is that configuration with a handler that rejects refunds:

# %%
def refuse_refunds(event, context):
    order = json.loads(event["Records"][0]["Sns"]["Message"])
    if order["amount"] <= 0:
        raise ValueError(f"amount must be positive, got {order['amount']}")


billing_topic = sns.create_topic(Name="billing")["TopicArn"]
subscription_dlq = sqs.create_queue(QueueName="billing-subscription-dlq")["QueueUrl"]
billing = lab.function("billing", refuse_refunds)
billing_subscription = lab.sns_trigger(billing_topic, billing,
                                       dead_letter_arn=lab.arn("sqs", "billing-subscription-dlq"))
sns.publish(TopicArn=billing_topic, Message=json.dumps({"order_id": 4, "amount": -20}))
lab.run_until_idle()
queue_counts(lab, subscription_dlq)

# %% [markdown]
# The dead-letter queue is empty, and the refund is gone. The ledger says where it ended and which
# layer decided:

# %%
lab.outcomes("billing")[["attempts", "ending", "layer", "where"]]

# %% [markdown]
# **How you would have noticed.** Not from SNS: its `NumberOfNotificationsDelivered` counted the
# message as delivered and `NumberOfNotificationsFailed` stayed at 0
# ([SNS metrics](https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html)).
# The function's metrics show it: three `Errors`, and `AsyncEventsDropped`, the event Lambda gave
# up on ([Lambda metrics](https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html)).
# An alarm on `AsyncEventsDropped` above 0 catches every message lost this way.

# %%
billing_metrics = lab.metrics(dimension="billing")
billing_metrics.pivot_table(index=["metric", "statistic"], columns="period", values="value", sort=False)

# %% [markdown]
# The subscription's dead-letter queue does have a job. Deleting the function (on AWS,
# `DeleteFunction`; in the lab, removing it from the runtime) makes the next hand-off a client-side
# error: SNS does not retry, and the message goes straight to the subscription's queue, in the
# envelope an SQS subscriber would receive (section 5.5):

# %%
billing_function = lab.runtime.functions.pop("billing")  # what DeleteFunction does
sns.publish(TopicArn=billing_topic, Message=json.dumps({"order_id": 5, "amount": 80}))
lab.run_until_idle()
lab.runtime.register(billing_function)  # and the function is back
[(answer.status_code, answer.error_code) for _, _, answer in billing_subscription.handoffs[-1:]]

# %%
[json.loads(m["Body"])["Message"] for m in receive_all(lab, subscription_dlq)]

# %% [markdown]
# **The fix** is to give the function a place for what Lambda gives up on as well: an on-failure
# destination (or `dead_letter_arn`) on the function. Exercise 2 asks you to wire both.
#
# ### 5.4 A filter policy that silently drops
#
# A filter policy makes SNS deliver only matching messages to a subscription. By default it
# applies to the **message attributes**; with `FilterPolicyScope` set to `MessageBody` it applies
# to the message itself, which must then be JSON
# ([sns-message-filtering-scope](https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering-scope.html)).
# A publisher puts the order type in the body, and a subscriber writes the obvious policy:

# %%
audit_topic = sns.create_topic(Name="audit")["TopicArn"]
audited = []
auditor = lab.function("auditor", lambda event, context: audited.append(event["Records"][0]["Sns"]["Message"]))
audit_subscription = lab.sns_trigger(audit_topic, auditor, filter_policy={"type": ["refund"]})
for body in ({"type": "refund", "order_id": 6, "amount": -5}, {"type": "order", "order_id": 7, "amount": 50}):
    sns.publish(TopicArn=audit_topic, Message=json.dumps(body))
lab.run_until_idle()
audited

# %% [markdown]
# Nothing arrived, not even the refund. The messages have no attribute `type`, so nothing matched.
# No error anywhere: the function was never invoked, so the Lambda console shows no `Invocations`
# and no `Errors`. Only SNS's `NumberOfNotificationsFilteredOut` metric counts such messages
# ([SNS metrics](https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html));
# `lab.metrics()` does not model SNS's metrics, but the ledger records each drop with SNS's reason:

# %%
lab.outcomes("auditor")[["ending", "layer", "where"]]

# %%
sorted(lab.metrics(dimension="auditor")["metric"].unique())

# %% [markdown]
# The same policy with the `MessageBody` scope does what was meant. (On AWS a change to a filter
# policy takes up to 15 minutes to apply
# ([sns-subscription-filter-policies](https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html));
# the lab applies it at once.)

# %%
sns.set_subscription_attributes(SubscriptionArn=audit_subscription.arn, AttributeName="FilterPolicyScope",
                                AttributeValue="MessageBody")
for body in ({"type": "refund", "order_id": 8, "amount": -5}, {"type": "order", "order_id": 9, "amount": 50}):
    sns.publish(TopicArn=audit_topic, Message=json.dumps(body))
lab.run_until_idle()
audited

# %% [markdown]
# Matching is exact and case-sensitive: `["refund"]` does not match `"Refund"`. Before a filter
# goes live, publish one message of every kind and check that each one arrives where it should.
#
# ### 5.5 Fan-out, and the envelope a queue receives
#
# Fan-out is what SNS is for: one message, every subscriber. A common design subscribes an SQS
# queue next to the function. The queue does **not** receive the message: it receives SNS's JSON
# envelope, as a string, in the SQS message body (keys `...URL` here, `...Url` in a Lambda record).
# With `RawMessageDelivery` the body is the message itself; Lambda subscriptions cannot have it
# ([sns-large-payload-raw-message-delivery](https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html)).

# %%
for name, raw in (("orders-archive", "false"), ("orders-raw", "true")):
    sqs.create_queue(QueueName=name)
    sns.subscribe(TopicArn=orders_topic, Protocol="sqs", Endpoint=lab.arn("sqs", name),
                  Attributes={"RawMessageDelivery": raw})
sns.publish(TopicArn=orders_topic, Message=json.dumps({"order_id": 10, "amount": 99}), Subject="new order")
lab.run_until_idle()
archive_body = receive_all(lab, sqs.get_queue_url(QueueName="orders-archive")["QueueUrl"])[0]["Body"]
envelope = json.loads(archive_body)
{key: envelope[key] for key in ("Type", "TopicArn", "Subject", "Message")}

# %% [markdown]
# (The envelope also carries `MessageId`, `Timestamp`, `Signature`, `SigningCertURL` and
# `UnsubscribeURL`; moto signs with a fresh key on every run, so we do not print them.) A handler
# behind this queue has to parse twice: the body into the envelope, its `Message` into the order.
# The raw queue's body is the order:

# %%
receive_all(lab, sqs.get_queue_url(QueueName="orders-raw")["QueueUrl"])[0]["Body"]

# %% [markdown]
# ### 5.6 A buffer: SNS → SQS → Lambda with `MaximumConcurrency`
#
# A Lambda subscription runs one invocation per message, as many at once as messages arrive, up
# to the account's concurrency. When the function calls something fragile (a database with 10
# connections), put a queue between the topic and the function: SNS fills the queue, and the
# event source mapping's `MaximumConcurrency` (2-1,000) caps how many batches run at once
# ([services-sqs-scaling](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html)).
# The queue also brings its own dead-letter queue and the retries of chapter 02. Ten orders of
# one second each, both ways:

# %%
burst_topic = sns.create_topic(Name="burst")["TopicArn"]
direct = lab.function("direct", lambda event, context: None, duration_ms=1_000)
lab.sns_trigger(burst_topic, direct)
buffer_url = sqs.create_queue(QueueName="burst-buffer")["QueueUrl"]
sns.subscribe(TopicArn=burst_topic, Protocol="sqs", Endpoint=lab.arn("sqs", "burst-buffer"),
              Attributes={"RawMessageDelivery": "true"})
buffered = lab.function("buffered", lambda event, context: None, duration_ms=1_000)
lab.sqs_trigger(buffer_url, buffered, batch_size=1, maximum_concurrency=2)
sns.publish_batch(TopicArn=burst_topic, PublishBatchRequestEntries=[
    {"Id": str(n), "Message": json.dumps({"order_id": 100 + n, "amount": n})} for n in range(10)])
lab.run_until_idle()
runs = {"SNS → Lambda": lab.log.to_frame("direct"), "SNS → SQS → Lambda, cap 2": lab.log.to_frame("buffered")}
{name: {"invocations": len(frame), "most at once": int(plots.concurrency_series(frame)["concurrency"].max())}
 for name, frame in runs.items()}

# %%
plots.invocations.concurrency_comparison(runs, title="Ten messages, direct and through a capped queue")
plt.show()

# %% [markdown]
# **How you would notice** the difference in production: the function's `ConcurrentExecutions`
# metric, the most environments busy at once in each minute. Ten for the direct subscription
# means ten connections to whatever it calls; the capped mapping never goes above two. Behind
# the cap, the queue's `ApproximateAgeOfOldestMessage` is the number to alarm on: it grows when
# the buffer falls behind.

# %%
burst_metrics = lab.metrics()
burst_metrics[(burst_metrics["metric"] == "ConcurrentExecutions")
              & burst_metrics["dimension"].isin(["direct", "buffered"])][["dimension", "period", "value"]]

# %% [markdown]
# ## Exercises
#
# **Exercise 1:** A queue is subscribed to a topic without raw message delivery, and an SQS event
# source mapping feeds it to `ex1_handler`. Return the list of orders in the batch, one `dict` per
# record, in order. The check publishes orders it makes up, and compares.

# %% tags=["exercise"]
def ex1_handler(event, context):
    ...  # your code here


# %% jupyter={"source_hidden": true} tags=["solution"]
def ex1_handler(event, context):
    return [json.loads(json.loads(record["body"])["Message"]) for record in event["Records"]]


# %% tags=["check"]
check.unwrapped_orders(lab, ex1_handler)

# %% [markdown]
# **Exercise 2:** The topic `ex2` feeds the function `ex2`, which refuses refunds (`refuse_refunds`
# from section 5.3). Make sure no message is lost, whichever layer gives up on it: every message
# must end processed or in one of the two queues below. The subscription exists already; change
# its attributes with `set_subscription_attributes` (a second `lab.sns_trigger` is refused), and
# re-register the function with `lab.function` to change its settings. The check publishes good
# orders and refunds, and one message while the function is deleted.

# %%
ex2_topic = sns.create_topic(Name="ex2")["TopicArn"]
for name in ("ex2-subscription-dlq", "ex2-function-dlq"):
    sqs.create_queue(QueueName=name)
ex2_subscription = lab.sns_trigger(ex2_topic, lab.function("ex2", refuse_refunds))
ex2_subscription

# %% tags=["exercise"]
ex2 = lab.function("ex2", refuse_refunds)

# %% jupyter={"source_hidden": true} tags=["solution"]
sns.set_subscription_attributes(SubscriptionArn=ex2_subscription.arn, AttributeName="RedrivePolicy",
                                AttributeValue=json.dumps({"deadLetterTargetArn": lab.arn("sqs", "ex2-subscription-dlq")}))
ex2 = lab.function("ex2", refuse_refunds, on_failure=lab.arn("sqs", "ex2-function-dlq"))

# %% tags=["check"]
check.nothing_lost(lab, ex2_topic)

# %% [markdown]
# **Exercise 3:** Publishers send orders and refunds as JSON bodies such as
# `{"type": "order", "amount": 150, "country": "DE"}`. Write the filter policy and its scope for a
# subscriber that wants exactly the messages of type `"order"` with an amount of **100 or more**.
# The check subscribes a function with your policy and publishes a mix of messages.

# %% tags=["exercise"]
ex3_policy = {}
ex3_scope = "MessageAttributes"

# %% jupyter={"source_hidden": true} tags=["solution"]
ex3_policy = {"type": ["order"], "amount": [{"numeric": [">=", 100]}]}
ex3_scope = "MessageBody"

# %% tags=["check"]
check.filter_policy(lab, ex3_policy, ex3_scope)

# %% [markdown]
# ## Summary
#
# - SNS invokes Lambda **asynchronously**: it waits for Lambda to accept the message (`202`), not
#   for your function.
# - The event is an envelope: `event["Records"][0]["Sns"]["Message"]` is a string; parse it.
# - **Lambda** retries a failing function (twice, ~1 and ~2 min); **SNS** retries only the
#   hand-off, up to 100,015 times over 23 days, and not at all after a client-side error.
# - Two dead-letter queues: the **function's** (on-failure destination or DLQ) for function errors,
#   the **subscription's** (`RedrivePolicy`) for hand-offs SNS gave up on. Configure both, and alarm
#   on `AsyncEventsDropped`.
# - A filter policy applies to message attributes unless its scope is `MessageBody`; what does not
#   match is dropped without an error.
# - A queue subscribed to a topic receives the JSON envelope unless `RawMessageDelivery` is on;
#   SNS → SQS → Lambda with `MaximumConcurrency` protects what the function calls.
#
# ## In production
#
# - **What the lab plays.** moto stores topics and queues; the lab plays SNS's side of a Lambda
#   subscription (the filter, the hand-off, SNS's retries, the subscription's dead-letter queue) and
#   Lambda's asynchronous queue. moto's own `lambda` protocol needs Docker and builds a different
#   event, so the lab's subscription is an SQS subscription to a hidden relay queue that it shows as
#   protocol `lambda`; use `lab.sns_trigger`, not `subscribe(Protocol="lambda")`.
# - **Hand-off failures** happen only when you inject them (`lab.faults.fail_next`) or the function
#   is missing; on AWS they are rare. SNS jitters its retries by an amount it does not publish;
#   the lab spreads each interval 10 % either side, its own assumption.
# - **SNS's metrics** (`NumberOfNotificationsDelivered`, `NumberOfNotificationsFailed`,
#   `NumberOfNotificationsFilteredOut`, ...) are not in `lab.metrics()`; `lab.outcomes()` has the
#   same facts per message.
# - **Filter policies** apply at once in the lab; AWS takes up to 15 minutes. The lab follows SNS's
#   operators and limits (`lambda_lab.filter_policy`); at most 5 keys and 150 combinations
#   ([subscription-filter-policy-constraints](https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html)).
# - **Signatures** in the lab's events are stand-ins of the right form, not verifiable. A real
#   subscriber that reads the envelope from a queue should verify `Signature` against
#   `SigningCertURL`.
# - **Message size:** 256 KiB by default, up to 1 MiB with the topic's `MaximumMessageSize`
#   ([large-message-payloads](https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html));
#   the lab refuses larger messages as SNS does.
# - **FIFO topics** cannot have Lambda subscribers; subscribe a FIFO queue and map it to the function.

# %%
lab.close()

# %% [markdown] tags=["navigation"]
# [← 02 · SQS](02_sqs.ipynb) · [index](index.md) · [04 · DynamoDB Streams →](04_dynamodb_streams.ipynb)
