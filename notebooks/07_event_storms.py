# %% [markdown]
# # 07 · Event storms: 100,000 files at once
#
# A nightly job drops 100,000 files into a bucket, and each one triggers your function. The
# S3 chapter wired this up for a handful of objects; here is the same storm at full size. Too
# big to run event by event, so this chapter uses `lambda_lab.sim`, a small numpy simulation
# of Lambda's concurrency rules, checked in `tests/` against queueing theory (Little's law,
# Erlang B) and against AWS's published retry schedules.
#
# **You will learn to:** predict how a storm meets the concurrency limit · compare direct
# asynchronous invocation, reserved concurrency and an SQS queue in between · protect a
# database with `MaximumConcurrency` · size a visibility timeout against duplicates ·
# explain why retries need jitter · estimate what a storm costs.
#
# **Time:** 30 minutes · **Prerequisites:** chapters on S3 and SQS (00 for the vocabulary).
#
# ## The event source at a glance
#
# | path | invocation | who absorbs the storm | retries | duplicates |
# |---|---|---|---|---|
# | S3 → Lambda | asynchronous | Lambda's internal queue | throttles: 1 s growing to 5 min, for up to 6 h | at least once |
# | S3 → SQS → Lambda | event source mapping (synchronous, batches) | the SQS queue | the message comes back after the visibility timeout | at least once |
#
# Sources: [asynchronous invocation](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html),
# [async error handling: "The retry interval increases exponentially from 1 second after the first attempt to a maximum of 5 minutes"](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html),
# [S3 notifications are "delivered at least once"](https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html),
# [event source mappings process each event "at least once"](https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html).

# %%
import matplotlib.pyplot as plt
import pandas as pd

from lambda_lab import Lab, notebook, sim
from lambda_lab.check import storms as check
from lambda_lab.plots import metrics as cloudwatch
from lambda_lab.sim import plots, storm

notebook.setup()
FILES, DURATION_MS, SEED = 100_000, 200, 7
base = sim.StormConfig(events=FILES, duration_ms=DURATION_MS, seed=SEED)
base.mode, base.limit, base.effective_limit()

# %% [markdown]
# ## 1. The picture
#
# ```
#  100,000 PUTs ──> S3 ──async──> Lambda's queue ──> function  (≤ 1,000 at once) ──> database (100 connections)
#                    └──────────> SQS queue ──> pollers (5 → 1,000 batches) ──┘
# ```
#
# Three AWS numbers decide the storm. An account may run **1,000** invocations at once per
# Region by default ([concurrency](https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html)).
# A function adds at most **1,000 execution environments every 10 seconds**
# ([scaling behaviour](https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html)).
# An SQS event source mapping starts with **5** concurrent batches and adds up to **300 per
# minute**, to at most **1,000** ([SQS scaling](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html)).
# Every handler here takes 200 ms per file and holds one database connection while it runs.

# %% [markdown]
# ## 2. The storm, four ways
#
# The simulation places all 100,000 events at t = 0 and runs four set-ups: direct
# asynchronous invocation; the same with **reserved concurrency** 100
# ([reserved concurrency](https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html));
# an SQS queue with **`MaximumConcurrency`** 100
# ([ScalingConfig](https://docs.aws.amazon.com/lambda/latest/api/API_ScalingConfig.html));
# and an SQS queue with reserved concurrency 100 but no `MaximumConcurrency`.

# %%
scenarios = {
    "async": dict(mode="async"),
    "async, reserved 100": dict(mode="async", reserved=100),
    "SQS, MaxConc 100": dict(mode="sqs", max_concurrency=100),
    "SQS, reserved 100": dict(mode="sqs", reserved=100),
}
runs = {name: sim.simulate_storm(base, bin_s=1.0, **kw) for name, kw in scenarios.items()}
summary = pd.DataFrame.from_dict({name: r.summary.as_dict() for name, r in runs.items()}, orient="index")
columns = ["completion_s", "invocations", "throttles", "dropped", "dlq", "max_concurrency", "cold_starts"]
summary[columns]

# %% [markdown]
# Direct invocation is the fastest: 1,000 at a time, done in about a minute. But look at the
# throttles: Lambda's queue tried most events several times before one got through. Reserved
# concurrency makes the storm several times slower and multiplies the throttles. With SQS, no
# call is throttled at all: the queue holds the backlog, and each invocation takes a batch of
# 10 ([BatchSize default 10](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html)).

# %%
plots.storm_timeline({name: r.timeline for name, r in runs.items() if name != "SQS, reserved 100"},
                     limit=1000, title="Concurrent invocations")
plt.show()

# %% [markdown]
# The direct storm hits 1,000 at once and then comes in waves: throttled events come back
# together when their retry timers fire. The SQS line climbs by 5 batches a second
# (300 per minute) until it reaches `MaximumConcurrency`.

# %%
plots.storm_panels(runs["async, reserved 100"].timeline, title="async, reserved concurrency 100")
plt.show()

# %% [markdown]
# The waves are the retry schedule. Each throttled event waits about 1 s, then 2, 4, 8 …
# up to 5 minutes, so the later waves are far apart and the tail is long. Nothing was
# dropped here, because the storm ended long before the 6-hour maximum event age
# ([MaximumEventAgeInSeconds, 60-21,600](https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html)).
# No storm can drain faster than N × duration / limit; the table's `drain_lower_bound_s` shows it.

# %%
summary[["completion_s", "drain_lower_bound_s"]]

# %% [markdown]
# A real upload is rarely one instant. `data/storm_trace.csv` is a synthetic two-minute
# upload of the same files (about 1,000 per second, a stall, a catch-up). Spread out like
# that, the direct storm never reaches the limit: the arrival rate decides, not the file count.

# %%
trickle = sim.simulate_storm(base, mode="async", arrival="trace").summary
trickle.completion_s, trickle.throttles, trickle.max_concurrency

# %% [markdown]
# ## 3. What the database sees
#
# Each running invocation holds one of the database's 100 connections. `storm.downstream`
# reads a timeline that way: the peak, the seconds over the limit, and how many
# invocations find no connection at the peak.

# %%
DB_CONNECTIONS = 100
pd.DataFrame.from_dict({name: storm.downstream(r.timeline, DB_CONNECTIONS) for name, r in runs.items()},
                       orient="index")

# %% [markdown]
# Direct invocation asks for up to 1,000 connections: at the peak 900 handlers find none,
# fail, and the database spends the storm refusing clients. Both limits protect it, in different ways. Reserved concurrency turns the excess
# into **throttles** that Lambda's queue retries with growing gaps. `MaximumConcurrency`
# keeps the excess **in the queue**: nothing is throttled, and the queue drains at a steady
# 100 batches.
#
# The last row is the trap. Reserved concurrency without `MaximumConcurrency` leaves the
# pollers scaling towards 1,000 batches while only 100 may run. A throttled batch becomes
# visible again after the visibility timeout and counts as a receive, so after
# `maxReceiveCount` receives (at least 5 recommended) the message lands in the dead-letter
# queue unprocessed: Lambda retries a throttled batch only "until the message's timestamp
# exceeds your queue's visibility timeout"
# ([SQS error handling](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html)).
# `MaximumConcurrency` "limits the number of concurrent instances that the Amazon SQS event
# source can invoke", so the pollers never ask for more than the function may run.

# %%
summary.loc["SQS, reserved 100", ["invocations", "throttles", "dlq", "processings"]]

# %% [markdown]
# ## 4. When things go wrong: duplicates from a short visibility timeout
#
# While a consumer processes a message, SQS hides it for the visibility timeout V. If
# processing takes longer than V, the message reappears and is processed again. With
# processing times D that vary (here lognormal, median 1 s, coefficient of variation 0.5),
# the fraction processed twice is exactly P(D > V).

# %%
curve = sim.duplicate_rate_curve([0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 6], messages=20_000, seed=SEED)
plots.duplicate_curve(curve)
plt.show()

# %%
percent = curve.set_index("v_over_d")[["duplicate_fraction", "theory", "dlq_fraction"]] * 100
percent.loc[[1.0, 2.0, 6.0]].round(2)

# %% [markdown]
# At V = D half the messages run twice; at 6 × D almost none do. That is why AWS asks for a
# visibility timeout of **at least six times the function timeout**, plus the batching
# window, and why Lambda now refuses a function timeout longer than the queue's visibility
# timeout ([configure SQS](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html)).
# Even then the mapping is at-least-once: handlers must be idempotent. The simulator also
# catches the configuration mistakes AWS would refuse:

# %%
try:
    sim.simulate_storm(base, mode="sqs", max_concurrency=1)
except ValueError as err:
    print(err)

# %% [markdown]
# ## 5. Why retries need jitter
#
# Lambda's retries are one schedule among several. AWS documents these (EventBridge gives
# only the count and the span, so its intervals here are a reconstruction):
# [Lambda async](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html),
# [EventBridge: 185 attempts over 24 hours](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html),
# [SNS to Lambda and SQS: 100,015 attempts over 23 days](https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html).

# %%
sim.aws_schedules().round(2)

# %% [markdown]
# Why do they all add randomness ("jitter")? The
# [Exponential Backoff And Jitter](https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/)
# post (AWS Architecture Blog, 2015) races N clients to update one row with optimistic
# concurrency: read the version, write if unchanged, else back off and try again. Network
# delay 10 ms ± 2 ms, backoff base 5 ms, cap 2 s, as in the post's simulator.

# %%
race = sim.contention_experiment(client_counts=(10, 25, 50, 75, 100), reps=6, seed=SEED)
plots.contention(race, "calls")
plt.show()

# %%
plots.contention(race, "time_ms", logy=True)
plt.show()

# %% [markdown]
# Plain exponential backoff hardly reduces the work: clients that collided once back off by
# the same amount and collide again. Any jitter spreads them out and roughly halves the calls
# at 100 clients; exponential backoff without jitter is also by far the slowest (note the
# log scale). Full and equal jitter do about the same work; decorrelated jitter is fastest.

# %%
race[race.clients == 100].set_index("strategy").round(0)

# %% [markdown]
# The same effect decides our storm. AWS does not say how it jitters Lambda's throttle
# retries; the simulation uses equal jitter. Rerun the direct storm with plain exponential
# retries and every throttled event comes back in the same instant, only one wave of 1,000
# gets in each time, and the 6-hour maximum event age runs out before the queue is empty.

# %%
herd = {"equal jitter": runs["async"].summary,
        "no jitter": sim.simulate_storm(base, mode="async", jitter="exponential").summary}
pd.DataFrame.from_dict({name: {k: getattr(s, k) for k in ("completion_s", "invocations", "throttles", "dropped")}
                        for name, s in herd.items()}, orient="index")

# %% [markdown]
# ## 6. What it costs
#
# Lambda bills requests ($0.20 per million) and GB-seconds ($0.0000166667), SQS requests
# ($0.40 per million), with monthly free tiers left out here. Throttled attempts are **not**
# billed. Prices are us-east-1, x86, as compiled in November 2026
# ([how AWS pricing works: Lambda](https://docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/lambda.html),
# [SQS pricing summary](https://cloudburn.io/blog/amazon-sqs-pricing)); check the live
# pricing pages before you quote them.

# %%
billing = {name: {**r.summary.as_dict(), "receives": r.summary.invocations + r.summary.throttles}
           for name, r in runs.items()}
costs = sim.cost_table(billing)
(costs * 100).round(2).rename(columns=lambda c: c.replace("_usd", " (cents)"))

# %%
plots.cost_bars(costs.drop(index="SQS, reserved 100"))
plt.show()

# %% [markdown]
# The storm costs about twenty cents whichever way it runs: 100,000 × 200 ms at 512 MB is
# 10,000 GB-seconds. The queue adds a few cents of SQS requests. Protection is cheap; the
# expensive part is the database outage that direct invocation invites.

# %% [markdown]
# ## 7. How you would have noticed: the storm on the Monitor tab
#
# The simulation counts every event; in production you see CloudWatch. To see what the Lambda
# console would draw, play a storm small enough to run event by event in the lab: 1,000
# asynchronous events at one instant, against a function with reserved concurrency 10 that
# takes 1 s each. `lab.metrics()` computes the function's metrics per minute from the run,
# with AWS's definitions ([types of metrics for Lambda functions](https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html)).

# %%
lab = Lab(seed=SEED)
resize = lab.function("resize", lambda event, context: None, duration_ms=1_000, reserved_concurrency=10)
for i in range(1_000):
    resize.invoke_async({"key": f"upload-{i:04d}.jpg"})
lab.run_until_idle()
storm_metrics = lab.metrics(dimension="resize")
storm_metrics.pivot_table(index=["metric", "statistic"], columns="period", values="value", sort=False)

# %%
cloudwatch.console(storm_metrics, ["Invocations", "Throttles", "ConcurrentExecutions", "AsyncEventAge"],
                   title="resize: 1,000 events, reserved concurrency 10")
plt.show()

# %% [markdown]
# Read it as an on-call engineer would. `Throttles` is over ten times `Invocations` in the first
# minute: most events were refused, some many times, yet nothing failed (`Errors` has no
# datapoint) and nothing was lost. `ConcurrentExecutions` sits at the limit of 10 and then falls
# below it while events are still waiting: the retry waves of section 2, spaced ever further
# apart, leave the function idle between them. The metric that tells you how late the work is
# running is `AsyncEventAge`: its Maximum reaches minutes, the wait an uploader feels. An alarm
# on that age, and on `AsyncEventsDropped` above 0, is how you would have heard of the storm.

# %%
lab.close()

# %% [markdown]
# ## Try it (for instructors)
#
# Move the sliders and press **Run Interact** to rerun the SQS storm: more files, a
# different `MaximumConcurrency`, a longer handler. The line printed under this cell is the
# default setting, so the stored notebook is the same on every run.

# %%
from ipywidgets import IntSlider, interactive


def sqs_storm(files=100_000, max_concurrency=100, duration_ms=200):
    s = sim.simulate_storm(base, mode="sqs", events=files, max_concurrency=max_concurrency,
                           duration_ms=duration_ms).summary
    print(f"{files:,} files, MaximumConcurrency {max_concurrency}: done in {s.completion_s:,.0f} s, "
          f"peak {s.max_concurrency} connections, {s.throttles} throttles, ${s.cost_usd:.3f}")


controls = interactive(
    sqs_storm,
    {"manual": True},
    files=IntSlider(value=100_000, min=10_000, max=300_000, step=10_000),
    max_concurrency=IntSlider(value=100, min=2, max=1000, step=2),
    duration_ms=IntSlider(value=200, min=50, max=2000, step=50),
)
sqs_storm()

# %%
controls

# %% [markdown]
# ## Exercises
#
# **Exercise 1:** A client sends 5,000 synchronous calls at the same instant to a function
# with reserved concurrency 300. How many succeed? Compute it with `sim.simulate_storm`.

# %%
answer = None  # your code here

# %% jupyter={"source_hidden": true} tags=["solution"]
answer = sim.simulate_storm(mode="sync", events=5_000, reserved=300, seed=0).summary.invocations

# %%
check.ex1(answer)

# %% [markdown]
# **Exercise 2:** Processing times are lognormal with a coefficient of variation of 0.5, and
# the visibility timeout is 1.5 × the median processing time. What fraction of messages is
# processed more than once? Use `sim.theory`.

# %%
answer = None  # your code here

# %% jupyter={"source_hidden": true} tags=["solution"]
answer = sim.theory.p_exceeds_lognormal(1.5, 1.0, sim.theory.lognormal_sigma(0.5))

# %%
check.ex2(answer)

# %% [markdown]
# **Exercise 3:** Choose a `MaximumConcurrency` for the SQS mapping so that the database
# (100 connections) is never overrun and the 100,000 files are still done within 4 minutes.

# %%
max_concurrency = None  # your choice here

# %% jupyter={"source_hidden": true} tags=["solution"]
max_concurrency = 100

# %%
check.ex3(max_concurrency)

# %% [markdown]
# ## Summary
#
# - A storm meets two limits: concurrency (1,000 per account by default) and the scaling
#   rate (1,000 new environments per 10 s per function).
# - Direct asynchronous invocation is fastest but turns the excess into throttles, retried
#   1 s, 2 s … up to 5 min apart, for up to 6 h.
# - Reserved concurrency caps the function; `MaximumConcurrency` caps an SQS mapping without
#   throttling, and is what protects a database. Reserved concurrency alone under SQS sends
#   messages to the dead-letter queue.
# - The duplicate fraction from a visibility timeout V is P(D > V): keep V at 6 × the timeout
#   and make handlers idempotent.
# - Retries need jitter: without it, clients collide again on the next round, and a storm's
#   throttled events come back in lockstep until they age out.
# - Throttles are free; a 100,000-file storm costs cents either way.
#
# ## In production
#
# Where the simulation simplifies AWS:
#
# - Lambda's internal queue is not a simple retry loop: "If the queue contains many entries,
#   Lambda increases the retry interval and reduces the rate at which it reads events", and
#   events can be deleted without being sent when the function cannot keep up
#   ([async error handling](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)).
#   AWS does not publish its jitter; the simulation uses equal jitter.
# - The SQS pollers here scale on a fixed ramp. Real pollers back off when invocations are
#   throttled and retry a throttled batch until the visibility timeout ends, so the
#   dead-letter trap is less sudden than shown. Empty receives and long polling are not
#   billed here. The Developer Guide gives 1,000 as the poller maximum; a 2023 blog post and
#   re:Post say 1,250.
# - Handlers always succeed here (function errors and their 1- and 2-minute retries are in
#   `sim.backoff.lambda_async_error_schedule`), take a fixed time, and their environments stay
#   warm for the whole storm. A cold start adds 250 ms, a value inside the documented
#   "under 100 ms to over 1 second" ([runtime environment](https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html)).
# - New accounts start with less than 1,000 concurrency. The pre-2023 scaling rule (a burst
#   of 3,000, 1,000 or 500 by Region, then +500 per minute, shared by the account) is
#   available as `scaling="pre2023"` for history.
# - AWS publishes no duplicate rate for S3 or asynchronous invocation: `duplicate_rate` is
#   an assumption you choose.
# - Check from the command line: `python -m lambda_lab.sim storm --events 100000 --mode async --json`.
