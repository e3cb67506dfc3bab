"""The asynchronous retry schedule as a figure: one lane per event, one mark per attempt.

``retry_schedule(frame)`` is the data (tested); ``retry_timeline(frame, outcomes)`` draws it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from .palette import COLORS, OUTCOME_COLORS, outcome_color

#: How an event ended (``lab.outcomes()["ending"]``), and the mark drawn for it.
ENDING_MARKS = {"processed": ("o", COLORS["success"]), "destination": ("s", COLORS["error"]),
                "dead_letter": ("s", COLORS["error"]), "dropped": ("s", COLORS["dropped"])}


def retry_schedule(frame: pd.DataFrame) -> pd.DataFrame:
    """Attempts per event (request id), in time order, with the wait before each one.

    Columns: ``request_id``, ``function``, ``attempt``, ``start``/``end`` (s since the lab
    started), ``outcome``, ``gap_s`` (seconds from the end of the previous attempt of the
    same event to this start; NaN for the first). ``dropped`` rows are endings, not attempts.
    """
    rows = frame[frame["outcome"] != "dropped"].sort_values(["start", "attempt"], kind="stable")
    rows = rows[["request_id", "function", "attempt", "start", "end", "outcome"]].copy()
    rows["gap_s"] = (rows["start"] - rows.groupby("request_id")["end"].shift()).round(3)
    return rows.reset_index(drop=True)


def retry_timeline(frame: pd.DataFrame, outcomes: pd.DataFrame | None = None,
                   title: str = "Asynchronous retries") -> Figure:
    """Attempts of each event on a time axis (minutes since the first attempt), coloured by outcome.

    ``outcomes`` (``lab.outcomes()``) adds where each event ended.
    """
    schedule = retry_schedule(frame)
    order = list(dict.fromkeys(schedule["request_id"]))
    t0 = schedule["start"].min() if len(schedule) else 0.0
    fig, ax = plt.subplots()
    for lane, request_id in enumerate(order):
        tries = schedule[schedule["request_id"] == request_id]
        ax.plot((tries["start"] - t0) / 60, [lane] * len(tries), color=COLORS["muted"], zorder=1)
        for row in tries.itertuples():
            ax.scatter((row.start - t0) / 60, lane, color=outcome_color(row.outcome), zorder=2, s=40)
            if pd.notna(row.gap_s) and row.gap_s >= 1:
                ax.annotate(f"+{row.gap_s:.0f} s", ((row.start - t0) / 60, lane), textcoords="offset points",
                            xytext=(0, 7), ha="center", fontsize=8)
    if outcomes is not None:
        ended = outcomes[outcomes["request_id"].isin(order) & (outcomes["ending"] != "pending")]
        for row in ended.drop_duplicates("request_id").itertuples():
            marker, color = ENDING_MARKS.get(row.ending, ("s", COLORS["dropped"]))
            lane = order.index(row.request_id)
            ax.scatter((row.ended - t0) / 60, lane, marker=marker, facecolor="none", edgecolor=color, s=120, zorder=3)
            label = row.ending if row.ending == "processed" else f"{row.ending} → {row.where.split(';')[0]}"
            ax.annotate(label, ((row.ended - t0) / 60, lane), textcoords="offset points", xytext=(8, -12), fontsize=8)
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([f"event {i + 1}" for i in range(len(order))])
    ax.set_ylim(len(order) - 0.5, -0.8)
    ax.set_xlabel("minutes since the first attempt")
    ax.set_title(title)
    handles = [plt.Line2D([], [], marker="o", linestyle="none", color=c) for o, c in OUTCOME_COLORS.items()
               if o in set(schedule["outcome"])]
    ax.legend(handles, [o for o in OUTCOME_COLORS if o in set(schedule["outcome"])], loc="upper left",
              bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    return fig
