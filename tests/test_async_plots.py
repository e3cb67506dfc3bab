"""The retry-schedule data function and its figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402

from lambda_lab import Lab  # noqa: E402
from lambda_lab.plots.async_retries import retry_schedule, retry_timeline  # noqa: E402
from lambda_lab.plots.invocations import concurrency  # noqa: E402


def failing(event, context):
    raise ValueError("no")


def test_schedule_has_one_row_per_attempt_and_the_documented_gaps():
    with Lab(seed=0) as lab:
        fn = lab.function("f", failing, duration_ms=500)
        fn.invoke_async({"n": 1})
        lab.run(30)
        fn.invoke_async({"n": 2})
        lab.run_until_idle()
        schedule = retry_schedule(lab.log.to_frame())
        outcomes = lab.outcomes()
        figure = retry_timeline(lab.log.to_frame(), outcomes)
    assert len(schedule) == 6 and "dropped" not in set(schedule["outcome"])
    for _, tries in schedule.groupby("request_id"):
        assert tries["attempt"].tolist() == [1, 2, 3]
        assert pd.isna(tries["gap_s"].iloc[0])
        assert tries["gap_s"].iloc[1:].tolist() == [60.0, 120.0]
    assert schedule["start"].is_monotonic_increasing
    assert len(figure.axes[0].get_yticklabels()) == 2


def test_concurrency_of_a_late_storm_is_drawn_from_when_it_began():
    # Chapter 01, section 5.7: the storm starts ten minutes into the chapter; its figure must
    # count seconds from when the events were sent, not from when the lab started.
    with Lab(seed=0) as lab:
        lab.run(600)
        sent_at = lab.clock.elapsed()
        fn = lab.function("storm", lambda event, context: None, reserved_concurrency=2, duration_ms=2_000)
        fn.configure_async(maximum_event_age_s=60)
        for n in range(6):
            fn.invoke_async({"n": n})
        lab.run_until_idle()
        frame = lab.log.to_frame("storm")
    assert frame["start"].min() >= 600
    fig = concurrency(frame, limit=2, t0=sent_at, since="the events were sent")
    ax = fig.axes[0]
    (line,) = [line for line in ax.get_lines() if line.get_label() != "limit 2"]
    x = line.get_xdata()
    assert 0 <= min(x) < 5 and max(x) < 120
    assert max(line.get_ydata()) == 2
    assert ax.get_xlim()[0] == 0 and ax.get_xlabel() == "seconds since the events were sent"
    plt.close(fig)
    fig = concurrency(frame)  # by default, from the first invocation
    (line,) = [line for line in fig.axes[0].get_lines() if line.get_label() != "limit 2"]
    assert min(line.get_xdata()) == 0.0
    plt.close(fig)
