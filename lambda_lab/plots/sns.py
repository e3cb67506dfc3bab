"""SNS figures: the two retry layers of one subscription on one timeline, and SNS's 23-day schedule.

``layer_attempts(handoffs, frame)`` is the data (tested); ``two_layers`` draws it.
``schedule_points(schedules)`` is the data of ``schedules_log``, which draws retry schedules
(``lambda_lab.sim.backoff``) on a logarithmic time axis.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .palette import COLORS, outcome_color

#: Lane names, top to bottom: who makes the attempt, and to whom.
HANDOFF = "SNS → Lambda (hand-off)"
FUNCTION = "Lambda → your function"
LANES = (HANDOFF, FUNCTION)
#: Reference times on the schedule figure (seconds -> label).
MARKS_S = {60: "1 min", 3600: "1 h", 86400: "1 day"}


def layer_attempts(handoffs: Iterable[tuple[float, str, Any]], frame: pd.DataFrame,
                   t0: float | None = None) -> pd.DataFrame:
    """Every attempt of both layers, in time order: one row per hand-off and per invocation.

    ``handoffs`` is a subscription's ``handoffs`` (time, message id, Invoke's answer);
    ``frame`` the function's ``lab.log.to_frame(name)``. Columns: ``layer`` (``HANDOFF`` or
    ``FUNCTION``), ``message`` (the SNS message id), ``at_s`` (seconds since ``t0``, by
    default the first hand-off), ``outcome`` (``success`` or ``error``, as the log colours
    them), ``detail`` (``202``, ``500 ServiceException``, or the invocation's outcome and error).
    Only messages that appear in ``handoffs`` are kept; ``dropped`` log rows are endings, not
    attempts, and are left out.
    """
    rows = []
    for at, message, answer in handoffs:
        ok = answer.status_code == 202
        detail = "202" if ok else f"{answer.status_code} {answer.error_code}"
        rows.append((HANDOFF, message, float(at), "success" if ok else "error", detail))
    messages = {row[1] for row in rows}
    ran = frame[frame["outcome"] != "dropped"] if len(frame) else frame
    for row in ran.itertuples():
        message = row.items[0] if len(row.items) else None
        if message not in messages:
            continue
        error = row.error_type if isinstance(row.error_type, str) and row.error_type else ""
        rows.append((FUNCTION, message, float(row.start), "success" if row.outcome == "success" else "error",
                     f"{row.outcome} {error}".strip()))
    out = pd.DataFrame(rows, columns=["layer", "message", "at_s", "outcome", "detail"])
    origin = t0 if t0 is not None else (out["at_s"].min() if len(out) else 0.0)
    out["at_s"] = (out["at_s"] - origin).round(3)
    out["layer"] = pd.Categorical(out["layer"], categories=list(LANES), ordered=True)
    return out.sort_values(["at_s", "layer"], kind="stable").reset_index(drop=True)


def two_layers(attempts: pd.DataFrame, title: str = "Two retry layers, one message") -> Figure:
    """One lane per layer, a dot per attempt (green accepted or succeeded, red failed).

    The time axis is symmetric-log (linear below 1 s), so SNS's immediate retries and
    Lambda's minutes-apart retries show on one axis.
    """
    fig, ax = plt.subplots(figsize=(6, 2.4))
    for lane, layer in enumerate(LANES):
        tries = attempts[attempts["layer"] == layer]
        if not len(tries):
            continue
        ax.plot(tries["at_s"], [lane] * len(tries), color=COLORS["muted"], zorder=1)
        # attempts at the same instant (SNS's immediate retries) fan out a little so each shows
        offsets = tries.groupby("at_s").cumcount() * 0.12
        ax.scatter(tries["at_s"], lane - offsets, c=[outcome_color(o) for o in tries["outcome"]], s=40, zorder=2)
        for at_s, group in tries.groupby("at_s", sort=True):
            last = group.iloc[-1]
            if last["outcome"] == "success" or layer == FUNCTION:
                label = last["detail"] if layer == HANDOFF else last["detail"].split(" ")[0]
                ax.annotate(label, (at_s, lane), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=7)
    ax.set_xscale("symlog", linthresh=1)
    ax.set_yticks(range(len(LANES)))
    ax.set_yticklabels(LANES)
    ax.set_ylim(len(LANES) + 0.1, -0.7)
    ax.set_xlim(-0.2, max(float(attempts["at_s"].max()) * 1.6, 2) if len(attempts) else 2)
    ax.set_xlabel("seconds since the first hand-off (log scale above 1 s)")
    ax.set_title(title)
    handles = [plt.Line2D([], [], marker="o", linestyle="none", color=outcome_color(o)) for o in ("success", "error")]
    ax.legend(handles, ["accepted / succeeded", "failed"], loc="lower right", ncol=2, fontsize=8)
    fig.tight_layout()
    return fig


def schedule_points(schedules: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The schedules as one table: ``schedule``, ``attempt``, ``at_s``, ``phase``, one row per attempt.

    Each schedule is a ``lambda_lab.sim.backoff`` table (``attempt``, ``delay_s``, ``at_s``, ``phase``).
    """
    frames = [s[["attempt", "at_s", "phase"]].assign(schedule=name) for name, s in schedules.items()]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["attempt", "at_s", "phase",
                                                                                       "schedule"])
    return out[["schedule", "attempt", "at_s", "phase"]]


def schedules_log(schedules: Mapping[str, pd.DataFrame], title: str = "Retry schedules") -> Figure:
    """Attempts made so far (log) against time since the first attempt (log), one line per schedule.

    Times below 1 s are drawn linearly (symmetric-log axis), so attempts at 0 s show.
    """
    points = schedule_points(schedules)
    fig, ax = plt.subplots()
    colors = [COLORS["line"], COLORS["error"], COLORS["throttled"], COLORS["timeout"]]
    for (name, rows), color in zip(points.groupby("schedule", sort=False), colors):
        shown = rows.iloc[_log_spaced(len(rows))]  # 100,015 steps look the same as ~2,000 on a log axis
        ax.step(shown["at_s"], shown["attempt"], where="post", color=color, label=f"{name}: {len(rows):,} attempts")
        end_s = float(rows["at_s"].iloc[-1])
        ax.scatter(end_s, rows["attempt"].iloc[-1], color=color, s=20, zorder=3)
        ax.annotate(_span(end_s), (end_s, rows["attempt"].iloc[-1]), textcoords="offset points", xytext=(-4, 4),
                    ha="right", fontsize=8, color=color)
    for at_s, label in MARKS_S.items():
        ax.axvline(at_s, color=COLORS["rule"], linewidth=0.6, alpha=0.5)
        ax.annotate(label, (at_s, 1), textcoords="offset points", xytext=(3, 2), fontsize=7, color=COLORS["rule"])
    ax.set_xscale("symlog", linthresh=1)
    ax.set_yscale("log")
    last = float(points["at_s"].max()) if len(points) else 1.0
    ax.set_xlim(-0.1, last * 2)
    ax.set_xticks([0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000])
    ax.set_xlabel("seconds since the first attempt")
    ax.set_ylabel("attempts so far")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def _log_spaced(n: int, keep: int = 2_000) -> np.ndarray:
    """Row positions to draw of ``n``: all of them up to ``keep``, else log-spaced ones, first and last included."""
    if n <= keep:
        return np.arange(n)
    return np.unique(np.concatenate([np.arange(min(n, 200)), np.geomspace(1, n, keep).astype(int) - 1, [n - 1]]))


def _span(seconds: float) -> str:
    """A schedule's length for its end label: ``3 min``, ``23.1 days``."""
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"
