# %% [markdown]
# # 04 · DynamoDB Streams: every change to a table, in order, into your function
#
# Turn on a table's stream and DynamoDB writes a record of every insert, update and delete, in
# order per item, and keeps it for 24 hours. A Lambda event source mapping reads the stream shard
# by shard and invokes your function with batches. The usual telling: the event has the old and
# new image, dedupe on `eventID` because "streams guarantee at-least-once delivery", and the table's
# write capacity decides how many shards, and so how much concurrency, you get. This chapter runs
# it and corrects it: the stream holds each change **exactly once**, and it is Lambda that delivers
# **at least once**; a single bad record **blocks its shard** for up to a day; and nobody sets the
# number of shards.
#
# **You will learn to:** wire a table's stream to a function · read the stream record and its
# DynamoDB JSON · watch a poison record block a shard, in IteratorAge · unblock it three ways ·
# find a skipped batch from its invocation record · make a handler idempotent · raise
# concurrency per shard · tell a TTL delete from a user's · aggregate with a tumbling window.
#
# **Time:** 40 minutes · **Prerequisites:** chapters 00 and 02.
#
# ## DynamoDB Streams at a glance
#
# | | DynamoDB Streams → Lambda |
# |---|---|
# | invocation model | **synchronous**, by Lambda's pollers (an event source mapping), 4 polls a second per shard ([with-ddb](https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html)) |
# | batching | 1-10,000 records (default 100); batching window 0-300 s; 6 MB per batch ([services-ddb-params](https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html)) |
# | ordering | per shard; with `ParallelizationFactor` (1-10) up to 10 batches per shard, in order per item |
# | retries | a failed batch is retried **whole and in order**, blocking its shard, until it succeeds, its records expire (24 h) or reach `MaximumRecordAgeInSeconds`, or `MaximumRetryAttempts` runs out ([services-dynamodb-errors](https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html)) |
# | failures end in | the mapping's **on-failure destination** (an SQS queue or SNS topic; AWS also takes an S3 bucket, the lab does not), which receives a description of the batch, not its records; else nowhere |
# | delivery | each change is in the stream exactly once; Lambda processes it **at least once** |
# | retention | 24 hours ([Streams](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html)) |

# %%
import json

import matplotlib.pyplot as plt
import pandas as pd
from boto3.dynamodb.types import TypeDeserializer

from lambda_lab import Lab, notebook, plots, show, show_event
from lambda_lab.check import dynamodb as check
from lambda_lab.helpers.dynamodb import create_table
from lambda_lab.helpers.sqs import receive_all
from lambda_lab.plots import dynamodb as plots_ddb

notebook.setup()
lab = Lab(seed=0)
ddb, streams, sqs = lab.client("dynamodb"), lab.client("dynamodbstreams"), lab.client("sqs")
lab

# %% [markdown]
# ## 1. The picture
#
# ```
#  PutItem / UpdateItem / DeleteItem ──> table ──> stream: shard 1 [r1 r2 r3 r4 ...]  (24 h)
#                                                          │  Lambda's poller, 4 times a second
#                                                          ▼
#                                       batch [r1 r2 r3] ──> handler ──ok──> checkpoint after r3
#                                                                     └─fails─> retry r1 r2 r3 ...
# ```
#
# The stream is a log, not a queue: nothing is deleted when your function succeeds. Lambda keeps a
# **checkpoint** per shard and moves it past a batch only when the batch succeeded. Until then the
# shard waits.

# %% [markdown]
# ## 2. Build it
#
# A `users` table with a stream that holds both images of every change, and its one shard:

# %%
users_stream = create_table(lab, "users", key="user_id", view_type="NEW_AND_OLD_IMAGES")
streams.describe_stream(StreamArn=users_stream)["StreamDescription"]["Shards"]

# %% [markdown]
# The blog post's handler, as written, plus one line that keeps what it saw:

# %%
seen_events, changes = [], []


def blog_handler(event, context):
    seen_events.append(event)
    for record in event['Records']:
        # What kind of event was it?
        if record['eventName'] == 'INSERT':
            old_image = None
            new_image = record['dynamodb']['NewImage']
        elif record['eventName'] == 'MODIFY':
            old_image = record['dynamodb']['OldImage']
            new_image = record['dynamodb']['NewImage']
        elif record['eventName'] == 'REMOVE':
            old_image = record['dynamodb']['OldImage']
            new_image = None
        changes.append((record['eventName'], old_image, new_image))


users_mapping = lab.stream_trigger(users_stream, lab.function("blog", blog_handler))
users_mapping

# %% [markdown]
# ## 3. Read the event
#
# A user signs up, upgrades, and leaves:

# %%
ddb.put_item(TableName="users", Item={"user_id": {"S": "ada"}, "plan": {"S": "free"}, "logins": {"N": "1"}})
ddb.update_item(TableName="users", Key={"user_id": {"S": "ada"}}, UpdateExpression="SET #p = :pro",
                ExpressionAttributeNames={"#p": "plan"}, ExpressionAttributeValues={":pro": {"S": "pro"}})
ddb.delete_item(TableName="users", Key={"user_id": {"S": "ada"}})
lab.run_until_idle()
lab.log.to_frame("blog")[["start", "outcome", "batch_size"]]

# %% [markdown]
# One invocation, a quarter of a second after the writes (the next poll), with all three changes
# in one batch, in the order they happened. The handler works:

# %%
[(name, old, new) for name, old, new in changes]

# %% [markdown]
# Every value is in **DynamoDB JSON**: a dict with a type descriptor, `{"S": "ada"}` for a
# string, `{"N": "1"}` for a number (a **string** inside). The whole event:

# %%
show_event(seen_events[0])

# %% [markdown]
# One record in full. `SequenceNumber` (a string) orders the shard and is the identifier for
# partial batch responses; `eventID` is unique per record; `ApproximateCreationDateTime` is in
# whole epoch seconds ([with-ddb](https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html)).

# %%
show(seen_events[0]["Records"][1])

# %% [markdown]
# boto3's `TypeDeserializer` turns DynamoDB JSON into Python, numbers as `Decimal` (never float:
# DynamoDB numbers have 38 digits of precision):

# %%
deserializer = TypeDeserializer()
{name: deserializer.deserialize(value) for name, value in changes[0][2].items()}

# %% [markdown]
# Binary attributes are the surprise. A stream event carries them as **base64 text**, and
# `TypeDeserializer` expects bytes:

# %%
ddb.put_item(TableName="users", Item={"user_id": {"S": "bob"}, "avatar": {"B": b"\x89PNG"}})
lab.run_until_idle()
avatar = changes[-1][2]["avatar"]
try:
    deserializer.deserialize(avatar)
except TypeError as error:
    print(f"{avatar} -> TypeError: {error}")

# %% [markdown]
# Exercise 1 asks you to write the conversion that works on every type.
#
# ## 4. Handle it
#
# What did a change change? The two images answer it:

# %%
audit = []


def audit_handler(event, context):
    for record in event["Records"]:
        old = record["dynamodb"].get("OldImage", {})
        new = record["dynamodb"].get("NewImage", {})
        changed = {name: (old.get(name), new.get(name)) for name in sorted(old.keys() | new.keys())
                   if old.get(name) != new.get(name)}
        audit.append((record["eventName"], record["dynamodb"]["Keys"]["user_id"]["S"], changed))


lab.stream_trigger(users_stream, lab.function("audit", audit_handler))
ddb.put_item(TableName="users", Item={"user_id": {"S": "cy"}, "plan": {"S": "free"}})
ddb.update_item(TableName="users", Key={"user_id": {"S": "cy"}}, UpdateExpression="SET #p = :pro",
                ExpressionAttributeNames={"#p": "plan"}, ExpressionAttributeValues={":pro": {"S": "pro"}})
lab.run_until_idle()
audit

# %% [markdown]
# The new mapping starts at `LATEST`, the default: it saw only what was written after it existed.
# `starting_position="TRIM_HORIZON"` would start from the oldest record the stream still holds.
#
# ## 5. When things go wrong
#
# ### 5.1 At least once, from an exactly-once stream
#
# > **A claim you will meet:** *"The eventID is your friend here for deduplication, as streams
# > guarantee at-least-once delivery."*
#
# A handler that e-mails each new user, and fails on a bad address in the middle of a batch:

# %%
emails, refused = [], set()


def welcome_handler(event, context):
    for record in event["Records"]:
        if record["eventName"] == "INSERT":
            address = record["dynamodb"]["NewImage"]["email"]["S"]
            if address.startswith("cat") and address not in refused:
                refused.add(address)  # the mail server refuses it once, then takes it
                raise ConnectionError(f"mail server refused {address}")
            emails.append(address)


signups_stream = create_table(lab, "signups", key="user_id")
lab.stream_trigger(signups_stream, lab.function("welcome", welcome_handler))
for n, address in enumerate(["ann@example.com", "ben@example.com", "cat@example.com", "dee@example.com"]):
    ddb.put_item(TableName="signups", Item={"user_id": {"S": f"u{n}"}, "email": {"S": address}})
lab.run_until_idle()
emails

# %% [markdown]
# Ann and Ben got two welcome e-mails. The batch failed on Cat's, once; Lambda retried the
# **whole batch**, from the checkpoint before Ann.
#
# > **What AWS documents:** the two halves of the claim are two layers. DynamoDB Streams: *"Each
# > stream record appears exactly once in the stream"*
# > ([Streams](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html)).
# > Lambda's event source mapping processes each record *at least once*: a retried batch
# > delivers again what succeeded before the failure
# > ([invocation-eventsourcemapping](https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html)).
# > The advice holds: `eventID` is unique per record, so make the side effect conditional on it
# > (exercise 3).

# %% [markdown]
# ### 5.2 A poison record blocks the shard
#
# An `orders` table, and a handler that cannot charge a negative amount. One bad order arrives,
# then a good one every hour:

# %%
def charge_handler(event, context):
    for record in event["Records"]:
        amount = int(record["dynamodb"]["NewImage"]["amount"]["N"])
        if amount < 0:
            raise ValueError(f"cannot charge {amount}")


def order(table, order_id, amount):
    ddb.put_item(TableName=table, Item={"order_id": {"S": order_id}, "amount": {"N": str(amount)}})


orders_stream = create_table(lab, "orders", key="order_id")
charge = lab.function("charge", charge_handler)
orders_mapping = lab.stream_trigger(orders_stream, charge)
order("orders", "o-bad", -5)
for hour in range(6):
    order("orders", f"o-{hour}", 10 + hour)
    lab.run(3_600)
lab.outcomes("charge")["ending"].value_counts()

# %% [markdown]
# Six hours, nothing charged. The batch that holds the bad order fails, and every later record
# waits behind it. The function's metrics show it the way the console would: errors all the time,
# and **IteratorAge**, the age of the last record of each batch when it was sent, climbing hour
# after hour ([monitoring-metrics-types](https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html)):

# %%
plots.metrics.console(lab.metrics(period_s=3_600), ["Invocations", "Errors", "IteratorAge"], dimension="charge")
plt.show()

# %% [markdown]
# The lab retries a failed batch after 1 s, doubling to 60 s: AWS retries but does not publish
# the interval, so that spacing is the lab's assumption. With the defaults (no retry limit, no
# maximum age) the records go only when they **expire**, after the stream's 24 hours:

# %%
lab.run(18 * 3_600 + 60)
plots_ddb.waits(lab.outcomes("charge"), lab.clock.elapsed(), title="orders: the bad order blocks the shard for 24 h")
plt.show()

# %% [markdown]
# The bad order and the good order written with it expired unprocessed (`dropped`, trimmed after
# 24 h), and the five good orders behind them waited up to a day. *"With the default settings,
# this means that a bad record can block processing on the affected shard for up to one day"*
# ([services-dynamodb-errors](https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html)).

# %%
lab.outcomes("charge")[["item", "ending", "where", "attempts"]]

# %% [markdown]
# ### 5.3 Three ways to unblock it
#
# The same orders, a bad one among five good ones, against four mappings:
#
# 1. `maximum_retry_attempts=2` with an on-failure queue: give up on the batch after 2 retries;
# 2. the same plus `bisect_batch_on_function_error=True`: split a failing batch in two, again and
#    again, so only the bad record is given up on (splits do not count as retries);
# 3. a handler that reports the bad record (`batchItemFailures`), with
#    `report_batch_item_failures=True` and 2 retries: Lambda checkpoints before it and retries
#    from there ([services-ddb-batchfailurereporting](https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html));
# 4. `maximum_record_age_s=60` alone, for comparison.

# %%
def report_handler(event, context):
    failures = []
    for record in event["Records"]:
        if int(record["dynamodb"]["NewImage"]["amount"]["N"]) < 0:
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}


fixes = {
    "retries": (charge_handler, {"maximum_retry_attempts": 2}),
    "retries + bisect": (charge_handler, {"maximum_retry_attempts": 2, "bisect_batch_on_function_error": True}),
    "partial batch response": (report_handler, {"maximum_retry_attempts": 2, "report_batch_item_failures": True}),
    "record age 60 s": (charge_handler, {"maximum_record_age_s": 60}),
}
results = []
for n, (fix, (handler, options)) in enumerate(fixes.items()):
    table = f"orders-{n}"
    sqs.create_queue(QueueName=f"{table}-failed")
    stream = create_table(lab, table, key="order_id")
    lab.stream_trigger(stream, lab.function(f"charge-{n}", handler), on_failure=lab.arn("sqs", f"{table}-failed"),
                       **options)
    for i, amount in enumerate([10, 20, -5, 30, 40, 50]):
        order(table, f"o-{i}", amount)
    start = lab.clock.elapsed()
    lab.run_until_idle()
    endings = lab.outcomes(f"charge-{n}")["ending"]
    results.append({"fix": fix, "processed": (endings == "processed").sum(),
                    "sent to the queue": (endings == "destination").sum(),
                    "invocations": len(lab.log.to_frame(f"charge-{n}")),
                    "unblocked after s": round(lab.clock.elapsed() - start, 2)})
pd.DataFrame(results)

# %% [markdown]
# Retries alone unblock the shard, but the five good orders written with the bad one share its
# batch, and go to the queue with it. Bisecting splits the batch until the bad order is alone, and
# gives up on it only. A partial batch response keeps the two orders before the bad one; Lambda
# retries *from* the bad one, so the orders after it go to the queue with it when the retries run
# out: it isolates the bad record only when it is last, or combined with bisection. A maximum record
# age alone gives up on the whole batch, a minute later.
#
# What reaches the queue is not the records. It is an **invocation record** that says where the
# skipped batch sits in the stream:

# %%
skipped = json.loads(receive_all(lab, sqs.get_queue_url(QueueName="orders-1-failed")["QueueUrl"])[0]["Body"])
show(skipped)

# %% [markdown]
# To see the records themselves, read the stream at that sequence number, before the 24 hours
# are up:

# %%
info = skipped["DDBStreamBatchInfo"]
iterator = streams.get_shard_iterator(StreamArn=info["streamArn"], ShardId=info["shardId"],
                                      ShardIteratorType="AT_SEQUENCE_NUMBER",
                                      SequenceNumber=info["startSequenceNumber"])["ShardIterator"]
streams.get_records(ShardIterator=iterator, Limit=info["batchSize"])["Records"][0]["dynamodb"]["NewImage"]

# %% [markdown]
# ### 5.4 A change that changes nothing
#
# Write the same item twice:

# %%
ddb.put_item(TableName="users", Item={"user_id": {"S": "dan"}, "plan": {"S": "free"}})
ddb.put_item(TableName="users", Item={"user_id": {"S": "dan"}, "plan": {"S": "free"}})
lab.run_until_idle()
[(name, key) for name, key, _ in audit if key == "dan"], users_mapping.unchanged

# %% [markdown]
# One INSERT. DynamoDB writes no stream record when an update leaves the item as it was, so there
# is no MODIFY. (moto writes one; the lab spots it, because both images are equal, and skips it:
# `unchanged` counts them. With `KEYS_ONLY` or `OLD_IMAGE` streams the record does not show that
# nothing changed, and the lab delivers what moto wrote: see "In production".)
#
# ### 5.5 Shards, and concurrency per shard
#
# > **A claim you will meet:** *"The scaling is controlled by the number of shards in your
# > stream, which is itself determined by the write capacity of your table."*
#
# Half right. Lambda runs at most one batch per shard at a time, so concurrency is the number of
# shards times the **parallelization factor** (1-10), which you set on the mapping. The number of
# shards you do not set: *"Shards are ephemeral: They are created and deleted automatically, as
# needed"* and a shard *"might split in response to high levels of write activity"*
# ([Streams](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html)). It
# is not a function of write capacity (on-demand tables have streams too). Here, 50 clicks on
# 10 pages, with a factor of 1 and of 5:

# %%
def click_counter(seen):
    """A handler that notes (page, click number) for every record, in the order it gets them."""
    def handler(event, context):
        seen.extend((r["dynamodb"]["Keys"]["page"]["S"], int(r["dynamodb"]["NewImage"]["n"]["N"]))
                    for r in event["Records"])
    return handler


runs, clicks_seen = {}, {}
for factor in (1, 5):
    table = f"clicks-{factor}"
    clicks_seen[factor] = []
    fn = lab.function(table, click_counter(clicks_seen[factor]), duration_ms=200)
    lab.stream_trigger(create_table(lab, table, key="page"), fn, batch_size=5, parallelization_factor=factor)
    for n in range(50):
        ddb.put_item(TableName=table, Item={"page": {"S": f"page-{n % 10}"}, "n": {"N": str(n)}})
    lab.run_until_idle()
    runs[f"factor {factor}"] = lab.log.to_frame(table)
plots.invocations.concurrency_comparison(runs, title="One shard, parallelization factor 1 and 5")
plt.show()

# %% [markdown]
# Five batches at once from one shard, and each page's clicks still arrive in order, because
# records are spread over the five by their key:

# %%
def in_order_per_page(seen):
    return all([n for p, n in seen if p == page] == sorted(n for p, n in seen if p == page) for page, _ in seen)


{f"factor {factor}": in_order_per_page(seen) for factor, seen in clicks_seen.items()}

# %% [markdown]
# ### 5.6 Deletes nobody asked for: TTL
#
# With time to live on, DynamoDB deletes expired items itself, and the stream's REMOVE record
# says so with a `userIdentity` of the service
# ([time-to-live-ttl-streams](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html)).
# A handler that must not e-mail "sorry to see you go" to a session that expired:

# %%
sessions_stream = create_table(lab, "sessions", key="session_id")
ddb.update_time_to_live(TableName="sessions",
                        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
ended = []
lab.stream_trigger(sessions_stream, lab.function("goodbye", lambda event, context: ended.extend(
    (r["dynamodb"]["Keys"]["session_id"]["S"], r.get("userIdentity", {}).get("principalId", "a user"))
    for r in event["Records"] if r["eventName"] == "REMOVE")))
now = int(lab.clock.now())
for session, expires in (("s-1", now - 60), ("s-2", now + 3_600), ("s-3", now - 1)):
    ddb.put_item(TableName="sessions", Item={"session_id": {"S": session}, "expires_at": {"N": str(expires)}})
ddb.delete_item(TableName="sessions", Key={"session_id": {"S": "s-2"}})
lab.expire_ttl("sessions")
lab.run_until_idle()
ended

# %% [markdown]
# moto never expires items; `lab.expire_ttl(table)` does what DynamoDB's TTL does, now. On AWS
# the delete happens *"within a few days"* of the expiry, not at the second.
#
# ### 5.7 A running total: tumbling windows
#
# With `tumbling_window_s`, Lambda passes `state` from one invocation to the next within a window
# of time, and ends the window with an invocation marked `isFinalInvokeForWindow`
# ([services-ddb-windows](https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html)).
# Sales per minute:

# %%
totals = []


def sales_per_minute(event, context):
    total = event["state"].get("total", 0)
    total += sum(int(r["dynamodb"]["NewImage"]["amount"]["N"]) for r in event["Records"])
    if event["isFinalInvokeForWindow"]:
        totals.append((event["window"]["start"], total))
    return {"state": {"total": total}}


sales_stream = create_table(lab, "sales", key="sale_id")
lab.stream_trigger(sales_stream, lab.function("sales", sales_per_minute), tumbling_window_s=60)
for n in range(9):
    ddb.put_item(TableName="sales", Item={"sale_id": {"S": f"s{n}"}, "amount": {"N": str(10 * (n + 1))}})
    lab.run(25)
lab.run_until_idle()
totals

# %% [markdown]
# ## Exercises
#
# **Exercise 1:** Write `ex1_to_python(image)`, which turns a stream image (the `NewImage` of a
# record, in DynamoDB JSON) into the item boto3's `Table` resource would give you: numbers as
# `Decimal`, binary as `bytes`, sets as `set`, lists and maps converted all the way down. The check
# writes items of every type and compares.

# %% tags=["exercise"]
def ex1_to_python(image):
    ...  # your code here


# %% jupyter={"source_hidden": true} tags=["solution"]
import base64


def _binary_as_bytes(value):
    """The same DynamoDB JSON, with stream base64 text turned back into bytes."""
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind == "L":
        return {"L": [_binary_as_bytes(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _binary_as_bytes(v) for k, v in inner.items()}}
    return value


def ex1_to_python(image):
    return {name: deserializer.deserialize(_binary_as_bytes(value)) for name, value in image.items()}


# %% tags=["check"]
check.to_python(lab, ex1_to_python)

# %% [markdown]
# **Exercise 2:** The `ex2-orders` table feeds the function `ex2` (the `charge_handler` of
# section 5.2) through a mapping with the default settings. Change its settings, with
# `ex2_mapping.update(...)` (what UpdateEventSourceMapping does; the options are those of
# `lab.stream_trigger`), so that a bad order never holds up a good one for more than five minutes
# and no order is lost: every bad order must be findable from the queue `ex2-failed`. The check
# writes good and bad orders and watches where each ends.

# %%
ex2_stream = create_table(lab, "ex2-orders", key="order_id")
sqs.create_queue(QueueName="ex2-failed")
ex2_mapping = lab.stream_trigger(ex2_stream, lab.function("ex2", charge_handler))
ex2_mapping

# %% tags=["exercise"]
ex2_mapping.update()

# %% jupyter={"source_hidden": true} tags=["solution"]
ex2_mapping.update(bisect_batch_on_function_error=True, maximum_retry_attempts=1,
                   on_failure=lab.arn("sqs", "ex2-failed"))

# %% tags=["check"]
check.unblocked(lab, "ex2-orders", "ex2-failed")

# %% [markdown]
# **Exercise 3:** Welcome every new user exactly once. Write `ex3_handler`, which calls
# `send_welcome(user_id)` for each INSERT. The check makes the mapping deliver some batches twice
# (a crash after your handler returns), and a user who leaves and signs up again must be welcomed
# again. Use the `ex3-seen` table: a conditional write of the record's `eventID` tells you whether
# you have seen it.

# %%
for name, key in (("ex3-welcomes", "user_id"), ("ex3-seen", "eventID")):
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}])


def send_welcome(user_id):
    ddb.update_item(TableName="ex3-welcomes", Key={"user_id": {"S": user_id}}, UpdateExpression="ADD sent :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})


# %% tags=["exercise"]
def ex3_handler(event, context):
    ...  # your code here


# %% jupyter={"source_hidden": true} tags=["solution"]
def ex3_handler(event, context):
    for record in event["Records"]:
        if record["eventName"] != "INSERT":
            continue
        try:
            ddb.put_item(TableName="ex3-seen", Item={"eventID": {"S": record["eventID"]}},
                         ConditionExpression="attribute_not_exists(eventID)")
        except ddb.exceptions.ConditionalCheckFailedException:
            continue  # delivered before: welcomed already
        send_welcome(record["dynamodb"]["Keys"]["user_id"]["S"])


# %% tags=["check"]
check.exactly_once(lab, ex3_handler)

# %% [markdown]
# ## Summary
#
# - A table's stream records every change once, in order per item, for 24 hours; Lambda reads it
#   shard by shard, 4 times a second, and invokes your function with batches.
# - Values are DynamoDB JSON: numbers are strings (`Decimal` after `TypeDeserializer`), binary is
#   base64 text.
# - Lambda processes records **at least once**: a failed batch is retried whole. Make side effects
#   conditional on `eventID`.
# - A failing record **blocks its shard** until it succeeds or expires (24 h by default). Set
#   `maximum_retry_attempts` with an on-failure destination, and bisect or report partial batch
#   failures so only the bad record is given up on. Watch **IteratorAge**.
# - The on-failure destination gets where the batch was (`DDBStreamBatchInfo`), not the records:
#   read them from the stream within 24 hours.
# - Concurrency is shards × parallelization factor; DynamoDB decides the shards.
#
# ## In production
#
# - **What the lab plays.** moto stores the table and its stream; the lab's mapping reads it with
#   the public `describe_stream`, `get_shard_iterator` and `get_records` calls and plays Lambda's
#   poller. moto's stream has **one shard** that never splits; on AWS shards open, close and split,
#   and Lambda reads a parent shard before its children.
# - **Retry spacing** is the lab's assumption (1 s doubling to 60 s); AWS publishes none.
# - **Polling**: the lab looks at the shard at the next quarter second after a write through
#   `lab.client("dynamodb")` and after each invocation; writes through other clients are found by
#   an idle look that backs off to 5 minutes.
# - **moto's stream, corrected**: an update that changes nothing is skipped when the view type
#   shows it (`NEW_AND_OLD_IMAGES`, and `NEW_IMAGE` once the item's previous image was read), and
#   delivered otherwise; records older than 24 h are treated as trimmed; TTL deletes happen when
#   you call `lab.expire_ttl`.
# - **Expired records** (24 h) go to the on-failure destination when there is one (SAM's
#   documentation of the mapping: "expired record metadata ... is sent to this destination"), else
#   they end `dropped`. AWS's documented sample shows only the condition `RetryAttemptsExhausted`;
#   the lab writes `RecordAgeExceeded` for records too old (`MaximumRecordAgeInSeconds`) or expired,
#   its best guess.
# - **Reads are free** for Lambda consumers; at most 2 readers per shard (1 for global tables)
#   ([CostOptimization_StreamsUsage](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html)).

# %%
lab.close()

# %% [markdown] tags=["navigation"]
# [← 03 · SNS](03_sns.ipynb) · [index](index.md) · [05 · API Gateway →](05_api_gateway.ipynb)
