"""The retry-schedule data function and its figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from lambda_lab import Lab  # noqa: E402
from lambda_lab.plots.async_retries import retry_schedule, retry_timeline  # noqa: E402


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
