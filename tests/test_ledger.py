"""The ledger: every accepted item ends exactly once, and says where and why."""

from __future__ import annotations

import json

import pytest

from lambda_lab.ledger import COLUMNS, Ledger, LedgerError
from lambda_lab.helpers.sqs import receive_all, send_all


def failing(event, context):
    raise ValueError("no")


def make_queue(lab, name, *, max_receive=None, visibility_s=30):
    sqs = lab.client("sqs")
    attrs = {"VisibilityTimeout": str(visibility_s)}
    if max_receive:
        sqs.create_queue(QueueName=f"{name}-dlq")
        attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": lab.arn("sqs", f"{name}-dlq"),
                                             "maxReceiveCount": str(max_receive)})
    return sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]


# --- the ledger itself ----------------------------------------------------------------
def test_an_item_ends_once_and_a_second_ending_is_a_lab_bug():
    ledger = Ledger(lambda: 1.5)
    entry = ledger.accept("sqs", "m-1", "f")
    ledger.attempt(entry)
    ledger.end(entry, "processed", "orders")
    with pytest.raises(LedgerError, match="already ended"):
        ledger.end(entry, "dead_letter", "orders-dlq")
    with pytest.raises(LedgerError, match="unknown ending"):
        ledger.end(ledger.accept("sqs", "m-2", "f"), "lost", "nowhere")


def test_rows_in_flight_show_pending_and_the_frame_has_the_documented_columns():
    ledger = Ledger(lambda: 2.0)
    ledger.end(ledger.accept("s3", "a.csv 0001", "f", accepted_s=0.5), "processed", "f")
    ledger.accept("s3", "b.csv 0002", "f")
    frame = ledger.to_frame()
    assert list(frame.columns) == COLUMNS
    assert frame["ending"].tolist() == ["processed", "pending"]
    assert frame["accepted"].tolist() == [0.5, 2.0]
    assert frame["ended"].iloc[0] == 2.0 and frame["ended"].isna().iloc[1]


# --- SQS ---------------------------------------------------------------------------------
def test_sqs_poison_message_is_recorded_when_moto_moves_it_to_the_dlq(lab):
    url = make_queue(lab, "orders", max_receive=3)

    def handler(event, context):
        if any(r["body"] == "poison" for r in event["Records"]):
            raise ValueError("poison")

    lab.sqs_trigger(url, lab.function("f", handler), batch_size=1)
    ids = send_all(lab, url, ["ok-1", "poison", "ok-2"])
    lab.run_until_idle()
    rows = lab.outcomes("f").set_index("item")
    assert rows.loc[ids, "ending"].tolist() == ["processed", "dead_letter", "processed"]
    assert rows.loc[ids[1], "attempts"] == 3
    assert rows.loc[ids[1], "where"].startswith("orders-dlq (receive count 3 reached maxReceiveCount 3)")
    # The ledger agrees with what the dead-letter queue holds.
    assert [m["MessageId"] for m in receive_all(lab, lab.client("sqs").get_queue_url(QueueName="orders-dlq")["QueueUrl"])] == [ids[1]]
    assert (rows["layer"] == "lambda").all() and (rows["source"] == "sqs").all()


def test_sqs_deletes_without_report_batch_item_failures_are_recorded_as_drops(lab):
    url = make_queue(lab, "orders")

    def handler(event, context):
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}

    lab.sqs_trigger(url, lab.function("f", handler), batch_size=10)
    ids = send_all(lab, url, ["a", "b", "c"])
    lab.run_until_idle()
    rows = lab.outcomes("f").set_index("item")
    assert rows.loc[ids, "ending"].tolist() == ["dropped", "processed", "processed"]
    assert rows.loc[ids[0], "where"] == "deleted unprocessed: ReportBatchItemFailures is off"


def test_sqs_with_report_batch_item_failures_only_the_listed_message_comes_back(lab):
    url = make_queue(lab, "orders", max_receive=2, visibility_s=30)

    def handler(event, context):
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    lab.sqs_trigger(url, lab.function("f", handler), batch_size=10, report_batch_item_failures=True)
    ids = send_all(lab, url, ["good", "bad"])
    lab.run_until_idle()
    rows = lab.outcomes("f").set_index("item")
    assert rows.loc[ids, "ending"].tolist() == ["processed", "dead_letter"]
    assert rows.loc[ids, "attempts"].tolist() == [1, 2]


def test_sqs_filtered_messages_are_dropped_with_the_reason(lab):
    url = make_queue(lab, "orders")
    lab.sqs_trigger(url, lab.function("f", lambda e, c: None), filter_patterns={"body": {"kind": ["order"]}})
    ids = send_all(lab, url, [json.dumps({"kind": "order"}), json.dumps({"kind": "refund"})])
    lab.run_until_idle()
    rows = lab.outcomes("f").set_index("item")
    assert rows.loc[ids, "ending"].tolist() == ["processed", "dropped"]
    assert rows.loc[ids[1], "where"].startswith("FilteredOut")
    assert rows.loc[ids[1], "attempts"] == 0


def test_sqs_message_still_in_flight_is_pending(lab):
    url = make_queue(lab, "orders", visibility_s=900)
    lab.sqs_trigger(url, lab.function("f", lambda e, c: None, duration_ms=120_000, timeout_s=150))
    send_all(lab, url, ["slow"])
    lab.run(60)
    assert lab.outcomes("f")["ending"].tolist() == ["pending"]
    lab.run_until_idle()
    assert lab.outcomes("f")["ending"].tolist() == ["processed"]


# --- asynchronous invocation ---------------------------------------------------------------
def test_async_endings_name_where_the_event_went(lab):
    sqs = lab.client("sqs")
    for name in ("failures", "dlq"):
        sqs.create_queue(QueueName=name)
    lab.function("ok", lambda e, c: None).invoke_async({})
    lab.function("to-destination", failing, on_failure=lab.arn("sqs", "failures")).invoke_async({})
    lab.function("to-dlq", failing, dead_letter_arn=lab.arn("sqs", "dlq")).invoke_async({})
    lab.function("nowhere", failing, maximum_retry_attempts=0).invoke_async({})
    lab.run_until_idle()
    rows = lab.outcomes().set_index("function")
    assert rows["ending"].to_dict() == {"ok": "processed", "to-destination": "destination",
                                        "to-dlq": "dead_letter", "nowhere": "dropped"}
    assert rows["where"].to_dict() == {
        "ok": "ok", "to-destination": "failures", "to-dlq": "dlq",
        "nowhere": "RetriesExhausted after 1 attempt(s), no dead-letter queue or on-failure destination"}
    assert rows["attempts"].to_dict() == {"ok": 1, "to-destination": 3, "to-dlq": 3, "nowhere": 1}
    assert (rows["source"] == "async").all() and rows["request_id"].notna().all()


def test_a_failed_dead_letter_write_is_counted_and_the_event_recorded_as_dropped(lab):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    fn = lab.function("f", failing, dead_letter_arn=lab.arn("sqs", "dlq"), maximum_retry_attempts=0)
    sqs.delete_queue(QueueUrl=url)  # after the configuration accepted it
    fn.invoke_async({"id": 1})
    summary = lab.run_until_idle()
    assert summary.idle
    row = lab.outcomes("f").iloc[0]
    assert row["ending"] == "dropped" and "write failed (dlq: AWS.SimpleQueueService.NonExistentQueue" in row["where"]
    failures = lab.sends.failures("dead_letter")
    assert len(failures) == 1 and failures[0].function == "f" and not failures[0].ok


def test_a_destination_that_fails_falls_back_to_the_dlq_that_works(lab):
    sqs = lab.client("sqs")
    gone = sqs.create_queue(QueueName="gone")["QueueUrl"]
    sqs.create_queue(QueueName="dlq")
    fn = lab.function("f", failing, maximum_retry_attempts=0, on_failure=lab.arn("sqs", "gone"),
                      dead_letter_arn=lab.arn("sqs", "dlq"))
    sqs.delete_queue(QueueUrl=gone)
    fn.invoke_async({})
    lab.run_until_idle()
    row = lab.outcomes("f").iloc[0]
    assert (row["ending"], row["where"]) == ("dead_letter", "dlq")
    assert [r.purpose for r in lab.sends.failures()] == ["destination"]


def test_duplicates_are_separate_rows_of_the_same_item(lab):
    fn = lab.function("f", lambda e, c: None, duplicate_rate=1.0)
    request_id = fn.invoke_async({})["ResponseMetadata"]["RequestId"]
    lab.run_until_idle()
    rows = lab.outcomes("f")
    assert rows["copy"].tolist() == [1, 2]
    assert set(rows["item"]) == {request_id} and (rows["ending"] == "processed").all()


def test_recursion_stopped_is_a_drop_with_aws_reason(lab):
    functions = {}

    def again(event, context):
        functions["loop"].invoke_async(event)

    functions["loop"] = lab.function("loop", again)
    functions["loop"].invoke_async({})
    lab.run_until_idle()
    rows = lab.outcomes("loop")
    assert rows["ending"].value_counts().to_dict() == {"processed": 16, "dropped": 1}
    assert rows.loc[rows["ending"] == "dropped", "where"].item().startswith("RecursiveInvocationDropped")


# --- S3 ------------------------------------------------------------------------------------
def test_s3_records_are_rows_that_the_async_queue_ends(lab):
    s3 = lab.client("s3")
    s3.create_bucket(Bucket="uploads")

    def handler(event, context):
        if event["Records"][0]["s3"]["object"]["key"].startswith("bad"):
            raise ValueError("bad file")

    lab.s3_trigger("uploads", lab.function("f", handler, maximum_retry_attempts=1))
    s3.put_object(Bucket="uploads", Key="good.csv", Body=b"1")
    s3.put_object(Bucket="uploads", Key="bad.csv", Body=b"2")
    lab.run_until_idle()
    rows = lab.outcomes("f")
    assert rows["source"].tolist() == ["s3", "s3"]
    assert [item.split()[0] for item in rows["item"]] == ["good.csv", "bad.csv"]
    assert rows["ending"].tolist() == ["processed", "dropped"]
    assert rows["attempts"].tolist() == [1, 2]


# --- synchronous requests ------------------------------------------------------------------
def test_synchronous_requests_end_when_the_caller_has_its_answer(lab):
    from lambda_lab import TooManyRequestsException

    lab.function("ok", lambda e, c: None, duration_ms=250).invoke({})
    lab.function("broken", failing).invoke({})
    with pytest.raises(TooManyRequestsException):
        lab.function("off", lambda e, c: None, reserved_concurrency=0).invoke({})
    rows = lab.outcomes().set_index("function")
    assert rows["ending"].to_dict() == {"ok": "processed", "broken": "failed", "off": "failed"}
    assert rows.loc["broken", "where"] == "Unhandled ValueError returned to the caller"
    assert rows.loc["off", "where"] == "429 TooManyRequestsException returned to the caller"
    assert (rows["layer"] == "caller").all() and (rows["source"] == "invoke").all()
    assert rows.loc["ok", "ended"] - rows.loc["ok", "accepted"] == pytest.approx(0.43)  # cold start + 250 ms


def test_a_fifo_send_swallowed_by_deduplication_is_not_an_item(lab):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"})["QueueUrl"]
    lab.sqs_trigger(url, lab.function("f", lambda e, c: None))
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="same")
    lab.run_until_idle()
    assert lab.outcomes("f")["ending"].tolist() == ["processed"]


def test_a_disabled_mapping_accepts_nothing_and_its_successor_takes_over(lab):
    url = make_queue(lab, "orders")
    old = lab.sqs_trigger(url, lab.function("old", lambda e, c: None))
    old.disable()
    lab.sqs_trigger(url, lab.function("new", lambda e, c: None))
    send_all(lab, url, ["a", "b"])
    lab.run_until_idle()
    assert lab.outcomes("old").empty
    assert lab.outcomes("new")["ending"].tolist() == ["processed", "processed"]
