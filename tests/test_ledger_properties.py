"""The ledger invariant, for every source: over random fault patterns, every accepted item
has exactly one ending, and the endings add up to what was sent and agree with what the
dead-letter queues and destinations hold. For SQS also: FIFO order per message group, and
with ``report_batch_item_failures`` only the failing messages are retried and dead-lettered.

About 40 patterns per source run in ``make test``; ``LAMBDA_LAB_SLOW=1`` runs 1,000.
One lab serves every pattern of a test (fresh names each time), so a pattern costs
milliseconds of moto rather than a new moto.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import Counter, defaultdict

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from lambda_lab import Lab
from lambda_lab.helpers.sqs import queue_counts, receive_all, send_all

PATTERNS = 1_000 if os.environ.get("LAMBDA_LAB_SLOW") else 40
SETTINGS = settings(max_examples=PATTERNS, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SQS_SETTINGS = settings(SETTINGS, max_examples=PATTERNS // 2)  # two tests of half each
NAMES = itertools.count()


@pytest.fixture(scope="module")
def shared_lab():
    with Lab(seed=0) as lab:
        yield lab


def finish(lab, *sources):
    """Run to idle, then stop the pattern's sources so the next pattern starts clean."""
    summary = lab.run_until_idle(max_s=7 * 86_400)
    for source in sources:
        source.stop()
        lab.sources.remove(source)
    return summary


def check_rows(rows, sent_items):
    """One first-copy row per sent item, every row ended once, counts that add up."""
    assert (rows["ending"] != "pending").all(), rows[rows["ending"] == "pending"]
    firsts = rows[rows["copy"] == 1]
    assert sorted(firsts["item"]) == sorted(sent_items)
    assert not firsts.duplicated(["item"]).any()
    assert sum(Counter(rows["ending"]).values()) == len(rows)
    assert (rows["ended"] >= rows["accepted"]).all()
    assert (rows.loc[rows["ending"] == "processed", "attempts"] >= 1).all()
    for ending in sorted(set(rows["ending"])):
        event(f"a pattern with a {ending} item")  # --hypothesis-show-statistics shows the coverage


# --- SQS, standard and FIFO -----------------------------------------------------------------
#: What an invocation that has a failing record does: raise, report the failures (as
#: batchItemFailures), run past its timeout, return a malformed partial response, or return
#: something that is not JSON (the runtime's Runtime.MarshalError).
FAILURES = ("raise", "report", "timeout", "malformed", "nonjson")
#: Malformed partial responses. AWS reads None as complete success; the others fail the batch.
MALFORMED = ({"batchItemFailures": [{"itemIdentifier": ""}]}, None, "a string",
             {"batchItemFailures": [{"id": "m"}]}, {"batchItemFailures": [{"itemIdentifier": "unknown"}]})
#: A filter that keeps even-numbered messages: the odd ones end dropped (FilteredOut).
EVEN = {"body": [f"m-{i}" for i in range(0, 8, 2)]}
SQS_TIMEOUT_S, SLOW_MS, FAST_MS = 5, 4_500, 100


@st.composite
def sqs_patterns(draw, fifo):
    n = draw(st.integers(1, 8))
    max_receive = draw(st.integers(1, 3))
    batch_size = draw(st.integers(1, 10)) if fifo else draw(st.sampled_from([1, 3, 10, 25]))
    return dict(
        fifo=fifo,
        fails=draw(st.lists(st.integers(0, max_receive + 1), min_size=n, max_size=n)),
        max_receive=max_receive,
        mode=draw(st.sampled_from(["raise", "report", "report-off"])),
        batch_size=batch_size,
        groups=draw(st.integers(1, 3)),
        concurrency=draw(st.sampled_from([None, 2])),
        # Hardening draws: how failing invocations fail (cycled), the malformed response, a first
        # delivery that outlives a visibility timeout lowered after the mapping exists, a
        # batching window, reserved concurrency (throttles), a filter.
        how=draw(st.lists(st.sampled_from(FAILURES), min_size=1, max_size=3)),
        malformed=draw(st.integers(0, len(MALFORMED) - 1)),
        # (each draw costs moto calls: the rarer ones keep 100 patterns near their old cost)
        visibility_after=(lowered := draw(st.sampled_from([None, None, None, 5]))),
        slow=bool(lowered) and draw(st.booleans()),
        window=(1 if batch_size > 10 else 0) if fifo else draw(
            st.sampled_from([1, 2] if batch_size > 10 else [0, 0, 0, 2])),
        reserved=draw(st.sampled_from([None, None, None, 1])),
        filtered=draw(st.booleans()) and not fifo,
    )


DEFAULTS = dict(how=None, malformed=0, slow=False, visibility_after=None, window=None, reserved=None, filtered=False)


def run_sqs(lab, p):
    p = {**DEFAULTS, **p}
    tag = next(NAMES)
    sqs = lab.client("sqs")
    suffix = ".fifo" if p["fifo"] else ""
    base = {"FifoQueue": "true"} if p["fifo"] else {}
    sqs.create_queue(QueueName=f"dlq-{tag}{suffix}", Attributes=base)
    url = sqs.create_queue(QueueName=f"q-{tag}{suffix}", Attributes={
        **base, "VisibilityTimeout": "36", "RedrivePolicy": json.dumps({
            "deadLetterTargetArn": lab.arn("sqs", f"dlq-{tag}{suffix}"), "maxReceiveCount": str(p["max_receive"])})})["QueueUrl"]
    seen = Counter()
    listed = set()
    succeeded = []
    how = p["how"] or ["report" if p["mode"] != "raise" else "raise"]
    state = {"invocations": 0, "last": "ok", "first_delivery": False}

    def handler(event, context):
        failed = []
        records = event["Records"]
        state["first_delivery"] = any(seen[r["body"]] == 0 for r in records)
        for n, record in enumerate(records):
            seen[record["body"]] += 1
            if seen[record["body"]] <= p["fails"][index(record["body"])]:
                if p["fifo"]:  # AWS's rule for FIFO: stop, and report this record and every one after it
                    failed.extend(r["messageId"] for r in records[n:])
                    break
                failed.append(record["messageId"])
                continue
            succeeded.append(record["body"])
        state["last"] = how[state["invocations"] % len(how)] if failed else "ok"
        state["invocations"] += 1
        if failed and p["mode"] == "raise" or state["last"] == "raise":
            raise ValueError(f"{len(failed)} failed")
        if state["last"] == "malformed":
            return MALFORMED[p["malformed"]]
        if state["last"] == "nonjson":
            return {"not", "json"}
        listed.update(failed)
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    def duration_ms(event):
        # Read right after the handler returns: a planned timeout runs long, a slow first delivery
        # outlives the lowered visibility timeout.
        if state["last"] == "timeout":
            return SQS_TIMEOUT_S * 1000 + 1
        return SLOW_MS if p["slow"] and state["first_delivery"] else FAST_MS

    fn = lab.function(f"f-{tag}", handler, timeout_s=SQS_TIMEOUT_S, duration_ms=duration_ms,
                      reserved_concurrency=p["reserved"])
    window = p["window"] if p["window"] is not None else (1 if p["batch_size"] > 10 else 0)
    mapping = lab.sqs_trigger(url, fn, batch_size=p["batch_size"], maximum_batching_window_s=window,
                              report_batch_item_failures=p["mode"] == "report",
                              maximum_concurrency=p["concurrency"], filter_patterns=EVEN if p["filtered"] else None)
    if p["visibility_after"]:  # lowered after the mapping exists: no validation then, as on AWS
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(p["visibility_after"])})
    bodies = [f"m-{i}" for i in range(len(p["fails"]))]
    ids = send_all(lab, url, bodies, group_id=lambda b: group(b, p))
    summary = finish(lab, mapping)
    return summary, lab.outcomes(fn.name), ids, url, f"dlq-{tag}{suffix}", listed, succeeded


def index(body):
    return int(body.split("-")[1])


def group(body, p):
    return f"g{index(body) % p['groups']}"


# SQS's 100 patterns are two tests of half each, standard and FIFO, so two workers share them.
@SQS_SETTINGS
@given(sqs_patterns(fifo=False))
# A partial batch: only the message that fails maxReceiveCount times is dead-lettered.
@example(dict(fifo=False, fails=[3, 0, 1], max_receive=3, mode="report", batch_size=10, groups=1, concurrency=None))
def test_sqs_standard_every_message_ends_once(shared_lab, pattern):
    check_sqs(shared_lab, pattern)


@SQS_SETTINGS
@given(sqs_patterns(fifo=True))
# A failure ahead of a success in one FIFO batch: order holds only if the handler stops there.
@example(dict(fifo=True, fails=[1, 0, 0], max_receive=3, mode="report", batch_size=10, groups=1, concurrency=None))
def test_sqs_fifo_every_message_ends_once(shared_lab, pattern):
    check_sqs(shared_lab, pattern)


def check_sqs(lab, pattern):
    """Every message ends once and where the DLQ says; FIFO order; exact partial batches."""
    summary, rows, ids, url, dlq, listed, succeeded = run_sqs(lab, pattern)
    assert summary.idle
    check_rows(rows, ids)
    assert sum(queue_counts(lab, url).values()) == 0
    by_ending = {e: set(rows.loc[rows["ending"] == e, "item"]) for e in ("processed", "dead_letter", "dropped")}
    dead = dead_letters(lab, dlq)
    assert sorted(m["MessageId"] for m in dead) == sorted(rows.loc[rows["ending"] == "dead_letter", "item"])
    # A message reaches the DLQ by being received maxReceiveCount times (our look adds one more).
    assert all(int(m["Attributes"]["ApproximateReceiveCount"]) > pattern["max_receive"] for m in dead)
    # Only the silent-loss configuration and the filter drop: what the handler listed as failed,
    # and what the filter did not keep.
    filtered = set(rows.loc[rows["where"].fillna("").str.startswith("FilteredOut"), "item"])
    allowed = (listed if pattern["mode"] == "report-off" else set()) | filtered
    assert by_ending["dropped"] <= allowed
    assert (rows["layer"] == "lambda").all()
    if pattern["fifo"]:
        check_fifo_order(succeeded, pattern)
    elif pattern["mode"] == "report" and plain(pattern):
        check_partial_batch(succeeded, dead, pattern)


def plain(pattern):
    """True if only reported failures happen: no timeouts, malformed results, slow deliveries,
    throttles or filters (check_partial_batch's exact sets assume that)."""
    return (set(pattern.get("how") or ["report"]) == {"report"} and not pattern.get("slow")
            and not pattern.get("filtered") and not pattern.get("reserved"))


def dead_letters(lab, name):
    """The dead-letter queue's messages (received once more by this look)."""
    return receive_all(lab, lab.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def check_fifo_order(succeeded, pattern):
    """Within a message group, messages first succeed in the order they were sent."""
    firsts = list(dict.fromkeys(succeeded))
    for g in {group(b, pattern) for b in firsts}:
        order = [index(b) for b in firsts if group(b, pattern) == g]
        assert order == sorted(order), f"group {g} out of order: {order}"


def check_partial_batch(succeeded, dead, pattern):
    """With report_batch_item_failures, only messages that failed maxReceiveCount times are
    dead-lettered, and every other message succeeded exactly once (no batch-mate retried it)."""
    fails, limit = pattern["fails"], pattern["max_receive"]
    assert sorted(index(m["Body"]) for m in dead) == [i for i, f in enumerate(fails) if f >= limit]
    assert sorted(index(b) for b in succeeded) == [i for i, f in enumerate(fails) if f < limit]


# --- asynchronous invocation ----------------------------------------------------------------
#: What the handler does on one delivery: raise, run past its timeout, or return a result that
#: is not JSON (the runtime's Runtime.MarshalError, a function error as on AWS).
BEHAVIOURS = ("raise", "timeout", "nonjson")
#: Where failures (and successes) go; "deleted_*" configure a target and then delete it.
FAILURE_TARGETS = ("nowhere", "on_failure", "dlq", "both", "deleted_on_failure", "deleted_dlq")
SUCCESS_TARGETS = (None, "queue", "oversized")
#: Bytes of an oversized on-success response: just over SQS's 1 MiB message limit.
OVERSIZED_RESPONSE = 1024 * 1024 + 1
DURATION_MS, TIMEOUT_S = 20_000, 30


def plans(draw, n):
    """Per event, what its first deliveries do (each later one succeeds)."""
    return draw(st.lists(st.lists(st.sampled_from(BEHAVIOURS), max_size=3), min_size=n, max_size=n))


def async_settings(draw):
    """What an asynchronous pattern configures: retries, destinations, concurrency, copies, age."""
    return dict(
        retries=draw(st.integers(0, 2)),
        target=draw(st.sampled_from(FAILURE_TARGETS)),
        on_success=draw(st.sampled_from(SUCCESS_TARGETS)),
        reserved=draw(st.sampled_from([None, 1, 0])),
        duplicate_rate=draw(st.sampled_from([0.0, 0.5])),
        age_s=draw(st.sampled_from([60, 21_600])),
    )


@st.composite
def async_patterns(draw):
    n = draw(st.integers(1, 5))
    return dict(
        plans=plans(draw, n),
        **async_settings(draw),
    )


class Behaviour:
    """A handler and a duration that follow a pattern's plan, delivery by delivery."""

    def __init__(self, plan_of, response=None):
        """``plan_of(event)``: the event's plan; ``response``: what a success returns."""
        self.plan_of, self.response = plan_of, response
        self.runs = Counter()  # per delivery key (duplicates share the request id, as on AWS)
        self.last = "ok"

    def handler(self, key):
        def handle(event, context):
            self.runs[key(event, context)] += 1
            plan = self.plan_of(event)
            n = self.runs[key(event, context)]
            self.last = plan[n - 1] if n <= len(plan) else "ok"
            if self.last == "raise":
                raise ValueError("fails")
            return {"not", "json"} if self.last == "nonjson" else self.response

        return handle

    def duration_ms(self, event):
        # Read right after the handler returns, in the same attempt: a planned timeout runs long.
        return TIMEOUT_S * 1000 + 1 if self.last == "timeout" else DURATION_MS


def async_options(lab, p, tag, prefix):
    """The function's async settings for pattern ``p``, and the target queues it created (role -> name).

    Only the queues the pattern uses: every moto call costs milliseconds, times 100 patterns.
    """
    roles = {"fail": ("on_failure", p["target"] in ("on_failure", "both", "deleted_on_failure")),
             "dlq": ("dead_letter_arn", p["target"] in ("dlq", "both", "deleted_dlq")),
             "ok": ("on_success", bool(p["on_success"]))}
    options = {"maximum_retry_attempts": p["retries"], "maximum_event_age_s": p["age_s"],
               "duplicate_rate": p["duplicate_rate"]}
    names = {}
    for role, (option, used) in roles.items():
        if used:
            names[role] = f"{prefix}{role}-{tag}"
            lab.client("sqs").create_queue(QueueName=names[role])
            options[option] = lab.arn("sqs", names[role])
    return options, names


def delete_targets(lab, p, names):
    """Delete the target a "deleted_*" pattern configured (after configuring it, as the issue does)."""
    if p["target"].startswith("deleted_"):
        role = "fail" if p["target"] == "deleted_on_failure" else "dlq"
        sqs = lab.client("sqs")
        names["deleted"] = names.pop(role)  # no longer a queue to look in, still a send target
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=names["deleted"])["QueueUrl"])


def look(lab, name, field):
    """Request ids in queue ``name`` (none if None): from each invocation record, or from a DLQ's
    RequestID attribute."""
    if name is None:
        return []
    sqs = lab.client("sqs")
    url, messages, got = sqs.get_queue_url(QueueName=name)["QueueUrl"], [], [None] * 10
    while len(got) == 10:  # a short answer means the queue is empty: save the extra call
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  MessageAttributeNames=["All"]).get("Messages", [])
        messages.extend(got)
    if field == "record":
        return [json.loads(m["Body"])["requestContext"]["requestId"] for m in messages]
    return [m["MessageAttributes"]["RequestID"]["StringValue"] for m in messages]


def failed_sends(lab, function, target):
    """Sends ``function`` made to queue ``target`` that failed (lab.sends)."""
    return sum(1 for r in lab.sends.records if r.function == function and r.target == target and not r.ok)


def run_async(lab, p):
    tag = next(NAMES)
    options, names = async_options(lab, p, tag, "a")
    response = "x" * OVERSIZED_RESPONSE if p["on_success"] == "oversized" else None
    behaviour = Behaviour(lambda event: p["plans"][event["i"]], response)
    fn = lab.function(f"a-{tag}", behaviour.handler(lambda event, context: context.aws_request_id),
                      reserved_concurrency=p["reserved"], duration_ms=behaviour.duration_ms, timeout_s=TIMEOUT_S,
                      **options)
    delete_targets(lab, p, names)
    ids = [fn.invoke_async({"i": i})["ResponseMetadata"]["RequestId"] for i in range(len(p["plans"]))]
    summary = finish(lab)
    return summary, fn.name, ids, names


def check_async_endings(lab, p, function, names, rows):
    """The endings agree with what the targets hold, the sends that failed, and the log."""
    ended = lambda e: sorted(rows.loc[rows["ending"] == e, "request_id"])  # noqa: E731
    records, dead = sorted(look(lab, names.get("fail"), "record")), sorted(look(lab, names.get("dlq"), "dlq"))
    if p["target"] in ("on_failure", "both"):
        assert records == ended("destination") and ended("dead_letter") == []
    if p["target"] == "both":
        assert dead == records  # both targets get every failure; the destination names the ending
    if p["target"] == "dlq":
        assert dead == ended("dead_letter") and ended("destination") == []
    if p["target"] in ("nowhere", "deleted_on_failure", "deleted_dlq"):
        assert ended("destination") == ended("dead_letter") == []
    if p["target"].startswith("deleted_"):  # every give-up tried the deleted target and failed
        assert failed_sends(lab, function, names["deleted"]) == len(ended("dropped"))
    successes = sorted(look(lab, names.get("ok"), "record"))
    if p["on_success"] == "queue":
        assert successes == ended("processed")
    if p["on_success"] == "oversized":
        assert successes == [] and failed_sends(lab, function, names["ok"]) == len(ended("processed"))
    # Nothing is dropped without a row in the log.
    log = lab.log.to_frame(function)
    assert (log["outcome"] == "dropped").sum() == len(ended("dropped"))
    if p["reserved"] == 0:
        assert ended("processed") == []


@SETTINGS
@given(async_patterns())
# The cases: a deleted on-failure queue, and a response too big for an SQS on-success queue.
@example(dict(plans=[["raise"]], retries=0, target="deleted_on_failure", on_success="oversized", reserved=None,
              duplicate_rate=0.0, age_s=21_600))
def test_async_every_event_ends_once(shared_lab, pattern):
    summary, function, ids, names = run_async(shared_lab, pattern)
    assert summary.idle
    rows = shared_lab.outcomes(function)
    check_rows(rows, ids)
    check_async_endings(shared_lab, pattern, function, names, rows)
    check_retry_budget(shared_lab.log.to_frame(function), rows, pattern["retries"])


def check_retry_budget(log, rows, retries):
    """A copy of an event runs at most 1 + MaximumRetryAttempts times (throttles do not count)."""
    runs = log[log["outcome"].isin(["success", "error", "timeout"])].groupby("request_id").size()
    copies = rows["request_id"].value_counts()
    assert (runs <= (retries + 1) * copies.reindex(runs.index)).all(), runs


# --- S3 ---------------------------------------------------------------------------------------
@st.composite
def s3_patterns(draw):
    # Up to 3 keys (6 writes): every S3 record costs relay and send calls to moto; the async
    # test covers the queue's behaviours with more events.
    n = draw(st.integers(1, 3))
    return dict(
        plans=plans(draw, n),
        deletes=draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        **async_settings(draw),
    )


def s3_key(event, context):
    """A delivery's key: the record's key and sequencer (a duplicate shares both)."""
    obj = event["Records"][0]["s3"]["object"]
    return obj["key"], obj["sequencer"]


def run_s3(lab, p):
    tag = next(NAMES)
    s3 = lab.client("s3")
    bucket = f"bucket-{tag}"
    s3.create_bucket(Bucket=bucket)
    options, names = async_options(lab, p, tag, "s")
    response = "x" * OVERSIZED_RESPONSE if p["on_success"] == "oversized" else None
    plan_of = lambda event: p["plans"][int(event["Records"][0]["s3"]["object"]["key"].split("-")[1])]  # noqa: E731
    behaviour = Behaviour(plan_of, response)
    fn = lab.function(f"s-{tag}", behaviour.handler(s3_key), reserved_concurrency=p["reserved"],
                      duration_ms=behaviour.duration_ms, timeout_s=TIMEOUT_S, **options)
    delete_targets(lab, p, names)
    trigger = lab.s3_trigger(bucket, fn, events=["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    writes = 0
    for i, delete in enumerate(p["deletes"]):
        s3.put_object(Bucket=bucket, Key=f"k-{i}", Body=b"x")
        writes += 1
        if delete:
            s3.delete_object(Bucket=bucket, Key=f"k-{i}")
            writes += 1
    summary = finish(lab, trigger)
    return summary, fn.name, writes, names


@SETTINGS
@given(s3_patterns())
@example(dict(plans=[["raise"]], deletes=[True], retries=0, target="deleted_dlq", on_success="oversized",
              reserved=None, duplicate_rate=0.0, age_s=21_600))
def test_s3_every_record_ends_once(shared_lab, pattern):
    summary, function, writes, names = run_s3(shared_lab, pattern)
    assert summary.idle
    rows = shared_lab.outcomes(function)
    firsts = rows[rows["copy"] == 1]
    assert len(firsts) == writes and (rows["source"] == "s3").all()
    check_rows(rows, list(firsts["item"]))
    check_async_endings(shared_lab, pattern, function, names, rows)


# --- SNS --------------------------------------------------------------------------------------
#: The subscription's own dead-letter queue (RedrivePolicy): none, a queue, a queue deleted after.
SUBSCRIPTION_DLQS = (None, "queue", "deleted")
#: A filter policy that keeps even-numbered messages: the odd ones end dropped (FilteredOut) by SNS.
EVEN_PARITY = {"parity": ["even"]}


@st.composite
def sns_patterns(draw):
    # Up to 4 messages: a subscription's first publish costs moto an RSA key, so the patterns
    # stay small and the async test covers the queue's behaviours with more events.
    n = draw(st.integers(1, 4))
    return dict(
        plans=plans(draw, n),
        **async_settings(draw),
        handoff_faults=draw(st.sampled_from([0, 0, 1, 4, 9])),  # failed hand-offs before the rest succeed
        fault=draw(st.sampled_from(["server", "throttle"])),
        deleted_function=draw(st.sampled_from([False, False, False, True])),
        subscription_dlq=draw(st.sampled_from(SUBSCRIPTION_DLQS)),
        filtered=draw(st.booleans()),
    )


def run_sns(lab, p):
    tag = next(NAMES)
    sns, sqs = lab.client("sns"), lab.client("sqs")
    topic = sns.create_topic(Name=f"topic-{tag}")["TopicArn"]
    options, names = async_options(lab, p, tag, "n")
    response = "x" * OVERSIZED_RESPONSE if p["on_success"] == "oversized" else None
    behaviour = Behaviour(lambda event: p["plans"][json.loads(event["Records"][0]["Sns"]["Message"])["i"]], response)
    fn = lab.function(f"n-{tag}", behaviour.handler(lambda event, context: context.aws_request_id),
                      reserved_concurrency=p["reserved"], duration_ms=behaviour.duration_ms, timeout_s=TIMEOUT_S,
                      **options)
    delete_targets(lab, p, names)
    dlq_name = None
    if p["subscription_dlq"]:
        dlq_name = f"nsubdlq-{tag}"
        sqs.create_queue(QueueName=dlq_name)
    trigger = lab.sns_trigger(topic, fn, filter_policy=EVEN_PARITY if p["filtered"] else None,
                              dead_letter_arn=lab.arn("sqs", dlq_name) if dlq_name else None)
    if p["subscription_dlq"] == "deleted":
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"])
        dlq_name = None
    if p["deleted_function"]:
        lab.runtime.functions.pop(fn.name)
    if p["handoff_faults"]:
        lab.faults.fail_next(fn.name, p["handoff_faults"], error=p["fault"])
    entries = [{"Id": str(i), "Message": json.dumps({"i": i}), "MessageAttributes": {
        "parity": {"DataType": "String", "StringValue": "odd" if i % 2 else "even"}}} for i in range(len(p["plans"]))]
    published = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)["Successful"]
    ids = {int(e["Id"]): e["MessageId"] for e in published}
    summary = finish(lab, trigger)
    lab.faults.take(fn.name)  # nothing left over for a later pattern's function (names are fresh anyway)
    return summary, fn.name, ids, names, dlq_name


@SETTINGS
@given(sns_patterns())
# The cases: a server error SNS retries, a deleted function for the subscription's DLQ.
@example(dict(plans=[["raise"], []], retries=0, target="dlq", on_success=None, reserved=None, duplicate_rate=0.0,
              age_s=21_600, handoff_faults=4, fault="server", deleted_function=False, subscription_dlq="queue",
              filtered=True))
@example(dict(plans=[[]], retries=2, target="nowhere", on_success=None, reserved=None, duplicate_rate=0.0,
              age_s=21_600, handoff_faults=0, fault="server", deleted_function=True, subscription_dlq="queue",
              filtered=False))
def test_sns_every_message_ends_once(shared_lab, pattern):
    summary, function, ids, names, dlq_name = run_sns(shared_lab, pattern)
    assert summary.idle
    rows = shared_lab.outcomes(function)
    assert (rows["source"] == "sns").all()
    check_rows(rows, list(ids.values()))  # one row per (message, subscription), each ended once
    by_layer = {layer: rows[rows["layer"] == layer] for layer in ("sns", "lambda")}
    sns_rows = by_layer["sns"]
    filtered = {ids[i] for i in ids if pattern["filtered"] and i % 2}
    # SNS decides only filtered messages and what it could not hand to a deleted function.
    assert set(sns_rows.loc[sns_rows["where"].str.startswith("FilteredOut"), "item"]) == filtered
    undeliverable = set(sns_rows["item"]) - filtered
    assert undeliverable == (set(ids.values()) - filtered if pattern["deleted_function"] else set())
    dead = set(sns_rows.loc[sns_rows["ending"] == "dead_letter", "item"])
    held = {json.loads(m["Body"])["MessageId"] for m in dead_letters(shared_lab, dlq_name)} if dlq_name else set()
    assert dead == held == (undeliverable if pattern["subscription_dlq"] == "queue" else set())
    # What Lambda's queue decided agrees with the function's destinations, DLQ and log.
    check_async_endings(shared_lab, pattern, function, names, by_layer["lambda"])
    if not pattern["deleted_function"]:
        check_retry_budget(shared_lab.log.to_frame(function), by_layer["lambda"], pattern["retries"])


# --- DynamoDB Streams -----------------------------------------------------------------------
#: What a delivery of a failing record does: raise, report it in batchItemFailures, or time out.
STREAM_FAILURES = ("raise", "report", "timeout")
STREAM_TIMEOUT_S = 10
#: A filter that keeps even-numbered records: the odd ones end dropped (FilteredOut).
STREAM_EVEN = {"dynamodb": {"NewImage": {"parity": {"S": ["even"]}}}}


@st.composite
def stream_patterns(draw):
    n = draw(st.integers(1, 10))
    # Per record, how its first deliveries fail ("always": a poison record).
    fails = draw(st.lists(st.one_of(st.integers(0, 2), st.just("always")), min_size=n, max_size=n))
    retries, age_s = draw(st.sampled_from([-1, 0, 1, 3])), draw(st.sampled_from([-1, -1, 60, 3_600]))
    if "always" in fails and retries == age_s == -1:
        age_s = 3_600  # a day-long block costs ~0.4 s: the explicit example below covers it once
    return dict(
        items=draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),  # which item each write updates
        fails=fails,
        mode=draw(st.sampled_from(STREAM_FAILURES)),
        batch_size=draw(st.integers(1, 5)),
        bisect=draw(st.booleans()),
        report=draw(st.booleans()),
        retries=retries,
        age_s=age_s,
        lanes=draw(st.sampled_from([1, 1, 2, 3])),
        on_failure=draw(st.sampled_from([None, "queue"])),
        filtered=draw(st.booleans()),
        window_s=draw(st.sampled_from([0, 0, 1])),
    )


def run_stream(lab, p):
    tag = next(NAMES)
    ddb, sqs = lab.client("dynamodb"), lab.client("sqs")
    table = f"t-{tag}"
    arn = ddb.create_table(
        TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    runs, handled = Counter(), []  # deliveries per write; (item, write) in the order the handler saw them
    state = {"timeout": False}

    def failing(record):
        i = int(record["dynamodb"]["NewImage"]["i"]["N"])
        runs[i] += 1
        planned = p["fails"][i]
        return planned == "always" or runs[i] <= planned

    def handler(event, context):
        state["timeout"] = False
        failures = []  # mode "report": a partial batch handler goes on and lists what failed
        for record in event["Records"]:
            image = record["dynamodb"]["NewImage"]
            if failing(record):
                if p["mode"] == "raise":
                    raise ValueError("poison")
                if p["mode"] == "timeout":
                    state["timeout"] = True
                    return None
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
                continue
            handled.append((image["pk"]["S"], int(image["i"]["N"])))
        return {"batchItemFailures": failures}

    fn = lab.function(f"s-{tag}", handler, timeout_s=STREAM_TIMEOUT_S,
                      duration_ms=lambda event: STREAM_TIMEOUT_S * 1000 + 1 if state["timeout"] else 50)
    destination = None
    if p["on_failure"]:
        destination = f"sfail-{tag}"
        sqs.create_queue(QueueName=destination)
    mapping = lab.stream_trigger(
        arn, fn, batch_size=p["batch_size"], bisect_batch_on_function_error=p["bisect"],
        report_batch_item_failures=p["report"], maximum_retry_attempts=p["retries"],
        maximum_record_age_s=p["age_s"], parallelization_factor=p["lanes"],
        on_failure=lab.arn("sqs", destination) if destination else None,
        filter_patterns=STREAM_EVEN if p["filtered"] else None, maximum_batching_window_s=p["window_s"])
    for i, item in enumerate(p["items"]):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"item-{item}"}, "i": {"N": str(i)},
                                            "parity": {"S": "odd" if i % 2 else "even"}})
    summary = finish(lab, mapping)
    return summary, fn.name, destination, handled


@SETTINGS
@given(stream_patterns())
# A poison record with the defaults: it blocks its shard for the 24 h retention, then expires.
@example(dict(items=[0, 1, 0], fails=["always", 0, 0], mode="raise", batch_size=2, bisect=False, report=False,
              retries=-1, age_s=-1, lanes=1, on_failure="queue", filtered=False, window_s=0))
def test_stream_every_record_ends_once_in_order(shared_lab, pattern):
    summary, function, destination, handled = run_stream(shared_lab, pattern)
    assert summary.idle
    rows = shared_lab.outcomes(function)
    assert (rows["source"] == "dynamodb").all()
    check_rows(rows, list(rows["item"]))
    assert len(rows) == len(pattern["items"])  # exactly one row per record written
    rows = rows.assign(i=range(len(rows)), key=[f"item-{k}" for k in pattern["items"]])
    filtered = rows["where"].str.startswith("FilteredOut")
    assert set(rows.loc[filtered, "i"]) == ({i for i in rows["i"] if i % 2} if pattern["filtered"] else set())
    # Per item, records end in stream order (the shard, or the item's lane, never reorders).
    for _, item_rows in rows[~filtered].groupby("key"):
        assert item_rows["ended"].is_monotonic_increasing, item_rows
    # The handler saw each item's records in stream order, every time it was delivered them.
    for key in set(rows["key"]):
        seen = [i for k, i in handled if k == key]
        firsts = list(dict.fromkeys(seen))
        assert firsts == sorted(firsts)
    # Every processed record reached the handler; every skipped one is in the destination.
    processed = set(rows.loc[rows["ending"] == "processed", "i"])
    assert processed <= {i for _, i in handled}
    unheard = rows["where"].str.startswith("checkpointed unprocessed")
    assert not unheard.any() or (pattern["mode"] == "report" and not pattern["report"])
    skipped = rows[rows["ending"].isin(["destination", "dropped"]) & ~filtered & ~unheard]
    if destination:
        url = shared_lab.client("sqs").get_queue_url(QueueName=destination)["QueueUrl"]
        bodies = [json.loads(m["Body"]) for m in receive_all(shared_lab, url)]
        reported = sum(b["DDBStreamBatchInfo"]["batchSize"] for b in bodies)
        assert reported == (rows["ending"] == "destination").sum()
        assert (skipped["ending"] == "destination").all()  # retries, age and expiry alike
    else:
        assert (skipped["ending"] == "dropped").all()
    if pattern["retries"] != -1 and not pattern["bisect"]:
        assert (rows["attempts"] <= pattern["retries"] + 1).all()
    if pattern["age_s"] != -1:
        aged = skipped[skipped["where"].str.contains("RecordAgeExceeded")]
        assert ((aged["ended"] - aged["accepted"]) >= pattern["age_s"]).all()


# --- API Gateway ------------------------------------------------------------------------------
#: What the handler does with one request: answer 2xx, answer a 4xx on purpose, raise, return a
#: malformed proxy response, or run past the integration timeout (its own timeout is longer).
API_CASES = ("ok", "client_error", "raise", "malformed", "timeout")
#: Malformed for payload 1.0 and 2.0 alike: a body that is not a string, a status that is not one.
API_MALFORMED = ({"statusCode": 200, "body": {"not": "a string"}}, {"statusCode": "abc"}, {"statusCode": 700},
                 {"statusCode": 200, "headers": ["not", "an", "object"]})
#: The status the client sees, by API kind and case (the module's error table).
API_STATUS = {
    "rest": {"raise": 502, "malformed": 502, "throttled": 500, "timeout": 504, "no_route": 403},
    "http": {"raise": 500, "malformed": 500, "throttled": 500, "timeout": 503, "no_route": 404},
}
API_ROUTES = ("GET /r0/{i}", "POST /r1/{i}", "ANY /r2/{i}")
#: A run past the 29 s / 30 s integration timeout, inside the function's own 40 s.
API_FN_TIMEOUT_S, API_SLOW_MS, API_FAST_MS = 40, 35_000, 50


@st.composite
def apigateway_patterns(draw):
    kind = draw(st.sampled_from(["rest", "http"]))
    routes = draw(st.integers(1, len(API_ROUTES)))
    n = draw(st.integers(1, 12))
    return dict(
        kind=kind,
        version="1.0" if kind == "rest" else draw(st.sampled_from(["2.0", "2.0", "1.0"])),
        throttled=draw(st.lists(st.sampled_from([False, False, True]), min_size=routes, max_size=routes)),
        # Per request: the route it aims at (routes: a path no route matches, or a method its route lacks),
        # what the handler does, and the status a handler that answers on purpose picks.
        requests=draw(st.lists(st.tuples(st.integers(0, routes), st.sampled_from(API_CASES),
                                         st.sampled_from([200, 201, 204]), st.sampled_from([400, 404, 409, 429]),
                                         st.integers(0, len(API_MALFORMED) - 1)), min_size=n, max_size=n)),
    )


def run_apigateway(lab, p):
    tag = next(NAMES)
    requests = p["requests"]

    def handler(event, context):
        _, case, ok, client, malformed = requests[int(event["pathParameters"]["i"])]
        if case == "raise":
            raise ValueError("fails")
        if case == "malformed":
            return API_MALFORMED[malformed]
        status = client if case == "client_error" else ok
        return {"statusCode": status, "body": "" if status == 204 else json.dumps({"i": event["pathParameters"]["i"]})}

    def duration_ms(event):
        return API_SLOW_MS if requests[int(event["pathParameters"]["i"])][1] == "timeout" else API_FAST_MS

    fns = [lab.function(f"api-{tag}-{r}", handler, timeout_s=API_FN_TIMEOUT_S, duration_ms=duration_ms,
                        reserved_concurrency=0 if throttled else None) for r, throttled in enumerate(p["throttled"])]
    table = {API_ROUTES[r]: fn for r, fn in enumerate(fns)}
    if p["kind"] == "rest":
        api = lab.rest_api(table)
    else:
        api = lab.http_api(table, payload_format_version=p["version"])
    sent = []  # (route index, case, 2xx, 4xx, response) per request
    for i, (r, case, ok, client, _) in enumerate(requests):
        if r == len(fns):  # past the last route: a path nothing matches, or a method the route does not take
            path, method = (f"/r0/{i}", "DELETE") if i % 2 else (f"/nowhere/{i}", "GET")
        else:
            path, method = f"/r{r}/{i}", ("GET", "POST", "PUT")[r]
        sent.append((r, case, ok, client, api.request(method, path)))
    summary = finish(lab, api)
    return summary, api, fns, sent


def expected_status(p, r, case, ok, client, routes):
    if r == routes:
        return API_STATUS[p["kind"]]["no_route"]
    if p["throttled"][r]:
        return API_STATUS[p["kind"]]["throttled"]
    if case in ("ok", "client_error"):
        return ok if case == "ok" else client
    return API_STATUS[p["kind"]][case]


@SETTINGS
@given(apigateway_patterns())
# Every case once on a REST API, a throttled function among them, and both kinds of unmatched request.
@example(dict(kind="rest", version="1.0", throttled=[False, True],
              requests=[(0, "ok", 201, 400, 0), (0, "client_error", 200, 404, 0), (0, "raise", 200, 400, 0),
                        (0, "malformed", 200, 400, 1), (0, "timeout", 200, 400, 0), (1, "ok", 200, 400, 0),
                        (2, "ok", 200, 400, 0), (2, "ok", 200, 400, 0)]))
def test_apigateway_every_request_ends_once(shared_lab, pattern):
    summary, api, fns, sent = run_apigateway(shared_lab, pattern)
    assert summary.idle
    assert api not in shared_lab.sources
    routes = len(fns)
    statuses = [response.status for *_, response in sent]
    assert statuses == [expected_status(pattern, r, case, ok, client, routes) for r, case, ok, client, _ in sent]
    # One row per request that reached a route; none for a request no route matched.
    routed = {response.request_id: (response.status, case in ("ok", "client_error") and not pattern["throttled"][r])
              for r, case, *_, response in sent if r < routes}
    rows = shared_lab.outcomes(source="apigateway")
    rows = rows[rows["item"].isin([response.request_id for *_, response in sent])]
    check_rows(rows, list(routed))  # so no row for an unmatched request
    assert len(rows) == len(routed) and rows["function"].isin([fn.name for fn in fns]).all()
    assert (rows["layer"] == "caller").all()
    # processed exactly for a 2xx; every row's where carries the client's status (and, when API
    # Gateway made the answer itself, its reason).
    for item, ending, where in rows[["item", "ending", "where"]].itertuples(index=False):
        status, own = routed[item]
        assert (ending == "processed") == (200 <= status < 300), (ending, status)
        assert (where == f"HTTP {status}") if own else where.startswith(f"HTTP {status}: "), (where, status)
    # api.requests() agrees: every request, in order, with the client's status.
    frame = api.requests()
    assert list(frame["request_id"]) == [response.request_id for *_, response in sent]
    assert list(frame["status"]) == statuses
    assert list(frame["route"].isna()) == [r == routes for r, *_ in sent]
    outcomes = ["no route" if r == routes else "throttled" if pattern["throttled"][r] else "error" if case == "raise"
                else "success" for r, case, *_ in sent]
    assert list(frame["outcome"].fillna("no route")) == outcomes  # the function's side
    lambda_ids = dict(zip(frame["request_id"], frame["lambda_request_id"]))
    assert all(lambda_ids[item] == rid for item, rid in zip(rows["item"], rows["request_id"]))


# --- EventBridge --------------------------------------------------------------------------------
from lambda_lab.events import eventbridge as eb_events  # noqa: E402 (this section's own import)

#: Rule patterns over the events' detail-type and detail (a color and a size); each matches some events.
EB_PATTERNS = (
    {"detail": {"color": ["red"]}},
    {"detail": {"color": [{"anything-but": "red"}]}},
    {"detail": {"size": [{"numeric": [">=", 5]}]}},
    {"detail": {"color": [{"prefix": "g"}], "size": [{"numeric": ["<", 8]}]}},
    {"detail-type": ["OrderPlaced"]},
    {"$or": [{"detail": {"color": ["blue"]}}, {"detail": {"size": [0]}}]},
)
#: A target: a function that succeeds or raises, a deleted function, an SQS queue, a deleted queue.
EB_TARGETS = ("ok", "raise", "deleted_function", "queue", "deleted_queue")
EB_FUNCTIONS = ("ok", "raise", "deleted_function")
#: EventBridge's ERROR_CODE for each injected hand-off fault (eb-rule-dlq's codes).
EB_FAULT_CODES = {429: "THROTTLING", 500: "INTERNAL_ERROR"}
EB_DEFAULT_RETRIES = 185


def eb_retry_policies():
    """None (185 retries within 24 h), a few retries, a short age, or both."""
    retries = st.integers(0, 3)
    age = st.integers(60, 600)
    return st.one_of(st.none(), st.builds(lambda r: {"MaximumRetryAttempts": r}, retries),
                     st.builds(lambda a: {"MaximumEventAgeInSeconds": a}, age),
                     st.builds(lambda r, a: {"MaximumRetryAttempts": r, "MaximumEventAgeInSeconds": a}, retries, age))


def eb_targets():
    return st.fixed_dictionaries(dict(
        kind=st.sampled_from(EB_TARGETS),
        faults=st.sampled_from([0, 0, 1, 2, 5]),  # failed hand-offs injected before Lambda accepts
        fault=st.sampled_from(["server", "throttle"]),
        policy=eb_retry_policies(),
        dlq=st.booleans(),
    ))


@st.composite
def eventbridge_patterns(draw):
    n = draw(st.integers(1, 3))
    return dict(
        events=draw(st.lists(st.tuples(st.sampled_from(["red", "green", "blue", "grey"]), st.integers(0, 10),
                                       st.sampled_from(["OrderPlaced", "OrderShipped"])), min_size=n, max_size=n)),
        rules=draw(st.lists(st.tuples(st.integers(0, len(EB_PATTERNS) - 1), st.lists(eb_targets(), min_size=1,
                                                                                     max_size=3)),
                            min_size=1, max_size=3)),
        fn_retries=draw(st.integers(0, 2)),  # the functions' own MaximumRetryAttempts (Lambda's layer)
        on_failure=draw(st.booleans()),
    )


def eb_fail(event, context):
    raise ValueError("fails")


def run_eventbridge(lab, p):
    """A fresh bus with the pattern's rules and targets, one PutEvents, run to idle; returns (summary,
    event ids, targets, the DLQ/on-failure queue names by role, queue URLs by role or target name)."""
    tag = next(NAMES)
    events, sqs = lab.client("events"), lab.client("sqs")
    bus = f"ebbus-{tag}"
    events.create_event_bus(Name=bus)
    every = [t for _, ts in p["rules"] for t in ts]
    queues = {}
    if any(t["dlq"] for t in every):
        queues["dlq"] = f"ebdlq-{tag}"
    if p["on_failure"] and any(t["kind"] == "raise" for t in every):
        queues["fail"] = f"ebfail-{tag}"
    urls = {role: sqs.create_queue(QueueName=name)["QueueUrl"] for role, name in queues.items()}
    options = {"maximum_retry_attempts": p["fn_retries"]}
    if "fail" in queues:
        options["on_failure"] = lab.arn("sqs", queues["fail"])
    targets = []
    for r, (pattern, specs) in enumerate(p["rules"]):
        rule_name = f"ebrule-{tag}-{r}"
        rule_arn = events.put_rule(Name=rule_name, EventBusName=bus,
                                   EventPattern=json.dumps(EB_PATTERNS[pattern]))["RuleArn"]
        listed = []
        for i, spec in enumerate(specs):
            name = f"eb{spec['kind'][0]}-{tag}-{r}-{i}"
            if spec["kind"] in EB_FUNCTIONS:
                arn = lab.function(name, eb_fail if spec["kind"] == "raise" else lambda e, c: None, **options).arn
                if spec["kind"] == "deleted_function":
                    lab.runtime.functions.pop(name)
                elif spec["faults"]:
                    lab.faults.fail_next(name, spec["faults"], error=spec["fault"])
            else:
                url = sqs.create_queue(QueueName=name)["QueueUrl"]
                arn = lab.arn("sqs", name)
                if spec["kind"] == "deleted_queue":
                    sqs.delete_queue(QueueUrl=url)
                else:
                    urls[name] = url
            target = {"Id": f"t{i}", "Arn": arn}
            if spec["policy"]:
                target["RetryPolicy"] = spec["policy"]
            if spec["dlq"]:
                target["DeadLetterConfig"] = {"Arn": lab.arn("sqs", queues["dlq"])}
            listed.append(target)
            targets.append(dict(spec, name=name, arn=arn, rule=r, rule_arn=rule_arn, pattern=EB_PATTERNS[pattern]))
        events.put_targets(Rule=rule_name, EventBusName=bus, Targets=listed)
    entries = [{"Source": f"prop.{tag}", "DetailType": detail_type, "EventBusName": bus,
                "Detail": json.dumps({"i": i, "color": color, "size": size})}
               for i, (color, size, detail_type) in enumerate(p["events"])]
    answer = events.put_events(Entries=entries)
    assert answer["FailedEntryCount"] == 0, answer
    ids = [e["EventId"] for e in answer["Entries"]]
    summary = finish(lab)  # EventBridge is one source per lab: it stays, the names are fresh
    for t in targets:
        while lab.faults.take(t["name"]):  # nothing left over (names are fresh anyway)
            pass
    return summary, ids, targets, queues, urls


def eb_limit(target):
    """Attempts the target's retry policy allows: 1 + MaximumRetryAttempts."""
    return 1 + (target["policy"] or {}).get("MaximumRetryAttempts", EB_DEFAULT_RETRIES)


def eb_messages(lab, url):
    """The messages in queue ``url`` (none if None); a short answer means the queue is empty, so an
    ordinary queue costs one ReceiveMessage: 100 patterns of moto calls add up."""
    if url is None:
        return []
    sqs, messages, got = lab.client("sqs"), [], [None] * 10
    while len(got) == 10:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  MessageAttributeNames=["All"]).get("Messages", [])
        messages.extend(got)
    return messages


def eb_dead_letters(lab, url):
    """(event id, TARGET_ARN) -> (event, attributes) of each message in the target DLQ at ``url``."""
    held = {}
    for m in eb_messages(lab, url):
        attributes = {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()}
        event_ = json.loads(m["Body"])
        key = (event_["id"], attributes["TARGET_ARN"])
        assert key not in held, key  # dead-lettered once
        held[key] = (event_, attributes)
    return held


def check_eventbridge_row(row, t, tries, p, dead, delivered):
    """One (event, target) row against the hand-offs EventBridge made and the DLQ."""
    limit = eb_limit(t)
    if row["layer"] == "eventbridge":
        assert row["ending"] in ("processed", "dead_letter", "dropped"), row
        assert row["attempts"] <= limit and len(tries) <= limit, (row, tries)
        if t["kind"] == "queue":
            assert row["ending"] == "processed" and tries == [], row  # hand-offs are Lambda's only
            return
        assert row["ending"] == ("dead_letter" if t["dlq"] else "dropped"), (row, t)
        if t["kind"] == "deleted_function":
            assert tries == [404], tries  # a client-side error: not retried
        elif t["kind"] == "deleted_queue":
            assert tries == []
        else:  # EventBridge gave up on hand-offs Lambda kept refusing
            assert tries and all(s in EB_FAULT_CODES for s in tries), tries
        if row["ending"] == "dead_letter":
            event_, attributes = dead.pop((row["item"], t["arn"]))
            assert event_ == delivered[row["item"]]
            assert (attributes["RULE_ARN"], attributes["TARGET_ARN"]) == (t["rule_arn"], t["arn"])
            retriable = t["kind"] in ("ok", "raise")
            assert attributes["RETRY_ATTEMPTS"] == str(len(tries) - 1 if retriable else 0)
            if retriable:
                assert attributes["ERROR_CODE"] == EB_FAULT_CODES[tries[-1]]
                assert attributes["EXHAUSTED_RETRY_CONDITION"] == (
                    "MaximumRetryAttempts" if len(tries) == limit else "MaximumEventAgeInSeconds"), (attributes, t)
            else:
                assert "EXHAUSTED_RETRY_CONDITION" not in attributes, attributes
                assert attributes["ERROR_CODE"] in eb_events.DLQ_ERROR_CODES
                if t["kind"] == "deleted_function":
                    assert attributes["ERROR_CODE"] == "NO_RESOURCE"
    else:  # Lambda accepted it: Lambda's async queue decided
        assert row["layer"] == "lambda" and t["kind"] in ("ok", "raise"), (row, t)
        assert tries and tries[-1] == 202 and all(s in EB_FAULT_CODES for s in tries[:-1]), tries
        assert len(tries) <= limit
        if t["kind"] == "ok":
            assert row["ending"] == "processed", row
        else:
            assert row["ending"] == ("destination" if p["on_failure"] else "dropped"), row


@settings(SETTINGS, max_examples=PATTERNS // 2)  # each pattern puts several events through several rules
@given(eventbridge_patterns())
# The cases: a missing function straight to the DLQ, server errors past MaximumRetryAttempts into the
# DLQ, a throttled hand-off Lambda then accepts, a function error for Lambda's on-failure destination, a
# deleted queue, and a short MaximumEventAgeInSeconds.
@example(dict(events=[("red", 5, "OrderPlaced"), ("blue", 0, "OrderShipped")], fn_retries=1, on_failure=True, rules=[
    (4, [dict(kind="deleted_function", faults=0, fault="server", policy=None, dlq=True),
         dict(kind="ok", faults=5, fault="server", policy={"MaximumRetryAttempts": 2}, dlq=True),
         dict(kind="raise", faults=1, fault="throttle", policy=None, dlq=True)]),
    (5, [dict(kind="queue", faults=0, fault="server", policy=None, dlq=False),
         dict(kind="deleted_queue", faults=0, fault="server", policy=None, dlq=True),
         dict(kind="ok", faults=5, fault="throttle", policy={"MaximumEventAgeInSeconds": 60}, dlq=False)])]))
def test_eventbridge_every_delivery_ends_once(shared_lab, pattern):
    lab = shared_lab
    summary, ids, targets, queues, urls = run_eventbridge(lab, pattern)
    assert summary.idle
    delivered = {e["id"]: e for _, _, e in lab.eventbridge.events if e["id"] in set(ids)}
    assert sorted(delivered) == sorted(ids)
    # Which (event, target) pairs should exist, by the TestEventPattern API.
    matches = {(i, r): lab.test_event_pattern(EB_PATTERNS[pattern["rules"][r][0]], delivered[i])
               for i in ids for r in range(len(pattern["rules"]))}
    expected = sorted((i, t["name"]) for i in ids for t in targets if matches[(i, t["rule"])])
    rows = lab.outcomes(source="eventbridge")
    rows = rows[rows["item"].isin(ids)]
    assert sorted(zip(rows["item"], rows["function"])) == expected  # exactly one row per (event, target)
    assert (rows["ending"] != "pending").all(), rows[rows["ending"] == "pending"]
    assert (rows["ended"] >= rows["accepted"]).all()
    tries = defaultdict(list)
    for _, event_id, name, answer in lab.eventbridge.handoffs:
        if event_id in delivered:
            tries[(event_id, name)].append(answer.status_code)
    dead = eb_dead_letters(lab, urls.get("dlq"))
    by_name = {t["name"]: t for t in targets}
    for row in rows.to_dict("records"):
        check_eventbridge_row(row, by_name[row["function"]], tries[(row["item"], row["function"])], pattern, dead,
                              delivered)
        event(f"an eventbridge {row['ending']} row decided by {row['layer']}")
    assert dead == {}, dead  # the DLQ holds exactly the rows that ended dead_letter
    # Queue targets hold exactly their events; Lambda's destination exactly the rows it names.
    for t in targets:
        mine = rows[rows["function"] == t["name"]]
        if t["kind"] == "queue":
            held = [json.loads(m["Body"]) for m in eb_messages(lab, urls[t["name"]])]
            assert sorted(e["id"] for e in held) == sorted(mine["item"])
            assert all(e == delivered[e["id"]] for e in held)
        if t["kind"] in ("ok", "raise") and t["faults"]:
            # The injected faults were spent on the first hand-offs to the function, across events.
            sent = [s for (i, name), ss in tries.items() if name == t["name"] for s in ss]
            assert sum(s != 202 for s in sent) == min(t["faults"], len(sent))
            if "MaximumEventAgeInSeconds" not in (t["policy"] or {}) and t["faults"] < eb_limit(t):
                assert (mine["layer"] == "lambda").all(), mine  # within the budget of every event
    records = [json.loads(m["Body"]) for m in eb_messages(lab, urls.get("fail"))]
    got = sorted((r["requestPayload"]["id"], r["requestContext"]["functionArn"].split(":")[6]) for r in records)
    assert got == sorted(zip(*(rows.loc[rows["ending"] == "destination", c] for c in ("item", "function"))))
