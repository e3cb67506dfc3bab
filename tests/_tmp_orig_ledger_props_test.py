"""The ledger invariant, for every source: over random fault patterns, every accepted item
has exactly one ending, and the endings add up to what was sent and agree with what the
dead-letter queues and destinations hold. For SQS also: FIFO order per message group, and
with ``report_batch_item_failures`` only the failing messages are retried and dead-lettered.

About 100 patterns per source run in ``make test``; ``LAMBDA_LAB_SLOW=1`` runs 1,000.
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

PATTERNS = 1_000 if os.environ.get("LAMBDA_LAB_SLOW") else 100
SETTINGS = settings(max_examples=PATTERNS, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
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
@st.composite
def sqs_patterns(draw):
    fifo = draw(st.booleans())
    n = draw(st.integers(1, 8))
    max_receive = draw(st.integers(1, 3))
    return dict(
        fifo=fifo,
        fails=draw(st.lists(st.integers(0, max_receive + 1), min_size=n, max_size=n)),
        max_receive=max_receive,
        mode=draw(st.sampled_from(["raise", "report", "report-off"])),
        batch_size=draw(st.integers(1, 10)) if fifo else draw(st.sampled_from([1, 3, 10, 25])),
        groups=draw(st.integers(1, 3)),
        concurrency=draw(st.sampled_from([None, 2])),
    )


def run_sqs(lab, p):
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

    def handler(event, context):
        failed = []
        records = event["Records"]
        for n, record in enumerate(records):
            seen[record["body"]] += 1
            if seen[record["body"]] <= p["fails"][index(record["body"])]:
                if p["fifo"]:  # AWS's rule for FIFO: stop, and report this record and every one after it
                    failed.extend(r["messageId"] for r in records[n:])
                    break
                failed.append(record["messageId"])
                continue
            succeeded.append(record["body"])
        if failed and p["mode"] == "raise":
            raise ValueError(f"{len(failed)} failed")
        listed.update(failed)
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    fn = lab.function(f"f-{tag}", handler, timeout_s=5)
    window = 1 if p["batch_size"] > 10 else 0
    mapping = lab.sqs_trigger(url, fn, batch_size=p["batch_size"], maximum_batching_window_s=window,
                              report_batch_item_failures=p["mode"] == "report",
                              maximum_concurrency=p["concurrency"])
    bodies = [f"m-{i}" for i in range(len(p["fails"]))]
    ids = send_all(lab, url, bodies, group_id=lambda b: group(b, p))
    summary = finish(lab, mapping)
    return summary, lab.outcomes(fn.name), ids, url, f"dlq-{tag}{suffix}", listed, succeeded


def index(body):
    return int(body.split("-")[1])


def group(body, p):
    return f"g{index(body) % p['groups']}"


@SETTINGS
@given(sqs_patterns())
# A failure ahead of a success in one FIFO batch: order holds only if the handler stops there.
@example(dict(fifo=True, fails=[1, 0, 0], max_receive=3, mode="report", batch_size=10, groups=1, concurrency=None))
# A partial batch: only the message that fails maxReceiveCount times is dead-lettered.
@example(dict(fifo=False, fails=[3, 0, 1], max_receive=3, mode="report", batch_size=10, groups=1, concurrency=None))
def test_sqs_every_message_ends_once(shared_lab, pattern):
    lab = shared_lab
    summary, rows, ids, url, dlq, listed, succeeded = run_sqs(lab, pattern)
    assert summary.idle
    check_rows(rows, ids)
    assert sum(queue_counts(lab, url).values()) == 0
    by_ending = {e: set(rows.loc[rows["ending"] == e, "item"]) for e in ("processed", "dead_letter", "dropped")}
    dead = dead_letters(lab, dlq)
    assert sorted(m["MessageId"] for m in dead) == sorted(by_ending["dead_letter"])
    # A message reaches the DLQ by being received maxReceiveCount times (our look adds one more).
    assert all(int(m["Attributes"]["ApproximateReceiveCount"]) > pattern["max_receive"] for m in dead)
    # Only the silent-loss configuration drops, and only what the handler listed as failed.
    assert by_ending["dropped"] <= (listed if pattern["mode"] == "report-off" else set())
    assert (rows["layer"] == "lambda").all()
    if pattern["fifo"]:
        check_fifo_order(succeeded, pattern)
    elif pattern["mode"] == "report":
        check_partial_batch(succeeded, dead, pattern)


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
@st.composite
def async_patterns(draw):
    n = draw(st.integers(1, 5))
    return dict(
        fails=draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
        retries=draw(st.integers(0, 2)),
        target=draw(st.sampled_from(["nowhere", "on_failure", "dlq", "both", "deleted_dlq"])),
        reserved=draw(st.sampled_from([None, 1, 0])),
        duplicate_rate=draw(st.sampled_from([0.0, 0.5])),
        age_s=draw(st.sampled_from([60, 21_600])),
    )


def run_async(lab, p):
    tag = next(NAMES)
    sqs = lab.client("sqs")
    failures_url = sqs.create_queue(QueueName=f"fail-{tag}")["QueueUrl"]
    dlq_url = sqs.create_queue(QueueName=f"adlq-{tag}")["QueueUrl"]
    runs = defaultdict(int)

    def handler(event, context):
        runs[context.aws_request_id] += 1
        if runs[context.aws_request_id] <= p["fails"][event["i"]]:
            raise ValueError("fails")

    options = {"maximum_retry_attempts": p["retries"], "maximum_event_age_s": p["age_s"],
               "duplicate_rate": p["duplicate_rate"]}
    if p["target"] in ("on_failure", "both"):
        options["on_failure"] = lab.arn("sqs", f"fail-{tag}")
    if p["target"] in ("dlq", "both", "deleted_dlq"):
        options["dead_letter_arn"] = lab.arn("sqs", f"adlq-{tag}")
    fn = lab.function(f"a-{tag}", handler, reserved_concurrency=p["reserved"], duration_ms=20_000, timeout_s=30,
                      **options)
    if p["target"] == "deleted_dlq":
        sqs.delete_queue(QueueUrl=dlq_url)
    ids = [fn.invoke_async({"i": i})["ResponseMetadata"]["RequestId"] for i in range(len(p["fails"]))]
    summary = finish(lab)
    records = [json.loads(m["Body"])["requestContext"]["requestId"] for m in receive_all(lab, failures_url)]
    dead = [] if p["target"] == "deleted_dlq" else [
        m["MessageAttributes"]["RequestID"]["StringValue"] for m in lab.client("sqs").receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])]
    return summary, lab.outcomes(fn.name), ids, records, dead


@SETTINGS
@given(async_patterns())
def test_async_every_event_ends_once(shared_lab, pattern):
    summary, rows, ids, records, dead = run_async(shared_lab, pattern)
    assert summary.idle
    check_rows(rows, ids)
    ended = lambda e: sorted(rows.loc[rows["ending"] == e, "request_id"])  # noqa: E731
    if pattern["target"] in ("on_failure", "both"):
        assert sorted(records) == ended("destination") and ended("dead_letter") == []
    if pattern["target"] == "dlq":
        assert sorted(dead) == ended("dead_letter") and ended("destination") == []
    if pattern["target"] in ("nowhere", "deleted_dlq"):
        assert ended("destination") == ended("dead_letter") == []
    if pattern["reserved"] == 0:
        assert ended("processed") == []


# --- S3 ---------------------------------------------------------------------------------------
@st.composite
def s3_patterns(draw):
    n = draw(st.integers(1, 5))
    return dict(
        fails=draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
        deletes=draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        retries=draw(st.integers(0, 2)),
        dlq=draw(st.booleans()),
    )


def run_s3(lab, p):
    tag = next(NAMES)
    s3, sqs = lab.client("s3"), lab.client("sqs")
    bucket = f"bucket-{tag}"
    s3.create_bucket(Bucket=bucket)
    dlq_url = sqs.create_queue(QueueName=f"sdlq-{tag}")["QueueUrl"]
    runs = Counter()

    def handler(event, context):
        record = event["Records"][0]
        key = record["s3"]["object"]["key"]
        runs[(key, record["s3"]["object"]["sequencer"])] += 1
        if runs[(key, record["s3"]["object"]["sequencer"])] <= p["fails"][int(key.split("-")[1])]:
            raise ValueError("fails")

    options = {"maximum_retry_attempts": p["retries"]}
    if p["dlq"]:
        options["dead_letter_arn"] = lab.arn("sqs", f"sdlq-{tag}")
    fn = lab.function(f"s-{tag}", handler, **options)
    trigger = lab.s3_trigger(bucket, fn, events=["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    writes = 0
    for i, delete in enumerate(p["deletes"]):
        s3.put_object(Bucket=bucket, Key=f"k-{i}", Body=b"x")
        writes += 1
        if delete:
            s3.delete_object(Bucket=bucket, Key=f"k-{i}")
            writes += 1
    summary = finish(lab, trigger)
    dead = receive_all(lab, dlq_url)
    return summary, lab.outcomes(fn.name), writes, dead


@SETTINGS
@given(s3_patterns())
def test_s3_every_record_ends_once(shared_lab, pattern):
    summary, rows, writes, dead = run_s3(shared_lab, pattern)
    assert summary.idle
    assert len(rows) == writes and (rows["source"] == "s3").all()
    check_rows(rows, list(rows["item"]))
    assert len(dead) == (rows["ending"] == "dead_letter").sum()
    if not pattern["dlq"]:
        assert set(rows["ending"]) <= {"processed", "dropped"}
