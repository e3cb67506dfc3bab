"""CloudWatch-style panels over ``lab.metrics()``: one panel per metric, as the Lambda console's
Monitor tab draws them (DataFrame in, Figure out).

``console_data(frame, ...)`` is the data (tested); ``console(frame, ...)`` draws it: per-period
bars for counts, lines for durations, ages and levels. A period with no datapoint stays empty,
as in CloudWatch.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ..limits import CLOUDWATCH_PERIOD_S
from ..metrics import BY_NAME, METRICS
from .palette import COLORS

#: Metrics drawn as lines (per-period levels and times); the others are per-period bars (counts).
LINES = ("Duration", "ConcurrentExecutions", "AsyncEventAge", "ApproximateNumberOfMessagesVisible",
         "ApproximateAgeOfOldestMessage", "IteratorAge")

#: A metric's colour (palette name); metrics not listed use ``line``.
METRIC_COLORS = {"Invocations": "success", "Errors": "error", "Throttles": "throttled",
                 "DeadLetterErrors": "dropped", "DestinationDeliveryFailures": "dropped",
                 "RecursiveInvocationsDropped": "dropped", "AsyncEventsDropped": "dropped"}

#: Line styles for a metric's first, second and third statistic: one colour per metric.
STYLES = ("-", "--", ":")

DATA_COLUMNS = ["metric", "statistic", "period", "value", "kind", "color"]


def panels(frame: pd.DataFrame, metrics: Sequence[str] | None = None) -> list[str]:
    """The metrics to draw, in order: ``metrics`` as given, or every metric with data in ``METRICS`` order."""
    if metrics is not None:
        unknown = [name for name in metrics if name not in BY_NAME]
        if unknown:
            raise ValueError(f"unknown metric(s) {', '.join(unknown)}; the lab computes {', '.join(BY_NAME)}")
        return list(metrics)
    present = set(frame["metric"])
    return [metric.name for metric in METRICS if metric.name in present]


def console_data(frame: pd.DataFrame, metrics: Sequence[str] | None = None,
                 dimension: str | None = None) -> pd.DataFrame:
    """The datapoints ``console`` draws for one function or queue.

    Columns: ``metric``, ``statistic``, ``period`` (start, s since the lab started), ``value``,
    ``kind`` (``bar`` or ``line``) and ``color`` (from ``palette.COLORS``), in panel order.
    ``dimension`` may be left out when ``frame`` holds only one.
    """
    rows = frame[frame["dimension"] == _dimension(frame, dimension)]
    names = panels(rows, metrics)
    rows = rows[rows["metric"].isin(names)].copy()
    rows["kind"] = ["line" if name in LINES else "bar" for name in rows["metric"]]
    rows["color"] = [COLORS[METRIC_COLORS.get(name, "line")] for name in rows["metric"]]
    rows["order"] = rows["metric"].map({name: n for n, name in enumerate(names)})
    rows = rows.sort_values(["order", "period"], kind="stable")
    return rows[DATA_COLUMNS].reset_index(drop=True)


def console(frame: pd.DataFrame, metrics: Sequence[str] | None = None, dimension: str | None = None,
            title: str | None = None) -> Figure:
    """One panel per metric for one function or queue: bars per period, or lines for times and levels.

    ``frame`` is ``lab.metrics()``; ``metrics`` picks and orders the panels (default: every
    metric with data); a metric without data gets an empty panel that says so.
    """
    chosen = _dimension(frame, dimension)
    names = panels(frame[frame["dimension"] == chosen], metrics)
    data = console_data(frame, names, chosen)
    period_s = frame.attrs.get("period_s", CLOUDWATCH_PERIOD_S)
    fig, axes = plt.subplots(len(names), 1, sharex=True, squeeze=False, figsize=(6, 0.4 + 1.5 * len(names)))
    for ax, name in zip(axes[:, 0], names):
        _panel(ax, name, data[data["metric"] == name], period_s)
    axes[-1, 0].set_xlabel(f"period start (s since the lab started), {period_s} s periods")
    _span(axes[-1, 0], data, period_s)
    fig.suptitle(title or f"{chosen}: CloudWatch metrics")
    fig.tight_layout()
    return fig


def _dimension(frame: pd.DataFrame, dimension: str | None) -> str:
    names = sorted(set(frame["dimension"]))
    if dimension is not None:
        return dimension
    if len(names) != 1:
        raise ValueError(f"pass dimension=: the frame holds {len(names)} ({', '.join(names) or 'none'})")
    return names[0]


def _panel(ax: plt.Axes, name: str, rows: pd.DataFrame, period_s: int) -> None:
    metric = BY_NAME[name]
    ax.set_title(f"{name} ({', '.join(metric.statistics)})", loc="left", fontsize=9)
    ax.set_ylabel(metric.unit, fontsize=8)
    if rows.empty:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color=COLORS["muted"])
        return
    for style, (statistic, points) in zip(STYLES, rows.groupby("statistic", sort=False)):
        color = points["color"].iloc[0]
        if name in LINES:
            # NaN where a period has no datapoint, so the line breaks there instead of bridging it.
            every = range(points["period"].min(), points["period"].max() + period_s, period_s)
            series = points.set_index("period")["value"].reindex(every)
            ax.plot(series.index, series.to_numpy(), marker="o", linestyle=style, color=color, label=statistic)
        else:
            ax.bar(points["period"], points["value"], width=0.8 * period_s, align="edge", color=color,
                   label=statistic)
    if rows["statistic"].nunique() > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_ylim(bottom=0)


def _span(ax: plt.Axes, data: pd.DataFrame, period_s: int) -> None:
    """Show every period from the first to the last datapoint, the last one whole."""
    first = data["period"].min() if len(data) else 0
    last = data["period"].max() if len(data) else 0
    ax.set_xlim(first, last + period_s)
