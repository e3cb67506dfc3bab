"""The SQS storm model (``sim.storm``) against the lab's SQS event source mapping, message by message.

Both play the same rules: pollers receive batches, a throttled batch is retried 1, 2, 4 ... s
later until the next retry would come after its visibility timeout, then its messages come
back when the timeout ends; after maxReceiveCount receives a message goes to the DLQ
(services-sqs-errorhandling, reference/aws-facts.md §4).

The case is small because the lab runs on moto, whose every receive scans the whole queue:
100 messages take a few seconds. ``MaximumConcurrency`` 5 pins the pollers at their starting
5 batches in both: the lab adds pollers only while every batch is busy and in whole steps
at its polls, the simulation on a fixed ramp of 300 a minute, so with more headroom the two
would differ by when a poller is added, not by the rule under test. Batches of 1 make a
batch's run time the handler's (the lab charges a batch its function's duration, the
simulation ``batch_size x duration_ms``). Reserved concurrency 1 under 5 pollers throttles.

Times are chosen off each other's grid so that no visibility timeout ends at the same
instant as a poll: 870 ms handlers, 110 ms cold starts, a 5 s visibility timeout (5 is no
multiple of the 3 s a throttled batch is held: retries at 1 and 3 s, the next at 7 s is
given up). At such a tie the lab and SQS may order things differently (a message becomes
visible only strictly after its timeout), which is a different question.
"""

from __future__ import annotations

import json

import pytest

from lambda_lab import Lab
from lambda_lab.helpers.sqs import queue_counts, send_all
from lambda_lab.sim import simulate_storm
from lambda_lab.sources.sqs import VisibilityTimeoutWarning

CASE = dict(messages=100, reserved=1, max_concurrency=5, duration_ms=870, cold_start_ms=110,
            visibility_s=5, max_receive_count=2)


def run_lab(lab: Lab, c: dict, jitter: str = "none") -> dict:
    """Play case ``c`` in the lab; return receives (messages), throttles, invocations, DLQ count."""
    sqs = lab.client("sqs")
    dlq = sqs.create_queue(QueueName="storm-dlq")["QueueUrl"]
    policy = {"deadLetterTargetArn": lab.arn("sqs", "storm-dlq"), "maxReceiveCount": str(c["max_receive_count"])}
    url = sqs.create_queue(QueueName="storm", Attributes={
        "VisibilityTimeout": str(c["visibility_s"]), "RedrivePolicy": json.dumps(policy)})["QueueUrl"]
    received = []
    sqs.meta.events.register("after-call.sqs.ReceiveMessage",
                             lambda parsed, **_: received.append(len(parsed.get("Messages", []))))
    fn = lab.function("resize", lambda event, context: None, timeout_s=1, duration_ms=c["duration_ms"],
                      init_duration_ms=c["cold_start_ms"], reserved_concurrency=c["reserved"])
    # 5 s is under 6 x the 1 s timeout: the mapping says so, and that is the point of the case
    with pytest.warns(VisibilityTimeoutWarning):
        lab.sqs_trigger(url, fn, batch_size=1, maximum_concurrency=c["max_concurrency"],
                        throttle_retry_jitter=jitter)
    send_all(lab, url, [f"upload-{i:03d}.jpg" for i in range(c["messages"])])
    lab.run_until_idle()
    log = lab.log.to_frame()
    return {"receives": sum(received), "throttles": int((log.outcome == "throttled").sum()),
            "invocations": int((log.outcome == "success").sum()), "dlq": queue_counts(lab, dlq)["visible"]}


def run_sim(c: dict, jitter: str = "exponential", seed: int = 0) -> dict:
    """The same case in the simulation, on a 10 ms grid that holds every time of the case."""
    s = simulate_storm(mode="sqs", events=c["messages"], batch_size=1, reserved=c["reserved"],
                       max_concurrency=c["max_concurrency"], duration_ms=c["duration_ms"],
                       cold_start_ms=c["cold_start_ms"], visibility_timeout_s=c["visibility_s"],
                       max_receive_count=c["max_receive_count"], jitter=jitter, tick_ms=10, seed=seed).summary
    return {"receives": s.extra["messages_received"], "throttles": s.throttles,
            "invocations": s.invocations, "dlq": s.dlq}


@pytest.fixture(scope="module")
def lab_counts() -> dict:
    with Lab(seed=0) as lab:
        return run_lab(lab, CASE)


def test_the_case_throttles_and_dead_letters(lab_counts):
    # otherwise the comparison below would prove nothing
    assert lab_counts["throttles"] > lab_counts["invocations"] > 0
    assert 0 < lab_counts["dlq"] < CASE["messages"]
    assert lab_counts["invocations"] + lab_counts["dlq"] == CASE["messages"]


def test_sim_without_jitter_counts_what_the_lab_counts(lab_counts):
    assert run_sim(CASE) == lab_counts


def test_a_throttled_batch_is_retried_before_its_messages_come_back(lab_counts):
    """The old model returned a throttled batch to the queue at once: every throttle was a
    receive. Retried inside the visibility timeout, a batch is throttled more often than received."""
    sim = run_sim(CASE)
    assert sim["throttles"] > sim["receives"] - sim["invocations"]


def test_with_equal_jitter_sim_and_lab_agree_on_average():
    """Jittered, the two draw different random numbers, so they agree on average only: over 5 seeds
    each, receives, throttles and dead-lettered messages within 5 %."""
    sims, labs = [], []
    for seed in range(5):
        sims.append(run_sim(CASE, jitter="equal_jitter", seed=seed))
        with Lab(seed=seed) as lab:
            labs.append(run_lab(lab, CASE, jitter="equal"))
    for key in ("receives", "throttles", "dlq"):
        sim_mean, lab_mean = (sum(r[key] for r in runs) / 5 for runs in (sims, labs))
        assert sim_mean == pytest.approx(lab_mean, rel=0.05), (key, sims, labs)
    assert len({r["throttles"] for r in labs}) > 1, "the seeds must give the lab different jitter"


def test_jitter_changes_the_counts(lab_counts):
    """Equal jitter retries sooner (0.5-1 s, 1-2 s, ...), so one more retry fits in the timeout:
    more throttles than the lab's 1, 2, 4 s, by more than seed noise."""
    runs = [run_sim(CASE, jitter="equal_jitter", seed=seed) for seed in range(5)]
    assert sum(r["throttles"] for r in runs) / 5 > lab_counts["throttles"] * 1.05
