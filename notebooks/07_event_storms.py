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
# | S3 → SQS → Lambda | event source mapping (synchronous, batches) | the SQS queue | throttles: the batch is retried until its visibility timeout ends; then the message comes back | at least once |
#
# Sources: [asynchronous invocation](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html),
# [async error handling: "The retry interval increases exponentially from 1 second after the first attempt to a maximum of 5 minutes"](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html),
# [S3 notifications are "delivered at least once"](https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html),
# [event source mappings process each event "at least once"](https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html).

# %%
import matplotlib.pyplot as plt
import pandas as pd

from lambda_lab import Lab, notebook, sim, views
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
# concurrency makes the storm several times slower and multiplies the throttles. With SQS and
# `MaximumConcurrency`, no call is throttled at all: the queue holds the backlog, and each
# invocation takes a batch of 10
# ([BatchSize default 10](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html)).
# The last row is different: throttles, and messages in the dead-letter queue (section 3 and
# the end of this section explain it).

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
# up to 5 minutes (AWS says the interval "increases exponentially"; doubling is the lab's
# assumption), so the later waves are far apart and the tail is long. Nothing was
# dropped here, because the storm ended long before the 6-hour maximum event age
# ([MaximumEventAgeInSeconds, 60-21,600](https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html)).
#
# How fast could a storm possibly go? The work, items × duration, must fit under the
# concurrency the function can get, and that grows: 1,000 new environments at once, then
# 1,000 more every 10 s; for SQS, 5 pollers growing by 5 a second. `drain_lower_bound_s` is
# the earliest end that allows, counting only the items that were **processed**: a message
# sent to the dead-letter queue used no concurrency, and one processed twice used it twice
# (`processings`). Every completion is at or above its bound.

# %%
summary[["completion_s", "drain_lower_bound_s", "processings"]]

# %% [markdown]
# With a higher limit the ramp, not N × duration / limit, sets the bound: at a limit of
# 3,000, 20,000 concurrency-seconds of work cannot be done before the function has scaled,
# so the bound is about 12 s, not 100,000 × 0.2 / 3,000 = 6.7 s.

# %%
wide = sim.simulate_storm(base, mode="async", limit=3_000).summary
wide.completion_s, wide.drain_lower_bound_s, wide.max_concurrency

# %% [markdown]
# The completion time is the end of the very last event, which makes it fragile where the
# 99th percentile is not. Try `sim.simulate_storm(events=10_000, duration_ms=2_000, seed=s)`
# for a few seeds: some end near 31 s, others (seeds 1 and 8 among them) near 55 s. The fifth
# wave of retries, 8-16 s after the fourth, refills the function to just under its limit;
# when it touches 1,000, the few events refused then wait another 16-32 s.
# `completion_p99_s` stays at 30 s either way. A continuous-time (SimPy) model does the same,
# rarely (1 seed in 120); this model's 0.2 s ticks make the wave a little sharper, so it
# touches the limit far more often (with `tick_ms=10`, 5 seeds in 120). Trust the p99 here.
#
# The last row of the table is a trap: reserved concurrency 100 without `MaximumConcurrency`.
# The pollers grow towards 1,000 batches while only 100 may run. A poller whose batch is
# throttled keeps retrying it (the simulation and the lab wait 1 s, 2 s, 4 s …) "until the
# message's timestamp exceeds your queue's visibility timeout"
# ([SQS error handling](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html));
# then the messages come back, and that receive counts towards `maxReceiveCount` (5 here).
# How many end in the dead-letter queue depends on how much retrying fits in the visibility
# timeout. AWS asks for at least six times the function timeout plus the batching window
# ([configure SQS](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html)).
# Here the function timeout is one full batch, 10 × 200 ms = 2 s, and there is no window.
# AWS publishes no retry spacing, so the sweep runs the lab's and the same with equal jitter:

# %%
sweep = storm.visibility_sweep(base, factors=(1, 2, 6), reserved=100)
sweep.pivot(index=["factor", "visibility_s"], columns="retries", values="dlq")

# %%
plots.visibility_dlq(sweep)
plt.show()

# %% [markdown]
# At one and two times the timeout, most of the 100,000 messages reach the dead-letter queue
# unprocessed. At six times, three retries fit: with the lab's spacing no message is lost;
# with jittered retries some are, because a retry that starts late in the window runs past
# it and the messages come back while they are still being processed (the `duplicates`
# column). The trap is real, and it is why `MaximumConcurrency` exists; its size is set by
# the visibility timeout and by retry details AWS does not publish, so read these numbers as
# a range, not a forecast.

# %%
sweep.set_index(["factor", "retries"])[["dlq_percent", "duplicates", "throttles", "completion_s"]].round(1)

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
# Direct invocation asks for up to 1,000 connections: at the peak 900 invocations would be
# refused one. The simulated handlers never fail, so `refused_at_peak` counts requests the
# database would turn away, not errors in this run; in production those handlers would fail
# or wait, and their retries would join the storm. Both limits protect it, in different ways.
# Reserved concurrency turns the excess into **throttles** that Lambda's queue retries with
# growing gaps. `MaximumConcurrency`
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
# While a consumer holds a message, SQS hides it for the visibility timeout V. Call D the time
# from receive to delete. If D is longer than V, the message reappears and is processed again.
# With D that varies (here lognormal, median 1 s, coefficient of variation 0.5), the fraction
# processed more than once is exactly P(D > V), as long as the redrive policy allows a second receive
# (`maxReceiveCount` of 2 or more; 5 here).

# %%
curve = sim.duplicate_rate_curve([0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 6], messages=20_000, seed=SEED)
plots.duplicate_curve(curve)
plt.show()

# %%
percent = curve.set_index("v_over_d")[["duplicate_fraction", "theory", "dlq_fraction"]] * 100
percent.loc[[1.0, 2.0, 6.0]].round(2)

# %% [markdown]
# At V = D half the messages run twice; at 6 × D almost none do. For a Lambda function, D is
# not just the handler's run. Lambda refuses a function timeout longer than the queue's
# visibility timeout ([configure SQS](https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html)),
# so in an accepted configuration one invocation is stopped before V ends. D passes V only when
# the mapping holds the batch longer than that: the run plus the time Lambda spent retrying a
# throttled invocation first. The curve shows what happens once those retries and the run
# outlast V.
#
# That is the reason for the **six**. AWS asks for a visibility timeout of at least six times
# the function timeout, plus the batching window, because "The extra time allows Lambda to
# retry if your function is throttled while processing a previous batch" (same page); chapter 02
# shows those throttled retries running out. Even then the mapping is at-least-once: handlers
# must be idempotent.
#
# A `maxReceiveCount` of 1 hides duplicates instead of removing them. The receive that would
# process a message a second time moves it to the dead-letter queue instead, so there are no
# duplicates, but a fraction P(D > V) is dead-lettered although each of those messages was
# processed. `sim.theory.sqs_outcomes` reports both fractions, and the simulation agrees
# (V = 1.5 × the median, in percent):

# %%
V_OVER_D = 1.5
q = sim.theory.p_exceeds_lognormal(V_OVER_D, 1.0, sim.theory.lognormal_sigma(0.5))
redrive = {}
for m in (1, 5):
    _, simulated = sim.sqs_receives(20_000, V_OVER_D, 1.0, 0.5, max_receive_count=m, seed=SEED)
    expected = sim.theory.sqs_outcomes(q, m)
    redrive[f"maxReceiveCount {m}"] = {
        "duplicates": simulated.duplicate_fraction, "duplicates (theory)": expected["duplicate_fraction"],
        "dead-lettered": simulated.dlq_fraction, "dead-lettered (theory)": expected["dlq_fraction"]}
(pd.DataFrame.from_dict(redrive, orient="index") * 100).round(2)

# %% [markdown]
# The simulator also catches the configuration mistakes AWS would refuse:

# %%
try:
    sim.simulate_storm(base, mode="sqs", max_concurrency=1)
except ValueError as err:
    print(err)

# %% [markdown]
# ## 5. Why retries need jitter
#
# Lambda's retries are one schedule among several. AWS documents two of the four below in
# full: [Lambda async](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)
# retries a function error after about 1 and then 2 minutes, and
# [SNS delivers to Lambda and SQS with 100,015 attempts over 23 days](https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html).
# For the other two the `intervals` column says **reconstructed**. For throttles AWS says only
# that the interval "increases exponentially from 1 second after the first attempt to a maximum
# of 5 minutes", for up to 6 hours: the 80 attempts come from the lab's assumption that it
# doubles. [EventBridge retries 185 times over 24 hours](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html),
# a count and a span but no intervals.
#
# The SNS row is another layer. SNS retries only the delivery to Lambda, when it "can't reach
# Lambda or the message is rejected" ([Lambda with SNS](https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html)).
# Once Lambda's async queue has accepted the event, a function error is retried by Lambda, as in
# the first row, never by SNS. Two layers, two dead-letter queues: the subscription's, for
# deliveries SNS gives up on ([SNS dead-letter queues](https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html)),
# and the function's, for events Lambda gives up on.

# %%
sim.aws_schedules().round(2)

# %% [markdown]
# AWS documents randomness ("jitter") for two of these: "Amazon SNS applies jittering to
# delivery retries" (SNS page above), and EventBridge retries "with an exponential back off and
# jitter" (EventBridge page above). For Lambda's throttle retries it says nothing. Why jitter
# at all? The
# [Exponential Backoff And Jitter](https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/)
# post (AWS Architecture Blog, 2015) races N clients to update one row with optimistic
# concurrency: read the version, write if unchanged, else back off and try again. The race
# below keeps the accounting of the post's simulator (aws-samples/aws-arch-backoff-simulator),
# so the figures can be set beside the post's. Each attempt crosses the network four times
# (read request and response, write request and response), each one-way delay |N(10, 2)| ms.
# Backoff base is 5 ms and the cap 2 s. A client counts its failed attempt before it sleeps,
# so its first exponential backoff is 10 ms. "Calls" are writes, and the time ends when the
# last write's response arrives.

# %%
race = sim.contention_experiment(client_counts=(10, 25, 50, 75, 100), reps=6, seed=SEED)
plots.contention(race, "calls")
plt.show()

# %%
plots.contention(race, "time_ms", logy=True)
plt.show()

# %% [markdown]
# Plain exponential backoff saves only about a quarter of the work: clients that collided
# once back off by the same amount and collide again. Any jitter spreads them out. At 100
# clients full and equal jitter need under half the calls of plain exponential backoff and
# about a third of those of no backoff. Decorrelated jitter does a little more work. Plain
# exponential backoff is also by far the slowest (note the log scale). Among the jittered
# strategies, decorrelated finishes first and equal jitter last, the post's ranking too.
#
# `none` finishes before all of them, and that is no win. Its clients retry at once, so the
# server handles about three times the writes of full jitter, and the work grows with the
# square of the clients, as the post says. The speed is paid for with load on the one
# contended resource, and in a real system that load slows or fails everybody else's
# requests. This model charges nothing for it.

# %%
race[race.clients == 100].set_index("strategy").round(0)

# %% [markdown]
# The same effect decides our storm. AWS does not say whether or how it jitters Lambda's
# throttle retries, nor by how much the interval grows. The simulation doubles it and uses
# equal jitter; both are assumptions. Rerun the direct storm with plain exponential
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
# Lambda bills requests ($0.20 per million) and GB-seconds ($0.0000166667). SQS bills
# requests ($0.40 per million). S3 bills the uploads that start the storm, $0.005 per 1,000
# PUTs. Monthly free tiers are left out here. Throttled attempts are **not** billed:
# "Invocations aren't recorded if the invocation request is throttled", and "The value of
# Invocations equals the number of requests billed"
# ([Lambda function metrics](https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html)).
# GB-seconds scale with the memory you give the function. `StormConfig` uses 512 MB, the memory
# in AWS's worked pricing example; Lambda's default is 128 MB. Prices are us-east-1, x86, as
# compiled in November 2026
# ([how AWS pricing works: Lambda](https://docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/lambda.html),
# [SQS pricing summary](https://cloudburn.io/blog/amazon-sqs-pricing),
# [S3 request fees](https://c3x.dev/blog/s3-request-fees-explained)); check the live pricing
# pages before you quote them.

# %%
billing = {name: {**r.summary.as_dict(), "s3_puts": FILES} for name, r in runs.items()}
costs = sim.cost_table(billing)
print(f"memory: {base.memory_mb} MB")
(costs * 100).round(2).rename(columns=lambda c: c.replace("_usd", " (cents)"))

# %%
plots.cost_bars(costs.drop(index="SQS, reserved 100"))
plt.show()

# %% [markdown]
# The uploads cost more than the functions they trigger. The 100,000 PUTs are 50 cents.
# Lambda is about twenty cents whichever way the storm runs: 100,000 × 200 ms at 512 MB is
# 10,000 GB-seconds, about 17 cents, plus 2 cents of requests. At 128 MB the GB-seconds would
# cost a quarter as much. The queue adds a few cents of SQS requests. Protection is cheap;
# the expensive part is the database outage that direct invocation invites.

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
# different `MaximumConcurrency`, a longer handler. The figure and line under this cell are the
# default setting, so the stored notebook is the same on every run.

# %%
from ipywidgets import IntSlider


def sqs_storm(files=100_000, max_concurrency=100, duration_ms=200):
    run = sim.simulate_storm(base, mode="sqs", events=files, max_concurrency=max_concurrency,
                             duration_ms=duration_ms)
    plots.storm_timeline({"SQS → Lambda": run.timeline}, limit=max_concurrency,
                         title="The SQS storm with these settings")
    plt.show()
    s = run.summary
    print(f"{files:,} files, MaximumConcurrency {max_concurrency}: done in {s.completion_s:,.0f} s, "
          f"peak {s.max_concurrency} connections, {s.throttles} throttles, ${s.cost_usd:.3f}")


controls = views.controls(
    sqs_storm,
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
# Each exercise asks for a function of the storm's numbers, not one number: the check calls it
# with storms of its own and compares with the simulation.
#
# **Exercise 1:** A client sends 5,000 synchronous calls at the same instant to a function
# with reserved concurrency 300. How many succeed? Write `sync_successes(calls, reserved,
# account_limit)` that answers for any such burst, with `sim.simulate_storm` (`reserved=None`
# means no reserved concurrency; `limit=` sets the account's concurrency). The check also tries
# an account whose limit was raised to 3,000. `sync_successes(5_000, 300, 1_000)` answers the
# question.

# %% tags=["exercise"]
def sync_successes(calls, reserved, account_limit):
    ...  # your code here

# %% jupyter={"source_hidden": true} tags=["solution"]
def sync_successes(calls, reserved, account_limit):
    storm = sim.simulate_storm(base, mode="sync", events=calls, reserved=reserved, limit=account_limit)
    return storm.summary.invocations

# %% tags=["check"]
check.ex1(sync_successes)

# %% [markdown]
# **Exercise 2:** Processing times are lognormal with a coefficient of variation of 0.5, and
# the visibility timeout is 1.5 × the median processing time. What fraction of messages is
# processed more than once (the redrive policy allows a second receive)? Write
# `duplicate_fraction(v_over_d, cv)` for any visibility timeout `v_over_d` × the median and any
# coefficient of variation `cv`, with `sim.theory`. `duplicate_fraction(1.5, 0.5)` answers the
# question.

# %% tags=["exercise"]
def duplicate_fraction(v_over_d, cv):
    ...  # your code here

# %% jupyter={"source_hidden": true} tags=["solution"]
def duplicate_fraction(v_over_d, cv):
    return sim.theory.p_exceeds_lognormal(v_over_d, 1.0, sim.theory.lognormal_sigma(cv))

# %% tags=["check"]
check.ex2(duplicate_fraction)

# %% [markdown]
# **Exercise 3:** Choose a `MaximumConcurrency` for the SQS mapping so that the database
# (100 connections) is never overrun and the 100,000 files are still done within 4 minutes.
# Write `choose_max_concurrency(files, connections, deadline_s)`: it returns a setting (2 to
# 1,000) that never lets more invocations run at once than the database has `connections` and
# still drains `files` within `deadline_s`, or `None` when no setting can. Try your choice with
# `sim.simulate_storm(base, mode="sqs", events=files, max_concurrency=...)`.
# `choose_max_concurrency(FILES, 100, 240)` answers the question for our storm.

# %% tags=["exercise"]
def choose_max_concurrency(files, connections, deadline_s):
    ...  # your code here

# %% jupyter={"source_hidden": true} tags=["solution"]
def choose_max_concurrency(files, connections, deadline_s):
    cap = min(connections, 1_000)  # one connection per invocation; 1,000 is the most a mapping allows
    storm = sim.simulate_storm(base, mode="sqs", events=files, max_concurrency=cap)
    return cap if storm.summary.completion_s <= deadline_s else None

# %% tags=["check"]
check.ex3(choose_max_concurrency)

# %% [markdown]
# ## Summary
#
# - A storm meets two limits: concurrency (1,000 per account by default) and the scaling
#   rate (1,000 new environments per 10 s per function).
# - Direct asynchronous invocation is fastest but turns the excess into throttles, retried at
#   intervals that grow from 1 s to at most 5 min, for up to 6 h.
# - Reserved concurrency caps the function; `MaximumConcurrency` caps an SQS mapping without
#   throttling, and is what protects a database. Reserved concurrency alone under SQS can
#   send messages to the dead-letter queue unprocessed: most of them with a visibility
#   timeout of one or two function timeouts, few or none at AWS's six.
# - A message held longer than the visibility timeout V is processed again: a fraction
#   P(D > V), or dead-lettered instead when `maxReceiveCount` is 1. Keep V at 6 × the function
#   timeout so that throttled retries fit, and make handlers idempotent.
# - Retries need jitter: without it, clients collide again on the next round, and a storm's
#   throttled events come back in lockstep until they age out.
# - Throttled attempts are not billed. A 100,000-file storm costs under a dollar either way,
#   and the uploads' S3 PUTs are its largest line.
#
# ## In production
#
# Where the simulation simplifies AWS:
#
# - Lambda's internal queue is not a simple retry loop: "If the queue contains many entries,
#   Lambda increases the retry interval and reduces the rate at which it reads events", and
#   events can be deleted without being sent when the function cannot keep up
#   ([async error handling](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html)).
#   AWS publishes neither how fast the interval grows nor its jitter; the simulation doubles
#   the interval and uses equal jitter.
# - The SQS pollers here scale on a fixed ramp; real pollers also back off when invocations
#   are throttled. A throttled batch is retried 1 s, 2 s, 4 s … later until the visibility
#   timeout would end, as in the lab (AWS documents the retrying, not its spacing). A batch
#   still running when its visibility timeout ends is counted as received again and not
#   deleted: the pessimistic reading of "the message might not be deleted". Empty receives and long polling are not
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

# %% [markdown] tags=["navigation"]
# [← 06 · EventBridge](06_eventbridge.ipynb) · [index](index.md) · [08 · To the cloud →](08_to_the_cloud.ipynb)
