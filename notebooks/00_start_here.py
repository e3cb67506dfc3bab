# %% [markdown]
# # 00 · Start here: how a Lambda function gets triggered
#
# A Lambda function never runs by itself: something **invokes** it with an **event**.
# This workbook is about those somethings, the *event sources*, and about what they do
# to your code at 2 AM: duplicates, retries, throttles, poison messages.
# This first chapter tours the lab you will use in every chapter.
#
# **You will learn to:** name the three ways Lambda is invoked and which source uses which ·
# register and invoke a plain `handler(event, context)` · read the context and the
# CloudWatch-style log · recognise a cold start, a timeout and a throttle · read the
# invocation log as a table and as a timeline.
#
# **Time:** 20 minutes · **Prerequisites:** Python; no AWS account (nothing here leaves your machine).
#
# ## The event sources at a glance
#
# AWS invokes a function in one of three ways
# ([Lambda invocation methods](https://docs.aws.amazon.com/lambda/latest/dg/lambda-invocation.html)):
#
# | invocation model | who waits for the result | who retries a failure | sources in this workbook |
# |---|---|---|---|
# | **synchronous** | the caller | the caller (Lambda never retries a synchronous call) | API Gateway |
# | **asynchronous** | nobody: Lambda queues the event and answers 202 | Lambda's internal queue: 2 retries by default | S3, SNS, EventBridge |
# | **event source mapping** | a poller that Lambda runs for you | the poller, by its source's rules | SQS, DynamoDB Streams |
#
# Sources: [synchronous](https://docs.aws.amazon.com/lambda/latest/dg/invocation-sync.html),
# [asynchronous: "Amazon S3 and Amazon SNS invoke functions asynchronously"](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html),
# [services that invoke Lambda (EventBridge, listed as CloudWatch Events, is asynchronous)](https://docs.aws.amazon.com/lambda/latest/dg/lambda-services.html),
# [event source mappings: SQS and DynamoDB among them](https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html).
# An event source mapping invokes your function *synchronously*, with a batch of records.

# %%
import matplotlib.pyplot as plt

from lambda_lab import Lab, Uniform, notebook, show
from lambda_lab import plots
from lambda_lab.check import start_here as check

notebook.setup()
lab = Lab(seed=0)
lab

# %% [markdown]
# ## 1. The picture
#
# ```
#  your cell ──> lab.function(...).invoke(event) ──> handler(event, context) ──> result
#                  │
#                  ├─ clock    virtual time: a 30 s timeout takes no real time
#                  ├─ runtime  execution environments, cold starts, concurrency limits
#                  └─ log      every invocation, as a pandas DataFrame
#  moto (in-process, fake credentials) plays S3, SQS, SNS, DynamoDB and EventBridge
# ```
#
# `Lab(seed=0)` starts [moto](https://docs.getmoto.org/) in this process with fake
# credentials, seeds it so message ids repeat run to run, and starts a **virtual clock** on
# 1 January 2024. The clock only moves when the lab says so, which is how a six-hour
# retry schedule runs in milliseconds. `lab.client("sqs")` gives a normal boto3 client bound
# to this fake AWS.

# %%
lab.clock.iso()

# %% [markdown]
# ## 2. Register a function
#
# A handler is a plain function with AWS's signature. Nothing in it knows about the lab: you
# could deploy it unchanged.

# %%
def handler(event, context):
    print(f"greeting {event['name']}")
    return {"greeting": f"Hello, {event['name']}"}


hello = lab.function("hello", handler, timeout_s=3, memory_mb=128, duration_ms=45)
hello

# %% [markdown]
# `duration_ms` is how long the handler *takes* on the virtual clock. The lab runs your
# Python at once, then charges that much virtual time, so timeouts and concurrency behave
# as on AWS. It can be a number, a seeded random distribution (`Uniform`, `LogNormal`), or a
# function of the event.
#
# ## 3. Invoke it synchronously
#
# `invoke` is the synchronous call: you wait for the answer. The response carries what
# Lambda's Invoke API returns: a status code, the payload, and a function error if any.

# %%
response = hello.invoke({"name": "Ada"})
response

# %% [markdown]
# Everything the handler printed went to its log, framed by the START, END and REPORT lines
# CloudWatch shows. This first call was a **cold start**: Lambda had to create an execution
# environment and run the initialisation code first, and the REPORT line says so with an
# `Init Duration`.

# %%
print(response.log)

# %% [markdown]
# ## 4. Read the context
#
# The second argument, `context`, tells the handler who and where it is. Its attributes
# have AWS's names ([Python context object](https://docs.aws.amazon.com/lambda/latest/dg/python-context.html));
# `memory_limit_in_mb` is a string, as on AWS, and `get_remaining_time_in_millis()` reads the
# virtual clock.

# %%
def whoami(event, context):
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


show(lab.function("whoami", whoami, timeout_s=10).invoke({}).payload)

# %% [markdown]
# ## 5. Cold, then warm
#
# Call `hello` twice more. The environment created for the first call is idle again, so
# Lambda reuses it: no init this time. AWS says cold starts "typically occur in under 1% of
# invocations" and take "from under 100 ms to over 1 second"
# ([execution environment](https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html)).
# Billing is per millisecond. Since 1 August 2025 the init phase is billed too for the
# configurations where it used to be free: on-demand invocations of functions packaged as ZIP
# files that use a managed runtime (container images, custom runtimes and provisioned
# concurrency already paid for it)
# ([AWS Lambda standardizes billing for INIT Phase](https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/),
# AWS Compute Blog, 29 April 2025). The lab bills it the same way: the cold start's billed
# duration below is its init plus its run.

# %%
hello.invoke({"name": "Grace"})
hello.invoke({"name": "Linus"})
lab.log.to_frame("hello")[["request_id", "start", "cold_start", "init_duration_ms", "duration_ms", "billed_duration_ms"]]

# %% [markdown]
# ## 6. When things go wrong
#
# ### A handler error
#
# An exception does not crash anything: Lambda catches it and reports a **function error**.
# The status code is still 200 (the *invoke* worked); `FunctionError: Unhandled` and the
# payload tell you the handler failed.

# %%
hello.invoke({"nme": "typo"})

# %% [markdown]
# ### A timeout
#
# A function that needs 4.5 s with a 3 s timeout is stopped at 3 s. AWS reports
# `Sandbox.Timedout` and logs `Task timed out after 3.00 seconds`
# ([configuring timeouts](https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html)).

# %%
slow = lab.function("slow-report", handler, timeout_s=3, duration_ms=4_500)
timed_out = slow.invoke({"name": "Ada"})
timed_out.payload

# %%
print(timed_out.log)

# %% [markdown]
# In the lab your Python ran to the end before the timeout was applied; on AWS the work
# after the deadline never happens. Either way, the caller sees a failure, so work done before
# the deadline may be done *again* by a retry. That is the first reason handlers must be
# idempotent.
#
# ### A throttle
#
# Concurrency is the number of environments busy at one instant. An account has 1,000 by
# default, and **reserved concurrency** caps one function
# ([Lambda concurrency](https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html)).
# Five callers arrive at once at a function with 2 reserved: two run, three are throttled
# with HTTP 429, and for a synchronous call nobody retries them but the caller.

# %%
report = lab.function("report", handler, reserved_concurrency=2, duration_ms=Uniform(800, 1200))
results = report.invoke_concurrently([{"name": f"caller-{i}"} for i in range(5)])
[type(r).__name__ for r in results]

# %%
results[-1]

# %% [markdown]
# Reserved concurrency 0 is Lambda's off switch: every call is throttled.

# %% tags=["raises-exception"]
# NBVAL_CHECK_OUTPUT
off = lab.function("switched-off", handler, reserved_concurrency=0)
off.invoke({"name": "Ada"})

# %% [markdown]
# ### A setting AWS would refuse
#
# The lab refuses what AWS refuses, with the rule and the limit in the message: a timeout
# can be at most 900 s ([Lambda quotas](https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)).

# %% tags=["raises-exception"]
# NBVAL_CHECK_OUTPUT
lab.function("too-long", handler, timeout_s=1_000)

# %% [markdown]
# ## 7. The invocation log
#
# Every invocation is a row: which function, what started it, the attempt number, when it
# started and ended on the virtual clock (seconds since the lab started), and how it ended.

# %%
frame = lab.log.to_frame()
frame[["function", "source", "start", "end", "cold_start", "outcome", "error_type"]]

# %%
frame["outcome"].value_counts()

# %% [markdown]
# The same log as a timeline: one lane per execution environment, the hatched part is the
# init phase of a cold start, an `x` is a call that never ran.

# %%
plots.timeline(frame, title="Chapter 00: every invocation")
plt.show()

# %%
plots.concurrency(lab.log.to_frame("report"), limit=2, title="report: concurrency against its reservation")
plt.show()

# %% [markdown]
# ## Exercises
#
# **Exercise 1:** How many of 10 callers that arrive at once get through a reserved concurrency
# of 3? Answer with an experiment, written as a function so it works for any numbers:
# `burst(lab, calls, reserved)` registers a function with `reserved_concurrency=reserved`, sends
# it `calls` events at the same instant with `invoke_concurrently`, and returns how many calls
# succeeded, counted from the results. Try it with `burst(lab, 10, 3)`. The check runs it with
# numbers of its own and reads `lab.log` to see that the calls happened and were throttled.

# %% tags=["exercise"]
def burst(lab, calls, reserved):
    ...  # your code here

# %% jupyter={"source_hidden": true} tags=["solution"]
def burst(lab, calls, reserved):
    fn = lab.function("burst", handler, reserved_concurrency=reserved, duration_ms=500)
    outcomes = fn.invoke_concurrently([{"name": str(i)} for i in range(calls)])
    return sum(1 for r in outcomes if not isinstance(r, Exception))

# %% tags=["check"]
check.ex1(lab, burst)

# %% [markdown]
# **Exercise 2:** `handler` fails on an event without `name`. Write `safe_handler(event, context)`
# that returns `{"greeting": "Hello, Ada"}` for `{"name": "Ada"}` and
# `{"greeting": "Hello, stranger"}` for any event without a `name`: `{}`, or the typo
# `{"nme": "typo"}` of section 6. The check registers it in the lab and invokes it.

# %% tags=["exercise"]
def safe_handler(event, context):
    ...  # your code here

# %% jupyter={"source_hidden": true} tags=["solution"]
def safe_handler(event, context):
    return {"greeting": f"Hello, {event.get('name', 'stranger')}"}

# %% tags=["check"]
check.ex2(lab, safe_handler)

# %% [markdown]
# ## Summary
#
# - Lambda is invoked synchronously (API Gateway), asynchronously (S3, SNS, EventBridge) or by
#   an event source mapping that polls (SQS, DynamoDB Streams).
# - A handler is a plain `handler(event, context)`; the context has AWS's names and reads the clock.
# - The first call on a new environment is a cold start with an init duration; idle
#   environments are reused.
# - A handler error is a function error (status 200, `FunctionError`), a slow handler times
#   out, and calls beyond the concurrency limit are throttled with 429.
# - `lab.log.to_frame()` records every invocation; `plots` draws it.
#
# ## In production
#
# - AWS runs each environment as a separate micro-VM and measures real durations; the lab runs
#   handlers in this process and charges the `duration_ms` you give it. Code after a timeout
#   still ran here.
# - `Max Memory Used` in the REPORT line is a setting (`memory_used_mb`), not a measurement.
#   Error payloads leave out `stackTrace`, so outputs do not depend on file paths.
# - Idle environments stay warm here until reused; AWS reclaims them after an unpublished idle time.
# - The account limit is 1,000 by default, but new accounts start lower, and a function
#   scales by at most 1,000 environments every 10 seconds
#   ([scaling behaviour](https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html)):
#   chapter 07 simulates that at storm scale.
# - To run the same code against a moto server or LocalStack on this machine, pass
#   `Lab(endpoint_url="http://127.0.0.1:5000")`; a real account needs an explicit opt-in (see README).

# %%
lab.close()

# %% [markdown] tags=["navigation"]
# [index](index.md) · [01 · S3 →](01_s3.ipynb)
