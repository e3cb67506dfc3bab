# %% [markdown]
# # 02 · SQS: Lambda polls a queue and hands your function batches
#
# With SQS nothing pushes events at your function: Lambda runs pollers that receive messages,
# invoke the function with a batch, and delete the batch if the invocation succeeded. Everything
# that goes wrong with SQS triggers comes from that loop: a poison message that drags its
# batch-mates to the dead-letter queue, failures that vanish because one setting was missing,
# duplicates when the visibility timeout is too short, a blocked FIFO group, and a filter that
# deletes messages nobody ever sees.
#
# **You will learn to:** wire a queue to a function with an event source mapping · read the SQS
# event · report partial batch failures (and switch them on) · follow a poison message to the
# dead-letter queue and move it back · size the visibility timeout · keep FIFO order · use
# filters without losing messages · write the handler with Powertools' batch utility.
#
# **Time:** 40 minutes · **Prerequisites:** chapter 00.
#
# ## SQS at a glance
#
# | | SQS → Lambda |
# |---|---|
# | invocation model | **synchronous**, by Lambda's pollers (an *event source mapping*) ([with-sqs](https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)) |
# | batching | 1-10,000 messages for standard queues, 1-10 for FIFO; batching window 0-300 s; 6 MB per batch ([services-sqs-parameters](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html)) |
# | retries | a **failed** invocation is not retried by Lambda: its messages become visible again after the queue's visibility timeout and are received again; a **throttled** invocation is retried by Lambda until the messages' visibility timeout runs out (section 5.4) ([services-sqs-errorhandling](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html)) |
# | failures end in | the **queue's** dead-letter queue after `maxReceiveCount` receives |
# | delivery | at least once: handlers must tolerate duplicates |
# | ordering | none for standard queues; per message group for FIFO |
# | scaling | 5 concurrent batches at first, up to 300 more per minute, at most 1,000 ([services-sqs-scaling](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html)) |

# %%
import json

import matplotlib.pyplot as plt
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from lambda_lab import Lab, notebook, plots, show, show_event
from lambda_lab.plots import sqs as plots_sqs
from lambda_lab.check import sqs as check
from lambda_lab.helpers.sqs import queue_counts, receive_all, redrive, send_all

notebook.setup()
lab = Lab(seed=0)
sqs = lab.client("sqs")
lab

# %% [markdown]
# ## 1. The picture
#
# ```
#  send_message ──> SQS queue ──(RedrivePolicy: maxReceiveCount)──> dead-letter queue
#                      ^   │
#   delete on success  │   │ ReceiveMessage (up to 10 per call), several pollers
#                      │   v
#                Lambda event source mapping ──(batch, synchronous)──> handler(event, context)
# ```
#
# The event source mapping is part of the Lambda service. It receives messages, which hides them
# for the queue's **visibility timeout**, invokes your function synchronously with a batch, and
# deletes the batch when the invocation succeeds. If the invocation fails it does nothing: the
# messages reappear when their visibility timeout ends and are received again. Every receive adds
# one to a message's `ApproximateReceiveCount`; after `maxReceiveCount` receives, SQS moves it to
# the dead-letter queue named in the queue's redrive policy.

# %% [markdown]
# ## 2. Build it
#
# A queue of orders with a dead-letter queue, following AWS's advice: the DLQ is configured on
# the **source queue** with `maxReceiveCount` of at least 5
# ([with-sqs](https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)). The visibility
# timeout is 30 s, six times the function's 5 s timeout (section 5.4 explains why).

# %%
def make_queue(name, *, visibility_s=30, max_receive=5, fifo=False):
    """A queue and its dead-letter queue; returns (queue_url, dlq_url)."""
    extra = {"FifoQueue": "true"} if fifo else {}
    suffix = ".fifo" if fifo else ""
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq{suffix}", Attributes=extra)["QueueUrl"]
    policy = {"deadLetterTargetArn": lab.arn("sqs", f"{name}-dlq{suffix}"), "maxReceiveCount": str(max_receive)}
    attributes = {**extra, "VisibilityTimeout": str(visibility_s), "RedrivePolicy": json.dumps(policy)}
    return sqs.create_queue(QueueName=name + suffix, Attributes=attributes)["QueueUrl"], dlq_url


orders_url, orders_dlq = make_queue("orders")
show(sqs.get_queue_attributes(QueueUrl=orders_url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"]))

# %% [markdown]
# The first handler only keeps the events it gets, so we can read them. `lab.sqs_trigger` is
# `CreateEventSourceMapping`: batches of up to 10 messages, no batching window, and no partial
# batch responses unless you ask for them.

# %%
seen_events = []


def keep(event, context):
    seen_events.append(event)


keeper = lab.function("keeper", keep, timeout_s=5)
mapping = lab.sqs_trigger(orders_url, keeper)
mapping

# %%
orders = [json.dumps({"order_id": n, "amount": 10 * n}) for n in range(1, 6)]
send_all(lab, orders_url, orders)
lab.run_until_idle()

# %%
lab.log.to_frame()[["function", "start", "end", "outcome", "batch_size", "attempt"]]

# %% [markdown]
# One invocation took all five messages, and when it succeeded Lambda deleted them: the queue is
# empty. (`attempt` is the highest `ApproximateReceiveCount` in the batch.)

# %%
queue_counts(lab, orders_url)

# %% [markdown]
# ## 3. Read the event
#
# The fields a handler reads, record by record:

# %%
show_event(seen_events[0])

# %% [markdown]
# And one whole record, from a message sent with two message attributes. Three things trip people
# up: `body` is always a **string** (parse it yourself), every value under `attributes` is a
# string too (even counts and epoch-millisecond timestamps), and message attributes use Lambda's
# camelCase form (`stringValue`, `dataType`), not the `StringValue` of the SQS API
# ([with-sqs](https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)).

# %%
sqs.send_message(QueueUrl=orders_url, MessageBody=orders[0], MessageAttributes={
    "channel": {"DataType": "String", "StringValue": "web"},
    "priority": {"DataType": "Number", "StringValue": "2"},
})
lab.run_until_idle()
show(seen_events[-1]["Records"][0])

# %% [markdown]
# ## 4. Handle it
#
# Here is the handler a typical blog post gives: loop over the records, process each body, and
# collect the failures in `batchItemFailures` so Lambda retries only those.

# %%
def process(order):
    """Stand-in for real work: it needs an order_id and an amount."""
    return {"order_id": order["order_id"], "total": round(order["amount"] * 1.2, 2)}


def blog_handler(event, context):
    batch_item_failures = []
    for record in event["Records"]:
        try:
            process(json.loads(record["body"]))
        except Exception:
            batch_item_failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": batch_item_failures}


mapping.disable()
blog = lab.function("blog", blog_handler, timeout_s=5)
blog_mapping = lab.sqs_trigger(orders_url, blog)
send_all(lab, orders_url, orders)
lab.run_until_idle()
lab.log.to_frame("blog")[["start", "outcome", "batch_size"]]

# %% [markdown]
# Good orders go through. The rest of this chapter is about what happens when they do not.
#
# ## 5. When things go wrong
#
# ### 5.1 A poison message takes its batch with it
#
# The simplest handler lets an exception escape. One malformed message in the batch then fails
# the **whole invocation**, so Lambda deletes nothing, and all five messages come back after the
# visibility timeout, again and again, until each has been received `maxReceiveCount` times.

# %%
def strict_handler(event, context):
    for record in event["Records"]:
        process(json.loads(record["body"]))


poison_url, poison_dlq = make_queue("payments")
strict = lab.function("strict", strict_handler, timeout_s=5)
strict_mapping = lab.sqs_trigger(poison_url, strict)
send_all(lab, poison_url, orders[:4] + ["{oops"])
lab.run_until_idle()
lab.log.to_frame("strict")[["start", "outcome", "batch_size", "attempt", "error_type"]]

# %% [markdown]
# Five invocations, 30 s apart, each with all five messages; then the sixth receive moved them to
# the dead-letter queue. Four good orders were processed five times each and still ended up
# there. `lab.outcomes()` has one row per message: where it ended, after how many attempts.

# %%
lab.outcomes("strict")[["attempts", "ending", "where"]]

# %% [markdown]
# **How you would have noticed.** In production nobody reads this log; CloudWatch draws it.
# `lab.metrics()` computes, per minute, the metrics the Lambda and SQS consoles show
# ([Lambda metrics](https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html),
# [SQS metrics](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html)).
# CloudWatch samples a queue once a minute, so we let one more virtual minute pass first.
# For the function, every invocation is an error:

# %%
lab.run(60)
poison_metrics = lab.metrics()
plots.metrics.console(poison_metrics, ["Invocations", "Errors", "Duration"], dimension="strict",
                      title="strict: one poison message")
plt.show()

# %% [markdown]
# And the queues. While the batch is in flight its messages are not *visible*, so the source
# queue's `ApproximateNumberOfMessagesVisible` stays at 0 and only `ApproximateAgeOfOldestMessage`
# shows the trouble, growing by a minute each minute. Then the dead-letter queue fills:
# `ApproximateNumberOfMessagesVisible` above 0 on a dead-letter queue is the alarm that catches it.

# %%
queues = poison_metrics[poison_metrics["dimension"].isin(["payments", "payments-dlq"])]
queues.pivot_table(index=["dimension", "metric"], columns="period", values="value", sort=False)

# %%
strict_frame = lab.log.to_frame("strict")
bodies = {m["MessageId"]: m["Body"] for m in receive_all(lab, poison_dlq)}
plots_sqs.receives(strict_frame, labels=bodies, max_receive_count=5, highlight=["{oops"],
                   title="One poison message, five casualties")
plt.show()

# %%
sorted(bodies.values())

# %% [markdown]
# **The fix** has two parts: handle each record on its own and report the failures (as the blog
# handler does), *and* tell the mapping to read that report. Then move the messages back from the
# dead-letter queue. SQS's `StartMessageMoveTask` does that on AWS; moto lacks it, so
# `lambda_lab.helpers.sqs.redrive` receives each message from the DLQ, sends it to the source
# queue and deletes it. We looked inside the DLQ above, which hid its messages for the DLQ's own
# visibility timeout (30 s by default), so we let that pass first.

# %%
strict_mapping.disable()
lab.sqs_trigger(poison_url, lab.function("fixed", blog_handler, timeout_s=5), report_batch_item_failures=True)
lab.run(31)
redrive(lab, poison_dlq, poison_url)

# %%
lab.run_until_idle()
fixed = plots_sqs.receives_per_message(lab.log.to_frame("fixed"))
fixed.assign(message=fixed.message.str[:8])[["message", "deliveries"]]

# %% [markdown]
# The four good orders were delivered once and deleted; only the poison message was retried, five
# times, and it is back in the dead-letter queue, where it belongs until someone fixes it.

# %%
[m["Body"] for m in receive_all(lab, poison_dlq)]

# %% [markdown]
# ### 5.2 Partial batch failure, without and with `report_batch_item_failures`
#
# > **A claim you will meet:** *"If your function throws an error, the message visibility timeout
# > expires, and the message goes right back into the queue for another try. No lost work."*
# >
# > **What AWS documents:** a message comes back only if Lambda did not delete it, and Lambda
# > deletes on success: *"When your function successfully processes a batch, Lambda deletes its
# > messages from the queue"* ([with-sqs](https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)).
# > So work is lost whenever a failure does not fail the invocation: a handler that catches its
# > errors and returns `batchItemFailures` to a mapping without `ReportBatchItemFailures` (below),
# > and a message that matches no filter, which is deleted unseen (section 5.6). A message that
# > keeps failing is not retried for ever either: after `maxReceiveCount` receives it goes to the
# > dead-letter queue, and waits there for someone (section 5.1).
#
# The blog handler is right, but the blog's template often forgets the setting that makes Lambda
# read its answer: `FunctionResponseTypes: ["ReportBatchItemFailures"]`. Without it, Lambda
# ignores the returned `batchItemFailures`: the invocation **succeeded**, so the whole batch is
# deleted, failed messages included. That is how `blog_mapping` from section 4 is configured.

# %%
send_all(lab, orders_url, orders[:2] + ['{"amount": 5}'])
lab.run_until_idle()
lab.log.to_frame("blog")[["start", "outcome", "batch_size"]].tail(1)

# %%
{"orders queue": queue_counts(lab, orders_url), "dead-letter queue": queue_counts(lab, orders_dlq)}

# %% [markdown]
# The order without an `order_id` is gone: not in the queue, not in the dead-letter queue, and the
# log says `success`. Neither SQS nor the invocation log records that it failed. The lab's ledger
# does: `lab.outcomes()` has one row per message, with where it ended and why.

# %%
lab.outcomes("blog")[["attempts", "ending", "where"]].tail(3)

# %% [markdown]
# > **A claim you will meet:** `batchItemFailures` is *"your way of telling SQS, 'Hey, these
# > specific messages in the batch failed, but the rest are fine. Please only retry the broken
# > ones.'"*
# >
# > **What AWS documents:** SQS never sees your function's response. The event source mapping,
# > which is part of Lambda, reads it, and only if the mapping has `ReportBatchItemFailures` in
# > `FunctionResponseTypes`: *"you can configure your event source mapping to make only the failed
# > messages visible again. This is called a partial batch response"*
# > ([services-sqs-errorhandling](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html)).
# > Lambda deletes the messages that are not listed; the listed ones it simply leaves alone, and
# > SQS makes them visible again when their visibility timeout ends. They come back the way every
# > undeleted message does: received again by the next poll.
#
# With the setting on, Lambda follows
# AWS's rules: only the listed messages come back; an empty or null list means all succeeded; an
# empty, null or unknown `itemIdentifier` fails the whole batch; and an exception fails the whole
# batch whatever the setting
# ([services-sqs-errorhandling](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html)).

# %%
blog_mapping.disable()
reporting = lab.function("reporting", blog_handler, timeout_s=5)
lab.sqs_trigger(orders_url, reporting, report_batch_item_failures=True)
send_all(lab, orders_url, orders[:2] + ['{"amount": 5}'])
lab.run_until_idle()
lab.log.to_frame("reporting")[["start", "outcome", "batch_size", "attempt"]]

# %%
[m["Body"] for m in receive_all(lab, orders_dlq)]

# %% [markdown]
# ### 5.3 Powertools: the production version of that handler
#
# Powertools for AWS Lambda's batch utility writes the loop for you: you write a function for
# **one** record that raises on failure, and `process_partial_response` builds the
# `batchItemFailures` response. If every record fails it raises, so the failure shows in your
# metrics ([Powertools batch](https://docs.powertools.aws.dev/lambda/python/latest/utilities/batch/)).
# For FIFO queues use `SqsFifoPartialProcessor`, which stops at the first failure (section 5.5).
# The mapping still needs `report_batch_item_failures=True`.

# %%
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record):
    return process(json.loads(record.body))


def powertools_handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)


pt_url, _ = make_queue("invoices")
lab.sqs_trigger(pt_url, lab.function("powertools", powertools_handler, timeout_s=5),
                report_batch_item_failures=True)
send_all(lab, pt_url, orders[:3] + ["{oops"])
lab.run_until_idle()
lab.log.to_frame("powertools")[["start", "outcome", "batch_size", "attempt"]]

# %% [markdown]
# Same result as the hand-written loop: three orders processed once, the poison message retried
# until it reached the dead-letter queue. The retries show as `error`: alone in its batch, the
# poison message is *every* record, so Powertools raises `BatchProcessingError` rather than
# report the whole batch.
#
# ### 5.4 The visibility timeout: duplicates and the 6x rule
#
# > **A claim you will meet:** *"Keep your function timeout shorter than the visibility timeout"*,
# > or you may get duplicates.
# >
# > **What AWS documents:** it is out of date in two ways, shown below: Lambda now refuses the
# > wrong setting, and the guidance is six times the function timeout, not merely "shorter".
#
# First, Lambda now **refuses** a mapping whose
# function timeout is longer than the queue's visibility timeout
# ([services-sqs-configure](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html)):

# %% tags=["raises-exception"]
# NBVAL_CHECK_OUTPUT
slow = lab.function("slow", lambda event, context: None, timeout_s=60)
lab.sqs_trigger(orders_url, slow)

# %% [markdown]
# Second, "shorter" is not the guidance. AWS says: set the visibility timeout to **at least six
# times the function timeout**, plus the batching window, and gives the reason: *"The extra time
# allows Lambda to retry if your function is throttled while processing a previous batch"*
# ([services-sqs-configure](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html)).
# The lab warns when a mapping is under it:

# %%
slow = lab.function("slow", lambda event, context: None, timeout_s=25, duration_ms=18_000)
report_url, _ = make_queue("reports", visibility_s=30)
lab.sqs_trigger(report_url, slow)

# %% [markdown]
# Lambda checks the rule only when you create or update the mapping. Suppose a teammate later
# lowers the queue's visibility timeout to 10 s, "to retry faster". The handler takes 18 s. After
# 10 s the message is visible again, another poller receives it, and it runs a second time while
# the first run is still going:

# %%
sqs.set_queue_attributes(QueueUrl=report_url, Attributes={"VisibilityTimeout": "10"})
send_all(lab, report_url, ["monthly report"])
lab.run_until_idle()
dupes = lab.log.to_frame("slow")
dupes[["start", "end", "outcome", "attempt", "items"]]

# %% [markdown]
# On a timeline, with a line where the visibility timeout that began at the first receive (when
# the first run started) runs out:

# %%
received = dupes["start"].iloc[0]
plots.timeline(dupes, title="One message, two overlapping runs",
               marks={"visibility timeout (10 s) expires": received + 10})
plt.show()

# %% [markdown]
# Both runs succeeded, so the report was produced twice. Duplicates can also happen with a correct
# configuration, because SQS and the mapping deliver **at least once**: make handlers idempotent
# (Powertools' idempotency utility is one way). The fix here is the 6x rule: 6 x 25 s = 150 s.

# %%
sqs.set_queue_attributes(QueueUrl=report_url, Attributes={"VisibilityTimeout": "150"})
send_all(lab, report_url, ["quarterly report"])
lab.run_until_idle()
lab.log.to_frame("slow")[["start", "end", "outcome", "attempt"]].tail(1)

# %% [markdown]
# Why *six* times? Throttles, as AWS's reason says. When the function is at its concurrency
# limit, Lambda keeps the batch and retries the invocation, but only until the messages'
# visibility timeout runs out; then they go back to the queue, and the receive still counted
# ([services-sqs-errorhandling](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html)).
# Here a function limited to one concurrent execution (4 s per message) reads a queue whose
# visibility timeout equals the function timeout, which Lambda accepts:

# %%
def throttled_run(name, visibility_s):
    """Six tasks through a function limited to one concurrent run; what happened to each."""
    url, dlq_url = make_queue(name, visibility_s=visibility_s, max_receive=3)
    fn = lab.function(name, lambda event, context: None, timeout_s=5, duration_ms=4_000, reserved_concurrency=1)
    lab.sqs_trigger(url, fn, batch_size=1)
    tasks = [f"task {n}" for n in range(6)]
    names = dict(zip(send_all(lab, url, tasks), tasks))
    lab.run_until_idle()
    frame = lab.log.to_frame(name)
    dead = {m["Body"] for m in receive_all(lab, dlq_url)}
    return {
        "throttled attempts": int((frame.outcome == "throttled").sum()),
        "ran": sorted(names[i] for items in frame[frame.outcome == "success"]["items"] for i in items),
        "dead-lettered": sorted(dead),
    }


throttled_run("tight", visibility_s=5)

# %% [markdown]
# Half the tasks ended in the dead-letter queue. `task 3` and `task 4` never ran at all: each of
# their receives ended in throttles until the visibility timeout ran out. `task 2` did run, but
# its invocation started just before its visibility timeout ended; it was received again while
# running and moved to the DLQ: processed *and* dead-lettered. With 6 x 5 s = 30 s there is room
# to wait:

# %%
throttled_run("roomy", visibility_s=30)

# %% [markdown]
# ### 5.5 FIFO queues: order per group, and a blocked group
#
# > **A claim you will meet:** *"FIFO queues take batches of up to 10,000 messages."*
# >
# > **What AWS documents:** the other way round: standard queues take up to 10,000, FIFO queues
# > at most **10**, and FIFO queues support no batching window at all
# > ([services-sqs-parameters](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html):
# > "For standard queues, the maximum is 10,000. For FIFO queues, the maximum is 10.").

# %%
fifo_url, _ = make_queue("checkout", fifo=True)
checkout = lab.function("checkout", lambda event, context: None, timeout_s=5)
fifo_url

# %% tags=["raises-exception"]
# NBVAL_CHECK_OUTPUT
lab.sqs_trigger(fifo_url, checkout, batch_size=10_000)

# %% [markdown]
# Within a message group, SQS and Lambda keep order: Lambda sends one batch per group at a time,
# and while a group's message is in flight (or waiting to be retried) the rest of that group
# waits. Other groups keep flowing. Below, `bob-2` fails on its first delivery. (Batches of one
# message keep the picture simple; a batch can hold several groups, and then a raised exception
# sends all of them back.)

# %%
processed = []


def checkout_handler(event, context):
    for record in event["Records"]:
        body = record["body"]
        if body == "bob-2" and record["attributes"]["ApproximateReceiveCount"] == "1":
            raise RuntimeError("payment service timed out")
        processed.append(body)


checkout = lab.function("checkout", checkout_handler, timeout_s=5)
lab.sqs_trigger(fifo_url, checkout, batch_size=1)
send_all(lab, fifo_url, ["alice-1", "bob-1", "alice-2", "bob-2", "alice-3", "bob-3", "alice-4"],
         group_id=lambda body: body.split("-")[0])
lab.run_until_idle()
lab.log.to_frame("checkout")[["start", "outcome", "batch_size", "attempt"]]

# %%
processed

# %% [markdown]
# Alice's orders flowed while Bob's group waited the full 30 s visibility timeout behind `bob-2`;
# then `bob-2` and `bob-3` went through in order. With partial batch responses on a
# FIFO queue, stop at the **first** failure and report it and every record after it, or later
# messages overtake the failed one ([with-sqs](https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html));
# Powertools' `SqsFifoPartialProcessor` does exactly that. Exercise 3 asks you to write it.
#
# ### 5.6 A filter that silently drops messages
#
# Filter criteria let the mapping invoke the function only for messages that match an
# EventBridge-style pattern (`lambda_lab.patterns`).
#
# > **⚠ On SQS, a message that matches no filter is deleted from the queue.** Lambda does not
# > invoke your function, does not leave the message in the queue, does not send it to the
# > dead-letter queue. It is gone
# > ([invocation-eventfiltering](https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html)).
#
# Patterns compare exactly: `"order"` does not match `"Order"`, and a JSON pattern on `body` never
# matches a body that is not a JSON object.

# %%
shipping_url, shipping_dlq = make_queue("shipping")
shipped = []
shipper = lab.function("shipper", lambda event, context: shipped.extend(r["body"] for r in event["Records"]),
                       timeout_s=5)
lab.sqs_trigger(shipping_url, shipper, filter_patterns=[{"body": {"type": ["order"]}}])
send_all(lab, shipping_url, ['{"type": "order", "id": 1}', '{"type": "Order", "id": 2}', "order 3"])
lab.run_until_idle()
shipped

# %%
lab.log.to_frame("shipper")[["outcome", "batch_size", "error_type", "error_message"]]

# %%
{"shipping queue": queue_counts(lab, shipping_url), "dead-letter queue": queue_counts(lab, shipping_dlq)}

# %% [markdown]
# Two of three messages vanished, and only the lab's log (a `dropped` row) says so; on AWS you
# would see nothing at all. Filter only on what you truly never want, or send the rest somewhere
# on purpose (a second queue subscribed to the same SNS topic, for example).
#
# ### 5.7 How many batches at once
#
# A standard queue's mapping starts with five batches in flight and adds up to 300 a minute
# while messages wait ([services-sqs-scaling](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html)).
# `maximum_concurrency` (2-1,000, [ScalingConfig](https://docs.aws.amazon.com/lambda/latest/api/API_ScalingConfig.html))
# caps that, which protects whatever the function calls, without throttling the function itself.
# The same twelve 1-second messages, through a mapping without the cap and one with it:

# %%
def drain(name, **scaling):
    """Twelve 1 s messages through a new queue and mapping; the function's invocation log."""
    url, _ = make_queue(name)
    fn = lab.function(name, lambda event, context: None, timeout_s=5, duration_ms=1_000)
    lab.sqs_trigger(url, fn, batch_size=1, **scaling)
    send_all(lab, url, [f"item {n}" for n in range(12)])
    lab.run_until_idle()
    return lab.log.to_frame(name)


runs = {"no cap": drain("bulk"), "maximum_concurrency=2": drain("bulk-capped", maximum_concurrency=2)}
{name: round(float(frame["end"].max() - frame["start"].min()), 1) for name, frame in runs.items()}

# %%
plots.invocations.concurrency_comparison(runs, title="Twelve messages, without and with the cap")
plt.show()

# %% [markdown]
# Without the cap the mapping starts at five batches and is done sooner; with it, never more
# than two run at once, and the queue takes longer to drain.

# %% [markdown]
# ## Exercises
#
# **Exercise 1:** Write `ex1_handler`, which processes each record with `process(json.loads(body))`
# and reports exactly the records that fail (bad JSON, a missing `order_id` or `amount`, a body
# that is not an object). A bad record must not stop the ones after it, and the handler must not
# raise. The check watches `process`: every good order must be processed exactly once.

# %% tags=["exercise"]
def ex1_handler(event, context):
    ...  # your code here


# %% jupyter={"source_hidden": true} tags=["solution"]
def ex1_handler(event, context):
    failures = []
    for record in event["Records"]:
        try:
            process(json.loads(record["body"]))
        except (ValueError, KeyError, TypeError):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


# %% tags=["check"]
check.partial_batch(ex1_handler)

# %% [markdown]
# **Exercise 2:** A report function has a 20 s timeout. Make the queue `ex2` feed it in batches of
# 50 messages: choose a batching window AWS accepts for that batch size, a visibility timeout that
# follows the 6x guidance, and partial batch responses. Keep the function's timeout, and leave
# exactly **one** enabled mapping on the queue: a second `lab.sqs_trigger` adds a mapping, it does
# not replace the first. The check reads the queue's mappings and its attributes.

# %%
ex2_url, _ = make_queue("ex2")

# %% tags=["exercise"]
ex2 = lab.sqs_trigger(ex2_url, lab.function("ex2", blog_handler, timeout_s=20))

# %% jupyter={"source_hidden": true} tags=["solution"]
ex2.disable()
sqs.set_queue_attributes(QueueUrl=ex2_url, Attributes={"VisibilityTimeout": str(6 * 20 + 5)})
ex2 = lab.sqs_trigger(ex2_url, lab.function("ex2", blog_handler, timeout_s=20), batch_size=50,
                      maximum_batching_window_s=5, report_batch_item_failures=True)

# %% tags=["check"]
check.mapping_settings(lab, ex2_url)

# %% [markdown]
# **Exercise 3:** Write `ex3_handler` for a FIFO queue with partial batch responses. Process the
# records in order with `process(json.loads(body))`; a record fails when that raises. Stop at the
# first failure: process nothing after it, and report it and every record after it, so nothing
# overtakes the failed message. The check counts the calls to `process`.

# %% tags=["exercise"]
def ex3_handler(event, context):
    ...  # your code here


# %% jupyter={"source_hidden": true} tags=["solution"]
def ex3_handler(event, context):
    records = event["Records"]
    for i, record in enumerate(records):
        try:
            process(json.loads(record["body"]))
        except (ValueError, KeyError, TypeError):
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records[i:]]}
    return {"batchItemFailures": []}


# %% tags=["check"]
check.fifo_stop_at_first_failure(ex3_handler)

# %% [markdown]
# ## Summary
#
# - Lambda **polls** SQS and invokes your function synchronously with batches; success deletes the
#   batch, failure leaves it to reappear after the visibility timeout.
# - An exception fails the whole batch. Report failures per record **and** set
#   `ReportBatchItemFailures` on the mapping; without the setting the failed messages are deleted.
# - Configure the dead-letter queue on the source queue (`maxReceiveCount` ≥ 5) and have a way to
#   move messages back.
# - Visibility timeout ≥ 6 x function timeout + batching window; Lambda refuses a function timeout
#   above the visibility timeout. Handlers must still be idempotent.
# - FIFO: batches of at most 10, no batching window; order holds per message group, and a failed
#   message blocks its group. Stop at the first failure.
# - Filters delete non-matching SQS messages.
#
# ## In production
#
# - **What the lab plays.** moto stores the queues; the lab is the event source mapping, polling
#   with public SQS calls on a virtual clock (moto's own mapping invokes inside `SendMessage`, one
#   message at a time, and ignores filters and batch responses). The mapping looks at the queue
#   when a send arrives through the lab, when an invocation ends, when a visibility timeout it
#   knows about runs out, and otherwise every 1-20 s; AWS pollers long-poll continuously.
# - **Scaling** follows the documented numbers (5 batches, +300 per minute, 1,000 at most) in a
#   simple form; AWS also scales down when invocations fail and may use as few as 2 batches at
#   low traffic ([services-sqs-scaling](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html)).
#   The lab retries a throttled batch after 1, 2, 4 ... s until its visibility timeout runs out.
#   AWS documents only that Lambda *"continues to retry the message until the message's timestamp
#   exceeds your queue's visibility timeout"*, backing off
#   ([services-sqs-errorhandling](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html));
#   the doubling intervals are the lab's assumption.
# - **Batching window:** the lab's window starts at the first message of a batch; AWS may wait up
#   to 20 s at low traffic even with a shorter window, and extends the effective visibility
#   timeout when window + function timeout exceed it ([with-sqs](https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)).
# - **Deleting with an old receipt handle** succeeds in moto; on AWS only the latest receipt
#   handle reliably deletes, so a duplicate can survive its first run's delete.
# - **Redrive:** `redrive` re-sends messages (new message ids, `ApproximateReceiveCount` back to 1,
#   a fresh deduplication id on FIFO). AWS's `StartMessageMoveTask` moves them for you
#   ([SQS dead-letter queue redrive](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html)),
#   and redriven messages carry a `DeadLetterQueueSourceArn` attribute that moto does not add.
# - **moto's FIFO quirks the lab works around:** it omits `SequenceNumber` with content-based
#   deduplication (the lab derives a stable one) and redelivers several failed messages of a group
#   out of order (the lab releases them so they come back in order).
# - **Recursive loops:** the lab tracks how deep in a chain each message was sent (for the log),
#   but does not stop an SQS loop after about 16 invocations as Lambda does
#   ([invocation-recursion](https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html)).
# - **Metrics.** `lab.metrics()` computes CloudWatch's metrics from the lab's own records, exactly;
#   SQS's are samples at each virtual minute, and unlike AWS the lab keeps poison-pill messages
#   in `ApproximateAgeOfOldestMessage`. `lambda_lab.metrics` lists every simplification.
# - **Provisioned mode** for SQS mappings (dedicated pollers) is not modelled
#   ([services-sqs-parameters](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html)).

# %%
lab.close()

# %% [markdown] tags=["navigation"]
# [← 01 · S3](01_s3.ipynb) · [index](index.md) · [03 · SNS →](03_sns.ipynb)
