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


def test_timeline_accounts_for_every_event(storm_tl):
    tl = storm_tl
    assert tl["completions"].sum() == 5000
    assert tl["backlog"].iloc[0] > 0 and tl["backlog"].iloc[-1] == 0
    assert (tl["concurrency_max"] <= 1000).all()
    assert isinstance(tl, pd.DataFrame) and tl["time_s"].is_monotonic_increasing
