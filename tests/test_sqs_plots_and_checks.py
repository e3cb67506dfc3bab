"""The receives-per-message data and its figure (the exercise checks are in test_sqs_checks.py)."""

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from lambda_lab.log import COLUMNS
from lambda_lab.plots.invocations import concurrency_comparison, timeline
from lambda_lab.plots.palette import COLORS
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
    plt.close(fig)


def test_receives_gives_the_poison_message_its_own_colour():
    # Chapter 02, section 5.1: every message failed five times together, so colouring by
    # outcome paints all bars alike; the highlighted poison message must stand out.
    frame = _frame([{"outcome": "error", "items": ("a", "b", "c")}] * 5)
    labels = {"a": "order 1", "b": "order 2", "c": "{oops"}
    fig = receives(frame, labels=labels, max_receive_count=5, highlight=["{oops"])
    ax = fig.axes[0]
    colours = [to_hex(bar.get_facecolor()) for bar in ax.patches[:3]]
    assert colours[2] == to_hex(COLORS["error"])
    assert colours[0] == colours[1] != colours[2]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "poison message", "the rest of its batch", "maxReceiveCount 5"]
    plt.close(fig)


def _runs(rows, at):
    """Invocations of 1 s each; ``rows`` is a list of (offset_s, env_id), placed at lab time ``at``."""
    return _frame([{"function": "f", "start": at + offset, "end": at + offset + 1.0, "outcome": "success",
                    "cold_start": False, "init_duration_ms": 0.0, "env_id": env, "items": ("m",)}
                   for offset, env in rows])


def test_concurrency_comparison_draws_each_run_from_zero():
    # Chapter 02, section 5.7: the same twelve messages without and with maximum_concurrency,
    # run one after the other on the lab's clock (hundreds of seconds apart).
    uncapped = _runs([(0, i) for i in range(5)] + [(1, i) for i in range(5)] + [(2, 0), (2, 1)], at=830.0)
    capped = _runs([(k, i) for k in range(6) for i in range(2)], at=845.0)
    fig = concurrency_comparison({"no cap": uncapped, "maximum_concurrency=2": capped})
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"no cap", "maximum_concurrency=2"}
    assert lines["no cap"].get_color() != lines["maximum_concurrency=2"].get_color()
    for line in lines.values():
        assert min(line.get_xdata()) == 0.0
    assert max(lines["no cap"].get_ydata()) == 5 and max(lines["maximum_concurrency=2"].get_ydata()) == 2
    assert max(lines["no cap"].get_xdata()) == 3.0 and max(lines["maximum_concurrency=2"].get_xdata()) == 6.0
    assert ax.get_xlim()[0] == 0 and ax.get_xlabel() == "seconds since the first invocation"
    plt.close(fig)


def test_timeline_starts_at_zero_and_marks_the_visibility_timeout_expiry():
    # Chapter 02, section 5.4: one message received at 691.78 s with a 10 s visibility timeout,
    # received again (and run a second time) when it expired.
    frame = _frame([
        {"function": "slow", "start": 691.78, "end": 709.96, "outcome": "success", "cold_start": False,
         "init_duration_ms": 0.0, "env_id": 7, "items": ("m",)},
        {"function": "slow", "start": 701.78, "end": 719.96, "outcome": "success", "cold_start": False,
         "init_duration_ms": 0.0, "env_id": 8, "items": ("m",)},
    ])
    fig = timeline(frame, marks={"visibility timeout (10 s) expires": 691.78 + 10})
    ax = fig.axes[0]
    assert [bar.get_x() for bar in ax.patches[:2]] == pytest.approx([0.0, 10.0])
    marks = [line for line in ax.get_lines() if line.get_label() == "visibility timeout (10 s) expires"]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == pytest.approx([10.0, 10.0])
    assert "visibility timeout (10 s) expires" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)
