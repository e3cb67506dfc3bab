"""Teaching views and the plots' data: what the notebooks print and draw."""

from __future__ import annotations

import datetime as dt

import matplotlib.pyplot as plt
import pandas as pd

from lambda_lab import plots
from lambda_lab.views import as_text, event_view, show, show_event


def test_show_drops_response_metadata_and_sorts_keys(capsys):
    show({"b": 1, "ResponseMetadata": {"RequestId": "x"}, "a": {"z": dt.datetime(2024, 1, 1), "y": b"\x00"}})
    assert capsys.readouterr().out == (
        '{\n  "a": {\n    "y": "AA==",\n    "z": "2024-01-01T00:00:00"\n  },\n  "b": 1\n}\n'
    )


def test_event_view_keeps_the_fields_a_handler_reads():
    event = {"Records": [{"eventSource": "aws:sqs", "messageId": "m1", "body": "hi", "receiptHandle": "long",
                          "attributes": {"ApproximateReceiveCount": "2", "SenderId": "x"}, "md5OfBody": "abc"}]}
    view = event_view(event)
    assert view == [{"eventSource": "aws:sqs", "messageId": "m1", "body": "hi", "attributes.ApproximateReceiveCount": "2"}]


def test_show_event_prints_one_block_per_record(capsys):
    record = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
              "s3": {"bucket": {"name": "b"}, "object": {"key": "my+photos/x.jpg", "size": 3}}}
    show_event({"Records": [record, record]})
    out = capsys.readouterr().out
    assert out.count("Records[") == 2 and "s3.object.key: my+photos/x.jpg" in out


def test_as_text_of_an_event_without_records_is_the_whole_event():
    assert as_text({"detail-type": "x"}) == '{\n  "detail-type": "x"\n}'


def _frame(rows):
    columns = ["function", "start", "end", "outcome", "cold_start", "init_duration_ms", "env_id"]
    return pd.DataFrame(rows, columns=columns)


def test_concurrency_series_counts_overlaps_and_frees_before_starting():
    frame = _frame([
        ("f", 0.0, 2.0, "success", True, 100.0, 1),
        ("f", 1.0, 3.0, "error", True, 100.0, 2),
        ("f", 2.0, 4.0, "success", False, 0.0, 1),  # reuses env 1 the moment it is free
        ("f", 1.5, 1.5, "throttled", False, 0.0, None),
    ])
    series = plots.concurrency_series(frame)
    assert series.to_dict("list") == {"time": [0.0, 1.0, 2.0, 3.0, 4.0], "concurrency": [1, 2, 2, 1, 0]}


def test_figures_draw_one_bar_per_run_and_a_mark_per_throttle():
    frame = _frame([
        ("f", 0.0, 1.0, "success", True, 200.0, 1),
        ("f", 1.0, 2.0, "success", False, 0.0, 1),
        ("f", 0.5, 0.5, "throttled", False, 0.0, None),
    ])
    fig = plots.timeline(frame)
    ax = fig.axes[0]
    assert len(ax.patches) == 3  # one init bar plus two run bars
    assert len(ax.lines) == 1  # the throttle mark
    assert [t.get_text() for t in ax.get_yticklabels()] == ["f · env 1", "f · no environment"]
    plt.close(fig)
    fig = plots.concurrency(frame, limit=1)
    assert fig.axes[0].get_ylabel() == "environments busy"
    plt.close(fig)
