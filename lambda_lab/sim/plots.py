"""Figures for the storm chapter: DataFrame in, one matplotlib Figure out.

Each function draws one figure and returns it; the notebook calls ``plt.show()``.
Tests check the DataFrames these figures draw, not the pixels.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..plots.palette import COLORS

STRATEGY_LABELS = {
    "none": "no backoff",
    "constant": "constant",
    "exponential": "exponential",
    "full_jitter": "full jitter",
    "equal_jitter": "equal jitter",
    "decorrelated_jitter": "decorrelated",
}


def storm_timeline(timelines: dict[str, pd.DataFrame], column: str = "concurrency_max",
                   ylabel: str = "concurrent invocations", limit: float | None = None,
                   title: str | None = None) -> Figure:
    """One line per scenario of ``column`` against time; an optional dashed limit line."""
    fig, ax = plt.subplots()
    for name, tl in timelines.items():
        ax.step(tl["time_s"], tl[column], where="post", label=name, lw=1.2)
    if limit is not None:
        ax.axhline(limit, ls="--", color=COLORS["rule"], lw=1)
        ax.annotate(f"{limit:,.0f}", (0, limit), xytext=(2, 3), textcoords="offset points", fontsize=8)
    ax.set_xlabel("time since the storm began (s)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def storm_panels(tl: pd.DataFrame, title: str | None = None) -> Figure:
    """Concurrency, throttles per bin and backlog of one storm, stacked on a shared time axis."""
    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(6, 4.5))
    axes[0].step(tl["time_s"], tl["concurrency_max"], where="post", color=COLORS["line"])
    axes[0].set_ylabel("concurrency")
    axes[1].bar(tl["time_s"], tl["throttles"], width=np.diff(tl["time_s"]).min() if len(tl) > 1 else 1,
                align="edge", color=COLORS["throttled"])
    # throttles span 0 to ~10^5 per bin: a log axis keeps the small late waves visible
    axes[1].set_yscale("log")
    axes[1].set_ylabel("throttles")
    axes[2].step(tl["time_s"], tl["backlog"], where="post", color=COLORS["timeout"])
    axes[2].set_ylabel("backlog")
    axes[2].set_xlabel("time since the storm began (s)")
    if title:
        axes[0].set_title(title)
    fig.tight_layout()
    return fig


def duplicate_curve(df: pd.DataFrame) -> Figure:
    """Simulated duplicate fraction (dots) and P(D > V) (line) against V / median(D)."""
    fig, ax = plt.subplots()
    ax.plot(df["v_over_d"], df["theory"], color=COLORS["rule"], lw=1.2, label="theory: P(D > V)")
    ax.plot(df["v_over_d"], df["duplicate_fraction"], "o", color=COLORS["throttled"], ms=4, label="simulated")
    ax.set_xlabel("visibility timeout / median processing time  (V / D)")
    ax.set_ylabel("messages processed twice or more")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def contention(df: pd.DataFrame, column: str = "calls", logy: bool = False) -> Figure:
    """Writes ("calls") or completion time (ms) against the number of clients, one line per strategy."""
    fig, ax = plt.subplots()
    if logy:
        ax.set_yscale("log")
    for strategy, g in df.groupby("strategy", sort=False):
        ax.plot(g["clients"], g[column], marker="o", ms=3, label=STRATEGY_LABELS.get(strategy, strategy))
    ax.set_xlabel("clients racing for one row")
    ax.set_ylabel("writes to the server (calls)" if column == "calls"
                  else "time until the last write's reply (ms)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def cost_bars(costs: pd.DataFrame) -> Figure:
    """Stacked horizontal bars: one per scenario, one segment per line item (US dollars)."""
    items = [c for c in costs.columns if c != "total_usd"]
    # horizontal, so long scenario names stack down the axis instead of colliding side by side
    fig, ax = plt.subplots(figsize=(6.4, 1.4 + 0.4 * len(costs)))
    left = np.zeros(len(costs))
    labels = {"lambda_requests_usd": "Lambda requests", "lambda_duration_usd": "Lambda GB-s",
              "sqs_usd": "SQS requests", "sns_usd": "SNS", "eventbridge_usd": "EventBridge",
              "s3_puts_usd": "S3 PUTs"}
    names = costs.index.astype(str)
    for item in items:
        vals = costs[item].to_numpy(dtype=float)
        ax.barh(names, vals, left=left, label=labels.get(item, item))
        left += vals
    ax.invert_yaxis()  # first scenario on top, as in the table
    ax.set_xlabel("US dollars")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def visibility_dlq(sweep: pd.DataFrame) -> Figure:
    """Percent of messages sent to the DLQ against the visibility timeout (in function
    timeouts), one line per retry spacing; the frame is ``storm.visibility_sweep``'s."""
    fig, ax = plt.subplots()
    for label, g in sweep.groupby("retries", sort=False):
        ax.plot(g["factor"], g["dlq_percent"], marker="o", ms=4, label=f"throttle retries: {label}")
    ax.axvline(6, ls="--", color=COLORS["rule"], lw=1)
    ax.annotate("AWS: 6 x timeout", (6, 50), xytext=(-4, 0), textcoords="offset points", ha="right", fontsize=8)
    ax.set_xlabel("visibility timeout / function timeout")
    ax.set_ylabel("messages sent to the DLQ (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
