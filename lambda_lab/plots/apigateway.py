"""API Gateway figures: what users wait for, request by request (DataFrame in, Figure out)."""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .palette import COLORS


def latency_summary(runs: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Per run (``api.requests()`` frames by label): requests, cold starts, p50, p99 and max latency (ms)."""
    rows = []
    for label, frame in runs.items():
        latency = frame["latency_ms"].to_numpy()
        rows.append({"run": label, "requests": len(frame), "cold starts": int(frame["cold_start"].sum()),
                     "p50 ms": _nearest_rank(latency, 0.50), "p99 ms": _nearest_rank(latency, 0.99),
                     "max ms": float(latency.max()) if len(latency) else float("nan")})
    return pd.DataFrame(rows)


def _nearest_rank(values: np.ndarray, q: float) -> float:
    """The smallest value at or above a fraction ``q`` of ``values`` (CloudWatch's percentiles)."""
    if not len(values):
        return float("nan")
    ordered = np.sort(values)
    return float(ordered[int(np.ceil(q * len(ordered))) - 1])


def latency(runs: Mapping[str, pd.DataFrame], title: str = "What users waited for") -> Figure:
    """One row of dots per run: each request's latency (ms, log scale), cold starts in the error colour."""
    fig, ax = plt.subplots(figsize=(7, 1.0 + 0.8 * len(runs)))
    for row, (label, frame) in enumerate(runs.items()):
        warm, cold = frame[~frame["cold_start"]], frame[frame["cold_start"]]
        ax.scatter(warm["latency_ms"], [row] * len(warm), s=12, color=COLORS["success"], alpha=0.5,
                   label="warm" if row == 0 else None)
        ax.scatter(cold["latency_ms"], [row] * len(cold), s=24, color=COLORS["error"], marker="D",
                   label="cold start" if row == 0 else None)
    ax.set_yticks(range(len(runs)))
    ax.set_yticklabels(list(runs))
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylim(-0.6, len(runs) - 0.4)
    ax.invert_yaxis()
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    return fig
