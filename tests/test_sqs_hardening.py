"""Regression tests for the SQS mapping's hardening issue: each one hung, raised or broke an
invariant before its fix. Runs are bounded by scheduler steps, so a livelock fails, never hangs."""

from __future__ import annotations

import json
import warnings

import pytest

from lambda_lab import ConfigurationError
from lambda_lab.helpers.sqs import queue_counts, receive_all, send_all
from lambda_lab.sources.sqs import VisibilityTimeoutWarning

#: More scheduler steps than any of these scenarios needs (a few dozen); a spin hits it at once.
MAX_STEPS = 5_000


def run_bounded(lab, max_steps: int = MAX_STEPS, max_s: float = 86_400) -> int:
    """``lab.run_until_idle`` with a step budget: the steps it took; fails the test on a spin."""
    deadline = lab.clock.now() + max_s
    for step in range(max_steps):
        due = lab.scheduler.next_due()
        if not lab.busy() or due is None or due > deadline:
            return step
        lab.scheduler.run_next()
    pytest.fail(f"still busy after {max_steps} scheduler steps at t={lab.clock.elapsed():.3f} s (livelock)")


def make_queue(lab, name, visibility_s, *, fifo=False, max_receive=None):
    sqs = lab.client("sqs")
    suffix = ".fifo" if fifo else ""
    attrs = {"VisibilityTimeout": str(visibility_s), **({"FifoQueue": "true"} if fifo else {})}
    if max_receive:
        sqs.create_queue(QueueName=f"{name}-dlq{suffix}", Attributes={"FifoQueue": "true"} if fifo else {})
        attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": lab.arn("sqs", f"{name}-dlq{suffix}"),
                                             "maxReceiveCount": str(max_receive)})
    return sqs.create_queue(QueueName=name + suffix, Attributes=attrs)["QueueUrl"]


def endings(lab, fn):
    return sorted(lab.outcomes(fn.name)["ending"])


# --- 1. livelock: maximum_concurrency with a batching window ------------------------------------
def test_a_gathering_batch_at_maximum_concurrency_is_invoked_when_its_window_closes(lab):
    url = make_queue(lab, "q", 60)
    fn = lab.function("f", lambda e, c: None, duration_ms=2_000, timeout_s=5)
    lab.sqs_trigger(url, fn, batch_size=2, maximum_batching_window_s=1, maximum_concurrency=2)
    send_all(lab, url, ["a"])
    lab.run(1.5)  # "a" is running (1.0-3.0 s); "b" opens a second batch that holds the second slot
    send_all(lab, url, ["b"])
    run_bounded(lab)
    assert not lab.busy()
    df = lab.log.to_frame()
    assert list(df.outcome) == ["success", "success"]
    assert list(df.start) == pytest.approx([1.0, 2.5])  # "b"'s window closed at 2.5 s
    assert endings(lab, fn) == ["processed", "processed"]


def test_run_until_idle_returns_with_maximum_concurrency_and_a_window(lab):
    url = make_queue(lab, "q", 60)
    fn = lab.function("f", lambda e, c: None, duration_ms=2_000, timeout_s=5)
    lab.sqs_trigger(url, fn, batch_size=2, maximum_batching_window_s=1, maximum_concurrency=2)
    send_all(lab, url, ["a"])
    lab.run(1.5)
    send_all(lab, url, ["b"])
    run_bounded(lab, max_s=60)  # would spin here before the fix
    assert lab.run_until_idle().idle


# --- 2. a visibility timeout shorter than the batching window ------------------------------------
def short_visibility_mapping(lab, **options):
    url = make_queue(lab, "q", 5)
    fn = lab.function("f", lambda e, c: None, timeout_s=3, duration_ms=100)
    with pytest.warns(VisibilityTimeoutWarning):
        mapping = lab.sqs_trigger(url, fn, batch_size=20, maximum_batching_window_s=10, **options)
    return url, fn, mapping


def test_a_message_is_not_redelivered_into_its_own_gathering_batch(lab):
    url, fn, _ = short_visibility_mapping(lab)
    send_all(lab, url, ["a", "b"])
    run_bounded(lab)  # raised BatchEntryIdsNotDistinct out of the run before the fix
    df = lab.log.to_frame()
    assert list(df.outcome) == ["success"] and list(df.batch_size) == [2]
    assert df.start[0] == pytest.approx(10.0)
    assert endings(lab, fn) == ["processed", "processed"]
    assert sum(queue_counts(lab, url).values()) == 0


def test_lambda_extends_visibility_to_window_plus_timeout_plus_30_s(lab):
    url, fn, _ = short_visibility_mapping(lab)
    send_all(lab, url, ["a"])
    lab.run(9)  # the queue's 5 s has passed; the extension (10 + 3 + 30 s) keeps "a" hidden
    assert queue_counts(lab, url) == {"visible": 0, "in_flight": 1, "delayed": 0}
    receives = lab.log.to_frame()
    assert len(receives) == 0
    run_bounded(lab)
    assert list(lab.log.to_frame().attempt) == [1]  # received once: no duplicate delivery


def test_a_failed_batch_comes_back_after_the_extended_visibility(lab):
    calls = []

    def handler(event, context):
        calls.append(lab.clock.elapsed())
        if len(calls) == 1:
            raise RuntimeError("first try fails")

    url = make_queue(lab, "q", 5)
    fn = lab.function("f", handler, timeout_s=3)
    with pytest.warns(VisibilityTimeoutWarning):
        lab.sqs_trigger(url, fn, batch_size=20, maximum_batching_window_s=10)
    send_all(lab, url, ["a"])
    run_bounded(lab)
    assert calls[0] == pytest.approx(10.0) and calls[1] >= 43.0  # received at 0 s, hidden 43 s
    assert endings(lab, fn) == ["processed"]


def test_redelivery_during_the_window_keeps_the_newest_receipt(lab):
    """Direct check of the dedup rule: a second receive of a message already in the batch
    replaces its receipt handle instead of adding a second record."""
    url, fn, mapping = short_visibility_mapping(lab)
    send_all(lab, url, ["a"])
    lab.run(1)
    sqs = lab.client("sqs")
    gathering = mapping._gathering
    assert gathering is not None and len(gathering.builder) == 1
    (message,) = gathering.messages.values()
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    lab.clock.advance(0.01)
    mapping._fill(gathering)
    assert len(gathering.builder) == 1
    assert gathering.messages[message["MessageId"]]["ReceiptHandle"] != message["ReceiptHandle"]
    run_bounded(lab)
    assert endings(lab, fn) == ["processed"]


# --- 3. FIFO: an invocation that outlives its visibility timeout -----------------------------------
def fifo_outliving_the_visibility_timeout(lab, fails_first: bool, max_receive=None):
    """Visibility timeout = function timeout = 5 s (AWS accepts it); a 2.5 s cold start plus 3.5 s
    of work ends each invocation at 6 s, after its messages came back."""
    url = make_queue(lab, "orders", 5, fifo=True, max_receive=max_receive)
    processed, runs = [], {}

    def handler(event, context):
        for record in event["Records"]:
            runs[record["body"]] = runs.get(record["body"], 0) + 1
            if fails_first and record["body"] == "m0" and runs["m0"] == 1:
                raise RuntimeError("m0 fails once")
            processed.append(record["body"])

    fn = lab.function("f", handler, timeout_s=5, init_duration_ms=2_500, duration_ms=3_500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VisibilityTimeoutWarning)
        lab.sqs_trigger(url, fn, batch_size=10)
    send_all(lab, url, [f"m{i}" for i in range(5)], group_id="g")
    run_bounded(lab)
    return url, fn, processed


def test_fifo_redelivers_a_group_from_its_head_when_an_invocation_outlives_visibility(lab):
    _, fn, processed = fifo_outliving_the_visibility_timeout(lab, fails_first=True)
    firsts = list(dict.fromkeys(processed))
    assert firsts == ["m0", "m1", "m2", "m3", "m4"]  # was m4 first: moto handed back the tail
    rows = lab.outcomes(fn.name)
    assert (rows["ending"] != "pending").all() and not rows[rows["copy"] == 1].item.duplicated().any()


def test_a_message_processed_then_dead_lettered_ends_processed_with_a_dead_letter_copy(lab):
    """maxReceiveCount 1: at 5 s the receipts expire and the next receive moves the messages to
    the DLQ while the first invocation (which processes them all) still runs. AWS does the same;
    the ledger shows each message processed, and the DLQ's copy as a duplicate (copy 2)."""
    _, fn, processed = fifo_outliving_the_visibility_timeout(lab, fails_first=False, max_receive=1)
    assert processed == ["m0", "m1", "m2", "m3", "m4"]
    rows = lab.outcomes(fn.name)
    assert (rows["ending"] != "pending").all()
    firsts = rows[rows["copy"] == 1]
    assert len(firsts) == 5 and (firsts.ending == "processed").all()
    copies = rows[rows["copy"] == 2]
    assert sorted(copies.item) == sorted(firsts.item) and (copies.ending == "dead_letter").all()
    dlq = lab.client("sqs").get_queue_url(QueueName="orders-dlq.fifo")["QueueUrl"]
    assert sorted(m["MessageId"] for m in receive_all(lab, dlq)) == sorted(copies.item)


def test_a_stale_receipt_does_not_delete_the_newer_delivery(lab):
    """The first invocation succeeds at 6 s with receipts replaced at 5 s: each message ends once
    per copy, the DLQ matches the ledger, and the queue ends empty."""
    url, fn, processed = fifo_outliving_the_visibility_timeout(lab, fails_first=False, max_receive=3)
    assert processed[:5] == ["m0", "m1", "m2", "m3", "m4"]
    rows = lab.outcomes(fn.name)
    assert (rows["ending"] != "pending").all()
    firsts = rows[rows["copy"] == 1]
    assert len(firsts) == 5 and not firsts.item.duplicated().any() and (firsts.ending == "processed").all()
    dlq = lab.client("sqs").get_queue_url(QueueName="orders-dlq.fifo")["QueueUrl"]
    assert sorted(m["MessageId"] for m in receive_all(lab, dlq)) == sorted(
        rows.loc[rows["ending"] == "dead_letter", "item"])
    assert sum(queue_counts(lab, url).values()) == 0


# --- 4. the mapped queue is deleted -------------------------------------------------------------
def test_deleting_the_mapped_queue_disables_the_mapping_and_drops_what_it_held(lab):
    url = make_queue(lab, "q", 30)
    fn = lab.function("f", lambda e, c: None, duration_ms=2_000)
    mapping = lab.sqs_trigger(url, fn)
    send_all(lab, url, ["a", "b"])
    lab.run(1)  # the batch is in flight
    lab.client("sqs").delete_queue(QueueUrl=url)
    steps = run_bounded(lab)  # raised QueueDoesNotExist out of the run before the fix
    assert steps < MAX_STEPS and lab.run_until_idle().idle
    assert mapping.state == "Disabled" and "QueueDoesNotExist" in mapping.state_reason
    assert mapping.configuration["StateTransitionReason"].startswith("Lambda initiated")
    rows = lab.outcomes(fn.name)
    assert list(rows.ending) == ["dropped", "dropped"] and rows["where"].str.contains("deleted").all()
    df = lab.log.to_frame()
    assert (df.error_type == "QueueDoesNotExist").sum() == 1


def test_an_idle_mapping_whose_queue_is_deleted_keeps_the_lab_running(lab):
    url = make_queue(lab, "q", 30)
    fn = lab.function("f", lambda e, c: None)
    mapping = lab.sqs_trigger(url, fn)
    lab.run(5)
    lab.client("sqs").delete_queue(QueueUrl=url)
    lab.run(60)  # the idle heartbeat finds the queue gone
    assert lab.run_until_idle().idle and mapping.state == "Disabled"
    assert len(lab.outcomes(fn.name)) == 0


def test_throttle_retry_jitter_is_a_named_lab_setting(lab):
    url = lab.client("sqs").create_queue(QueueName="jitter")["QueueUrl"]
    fn = lab.function("jittered", lambda event, context: None)
    with pytest.raises(ConfigurationError, match="throttle_retry_jitter must be one of none, equal.*AWS publishes no jitter"):
        lab.sqs_trigger(url, fn, throttle_retry_jitter="full")


@pytest.mark.parametrize("jitter", ["none", "equal"])
def test_a_throttled_batch_is_retried_after_1_2_4_s_or_jittered_within_them(lab, jitter):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="held", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    fn = lab.function("held", lambda event, context: None, timeout_s=5, duration_ms=100, reserved_concurrency=0)
    lab.sqs_trigger(url, fn, batch_size=1, throttle_retry_jitter=jitter)
    sqs.send_message(QueueUrl=url, MessageBody="m")
    lab.run(8)
    starts = sorted(lab.log.to_frame().query("outcome == 'throttled'")["start"])
    gaps = [round(b - a, 3) for a, b in zip(starts, starts[1:])][:3]
    if jitter == "none":
        assert gaps == [1.0, 2.0, 4.0]
    else:  # equal jitter: between half and all of 1, 2, 4 s, and not exactly them
        assert len(gaps) == 3 and all(base / 2 <= g < base for g, base in zip(gaps, (1.0, 2.0, 4.0))), gaps
