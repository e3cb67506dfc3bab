"""lambda_lab.plots.sns: the data behind the two-layer timeline and the schedule figure, and that they draw."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from lambda_lab import Lab  # noqa: E402
from lambda_lab.delivery.handoff import Handoff  # noqa: E402
from lambda_lab.plots import sns as plots_sns  # noqa: E402
from lambda_lab.sim.backoff import lambda_async_error_schedule, sns_managed_schedule  # noqa: E402


@pytest.fixture(scope="module")
def two_layers_run():
    """One message: five failed hand-offs, then a function that fails twice and succeeds."""
    with Lab(seed=0) as lab:
        calls = []

        def flaky(event, context):
            calls.append(event)
            if len(calls) <= 2:
                raise ConnectionError("down")

        topic = lab.client("sns").create_topic(Name="layers")["TopicArn"]
        sub = lab.sns_trigger(topic, lab.function("flaky", flaky))
        lab.faults.fail_next("flaky", 5, error="server")
        lab.client("sns").publish(TopicArn=topic, Message="{}")
        lab.run_until_idle()
        yield list(sub.handoffs), lab.log.to_frame("flaky")


def test_layer_attempts_has_both_layers_in_time_order(two_layers_run):
    handoffs, frame = two_layers_run
    attempts = plots_sns.layer_attempts(handoffs, frame)
    handoff = attempts[attempts["layer"] == plots_sns.HANDOFF]
    function = attempts[attempts["layer"] == plots_sns.FUNCTION]
    assert list(handoff["detail"]) == ["500 ServiceException"] * 5 + ["202"]
    # SNS's three immediate attempts, then its pre-backoff and backoff, each jittered 10 % either side
    at = list(handoff["at_s"])
    assert at[:3] == [0.0, 0.0, 0.0]
    assert [round(b - a, 1) for a, b in zip(at[2:], at[3:])] == pytest.approx([1.0, 1.0, 1.0], abs=0.11)
    assert list(function["outcome"]) == ["error", "error", "success"]
    assert function["at_s"].iloc[0] == handoff["at_s"].iloc[-1]  # Lambda runs it when it accepts it
    gaps = function["at_s"].diff().dropna().round().tolist()
    assert gaps[0] == pytest.approx(60, abs=1) and gaps[1] == pytest.approx(120, abs=1)
    assert attempts["at_s"].is_monotonic_increasing
    assert attempts["message"].nunique() == 1


def test_layer_attempts_keeps_only_the_subscriptions_messages(two_layers_run):
    handoffs, frame = two_layers_run
    other = frame.assign(items=[("someone-else",)] * len(frame))
    attempts = plots_sns.layer_attempts(handoffs, other, t0=10.0)
    assert set(attempts["layer"]) == {plots_sns.HANDOFF}
    assert attempts["at_s"].min() == -10.0  # times are relative to t0 when given


def test_layer_attempts_of_nothing_is_empty():
    empty = plots_sns.layer_attempts([], pd.DataFrame(columns=["outcome", "items", "start", "error_type"]))
    assert empty.empty and list(empty.columns) == ["layer", "message", "at_s", "outcome", "detail"]


def test_a_refused_hand_off_is_an_error(two_layers_run):
    _, frame = two_layers_run
    attempts = plots_sns.layer_attempts([(0.0, "m", Handoff(404, error_code="ResourceNotFoundException"))],
                                        frame.iloc[0:0])
    assert attempts.to_dict("records") == [{"layer": plots_sns.HANDOFF, "message": "m", "at_s": 0.0,
                                            "outcome": "error", "detail": "404 ResourceNotFoundException"}]


def test_two_layers_draws_both_lanes(two_layers_run):
    handoffs, frame = two_layers_run
    fig = plots_sns.two_layers(plots_sns.layer_attempts(handoffs, frame))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(plots_sns.LANES)
    assert ax.get_xscale() == "symlog"
    plt.close(fig)


def test_schedule_points_and_figure():
    schedules = {"SNS": sns_managed_schedule(), "Lambda": lambda_async_error_schedule()}
    points = plots_sns.schedule_points(schedules)
    assert points.groupby("schedule", sort=False).size().to_dict() == {"SNS": 100_015, "Lambda": 3}
    sns_points = points[points["schedule"] == "SNS"]
    assert sns_points["at_s"].iloc[-1] / 86400 == pytest.approx(23.15, abs=0.01)
    assert list(sns_points["phase"].iloc[:5]) == ["immediate"] * 3 + ["pre-backoff"] * 2
    fig = plots_sns.schedules_log(schedules)
    ax = fig.axes[0]
    assert ax.get_xscale() == "symlog" and ax.get_yscale() == "log"
    assert any("23.1 days" in t.get_text() for t in ax.texts) and any(t.get_text() == "3 min" for t in ax.texts)
    plt.close(fig)


@pytest.mark.parametrize("seconds, label", [(30, "30 s"), (180, "3 min"), (7200, "2.0 h"), (2_000_070, "23.1 days")])
def test_span_labels(seconds, label):
    assert plots_sns._span(seconds) == label


def test_log_spaced_keeps_the_ends_and_thins_the_middle():
    assert list(plots_sns._log_spaced(5)) == [0, 1, 2, 3, 4]
    rows = plots_sns._log_spaced(100_015)
    assert rows[0] == 0 and rows[-1] == 100_014 and len(rows) < 2_500
    assert (rows[:200] == range(200)).all() and (pd.Series(rows).diff().dropna() > 0).all()
