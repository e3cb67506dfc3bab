# %% [markdown]
# # 08 · To the cloud: the same handlers and wiring, as a SAM project
#
# Every chapter so far ran on a virtual clock against moto. The blog post's promise, and this
# workbook's, is that the handlers you wrote are the ones you deploy. This chapter builds one small
# system from the earlier chapters with handlers written the way AWS runs them, exports it with
# `lab.to_sam` as an [AWS SAM](https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/what-is-sam.html)
# project, validates that project offline with cfn-lint and the SAM transform, reviews it against
# the settings the earlier chapters showed to matter, and walks through what changes in
# production: IAM, the real clock, real quotas, costs, and the metrics to alarm on.
#
# **You will learn to:** write handlers that export unchanged · export a lab's wiring as a SAM
# project · read the template · validate it offline · review it per source · estimate what it
# costs · choose alarms · run the same cells against a local endpoint · deploy it with your own
# account.
#
# **Time:** 35 minutes · **Prerequisites:** chapters 02, 04 and 05.

# %%
import json
import tempfile
from pathlib import Path

import pandas as pd

from lambda_lab import Lab, notebook
from lambda_lab.check import cloud as check
from lambda_lab.cloud import load_template, review, validate
from lambda_lab.helpers.dynamodb import create_table
from lambda_lab.sim import cost

notebook.setup()
lab = Lab(seed=0)
lab.region

# %% [markdown]
# ## 1. The picture
#
# An order service: an HTTP API in front of a table (chapter 05), the table's stream feeding a
# consumer (chapter 04), and a queue with a dead-letter queue in front of a worker (chapter 02).
#
# ```
#  client ──POST /orders──> place-order ──PutItem──> table "orders"
#                                                        │ stream (NEW_IMAGE)
#                                                        v
#                          confirm-order ──SendMessage──> queue "emails" ──> send-email
#                              │ on failure                  │ after 5 receives
#                              v                             v
#                       queue "confirm-failed"        queue "emails-dlq"
# ```
#
# ## 2. Handlers that travel
#
# On AWS a handler is a file: it has its imports, and nothing else of your notebook. The handlers
# of the earlier chapters read a client made in another cell (`sqs = lab.client("sqs")`), so they
# cannot leave the notebook. `lab.to_sam` refuses them and says why. Here is chapter 02's style:

# %%
sqs = lab.client("sqs")


def send_email_from_the_notebook(event, context):
    for record in event["Records"]:
        sqs.send_message(QueueUrl="emails-sent", MessageBody=record["body"])


scratch = tempfile.TemporaryDirectory(prefix="lambda-lab-sam-")  # removed at the end of the chapter
lab.function("send-email", send_email_from_the_notebook)
try:
    lab.to_sam(Path(scratch.name) / "refused")
except Exception as error:
    print(f"{type(error).__name__}: {error}")

# %% [markdown]
# A handler that travels imports what it uses in its own cell and makes its AWS clients with
# `boto3`, with no region and no endpoint: Lambda gives every function `AWS_REGION`, and the lab
# does the same while it runs (in-process moto answers those clients; with a local endpoint, the
# lab points them there with `AWS_ENDPOINT_URL`). Names of queues and tables are written in the
# code: the export keeps them. The three handlers of the system:

# %%
import json
from decimal import Decimal

import boto3


def place_order(event, context):
    order = json.loads(event["body"], parse_float=Decimal)  # DynamoDB takes Decimal, never float
    orders = boto3.resource("dynamodb").Table("orders")
    try:
        orders.put_item(Item={"order_id": order["order_id"], "email": order["email"], "total": order["total"]},
                        ConditionExpression="attribute_not_exists(order_id)")
    except orders.meta.client.exceptions.ConditionalCheckFailedException:
        return {"statusCode": 409, "body": json.dumps({"error": f"order {order['order_id']} exists"})}
    return {"statusCode": 201, "body": json.dumps({"order_id": order["order_id"]})}


def confirm_order(event, context):
    sqs = boto3.client("sqs")
    queue_url = sqs.get_queue_url(QueueName="emails")["QueueUrl"]
    for record in event["Records"]:
        if record["eventName"] == "INSERT":
            item = record["dynamodb"]["NewImage"]
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(
                {"to": item["email"]["S"], "order_id": item["order_id"]["S"]}))


def send_email(event, context):
    failures = []
    for record in event["Records"]:
        email = json.loads(record["body"])
        if "@" not in email["to"]:
            failures.append({"itemIdentifier": record["messageId"]})  # retried, then dead-lettered
            continue
        print(f"to {email['to']}: order {email['order_id']} is confirmed")
    return {"batchItemFailures": failures}

# %% [markdown]
# ## 3. Build it and run it
#
# The queues, with the `emails` queue's visibility timeout at six times the worker's timeout
# and five receives before the dead-letter queue (chapter 02):

# %%
sqs.create_queue(QueueName="emails-dlq")
sqs.create_queue(QueueName="confirm-failed")
emails_url = sqs.create_queue(QueueName="emails", Attributes={
    "VisibilityTimeout": "60",
    "RedrivePolicy": json.dumps({"deadLetterTargetArn": lab.arn("sqs", "emails-dlq"), "maxReceiveCount": "5"}),
})["QueueUrl"]
orders_stream = create_table(lab, "orders", "order_id", view_type="NEW_IMAGE")
sorted(url.rsplit("/", 1)[1] for url in sqs.list_queues()["QueueUrls"])

# %% [markdown]
# The functions and their triggers. Registering `send-email` again replaces the notebook-bound
# handler:

# %%
place = lab.function("place-order", place_order, memory_mb=256)
confirm = lab.function("confirm-order", confirm_order)
send = lab.function("send-email", send_email, timeout_s=10)
api = lab.http_api({"POST /orders": place})
lab.stream_trigger(orders_stream, confirm, starting_position="TRIM_HORIZON", batch_size=100,
                   bisect_batch_on_function_error=True, maximum_retry_attempts=2,
                   on_failure=lab.arn("sqs", "confirm-failed"), report_batch_item_failures=True)
lab.sqs_trigger(emails_url, send, batch_size=10, report_batch_item_failures=True)

# %% [markdown]
# Four orders, one with an address that cannot be mailed, and one order placed twice:

# %%
orders = [("o-1", "ann@shop.example", 12.5), ("o-2", "bob@shop.example", 30), ("o-3", "no-address", 8.25),
          ("o-4", "cy@shop.example", 99.9), ("o-1", "ann@shop.example", 12.5)]
[(api.post("/orders", json={"order_id": o, "email": e, "total": t}).status) for o, e, t in orders]

# %%
lab.run_until_idle()

# %% [markdown]
# Every item ended somewhere: the duplicate order as a `409` (the conditional write), the
# bad address in `emails-dlq` after five receives, five minutes of virtual time later:

# %%
lab.outcomes()[["source", "function", "attempts", "ending", "where"]]

# %% [markdown]
# ## 4. Export
#
# `lab.to_sam(path)` writes the project: `template.yaml`, one code folder per function, and
# `export-report.json` saying what it did. It reads the lab's functions, triggers and resources
# with public calls, and leaves the lab's own machinery out (its relay queues, hidden
# subscriptions and targets). The folder is a temporary one: nothing of the workbook changes.

# %%
project = lab.to_sam(Path(scratch.name) / "orders-app")
sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())

# %% [markdown]
# The template, in SAM's property names: each trigger is an event of its function with the
# settings the lab used, each queue and table a resource, and references instead of ARNs.

# %%
print((project / "template.yaml").read_text())

# %% [markdown]
# A handler from a cell is exported from its source, with `import` lines for what it read:

# %%
print((project / "functions" / "place-order" / "app.py").read_text())

# %% [markdown]
# The report lists what was exported as code, what was stubbed (nothing here), and what has no
# place in a template: the lab's durations, its account model and its fault injection.

# %%
report = json.loads((project / "export-report.json").read_text())
{key: report[key] for key in ("stubs", "left_out", "notes")}

# %% [markdown]
# ## 5. Validate offline
#
# Two checks, with no AWS account and no network: [cfn-lint](https://github.com/aws-cloudformation/cfn-lint)
# on the template, then the SAM transform itself (the `aws-sam-translator` package that
# CloudFormation runs) turning it into plain CloudFormation, linted again. The test suite does
# the same for every chapter's final wiring.

# %%
checked = validate(project)
checked

# %%
checked.transformed_types

# %% [markdown]
# ## 6. Review: the settings the earlier chapters showed to matter
#
# `review` reads the template and checks, per source, the settings that decide what happens at
# 2 AM. Each row cites the AWS page the rule comes from.

# %%
checks = review(project)
print(checks.attrs["summary"])
checks[["source", "resource", "check", "has", "ok"]]

# %% [markdown]
# The same checklist, as you would go through it by hand:
#
# | source | setting | why (chapter) |
# |---|---|---|
# | SQS | visibility timeout ≥ 6 × function timeout + batching window | throttled batches are retried within it (02) |
# | SQS | redrive policy on the **source queue**, `maxReceiveCount` ≥ 5 | a poison message ends in the DLQ, not forever in the queue (02) |
# | SQS, DynamoDB | `ReportBatchItemFailures`, and a handler that returns them | one bad message does not fail its whole batch (02, 04) |
# | DynamoDB | `MaximumRetryAttempts` or `MaximumRecordAgeInSeconds` set | the default retries a batch until it expires: 24 hours of a blocked shard (04) |
# | DynamoDB | `BisectBatchOnFunctionError`, an on-failure destination | isolate the bad record, keep a pointer to what was skipped (04) |
# | S3, SNS, EventBridge | an on-failure destination or a DLQ on the function | after 2 retries an asynchronous event is otherwise dropped (01, 03) |
# | SNS | a redrive policy on the subscription | what SNS cannot hand to Lambda (03) |
# | EventBridge | a DLQ on each target | what EventBridge cannot hand over in 24 hours (06) |
# | API Gateway | function timeout ≤ integration timeout | the client gets a 503/504 while the function runs on (05) |
# | all | idempotent handlers | every source delivers at least once (01-04, 07) |
#
# ## 7. What changes in production
#
# **IAM.** In the lab every call is allowed; on AWS each function gets a role that must allow each
# call. The lab records every call a handler makes through its own boto3 clients (`lab.calls`),
# and the export allows exactly those, plus the function's destinations and dead-letter queue:
# a SAM [policy template](https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-policy-templates.html)
# where one covers the calls (the narrowest), an inline statement for the rest. SAM adds what
# the triggers need (reading the stream and the queue) from the events.

# %%
lab.calls.of("confirm-order")

# %% [markdown]
# `SQSSendMessagePolicy` allows `sqs:SendMessage*` only; `sqs:GetQueueUrl` is in no template, so it
# gets a statement of its own. A code path a handler never took in the lab is not in its role:
# run the paths you deploy.

# %%
resources = load_template(project / "template.yaml")["Resources"]
resources["ConfirmOrderFunction"]["Properties"]["Policies"]

# %% [markdown]
# **The real clock.** Five minutes of visibility timeouts took no time here; on AWS they take five
# minutes, and the retry schedules of chapters 01, 03 and 06 take hours. Intervals AWS does not
# publish (a stream's retry back-off, EventBridge's 185 retries) are the lab's assumptions, said
# where they are used.
#
# **Real concurrency.** An account has 1,000 concurrent executions by default, shared by every
# function in the Region; a new account may start lower
# ([quotas](https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)). Functions
# scale by 1,000 environments every 10 seconds. The stream consumer uses one environment per
# shard (times the parallelization factor), and the SQS worker scales with the queue's backlog.
#
# **Costs.** With `lambda_lab.sim.cost`, at the prices of `lambda_lab.limits` (us-east-1, x86,
# free tier left out): a month of 100,000 orders like these, from the durations this run
# measured. SQS counts one send per message, one receive and one delete per batch; the empty long polls
# an SQS mapping's pollers make while the queue is idle are left out. API Gateway and DynamoDB
# charges are not in the lab's price list: see their pricing pages.

# %%
runs = pd.DataFrame([{"function": r.function, "billed_ms": r.billed_duration_ms} for r in lab.log.records])
per_order = runs.groupby("function")["billed_ms"].agg(["size", "mean"]).set_axis(["invocations", "billed_ms"], axis=1)
per_order["invocations"] /= 5  # per request: this run made five
per_order["memory_mb"] = [lab.runtime.functions[name].memory_mb for name in per_order.index]
per_order

# %%
month = 100_000
gbs = sum(cost.gb_seconds(month * row.invocations, row.billed_ms, row.memory_mb) for row in per_order.itertuples())
invocations = month * per_order["invocations"].sum()
bill = cost.lambda_cost(int(invocations), gbs)
batches = int(month * per_order.loc["send-email", "invocations"])  # one receive and one delete each
bill["sqs_usd"] = cost.sqs_requests(messages=month, receives=batches) * cost.P.SQS_PER_REQUEST_USD
{k: round(v, 4) for k, v in bill.items()}

# %% [markdown]
# **Metrics and alarms.** `lab.metrics()` computes CloudWatch's metrics from the run, with AWS's
# names; on AWS they are what you alarm on:

# %%
metrics = lab.metrics()
metrics[metrics["namespace"] == "AWS/Lambda"].groupby(["metric", "dimension"])["value"].max().unstack()

# %% [markdown]
# The queues' metrics (the lab samples moto's queues once a virtual minute, in-process only):

# %%
metrics[metrics["namespace"] == "AWS/SQS"].groupby(["metric", "dimension"])["value"].max().unstack()

# %% [markdown]
# | source | alarm on | when |
# |---|---|---|
# | every function | `Errors`, `Throttles` (AWS/Lambda) | above 0 for a few periods |
# | SQS | `ApproximateAgeOfOldestMessage` of the source queue | above what your users can wait |
# | SQS | `ApproximateNumberOfMessagesVisible` of the DLQ | above 0: something needs a look |
# | DynamoDB Streams, Kinesis | `IteratorAge` | growing: a shard is blocked or the consumer is behind |
# | S3, SNS, EventBridge → Lambda | `AsyncEventsDropped`, `DeadLetterErrors`, `DestinationDeliveryFailures` | above 0: events were lost |
# | API Gateway | `5xx` (HTTP API) or `5XXError` (REST API), `Latency` (AWS/ApiGateway; not modelled by the lab) | above your error budget |
# | EventBridge | `FailedInvocations`, `InvocationsSentToDlq` (AWS/Events; not modelled) | above 0 |
#
# ([Lambda metrics](https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html),
# [SQS metrics](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html))
#
# `lab.to_sam(path, alarms=True)` writes the Lambda and SQS rows into the template
# (`lambda_lab.cloud.alarms`), for each function and queue as its sources call for. The
# thresholds are the lab's starting points, not AWS numbers: tune them. The alarms have no
# actions yet: add the SNS topic that pages you as `AlarmActions`.

# %%
with_alarms = lab.to_sam(Path(scratch.name) / "orders-app-with-alarms", alarms=True)
pd.DataFrame([{"alarm": name, "metric": r["Properties"]["MetricName"], "statistic": r["Properties"]["Statistic"],
               "at or above": r["Properties"]["Threshold"]}
              for name, r in load_template(with_alarms / "template.yaml")["Resources"].items()
              if r["Type"] == "AWS::CloudWatch::Alarm"])

# %% [markdown]
# ## 8. The same cells against another endpoint
#
# The lab talks to AWS through one setting. `Lab(seed=0)` uses moto in this process;
# `Lab(seed=0, endpoint_url="http://127.0.0.1:5000")` uses a moto server (`moto_server -H
# 127.0.0.1 -p 5000`). The test suite runs this chapter's cells against one started in the
# notebook's process (it shares the virtual clock) and gets the outputs stored here, all but the
# queues' metrics, which the lab reads from in-process moto only. What changes elsewhere:
#
# - **LocalStack** (`endpoint_url="http://localhost:4566"`, in Docker): it has no moto seed, so
#   message and request ids differ run to run; the lab still plays Lambda and the pollers, so do
#   not also deploy the functions into LocalStack. Not tested here: it needs Docker.
# - **A real account** (`Lab(endpoint_url="aws", allow_remote=True)`): your credentials, real
#   charges, and the real clock for AWS's side (signatures must carry the real time), while the
#   lab's own scheduling stays virtual. Never run in CI. Anything else off this machine is refused
#   unless `allow_remote=True`.
#
# ## 9. Deploy it with your own account
#
# With the [SAM CLI](https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html)
# and your credentials, in the exported folder:
#
# ```
# sam validate --lint      # the same checks as section 5, by AWS's tool
# sam build                # packages each functions/<name>/ (needs python3.11, or --use-container)
# sam deploy --guided      # asks for a stack name and Region, creates the stack
# sam delete               # removes everything it created
# ```
#
# What it costs: idle, nothing but the table's storage (cents for a demo); per use, the numbers
# of section 7, mostly inside the free tier for a workshop. `sam delete` when you are done.
#
# ## Exercises
#
# **Exercise 1:** `save_orders` below works in the lab but cannot be exported: it reads `ddb` and
# `EX1_TABLE` from the notebook. Rewrite it so it travels: same name, same behaviour (for each SQS
# message, whose body is `{"order_id": "...", "total": 12.5}`, put an item with `order_id` (a
# string) and `total` (a number) into the table `ex1-orders`). The check exports your handler,
# imports the exported file on its own, and runs **that** against messages it makes up.

# %%
ddb = lab.client("dynamodb")
EX1_TABLE = "ex1-orders"
create_table(lab, EX1_TABLE, "order_id")
EX1_TABLE

# %% tags=["exercise"]
def save_orders(event, context):
    for record in event["Records"]:
        order = json.loads(record["body"])
        ddb.put_item(TableName=EX1_TABLE, Item={"order_id": {"S": order["order_id"]},
                                                "total": {"N": str(order["total"])}})

# %% jupyter={"source_hidden": true} tags=["solution"]
import json

import boto3


def save_orders(event, context):
    ddb = boto3.client("dynamodb")
    for record in event["Records"]:
        order = json.loads(record["body"])
        ddb.put_item(TableName="ex1-orders", Item={"order_id": {"S": order["order_id"]},
                                                   "total": {"N": str(order["total"])}})

# %% tags=["check"]
check.travels(lab, save_orders)

# %% [markdown]
# **Exercise 2:** The stream consumer `ex2-confirm` below was wired with the defaults. Change its
# mapping with `ex2_mapping.update(...)` so that `review` finds nothing to fix for it, and a bad
# order (a negative total) no longer holds up the orders behind it: they must be processed within
# an hour of virtual time, and the bad one must be recorded in the queue `ex2-failed`. The check
# exports the lab and reviews the template, then writes orders (one bad, at a random place) and
# watches where each ends.

# %%
def ex2_confirm(event, context):
    for record in event["Records"]:
        total = record["dynamodb"]["NewImage"]["total"]["N"]
        if total.startswith("-"):
            raise ValueError(f"total must not be negative, got {total}")


sqs.create_queue(QueueName="ex2-failed")
ex2_stream = create_table(lab, "ex2-orders", "order_id", view_type="NEW_IMAGE")
ex2_mapping = lab.stream_trigger(ex2_stream, lab.function("ex2-confirm", ex2_confirm))
ex2_mapping

# %% tags=["exercise"]
ex2_mapping.update()

# %% jupyter={"source_hidden": true} tags=["solution"]
ex2_mapping.update(maximum_retry_attempts=2, bisect_batch_on_function_error=True,
                   on_failure=lab.arn("sqs", "ex2-failed"), report_batch_item_failures=True)

# %% tags=["check"]
check.reviewed(lab, ex2_mapping)

# %% [markdown]
# ## Summary
#
# - A handler travels when it imports what it uses and makes its own clients: `lab.to_sam`
#   exports it as code, and refuses (saying why) a lambda, a closure or a handler that reads
#   notebook state.
# - The export is a SAM project with every trigger's settings in SAM's names; it validates offline
#   with cfn-lint and the SAM transform.
# - `review` checks the settings the earlier chapters showed to matter, source by source.
# - Production adds IAM, the real clock, shared quotas, costs and alarms: the lab's metrics have
#   AWS's names, so the alarms you choose here are the ones you set there.
#
# ## In production
#
# - **What the lab exports.** Functions, triggers, queues, topics, tables, buckets and buses with
#   the settings the lab used. Not exported: what AWS measures rather than configures (durations,
#   memory used, the account's concurrency) and the lab's fault injection. IAM covers the calls
#   the lab saw (section 7), not the ones a handler did not make here.
# - **Buckets** get their names from CloudFormation (bucket names are global): a handler should
#   read a bucket's name from its event, not from its code.
# - **Validated is not deployed.** cfn-lint and the SAM transform catch what a template gets wrong;
#   quotas, permissions and names already taken in your account show up only at `sam deploy`.

# %%
scratch.cleanup()
lab.close()

# %% [markdown] tags=["navigation"]
# [← 07 · Event storms](07_event_storms.ipynb) · [index](index.md)
