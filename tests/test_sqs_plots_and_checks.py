"""The receives-per-message data, its figure, and the chapter's exercise checks."""

import json

import matplotlib
import pandas as pd

from lambda_lab.check import sqs as check
from lambda_lab.log import COLUMNS
from lambda_lab.plots.sqs import receives, receives_per_message

matplotlib.use("Agg")


def _frame(rows):
    base = {c: None for c in COLUMNS}
    return pd.DataFrame([{**base, **r} for r in rows], columns=COLUMNS)


def test_receives_per_message_counts_deliveries_not_throttles():
    frame = _frame([
        {"outcome": "error", "items": ("a", "b")},
        {"outcome": "throttled", "items": ("a", "b")},
        {"outcome": "success", "items": ("a",)},
        {"outcome": "dropped", "items": ("c",)},
        {"outcome": "timeout", "items": ("b",)},
    ])
    data = receives_per_message(frame, labels={"a": "first"})
    assert list(data.message) == ["first", "b", "c"]
    assert list(data.deliveries) == [2, 2, 0]
    assert list(data.failed) == [1, 2, 0]
    assert list(data.last_outcome) == ["success", "timeout", "dropped"]


def test_receives_figure_has_one_bar_per_message():
    frame = _frame([{"outcome": "success", "items": ("a", "b", "c")}])
    fig = receives(frame, max_receive_count=3)
    assert len(fig.axes[0].patches) == 3


def _reporting_handler(event, context):
    failures = []
    for record in event["Records"]:
        try:
            json.loads(record["body"])["order_id"]
        except (ValueError, KeyError, TypeError):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def test_partial_batch_check_accepts_a_correct_handler_and_explains_wrong_ones():
    assert check.partial_batch(_reporting_handler)
    raising = check.partial_batch(lambda e, c: json.loads(e["Records"][1]["body"])["order_id"])
    assert not raising and "raised" in repr(raising)
    unknown = check.partial_batch(lambda e, c: {"batchItemFailures": [{"itemIdentifier": "x"}]})
    assert not unknown and "unknown itemIdentifier" in repr(unknown)


def test_fifo_check_wants_the_failure_and_everything_after_it():
    def stop_at_first(event, context):
        records = event["Records"]
        for i, record in enumerate(records):
            if record["body"].startswith("fail"):
                return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records[i:]]}
        return {"batchItemFailures": []}

    def only_the_failure(event, context):
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if r["body"].startswith("fail")]}

    assert check.fifo_stop_at_first_failure(stop_at_first)
    verdict = check.fifo_stop_at_first_failure(only_the_failure)
    assert not verdict and "expected ['fail-3', 'ok-4', 'ok-5']" in repr(verdict)
