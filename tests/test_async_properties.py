"""No event is lost: whatever the failure pattern, every accepted event ends processed, in a
destination or dead-letter queue, or as a ``dropped`` row in the log."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_lab import Lab

# Per event: the outcome of each successive attempt ("ok" or "error"); after the list, "ok".
patterns = st.lists(st.lists(st.sampled_from(["ok", "error"]), max_size=4), min_size=1, max_size=6)
where = st.sampled_from(["nowhere", "on_failure", "dlq", "both"])


def run(pattern: list[list[str]], retries: int, target: str, slots: int | None, duplicates: float):
    lab = Lab(seed=len(pattern))
    sqs = lab.client("sqs")
    urls = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("fail", "dlq")}
    calls: Counter = Counter()

    def handler(event, context):
        n = calls[event["id"]]
        calls[event["id"]] += 1
        plan = pattern[event["id"]]
        if n < len(plan) and plan[n] == "error":
            raise ValueError(f"attempt {n + 1} of {event['id']} fails")
        return event["id"]

    options = {"maximum_retry_attempts": retries, "duplicate_rate": duplicates}
    if target in ("on_failure", "both"):
        options["on_failure"] = lab.arn("sqs", "fail")
    if target in ("dlq", "both"):
        options["dead_letter_arn"] = lab.arn("sqs", "dlq")
    fn = lab.function("f", handler, reserved_concurrency=slots, duration_ms=30_000, timeout_s=60)
    fn.configure_async(**options)
    ids = [fn.invoke_async({"id": i})["ResponseMetadata"]["RequestId"] for i in range(len(pattern))]
    summary = lab.run_until_idle(max_s=21_600 * 2)
    frame = lab.log.to_frame("f")
    outcomes = lab.outcomes("f")
    parked = {name: _drain(sqs, url) for name, url in urls.items()}
    lab.close()
    return ids, summary, frame, outcomes, parked


def _drain(sqs, url: str) -> list[dict]:
    messages = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                     MessageAttributeNames=["All"]).get("Messages", []):
        messages += got
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                         for i, m in enumerate(got)])
    return messages


@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns, st.integers(0, 2), where, st.sampled_from([None, 1]), st.sampled_from([0.0, 0.5]))
def test_every_event_ends_somewhere(pattern, retries, target, slots, duplicates):
    ids, summary, frame, outcomes, parked = run(pattern, retries, target, slots, duplicates)
    assert summary.idle
    # Each accepted copy of each event ends exactly once.
    assert set(outcomes["request_id"]) == set(ids)
    copies = outcomes["request_id"].value_counts()
    assert copies.min() >= 1 and (duplicates > 0 or copies.max() == 1)
    assert (outcomes["ending"] != "pending").all() and (outcomes["layer"] == "lambda").all()
    failed = outcomes[outcomes["ending"] != "processed"]
    succeeded = outcomes[outcomes["ending"] == "processed"]
    # Successes ran; failures went where the configuration says, or were logged as dropped.
    assert set(succeeded["request_id"]) <= set(frame.loc[frame["outcome"] == "success", "request_id"])
    on_failure = [json.loads(m["Body"])["requestContext"]["requestId"] for m in parked["fail"]]
    dead = [m["MessageAttributes"]["RequestID"]["StringValue"] for m in parked["dlq"]]
    dropped = frame.loc[frame["outcome"] == "dropped", "request_id"].tolist()
    expected = sorted(failed["request_id"])
    assert sorted(on_failure) == (expected if target in ("on_failure", "both") else [])
    assert sorted(dead) == (expected if target in ("dlq", "both") else [])
    assert sorted(dropped) == (expected if target == "nowhere" else [])
    # Function errors never exceed the retry budget: at most retries + 1 runs per copy.
    runs = frame[frame["outcome"].isin(["success", "error"])].groupby("request_id").size()
    assert (runs <= (retries + 1) * copies.reindex(runs.index)).all()
