"""The SQS event source mapping's behaviour on moto queues, on the virtual clock."""

import json
import warnings

import pytest

from lambda_lab.helpers.sqs import queue_counts, receive_all, redrive, send_all
from lambda_lab.sources.sqs import VisibilityTimeoutWarning


def make_queue(lab, name, *, visibility_s=30, max_receive=None, fifo=False):
    """A queue (and its DLQ when ``max_receive`` is set); returns (url, dlq_url)."""
    sqs = lab.client("sqs")
    suffix = ".fifo" if fifo else ""
    base = {"FifoQueue": "true"} if fifo else {}
    dlq_url = None
    attrs = {**base, "VisibilityTimeout": str(visibility_s)}
    if max_receive:
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq{suffix}", Attributes=base)["QueueUrl"]
        attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": lab.arn("sqs", f"{name}-dlq{suffix}"),
                                             "maxReceiveCount": str(max_receive)})
    url = sqs.create_queue(QueueName=name + suffix, Attributes=attrs)["QueueUrl"]
    return url, dlq_url


def frame(lab):
    return lab.log.to_frame()


def test_success_deletes_the_batch_at_the_end_of_the_invocation(lab):
    url, _ = make_queue(lab, "q")
    fn = lab.function("f", lambda e, c: None, duration_ms=2_000)
    lab.sqs_trigger(url, fn)
    send_all(lab, url, ["a", "b", "c"])
    lab.run(1)  # invocation still running: messages in flight, not deleted
    assert queue_counts(lab, url)["in_flight"] == 3
    lab.run_until_idle()
    assert queue_counts(lab, url) == {"visible": 0, "in_flight": 0, "delayed": 0}
    df = frame(lab)
    assert list(df.outcome) == ["success"] and int(df.batch_size[0]) == 3


def test_an_error_deletes_nothing_and_the_batch_returns_after_the_visibility_timeout(lab):
    url, _ = make_queue(lab, "q", visibility_s=30)
    calls = []

    def handler(event, context):
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("first try fails")

    lab.sqs_trigger(url, lab.function("f", handler))
    send_all(lab, url, ["a", "b"])
    lab.run_until_idle()
    df = frame(lab)
    assert list(df.outcome) == ["error", "success"] and calls == [2, 2]
    assert df.start[1] > 30 and list(df.attempt) == [1, 2]  # attempt = ApproximateReceiveCount


def test_partial_batch_response_returns_only_the_listed_messages(lab):
    url, _ = make_queue(lab, "q")
    seen = []

    def handler(event, context):
        failures = []
        for record in event["Records"]:
            seen.append(record["body"])
            if record["body"] == "bad" and record["attributes"]["ApproximateReceiveCount"] == "1":
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    lab.sqs_trigger(url, lab.function("f", handler), report_batch_item_failures=True)
    send_all(lab, url, ["a", "bad", "c"])
    lab.run_until_idle()
    assert sorted(seen) == ["a", "bad", "bad", "c"]


def test_without_report_batch_item_failures_the_failed_messages_are_silently_deleted(lab):
    url, _ = make_queue(lab, "q")

    def handler(event, context):
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if r["body"] == "bad"]}

    lab.sqs_trigger(url, lab.function("f", handler))
    send_all(lab, url, ["a", "bad"])
    lab.run_until_idle()
    assert len(frame(lab)) == 1 and queue_counts(lab, url)["visible"] == 0  # "bad" is gone for good


def test_a_handler_slower_than_the_visibility_timeout_sees_duplicates_while_running(lab):
    url, _ = make_queue(lab, "q", visibility_s=10)
    fn = lab.function("slow", lambda e, c: None, timeout_s=10, duration_ms=4_000)
    with pytest.warns(VisibilityTimeoutWarning):
        lab.sqs_trigger(url, fn)
    # A teammate lowers the visibility timeout after the mapping was created (no validation then).
    lab.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "3"})
    send_all(lab, url, ["order-1"])
    lab.run_until_idle()
    df = frame(lab)
    assert len(df) >= 2 and df["items"].map(len).eq(1).all() and df["items"].nunique() == 1
    assert df.start[1] < df.end[0]  # the second delivery started while the first was running
    assert list(df.attempt[:2]) == [1, 2]


def test_a_visibility_timeout_lowered_between_polls_applies_to_the_next_receive(lab):
    url, _ = make_queue(lab, "q", visibility_s=30)
    fn = lab.function("slow", lambda e, c: None, timeout_s=10, duration_ms=4_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VisibilityTimeoutWarning)
        lab.sqs_trigger(url, fn)
    send_all(lab, url, ["first"])
    lab.run_until_idle()  # the mapping has read the queue's 30 s by now
    lab.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "3"})
    send_all(lab, url, ["second"])
    lab.run_until_idle()
    second = frame(lab).iloc[1:]
    assert len(second) >= 2 and second.start.iloc[1] < second.end.iloc[0]  # 3 s, not 30 s, applied


def test_poison_message_reaches_the_dlq_after_max_receive_count_and_moves_back(lab):
    url, dlq = make_queue(lab, "q", visibility_s=20, max_receive=3)
    fixed = {"on": False}

    def handler(event, context):
        for record in event["Records"]:
            if record["body"] == "poison" and not fixed["on"]:
                raise ValueError("cannot parse")

    lab.sqs_trigger(url, lab.function("f", handler))
    send_all(lab, url, ["poison"])
    lab.run_until_idle()
    assert list(frame(lab).outcome) == ["error"] * 3
    dead = receive_all(lab, dlq)
    assert [m["Body"] for m in dead] == ["poison"]
    assert int(dead[0]["Attributes"]["ApproximateReceiveCount"]) >= 3
    lab.clock.advance(31)  # our look inside the DLQ left it in flight for the DLQ's visibility timeout
    fixed["on"] = True
    assert redrive(lab, dlq, url) == 1
    lab.run_until_idle()
    assert frame(lab).outcome.iloc[-1] == "success"
    assert queue_counts(lab, url)["visible"] == 0 and queue_counts(lab, dlq)["visible"] == 0


def test_fifo_keeps_order_per_group_and_a_failure_blocks_only_its_group(lab):
    url, _ = make_queue(lab, "orders", fifo=True, visibility_s=20)
    processed = []
    failed_once = set()

    def handler(event, context):
        for record in event["Records"]:
            body = record["body"]
            if body == "A2" and body not in failed_once:
                failed_once.add(body)
                raise RuntimeError("A2 fails once")
            processed.append((body, context.get_remaining_time_in_millis() >= 0))

    lab.sqs_trigger(url, lab.function("f", handler), batch_size=1)
    send_all(lab, url, ["A1", "A2", "A3", "B1", "B2", "B3"], group_id=lambda b: b[0])
    lab.run_until_idle()
    order = [b for b, _ in processed]
    assert [b for b in order if b[0] == "A"] == ["A1", "A2", "A3"]
    assert [b for b in order if b[0] == "B"] == ["B1", "B2", "B3"]
    assert order.index("B3") < order.index("A2")  # group B kept flowing while A was blocked


def test_fifo_partial_response_that_stops_at_the_first_failure_keeps_order(lab):
    url, _ = make_queue(lab, "orders", fifo=True, visibility_s=20)
    processed = []
    failed_once = set()

    def handler(event, context):
        records = event["Records"]
        for i, record in enumerate(records):
            if record["body"] == "m2" and "m2" not in failed_once:
                failed_once.add("m2")
                return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records[i:]]}
            processed.append(record["body"])
        return {"batchItemFailures": []}

    lab.sqs_trigger(url, lab.function("f", handler), report_batch_item_failures=True)
    send_all(lab, url, [f"m{i}" for i in range(5)], group_id="g")
    lab.run_until_idle()
    assert processed == ["m0", "m1", "m2", "m3", "m4"]


def test_messages_matching_no_filter_are_deleted_without_an_invocation(lab):
    url, _ = make_queue(lab, "q")
    seen = []
    lab.sqs_trigger(url, lab.function("f", lambda e, c: seen.extend(r["body"] for r in e["Records"])),
                    filter_patterns=[{"body": {"kind": ["order"]}}])
    send_all(lab, url, [json.dumps({"kind": "order", "n": 1}), json.dumps({"kind": "refund"}), "plain text"])
    lab.run_until_idle()
    assert [json.loads(b)["n"] for b in seen] == [1]
    assert queue_counts(lab, url) == {"visible": 0, "in_flight": 0, "delayed": 0}
    df = frame(lab)
    dropped = df[df.outcome == "dropped"]
    assert int(dropped.batch_size.sum()) == 2 and (dropped.error_type == "FilteredOut").all()


def test_maximum_concurrency_caps_batches_in_flight(lab):
    from lambda_lab.plots import concurrency_series

    url, _ = make_queue(lab, "q")
    fn = lab.function("f", lambda e, c: None, duration_ms=1_000)
    lab.sqs_trigger(url, fn, batch_size=1, maximum_concurrency=2)
    send_all(lab, url, [str(i) for i in range(10)])
    lab.run_until_idle()
    df = frame(lab)
    assert len(df) == 10 and int(concurrency_series(df).concurrency.max()) == 2


def test_default_scaling_starts_at_five_batches(lab):
    from lambda_lab.plots import concurrency_series

    url, _ = make_queue(lab, "q")
    lab.sqs_trigger(url, lab.function("f", lambda e, c: None, duration_ms=500), batch_size=1)
    send_all(lab, url, [str(i) for i in range(12)])
    lab.run_until_idle()
    assert int(concurrency_series(frame(lab)).concurrency.max()) == 5


def test_reserved_concurrency_throttles_are_retried_not_lost(lab):
    url, _ = make_queue(lab, "q", visibility_s=60)
    fn = lab.function("f", lambda e, c: None, duration_ms=500, reserved_concurrency=1, timeout_s=5)
    lab.sqs_trigger(url, fn, batch_size=1)
    send_all(lab, url, ["a", "b", "c"])
    lab.run_until_idle()
    df = frame(lab)
    assert (df.outcome == "throttled").any()
    assert sorted(df[df.outcome == "success"]["items"].map(len)) == [1, 1, 1]
    assert queue_counts(lab, url)["visible"] == 0


def test_batches_over_ten_gather_several_receives_within_the_window(lab):
    url, _ = make_queue(lab, "q", visibility_s=60)
    lab.sqs_trigger(url, lab.function("f", lambda e, c: None), batch_size=50, maximum_batching_window_s=5)
    send_all(lab, url, [str(i) for i in range(30)])
    lab.run(2)
    send_all(lab, url, [str(i) for i in range(30, 45)])
    lab.run_until_idle()
    df = frame(lab)
    assert list(df.batch_size) == [45]
    assert df.start[0] == pytest.approx(5.0)  # the window closed before the batch filled


def test_a_full_batch_does_not_wait_for_the_window(lab):
    url, _ = make_queue(lab, "q", visibility_s=60)
    lab.sqs_trigger(url, lab.function("f", lambda e, c: None), batch_size=20, maximum_batching_window_s=30)
    send_all(lab, url, [str(i) for i in range(25)])
    lab.run_until_idle()
    df = frame(lab)
    assert list(df.batch_size) == [20, 5] and df.start[0] == 0 and df.start[1] == pytest.approx(30)


def test_the_6_mb_payload_cap_splits_a_batch(lab):
    url, _ = make_queue(lab, "q", visibility_s=60)
    lab.sqs_trigger(url, lab.function("f", lambda e, c: None), batch_size=10, maximum_batching_window_s=1)
    big = "x" * 1_000_000
    sqs = lab.client("sqs")
    for i in range(8):
        sqs.send_message(QueueUrl=url, MessageBody=f"{i}{big}")
    lab.run_until_idle()
    sizes = list(frame(lab).batch_size)
    assert sum(sizes) == 8 and max(sizes) == 6 and len(sizes) == 2


def test_disable_stops_receiving_and_enable_resumes(lab):
    url, _ = make_queue(lab, "q")
    mapping = lab.sqs_trigger(url, lab.function("f", lambda e, c: None), enabled=False)
    send_all(lab, url, ["a"])
    assert not mapping.pending() and lab.run_until_idle().invocations == 0
    mapping.enable()
    assert lab.run_until_idle().invocations == 1 and mapping.state == "Enabled"
    assert "state=Enabled" in repr(mapping) and mapping.configuration["BatchSize"] == 10


def test_a_send_wakes_an_idle_poller_at_once(lab):
    url, _ = make_queue(lab, "q")
    lab.sqs_trigger(url, lab.function("f", lambda e, c: None))
    lab.run(100)  # idle for a while
    send_all(lab, url, ["late"])
    lab.run_until_idle()
    assert frame(lab).start[0] == pytest.approx(100.0)


def test_an_idle_queue_costs_few_receives(lab):
    url, _ = make_queue(lab, "q")
    receives = []
    lab.client("sqs").meta.events.register("before-call.sqs.ReceiveMessage", lambda **kw: receives.append(1))
    mapping = lab.sqs_trigger(url, lab.function("f", lambda e, c: None))
    lab.run(3_600)
    # One look when the mapping starts; after that the idle heartbeat reads the counts only.
    assert len(receives) <= 1
    assert not mapping.pending()


def test_stop_unhooks_and_cancels(lab):
    url, _ = make_queue(lab, "q")
    mapping = lab.sqs_trigger(url, lab.function("f", lambda e, c: None))
    mapping.stop()
    send_all(lab, url, ["a"])
    lab.run(5)
    assert len(frame(lab)) == 0 and not mapping.pending()


def test_redrive_on_fifo_keeps_the_group_and_the_order(lab):
    url, dlq = make_queue(lab, "jobs", fifo=True, visibility_s=20, max_receive=2)
    broken = {"on": True}
    seen = []

    def handler(event, context):
        for record in event["Records"]:
            if broken["on"]:
                raise RuntimeError("downstream is down")
            seen.append((record["attributes"]["MessageGroupId"], record["body"]))

    lab.sqs_trigger(url, lab.function("f", handler, timeout_s=3), batch_size=10)
    send_all(lab, url, ["j1", "j2", "j3"], group_id="g")
    lab.run_until_idle()
    assert queue_counts(lab, dlq)["visible"] == 3
    broken["on"] = False
    assert redrive(lab, dlq, url) == 3
    lab.run_until_idle()
    assert seen == [("g", "j1"), ("g", "j2"), ("g", "j3")]


def test_configuration_reads_like_get_event_source_mapping(lab):
    url, _ = make_queue(lab, "q")
    fn = lab.function("f", lambda e, c: None)
    mapping = lab.sqs_trigger(url, fn, report_batch_item_failures=True, maximum_concurrency=5,
                              filter_patterns={"Filters": [{"Pattern": '{"body": {"kind": ["a"]}}'}]})
    config = mapping.configuration
    assert config["EventSourceArn"] == lab.arn("sqs", "q") and config["FunctionArn"] == fn.arn
    assert config["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert config["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert json.loads(config["FilterCriteria"]["Filters"][0]["Pattern"]) == {"body": {"kind": ["a"]}}
    mapping.disable()
    assert mapping.configuration["State"] == "Disabled"


def test_a_visibility_timeout_that_ends_at_a_poll_is_picked_up_right_after(lab):
    """A failed message comes back when its visibility timeout ends (30 s). Another message's
    invocation ends at that very instant and the mapping polls then, a moment too early for moto
    (visible strictly after the timeout): it must look again 1 ms later, not a second later."""
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="tie", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    calls = []

    def handler(event, context):
        body = event["Records"][0]["body"]
        calls.append((body, round(lab.clock.elapsed(), 3)))
        if calls == [("a", calls[0][1])]:
            raise RuntimeError("a fails the first time")

    fn = lab.function("tie", handler, timeout_s=5, duration_ms=100)
    lab.sqs_trigger(url, fn, batch_size=1)
    sqs.send_message(QueueUrl=url, MessageBody="a")
    lab.run(1)
    ((_, t_a1),) = calls
    lab.run(t_a1 + 29.9 - lab.clock.elapsed())
    sqs.send_message(QueueUrl=url, MessageBody="b")  # runs 100 ms and ends as a's timeout does
    lab.run(60)
    (a1, _), (b, t_b), (a2, t_a2) = calls
    assert (a1, b, a2) == ("a", "b", "a")
    assert t_b + 0.1 == pytest.approx(t_a1 + 30, abs=1e-6), "the case needs the tie"
    assert t_a2 - (t_a1 + 30) < 0.01
