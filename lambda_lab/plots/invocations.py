"""Figures over the invocation log: DataFrame in, matplotlib Figure out (one idea each).

The data behind each figure comes from a separate function so tests can check it.
"""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from .palette import COLORS, OUTCOME_COLORS, outcome_color

#: What the x axis of every figure here measures: seconds since ``t0``, by default the frame's first start.
SINCE = "the first invocation"


def _origin(frame: pd.DataFrame, t0: float | None) -> float:
    """``t0`` if given, else the earliest ``start`` in the frame (0 for an empty frame)."""
    if t0 is not None:
        return float(t0)
    return float(frame["start"].min()) if len(frame) else 0.0


def concurrency_series(frame: pd.DataFrame) -> pd.DataFrame:
    """Concurrent executions over time: one row per change, columns ``time`` (s) and ``concurrency``.

    Each invocation that ran holds one execution environment from ``start`` to ``end``;
    throttled and dropped attempts hold none.
    """
    ran = frame[~frame["outcome"].isin(["throttled", "dropped"])]
    steps = pd.concat(
        [
            pd.DataFrame({"time": ran["start"], "delta": 1}),
            pd.DataFrame({"time": ran["end"], "delta": -1}),
        ]
    )
    if steps.empty:
        return pd.DataFrame({"time": [0.0], "concurrency": [0]})
    # At equal times, ends come first: an environment freed at t can serve a start at t.
    steps = steps.sort_values(["time", "delta"], kind="stable")
    totals = steps.groupby("time", sort=True)["delta"].sum().cumsum()
    series = pd.DataFrame({"time": totals.index.astype(float), "concurrency": totals.values.astype(int)})
    return series.reset_index(drop=True)


def timeline(frame: pd.DataFrame, title: str = "Invocations", *, t0: float | None = None,
             since: str = SINCE, marks: Mapping[str, float] | None = None) -> Figure:
    """One bar per invocation (row per function and environment), coloured by outcome.

    Cold starts show their init phase hatched at the start of the bar; throttles and
    drops are marked with an x, since they never ran. The x axis is seconds since ``t0``
    (by default the first start in ``frame``; ``since`` names it in the axis label).
    ``marks`` maps a label to a time on the lab's clock (like ``start``): each becomes a
    dashed vertical line, for example when a visibility timeout expires.
    """
    origin = _origin(frame, t0)
    fig, ax = plt.subplots()
    lanes, lane_names = _lanes(frame)
    for lane, (_, row) in zip(lanes, frame.iterrows()):
        color = outcome_color(row["outcome"])
        start = row["start"] - origin
        if row["outcome"] in ("throttled", "dropped"):
            ax.plot(start, lane, marker="x", color=color, linestyle="none")
            continue
        init_s = row["init_duration_ms"] / 1000
        if row["cold_start"] and init_s > 0:
            ax.barh(lane, init_s, left=start, color="white", edgecolor=color, hatch="///", height=0.6)
        ax.barh(lane, row["end"] - row["start"] - init_s, left=start + init_s, color=color, height=0.6)
    ax.set_yticks(list(lane_names))
    ax.set_yticklabels(list(lane_names.values()))
    ax.set_xlabel(f"seconds since {since}")
    ax.set_title(title)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for o, c in OUTCOME_COLORS.items() if o in set(frame["outcome"])]
    names = [o for o in OUTCOME_COLORS if o in set(frame["outcome"])]
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="black", hatch="///"))
    names.append("init (cold start)")
    for label, at in (marks or {}).items():
        handles.append(ax.axvline(at - origin, color=COLORS["rule"], linestyle="--", linewidth=1.2, label=label))
        names.append(label)
    ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_xlim(left=min(0.0, ax.get_xlim()[0]))
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def _lanes(frame: pd.DataFrame) -> tuple[list[int], dict[int, str]]:
    """A lane per (function, environment) in order of first use, and each lane's label."""
    keys = [
        (row.function, f"env {int(row.env_id)}" if pd.notna(row.env_id) else "no environment")
        for row in frame.itertuples()
    ]
    order: dict[tuple[str, str], int] = {}
    for key in keys:
        order.setdefault(key, len(order))
    return [order[key] for key in keys], {lane: f"{fn} · {env}" for (fn, env), lane in order.items()}


def concurrency(frame: pd.DataFrame, limit: int | None = None, title: str = "Concurrent executions", *,
                t0: float | None = None, since: str = SINCE) -> Figure:
    """Concurrent executions as a step line over seconds since ``t0`` (by default the first
    start in ``frame``), with an optional limit line."""
    return concurrency_comparison({"": frame}, limit=limit, title=title, t0=t0, since=since)


def concurrency_comparison(frames: Mapping[str, pd.DataFrame], limit: int | None = None,
                           title: str = "Concurrent executions", *, t0: float | None = None,
                           since: str = SINCE) -> Figure:
    """One step line of concurrent executions per labelled frame, on a shared axis.

    Each frame is drawn from its own origin (``t0`` if given, else its own first start), so
    runs made one after the other on the lab's clock start together at 0 and can be compared.
    An empty label draws the line without a legend entry.
    """
    fig, ax = plt.subplots()
    colors = [COLORS["line"], COLORS["timeout"], COLORS["success"], COLORS["muted"]]
    for i, (label, frame) in enumerate(frames.items()):
        series = concurrency_series(frame)
        origin = _origin(frame, t0)
        ax.step(series["time"] - origin, series["concurrency"], where="post", color=colors[i % len(colors)],
                label=label or None, linewidth=2 if len(frames) > 1 else 1.5)
    if limit is not None:
        ax.axhline(limit, color=OUTCOME_COLORS["throttled"], linestyle="--", label=f"limit {limit}")
    if limit is not None or any(frames):
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_xlabel(f"seconds since {since}")
    ax.set_ylabel("environments busy")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    fig.tight_layout()
    return fig
