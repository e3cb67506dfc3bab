# %% [markdown]
# # 01 · S3: an upload invokes your function, asynchronously
#
# You upload a file, a function runs. It looks like the simplest trigger in AWS, and the
# handler most blog posts show for it breaks on the first file with a space in its name.
# This chapter wires a bucket to a function, reads the event S3 sends, breaks that handler and
# fixes it, and then meets what S3's *asynchronous* delivery does to you: duplicates, no order,
# retries that end in a destination, recursive loops, and a test event nobody asked for.
#
# **You will learn to:** configure an S3 event notification for a function · read an S3 event
# and decode its object key · make a handler idempotent · order events with the `sequencer` ·
# follow a failure through Lambda's retry schedule to an on-failure destination · spot and
# stop a recursive loop.
#
# **Time:** 35 minutes · **Prerequisites:** chapter 00.
#
# ## S3 at a glance
#
# | | S3 → Lambda |
# |---|---|
# | invocation model | **asynchronous**: S3 hands the event to Lambda's internal queue and gets `202` ([invocation-async](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html)) |
# | batching | none: one record per event ([notification-content-structure](https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html)) |
# | retries | function errors: 2 retries, ~1 min then ~2 min; throttles: backoff from 1 s to 5 min for up to 6 h ([invocation-async-error-handling](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)) |
# | failures end in | an on-failure destination, a dead-letter queue, or nowhere |
# | delivery | at least once, usually within seconds ([EventNotifications](https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html)) |
# | ordering | none; `sequencer` orders events *of one key* |

# %%
import json
from urllib.parse import unquote_plus

import matplotlib.pyplot as plt

from lambda_lab import Lab, notebook, plots, show, show_event
from lambda_lab.check import s3 as check
from lambda_lab.events.s3 import is_test_event, sequencer_key
from lambda_lab.plots.async_retries import retry_schedule, retry_timeline

notebook.setup()
lab = Lab(seed=0)
s3 = lab.client("s3")
lab

# %% [markdown]
# ## 1. The picture
#
# ```
#  put_object ──> S3 bucket ──(notification configuration: events, prefix, suffix)──┐
#                                                                                   v
#      on-failure destination / DLQ <── retries (1 min, 2 min) <── Lambda's async queue ──> handler(event, context)
# ```
#
# S3 does not call your function and wait. It invokes it **asynchronously**: Lambda puts the
# event in an internal queue, answers `202 Accepted`, and a separate process runs your function
# from that queue, retrying failures on its own schedule
# ([invocation-async](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html)).
# Whatever goes wrong after that `202`, S3 never hears about it.

# %% [markdown]
# ## 2. Build it
#
# A bucket, a function, and a notification configuration that links them for every
# `s3:ObjectCreated:*` event. Our first handler only says what it got.

# %%
s3.create_bucket(Bucket="photos")


def hello(event, context):
    record = event["Records"][0]
    return f"{record['eventName']} {record['s3']['object']['key']}"


greeter = lab.function("greeter", hello)
trigger = lab.s3_trigger("photos", greeter, events=["s3:ObjectCreated:*"])
trigger

# %% [markdown]
# `lab.s3_trigger` wrote a real notification configuration into the bucket. On AWS it would be a
# `LambdaFunctionConfiguration`; moto cannot run Python functions, so the lab writes a
# `QueueConfiguration` to a queue that stands in for Lambda's side of the hand-off (see
# *In production*). The `Id` is the `configurationId` every event will carry.

# %%
show(s3.get_bucket_notification_configuration(Bucket="photos"))

# %% [markdown]
# S3 refuses a second configuration that could fire for the same event on the same key: here,
# `s3:ObjectCreated:Put` is part of `s3:ObjectCreated:*`, and a `.jpg` suffix does not make the
# keys disjoint from "every key". The lab refuses it with S3's own message.

# %% tags=["raises-exception"]
# NBVAL_CHECK_OUTPUT
lab.s3_trigger("photos", greeter, events=["s3:ObjectCreated:Put"], suffix=".jpg")

# %% [markdown]
# Now upload a file. Nothing runs yet: the event is on its way. `lab.run_until_idle()` moves
# the virtual clock until everything has been delivered.

# %%
s3.put_object(Bucket="photos", Key="cat.jpg", Body=b"meow")
print(len(lab.log), "invocations so far")
lab.run_until_idle()

# %%
lab.log.to_frame()[["function", "source", "attempt", "start", "outcome"]]

# %% [markdown]
# The function ran one second after the upload (S3 delivers "typically in seconds";
# the lab uses 1 s), with `source` `s3`.

# %% [markdown]
# ## 3. Read the event
#
# One record per event, never a batch. These are the fields a handler reads:

# %%
event = trigger.delivered[0]
show_event(event)

# %% [markdown]
# And the whole record, field for field as S3 sends it
# ([notification-content-structure](https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html)).
# Note `eventName` without the `s3:` prefix the configuration uses, `eTag` with a lower-case `e`,
# and no `versionId` because the bucket is not versioned.

# %%
show(event)

# %% [markdown]
# ## 4. Handle it
#
# Here is the handler that a typical tutorial gives: take the bucket and key from the record,
# then `get_object`.

# %%
def read_upload(event, context):
    record = event["Records"][0]
    bucket = record["s3"]["bucket"]["name"]
    key = record["s3"]["object"]["key"]
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return {"key": key, "bytes": len(body)}


s3.create_bucket(Bucket="uploads")
reader = lab.function("reader", read_upload)
uploads = lab.s3_trigger("uploads", reader)
s3.put_object(Bucket="uploads", Key="dog.jpg", Body=b"woof")
lab.run_until_idle()
lab.log.to_frame("reader")[["attempt", "outcome", "error_type"]]

# %% [markdown]
# It works for `dog.jpg`. Now a photo from a phone, with a space and a cedilla in its name:

# %%
s3.put_object(Bucket="uploads", Key="my photos/ça va.jpg", Body=b"selfie")
lab.run_until_idle()
lab.log.to_frame("reader")[["attempt", "start", "outcome", "error_type"]]

# %% [markdown]
# Three failures, three minutes apart in total. The key in the event is **URL-encoded**: a
# space becomes `+` and `ç` becomes `%C3%A7`, so `get_object` asks for an object that does not
# exist (S3 docs: *"The object key name value is URL encoded. For example, "red flower.jpg"
# becomes "red+flower.jpg"*,
# [notification-content-structure](https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html)).

# %%
print(uploads.delivered[-1]["Records"][0]["s3"]["object"]["key"])
print(lab.log.to_frame("reader").query("outcome == 'error'")["error_message"].iloc[0])

# %% [markdown]
# The fix is one call: `urllib.parse.unquote_plus` (plain `unquote` would leave the `+`).

# %%
def read_upload(event, context):
    record = event["Records"][0]
    bucket = record["s3"]["bucket"]["name"]
    key = unquote_plus(record["s3"]["object"]["key"], encoding="utf-8")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return {"key": key, "bytes": len(body)}


reader.handler = read_upload
s3.put_object(Bucket="uploads", Key="my photos/ça va.jpg", Body=b"selfie")
lab.run_until_idle()
lab.log.to_frame("reader")[["attempt", "outcome", "items"]].tail(1)

# %% [markdown]
# ## 5. When things go wrong
#
# ### 5.1 The same upload, twice
#
# > **A claim you will meet:** *"S3 event notifications are best-effort and can occasionally
# > deliver duplicates."*
# >
# > **What AWS documents:** not best-effort but **at least once**: *"Amazon S3 event notifications
# > are designed to be delivered at least once. Typically, event notifications are delivered in
# > seconds but can sometimes take a minute or longer"*
# > ([Amazon S3 Event Notifications](https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html)).
# > Duplicates are the price of that guarantee, not an accident, so every handler must expect
# > them. Where events *can* be lost is one step later, in Lambda's asynchronous queue:
# > *"If the function can't keep up with incoming events, events might also be deleted from the
# > queue without being sent to the function"*
# > ([invocation-async-error-handling](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html));
# > section 5.7 shows events discarded when a throttled function falls behind.
#
# Lambda's asynchronous queue delivers *at least once*: *"it's possible for it to receive the
# same event from Lambda multiple times because the queue itself is eventually consistent"*
# ([invocation-async-error-handling](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)),
# and S3's own notifications are at least once too. The lab can make that happen often
# (`duplicate_rate`, seeded) so you can see what it does to a handler that counts invoices.

# %%
ddb = lab.client("dynamodb")
ddb.create_table(TableName="invoices", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                 AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                 BillingMode="PAY_PER_REQUEST")
s3.create_bucket(Bucket="invoices")


def count_invoice(event, context):
    ddb.update_item(TableName="invoices", Key={"id": {"S": "total"}},
                    UpdateExpression="ADD invoices :one", ExpressionAttributeValues={":one": {"N": "1"}})


counter = lab.function("counter", count_invoice)
counter.configure_async(duplicate_rate=0.25)
lab.s3_trigger("invoices", counter)
for i in range(20):
    s3.put_object(Bucket="invoices", Key=f"2024/invoice-{i:02d}.pdf", Body=b"%PDF")
lab.run_until_idle()
ddb.get_item(TableName="invoices", Key={"id": {"S": "total"}})["Item"]["invoices"]

# %% [markdown]
# 20 uploads, more than 20 invoices counted. The log shows which events ran twice: the same
# `request_id` (a duplicate of the same queued event) appears on two rows.

# %%
runs = lab.log.to_frame("counter")
twice = runs[runs.duplicated("request_id", keep=False)].sort_values(["request_id", "start"])
twice[["request_id", "start", "items"]].head(4)

# %% [markdown]
# The fix is an **idempotent** handler: remember what you processed, and do the work only the
# first time. A DynamoDB conditional write does the remembering atomically. What identifies an
# S3 event? Bucket, key and `sequencer` (the same object written twice gets two sequencers, a
# duplicate delivery keeps its one).

# %%
from botocore.exceptions import ClientError


def count_invoice_once(event, context):
    record = event["Records"][0]
    event_id = "/".join([record["s3"]["bucket"]["name"], record["s3"]["object"]["key"],
                         record["s3"]["object"]["sequencer"]])
    try:
        ddb.put_item(TableName="invoices", Item={"id": {"S": event_id}},
                     ConditionExpression="attribute_not_exists(id)")
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return "duplicate, skipped"
        raise
    ddb.update_item(TableName="invoices", Key={"id": {"S": "total-once"}},
                    UpdateExpression="ADD invoices :one", ExpressionAttributeValues={":one": {"N": "1"}})
    return "counted"


counter.handler = count_invoice_once
for i in range(20):
    s3.put_object(Bucket="invoices", Key=f"2025/invoice-{i:02d}.pdf", Body=b"%PDF")
lab.run_until_idle()
ddb.get_item(TableName="invoices", Key={"id": {"S": "total-once"}})["Item"]["invoices"]

# %% [markdown]
# Exactly 20. (The marker and the counter are two writes; a production handler would put both in
# one `TransactWriteItems`, or make the work itself idempotent.)
#
# In production you would not write this by hand: Powertools for AWS Lambda has an
# [idempotency utility](https://docs.powertools.aws.dev/lambda/python/latest/utilities/idempotency/)
# that stores an `INPROGRESS` record, runs the handler, stores the `COMPLETED` response and
# returns it for repeats. It runs here against moto unchanged; `event_key_jmespath` says which
# part of the event identifies it.

# %%
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer, IdempotencyConfig, idempotent)

store = DynamoDBPersistenceLayer(table_name="invoices", boto3_client=ddb)
config = IdempotencyConfig(event_key_jmespath="Records[0].s3.[bucket.name, object.key, object.sequencer]")


powertools_runs = []


@idempotent(config=config, persistence_store=store)
def count_with_powertools(event, context):
    powertools_runs.append(context.aws_request_id)
    return {"counted": event["Records"][0]["s3"]["object"]["key"]}


powertools_counter = lab.function("powertools-counter", count_with_powertools)
first, second = powertools_counter.invoke(event), powertools_counter.invoke(event)
first.payload, second.payload, len(powertools_runs)

# %% [markdown]
# ### 5.2 Order: use the sequencer
#
# S3 does not promise that events arrive in the order things happened: *"Event notifications
# aren't guaranteed to arrive in the same order that the events occurred"*. What it does give is
# `sequencer`, a hex string that grows for one key: right-pad the shorter one with zeros and
# compare them as strings
# ([notification-content-structure](https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html)).
# Three versions of one report, arriving shuffled:

# %%
s3.create_bucket(Bucket="reports")
archiver = lab.function("archiver", lambda event, context: None)
reports = lab.s3_trigger("reports", archiver)
for version in (1, 2, 3):
    s3.put_object(Bucket="reports", Key="daily.csv", Body=b"v" * version)
    lab.run(2)
lab.run_until_idle()
arrived = [e["Records"][0] for e in reports.delivered]
arrived = [arrived[1], arrived[2], arrived[0]]  # the order a handler might see them in
[(r["s3"]["object"]["size"], r["s3"]["object"]["sequencer"]) for r in arrived]

# %%
latest = max(arrived, key=lambda r: sequencer_key(r["s3"]["object"]["sequencer"]))
latest["s3"]["object"]["size"]

# %% [markdown]
# The `sequencer` of events for *different* keys says nothing about their order; the docs warn
# against comparing them.
#
# ### 5.3 A failing handler: retries, then the on-failure destination
#
# A function that cannot parse one of its files. Lambda retries a function error twice, about one
# minute and then two minutes later (`MaximumRetryAttempts` 0-2, default 2), then gives the event
# to the **on-failure destination** with an *invocation record* that says why
# ([invocation-async-retain-records](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html)).

# %%
sqs = lab.client("sqs")
failures_url = sqs.create_queue(QueueName="ingest-failures")["QueueUrl"]
s3.create_bucket(Bucket="imports")


def ingest(event, context):
    key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
    rows = s3.get_object(Bucket="imports", Key=key)["Body"].read().decode().splitlines()
    return {"rows": [int(row) for row in rows]}


importer = lab.function("importer", ingest, on_failure=lab.arn("sqs", "ingest-failures"))
lab.s3_trigger("imports", importer)
s3.put_object(Bucket="imports", Key="good.csv", Body=b"1\n2\n3")
s3.put_object(Bucket="imports", Key="corrupt.csv", Body=b"1\ntwo\n3")
lab.run_until_idle()
retry_schedule(lab.log.to_frame("importer"))

# %% [markdown]
# The gaps are 60 s and 120 s after the end of each failed attempt, on the virtual clock. As a
# timeline (minutes), with where each event ended:

# %%
retry_timeline(lab.log.to_frame("importer"), lab.outcomes("importer"), title="importer: one bad file")
plt.show()

# %% [markdown]
# The log has a row per *attempt*; `lab.outcomes()` has a row per *item*: every S3 record the
# function was given, when it was accepted and when it ended (seconds since the lab started),
# how many attempts it took, and where it ended. Every item ends exactly once: `processed`,
# `destination`, `dead_letter`, `dropped` (with AWS's reason) or, while still in flight, `pending`.

# %%
lab.outcomes("importer")[["item", "accepted", "ended", "attempts", "ending", "where"]]

# %% [markdown]
# The record in the queue carries the original event (`requestPayload`), the error
# (`responsePayload`) and why Lambda stopped (`condition`, `approximateInvokeCount`):

# %%
message = sqs.receive_message(QueueUrl=failures_url, WaitTimeSeconds=0)["Messages"][0]
record = json.loads(message["Body"])
show({k: record[k] for k in ("requestContext", "responseContext", "responsePayload")})

# %% [markdown]
# With no destination and no dead-letter queue, the event is discarded after the last retry.
# The lab logs it as `dropped`, so it never disappears silently:

# %%
def ingest_elsewhere(event, context):
    key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
    return [int(row) for row in s3.get_object(Bucket="staging", Key=key)["Body"].read().split()]


s3.create_bucket(Bucket="staging")
fragile = lab.function("fragile", ingest_elsewhere)
lab.s3_trigger("staging", fragile)
s3.put_object(Bucket="staging", Key="corrupt.csv", Body=b"1 two 3")
lab.run_until_idle()
lab.log.to_frame("fragile")[["attempt", "start", "outcome", "error_type"]]

# %% [markdown]
# ### 5.4 The recursive loop
#
# A thumbnail function that writes its output back into the bucket that triggers it: every
# thumbnail is a new upload, which triggers another thumbnail. Lambda detects such loops (S3,
# SQS, SNS and Lambda itself) and *"if your function is invoked as part of a chain of requests
# approximately 16 times, Lambda drops the next invocation"*
# ([invocation-recursion](https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html)).

# %%
s3.create_bucket(Bucket="gallery")


def make_thumbnail(event, context):
    key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
    s3.put_object(Bucket="gallery", Key=f"thumb-{key}", Body=b"small")


thumbnailer = lab.function("thumbnailer", make_thumbnail)
lab.s3_trigger("gallery", thumbnailer)
s3.put_object(Bucket="gallery", Key="beach.jpg", Body=b"big")
lab.run_until_idle()
loop = lab.log.to_frame("thumbnailer")
loop["outcome"].value_counts()

# %%
loop[["start", "outcome", "error_type", "error_message"]].tail(2)

# %% [markdown]
# Sixteen invocations, then the seventeenth was stopped (with a dead-letter queue or on-failure
# destination configured, it would have gone there). Loop detection is a safety net, not a
# design: sixteen thumbnails of thumbnails were still written and billed. The fix the S3 docs
# give is two buckets, or a trigger that only covers the prefix for incoming objects:

# %%
s3.create_bucket(Bucket="gallery-fixed")


def make_thumbnail_fixed(event, context):
    key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
    s3.put_object(Bucket="gallery-fixed", Key=key.replace("incoming/", "thumbnails/", 1), Body=b"small")


fixed = lab.function("thumbnailer-fixed", make_thumbnail_fixed)
lab.s3_trigger("gallery-fixed", fixed, prefix="incoming/")
s3.put_object(Bucket="gallery-fixed", Key="incoming/beach.jpg", Body=b"big")
lab.run_until_idle()
lab.log.to_frame("thumbnailer-fixed")["outcome"].value_counts()

# %% [markdown]
# ### 5.5 How you would have noticed: the metrics
#
# Nobody reads the log of every invocation. In production these failures show up on the
# function's **Monitor** tab, as CloudWatch metrics per minute. `lab.metrics()` computes them
# from the run with AWS's names and definitions
# ([types of metrics for Lambda functions](https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html)):
# one row per metric, function, one-minute period and statistic. The importer's, a column per
# minute (seconds since the lab started):

# %%
importer_metrics = lab.metrics(dimension="importer")
importer_metrics.pivot_table(index=["metric", "statistic"], columns="period", values="value", sort=False)

# %%
plots.metrics.console(importer_metrics, ["Invocations", "Errors", "AsyncEventAge", "AsyncEventsDropped"],
                      title="importer: one bad file, as CloudWatch shows it")
plt.show()

# %% [markdown]
# Three things to read. `Errors` counts attempts, not events: one bad file gives three.
# `AsyncEventAge` is the time from Lambda's queue to each attempt, so it climbs with every retry:
# an alarm on it catches a function that is falling behind. And `AsyncEventsDropped` counts the
# bad file's event although it reached the on-failure destination: AWS counts "events that are
# dropped without successfully executing the function", destination or not. A failed write to
# the destination itself would show as `DestinationDeliveryFailures`; here there is none.
#
# The loop of 5.4 has its own metric, the invocation Lambda stopped:

# %%
loop_metrics = lab.metrics(dimension="thumbnailer")
loop_metrics[loop_metrics["metric"].isin(["Invocations", "RecursiveInvocationsDropped"])]

# %% [markdown]
# ### 5.6 The test event a queue receives
#
# When you put a notification configuration, S3 sends a test message, `s3:TestEvent`, with no
# `Records` key. The S3 docs say only this much: *"After you configure an event notification on a
# bucket, Amazon S3 sends the following test message"*
# ([notification-content-structure](https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html)),
# and its purpose is *"to ensure that the topic exists and that the bucket owner has permission to
# publish the specified topic"*
# ([notification-how-to-event-types-and-destinations](https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html)).
# Neither page says whether a function configured as the destination receives it. A queue
# does, and a consumer that does `message["Records"][0]` crashes on it. (The lab never hands it
# to a function wired with `lab.s3_trigger`; it keeps it in the trigger's `test_events`.)

# %%
s3.create_bucket(Bucket="audit")
audit_url = sqs.create_queue(QueueName="audit-events")["QueueUrl"]
s3.put_bucket_notification_configuration(Bucket="audit", NotificationConfiguration={"QueueConfigurations": [
    {"Id": "audit", "QueueArn": lab.arn("sqs", "audit-events"), "Events": ["s3:ObjectCreated:*"]}]})
body = json.loads(sqs.receive_message(QueueUrl=audit_url, WaitTimeSeconds=0)["Messages"][0]["Body"])
body

# %% [markdown]
# (AWS's test event also has `RequestId` and `HostId`; moto leaves them out.) Skip it before
# reading records; the check costs one line, so a handler behind a direct trigger can afford it too:

# %%
is_test_event(body), body.get("Records", [])

# %% [markdown]
# ### 5.7 100,000 files at once
#
# S3 sends one event per object, and each becomes one asynchronous invocation. Drop 100,000
# files into a bucket and Lambda tries to run 100,000 invocations as fast as it can scale,
# against an account limit of 1,000 concurrent executions by default
# ([lambda-concurrency](https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html)),
# shared with every other function. What does not fit is throttled and retried with backoff,
# and an event older than `MaximumEventAgeInSeconds` is discarded. A small version: 1,000
# events for a function limited to 25 concurrent executions, each taking 2 s, with the shortest
# maximum event age AWS allows (60 s).

# %%
sent_at = lab.clock.elapsed()
batch_job = lab.function("batch-job", lambda event, context: None, reserved_concurrency=25, duration_ms=2_000)
batch_job.configure_async(maximum_event_age_s=60)
for i in range(1_000):
    batch_job.invoke_async({"n": i})
lab.run_until_idle()
storm = lab.log.to_frame("batch-job")
storm["outcome"].value_counts()

# %%
plots.concurrency(storm, limit=25, title="1,000 async events, 25 slots, 60 s maximum age",
                  t0=sent_at, since="the 1,000 events were sent")
plt.show()

# %% [markdown]
# Throttled attempts outnumber the runs many times over, and the events still waiting when they
# turned a minute old were dropped: nothing was lost silently, but a large part of the work was
# not done. At best 25 slots × 30 runs of 2 s fit in a minute, 750 events; the retries do worse,
# because in the lab an event waits 1 s, 2 s, 4 s ... before it asks again, and the figure shows
# the slots sitting idle between waves. AWS documents only that *"The retry interval increases
# exponentially from 1 second after the first attempt to a maximum of 5 minutes"*
# ([invocation-async-error-handling](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)).
# That the interval doubles is the lab's assumption, and so is the jitter: the lab waits between
# half and all of each interval, as chapter 07's simulation does.
#
# The usual fix is to put an **SQS queue between S3 and the
# function**: S3 writes to the queue, and an event source mapping drains it at a concurrency you
# choose (`MaximumConcurrency`, 2-1,000,
# [API_ScalingConfig](https://docs.aws.amazon.com/lambda/latest/api/API_ScalingConfig.html)),
# keeping messages for up to 14 days
# ([`MessageRetentionPeriod`](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html))
# instead of 6 hours, with a redrive policy for the ones that keep failing. Chapter 02 builds the SQS side and chapter 07
# does the numbers for storms of this size.

# %% [markdown]
# ## Exercises
#
# **Exercise 1:** Write `decoded_handler(event, context)` that reads the uploaded object (bucket
# and key from the record) with `s3.get_object` and **returns its text** (`.read().decode()`).
# The check uploads keys with spaces, `+`, `%`, `=`, accents and Japanese characters, and writes
# a random text into each object, so only the object itself can tell you what to return.

# %% tags=["exercise"]
def decoded_handler(event, context):
    ...  # your code here

# %% jupyter={"source_hidden": true} tags=["solution"]
def decoded_handler(event, context):
    record = event["Records"][0]
    key = unquote_plus(record["s3"]["object"]["key"], encoding="utf-8")
    return s3.get_object(Bucket=record["s3"]["bucket"]["name"], Key=key)["Body"].read().decode()

# %% tags=["check"]
check.decoded_keys(lab, decoded_handler)

# %% [markdown]
# **Exercise 2:** An invoice mailer appends the key of each uploaded invoice to `outbox` (that is
# the "email"). Lambda may deliver an upload more than once, and the copies may run in different
# execution environments, even at the same time, so a `set` in memory cannot remember what was
# sent. Make `mail_invoice` send exactly one email per upload: before mailing, write a marker to
# the DynamoDB table `sent` created below with a **conditional write**, its `id` being
# `bucket/key/sequencer` as in section 5.1, and return quietly when the marker is already there.
# The check delivers every upload one to three times, some copies at once in two environments,
# and first plays an environment that has already mailed two of the invoices: their markers are
# in `sent`.

# %%
ddb.create_table(TableName="sent", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                 AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                 BillingMode="PAY_PER_REQUEST")
outbox = []

# %% tags=["exercise"]
def mail_invoice(event, context):
    key = event["Records"][0]["s3"]["object"]["key"]
    outbox.append(key)  # make this happen once per upload

# %% jupyter={"source_hidden": true} tags=["solution"]
def mail_invoice(event, context):
    record = event["Records"][0]
    marker = "/".join([record["s3"]["bucket"]["name"], record["s3"]["object"]["key"],
                       record["s3"]["object"]["sequencer"]])
    try:
        ddb.put_item(TableName="sent", Item={"id": {"S": marker}},
                     ConditionExpression="attribute_not_exists(id)")
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return
        raise
    outbox.append(record["s3"]["object"]["key"])

# %% tags=["check"]
check.idempotent(lab, mail_invoice, outbox)

# %% [markdown]
# **Exercise 3:** Write `latest_per_key(records)`: given S3 records in any order, return a dict
# from each **decoded** key to the record of the latest event for that key. Sequencers may have
# different lengths, and several events of one key may share the same `eventTime`.

# %% tags=["exercise"]
def latest_per_key(records):
    ...  # your code here

# %% jupyter={"source_hidden": true} tags=["solution"]
def latest_per_key(records):
    latest = {}
    for record in records:
        key = unquote_plus(record["s3"]["object"]["key"])
        seq = sequencer_key(record["s3"]["object"]["sequencer"])
        if key not in latest or seq > sequencer_key(latest[key]["s3"]["object"]["sequencer"]):
            latest[key] = record
    return latest

# %% tags=["check"]
check.latest_per_key(latest_per_key)

# %% [markdown]
# ## Summary
#
# - S3 invokes Lambda **asynchronously**, one record per event; Lambda's queue answers `202` and
#   runs the function later.
# - The object key in the event is URL-encoded: decode it with `unquote_plus` before using it.
# - Delivery is at least once: make handlers idempotent (a conditional write, or Powertools'
#   idempotency utility), keyed on what identifies the event.
# - Events are not ordered; `sequencer` orders the events of one key.
# - A function error is retried twice (after ~1 min and ~2 min), then goes to the on-failure
#   destination or DLQ, or is dropped.
# - Writing back into the triggering bucket loops; Lambda stops it after about 16 invocations.
#   Use a prefix or a second bucket.
#
# ## In production
#
# - **How the lab receives S3 events.** moto's S3 → Lambda path needs Docker, so the lab
#   configures S3 → SQS, which moto does well, reads that queue, and hands each record to its own
#   model of Lambda's async queue. The bucket therefore holds a `QueueConfiguration` where AWS
#   would hold a `LambdaFunctionConfiguration` (and AWS would also need a resource-based policy
#   on the function allowing `s3.amazonaws.com` to invoke it:
#   [with-s3](https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html)).
# - **What the lab corrects in moto's events:** the missing `userIdentity`, `requestParameters`,
#   `responseElements`, `ownerIdentity`, `versionId` and `sequencer`; `%2F` for `/` in keys;
#   `size`/`eTag` on deletes; a second event for multipart uploads; and the missing
#   `ObjectRemoved:DeleteMarkerCreated` on versioned buckets. Ids and sequencers are seeded.
# - **Timing.** Delivery takes 1 s here; on AWS it is usually seconds and sometimes a minute or
#   more. Retries are exactly 60 s and 120 s after an attempt ends; AWS says "about".
#   Under heavy load Lambda also lengthens throttle retries and may drop events
#   ([invocation-async-error-handling](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)).
# - **Recursive loop detection** relies on tracing metadata from supported SDKs and can be turned
#   off per function; the lab always counts the chain
#   ([invocation-recursion](https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html)).
#   It has covered S3 since October 2024
#   ([AWS Lambda now detects and stops recursive loops between Lambda and Amazon S3](https://aws.amazon.com/about-aws/whats-new/2024/10/aws-lambda-detects-stops-recursive-loops-lambda-s3/),
#   What's New, 9 October 2024); at launch in July 2023 it covered only SQS, SNS and Lambda
#   ([What's New, 13 July 2023](https://aws.amazon.com/about-aws/whats-new/2023/07/aws-lambda-detects-recursive-loops-lambda-functions/)).
#   Lambda also emits the `RecursiveInvocationsDropped` metric.
# - **Destinations:** SQS and SNS destinations must be standard (not FIFO); S3 buckets can be
#   on-failure destinations on AWS, but not in the lab. The dead-letter queue gets the event with
#   `RequestID`, `ErrorCode` and `ErrorMessage` attributes
#   ([dlq](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html)).
# - **Payload:** asynchronous events may be up to 1 MB (256 KB before October 2025); the lab does
#   not enforce it.

# %%
lab.close()

# %% [markdown] tags=["navigation"]
# [← 00 · Start here](00_start_here.ipynb) · [index](index.md) · [02 · SQS →](02_sqs.ipynb)
