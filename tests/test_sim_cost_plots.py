"""Cost arithmetic and the figure functions (data in, one Figure out)."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lambda_lab import sim  # noqa: E402
from lambda_lab.sim import cost, plots  # noqa: E402


def test_aws_facts_example():
    # reference/aws-facts.md §10: 3M invocations at 512 MB for 200 ms = 300,000 GB-s, inside
    # the free tier; 2M billable requests x $0.20/M = $0.40
    gbs = cost.gb_seconds(3_000_000, 200, 512)
    assert gbs == pytest.approx(300_000)
    c = cost.lambda_cost(3_000_000, gbs, free_tier=True)
    assert c["lambda_duration_usd"] == 0
    assert c["lambda_requests_usd"] == pytest.approx(0.40)
    assert cost.lambda_cost(3_000_000, gbs)["lambda_requests_usd"] == pytest.approx(0.60)


def test_sqs_sns_eventbridge_line_items():
    c = cost.storm_cost("sqs", invocations=10_000, gb_seconds=0, messages=100_000, receives=10_000,
                        sns_publishes=2_000_000, eventbridge_events=1_000_000)
    assert c["sqs_usd"] == pytest.approx(120_000 * 0.40 / 1e6)
    assert c["sns_usd"] == pytest.approx(2 * 0.50)
    assert c["eventbridge_usd"] == pytest.approx(1.00)
    assert c["total_usd"] == pytest.approx(sum(v for k, v in c.items() if k != "total_usd"))


def test_s3_puts_cost_more_than_the_lambda_bill_of_the_storm():
    # reference/aws-facts.md §10: S3 PUT $0.005 per 1,000, so 100,000 uploads cost $0.50;
    # Lambda for 100,000 x 200 ms at 512 MB is 10,000 GB-s x $0.0000166667 + 0.1M x $0.20/M.
    gbs = cost.gb_seconds(100_000, 200, 512)
    c = cost.storm_cost("async", invocations=100_000, gb_seconds=gbs, s3_puts=100_000)
    assert c["s3_puts_usd"] == pytest.approx(0.50)
    lambda_usd = c["lambda_requests_usd"] + c["lambda_duration_usd"]
    assert lambda_usd == pytest.approx(0.02 + 10_000 * 0.0000166667)
    assert c["s3_puts_usd"] > lambda_usd
    t = cost.cost_table({"a": {"mode": "async", "invocations": 1, "gb_seconds": 0.0, "s3_puts": 2_000}})
    assert t.loc["a", "s3_puts_usd"] == pytest.approx(0.01)
    assert "s3_puts_usd" not in cost.storm_cost("async", 1, 0.0)  # no uploads, no line item


def test_gb_seconds_scale_with_memory():
    # memory is a choice: 128 MB (Lambda's default) bills a quarter of 512 MB
    assert cost.gb_seconds(1_000, 1_000, 128) == pytest.approx(cost.gb_seconds(1_000, 1_000, 512) / 4)


def test_cost_table_columns():
    t = cost.cost_table({"a": {"mode": "async", "invocations": 10, "gb_seconds": 1.0},
                         "b": {"mode": "sqs", "invocations": 1, "gb_seconds": 1.0, "events": 10, "receives": 1}})
    assert list(t.columns)[-1] == "total_usd"
    assert t.loc["a", "sqs_usd"] == 0


@pytest.fixture(scope="module")
def storm_tl():
    return sim.simulate_storm(events=5000, seed=1).timeline


def test_figures(storm_tl):
    figs = [
        plots.storm_timeline({"x": storm_tl}, limit=1000, title="t"),
        plots.storm_panels(storm_tl),
        plots.duplicate_curve(sim.duplicate_rate_curve([1, 2], messages=500, seed=1)),
        plots.contention(sim.contention_experiment((5, 10), ("exponential", "full_jitter"), reps=1, seed=1)),
        plots.cost_bars(cost.cost_table({"a": {"mode": "async", "invocations": 10, "gb_seconds": 1.0}})),
    ]
    for f in figs:
        assert isinstance(f, Figure) and len(f.axes) >= 1
        matplotlib.pyplot.close(f)


def test_throttles_panel_uses_a_log_axis(storm_tl):
    fig = plots.storm_panels(storm_tl)
    assert [ax.get_yscale() for ax in fig.axes] == ["linear", "log", "linear"]
    matplotlib.pyplot.close(fig)


def _boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_cost_bar_labels_do_not_overlap():
    # the chapter's scenario names; drawn side by side as vertical bars they collide
    names = ["async", "async, reserved 100", "SQS, MaxConc 100", "SQS, reserved 100"]
    t = cost.cost_table({n: {"mode": "sqs", "invocations": 10_000, "gb_seconds": 1e4, "events": 1e5,
                             "receives": 1e4, "s3_puts": 100_000} for n in names})
    fig = plots.cost_bars(t)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [lab for ax in fig.axes for lab in ax.get_xticklabels() + ax.get_yticklabels() if lab.get_text()]
    assert {lab.get_text() for lab in labels} >= set(names)
    boxes = [lab.get_window_extent(renderer) for lab in labels]
    assert not any(_boxes_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    # every line item is drawn and the stacks add up to the totals
    assert len(fig.axes[0].containers) == len(t.columns) - 1
    ends = [max(p.get_x() + p.get_width() for c in fig.axes[0].containers for p in [c[i]]) for i in range(len(t))]
    assert ends == pytest.approx(t["total_usd"].tolist())
    matplotlib.pyplot.close(fig)


def test_timeline_accounts_for_every_event(storm_tl):
    tl = storm_tl
    assert tl["completions"].sum() == 5000
    assert tl["backlog"].iloc[0] > 0 and tl["backlog"].iloc[-1] == 0
    assert (tl["concurrency_max"] <= 1000).all()
    assert isinstance(tl, pd.DataFrame) and tl["time_s"].is_monotonic_increasing
