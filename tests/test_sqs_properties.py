"""Property tests: over random failure patterns, batch sizes and queue types, nothing is lost
and FIFO order per message group holds."""

import json
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_lab import Lab
from lambda_lab.helpers.sqs import queue_counts, receive_all, send_all

MAX_RECEIVE = 3
SETTINGS = settings(max_examples=10, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw):
    fifo = draw(st.booleans())
    n = draw(st.integers(1, 10))
    # How many receives fail for each message before it succeeds; >= MAX_RECEIVE dead-letters it.
    fails = draw(st.lists(st.integers(0, MAX_RECEIVE + 1), min_size=n, max_size=n))
    report = draw(st.booleans())
    if fifo:
        batch_size, window = draw(st.integers(1, 10)), 0
    else:
        batch_size = draw(st.sampled_from([1, 3, 10, 25]))
        window = 1 if batch_size > 10 else 0
    groups = draw(st.integers(1, 3))
    concurrency = draw(st.sampled_from([None, 2]))
    return dict(fifo=fifo, fails=fails, report=report, batch_size=batch_size, window=window,
                groups=groups, concurrency=concurrency)


def run_scenario(s):
    """Run one scenario; return (bodies, succeeded bodies in order, DLQ messages, source counts)."""
    with Lab(seed=0) as lab:
        sqs = lab.client("sqs")
        suffix = ".fifo" if s["fifo"] else ""
        base = {"FifoQueue": "true"} if s["fifo"] else {}
        sqs.create_queue(QueueName="dlq" + suffix, Attributes=base)
        url = sqs.create_queue(QueueName="src" + suffix, Attributes={
            **base, "VisibilityTimeout": "10",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": lab.arn("sqs", "dlq" + suffix),
                                         "maxReceiveCount": str(MAX_RECEIVE)}),
        })["QueueUrl"]
        bodies = [f"g{i % s['groups']}-{i:02d}" for i in range(len(s["fails"]))]
        fails = dict(zip(bodies, s["fails"]))
        succeeded: list[str] = []

        def handler(event, context):
            records = event["Records"]
            failures = []
            for i, record in enumerate(records):
                if int(record["attributes"]["ApproximateReceiveCount"]) <= fails[record["body"]]:
                    if s["fifo"]:  # stop at the first failure; the rest count as failed too
                        failures.extend(r["messageId"] for r in records[i:])
                        break
                    failures.append(record["messageId"])
                    continue
                succeeded.append(record["body"])
            if failures and not s["report"]:
                raise RuntimeError(f"{len(failures)} record(s) failed")
            return {"batchItemFailures": [{"itemIdentifier": f} for f in failures]}

        fn = lab.function("worker", handler, timeout_s=1, duration_ms=200)
        lab.sqs_trigger(url, fn, batch_size=s["batch_size"], maximum_batching_window_s=s["window"],
                        report_batch_item_failures=s["report"], maximum_concurrency=s["concurrency"])
        send_all(lab, url, bodies, group_id=lambda b: b.split("-")[0])
        summary = lab.run_until_idle(max_s=3_600)
        assert summary.idle, "the mapping never went idle"
        dead = receive_all(lab, lab.client("sqs").get_queue_url(QueueName="dlq" + suffix)["QueueUrl"])
        return bodies, succeeded, dead, queue_counts(lab, url)


@SETTINGS
@given(scenarios())
def test_no_message_is_ever_lost(s):
    bodies, succeeded, dead, counts = run_scenario(s)
    assert counts == {"visible": 0, "in_flight": 0, "delayed": 0}
    dead_bodies = [m["Body"] for m in dead]
    assert len(dead_bodies) == len(set(dead_bodies))
    for body in bodies:
        assert body in succeeded or body in dead_bodies, f"{body} was lost"
    for m in dead:  # it got there by being received maxReceiveCount times
        assert int(m["Attributes"]["ApproximateReceiveCount"]) >= MAX_RECEIVE


@SETTINGS
@given(scenarios())
def test_with_partial_responses_only_failing_messages_are_dead_lettered(s):
    if s["fifo"] or not s["report"]:
        s = {**s, "fifo": False, "report": True}
    bodies, succeeded, dead, _ = run_scenario(s)
    fails = dict(zip(bodies, s["fails"]))
    assert sorted(m["Body"] for m in dead) == sorted(b for b in bodies if fails[b] >= MAX_RECEIVE)
    # Each message that succeeded was processed exactly once: partial responses retry only failures.
    assert sorted(succeeded) == sorted(b for b in bodies if fails[b] < MAX_RECEIVE)


@SETTINGS
@given(scenarios())
def test_fifo_order_per_group_holds(s):
    s = {**s, "fifo": True, "batch_size": min(s["batch_size"], 10), "window": 0}
    bodies, succeeded, dead, _ = run_scenario(s)
    first_success: dict[str, list[str]] = defaultdict(list)
    for body in succeeded:
        group = body.split("-")[0]
        if body not in first_success[group]:
            first_success[group].append(body)
    for group, order in first_success.items():
        assert order == sorted(order), f"group {group} out of order: {order}"
