"""SQS figures: how many times each message reached the function (DataFrame in, Figure out)."""

from __future__ import annotations

from typing import Iterable, Mapping

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from .palette import COLORS, outcome_color

#: Outcomes in which the function actually received the batch.
DELIVERED = ("success", "error", "timeout")


def receives_per_message(frame: pd.DataFrame, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per message, in order of first delivery.

    Columns: ``message`` (the label, or the message id), ``deliveries`` (invocations
    whose batch held it), ``failed`` (those that ended in error or timeout; an item
    reported in ``batchItemFailures`` of a successful invocation does not count) and
    ``last_outcome`` (of the last invocation that held it). Throttled attempts never reached the handler and are not
    counted; a message dropped by a filter shows 0 deliveries and ``dropped``.
    """
    rows: dict[str, dict] = {}
    for row in frame.itertuples():
        for item in row.items:
            entry = rows.setdefault(item, {"deliveries": 0, "failed": 0, "last_outcome": row.outcome})
            if row.outcome in DELIVERED:
                entry["deliveries"] += 1
                entry["failed"] += int(row.outcome != "success")
                entry["last_outcome"] = row.outcome
            elif row.outcome == "dropped":
                entry["last_outcome"] = "dropped"
    out = pd.DataFrame(
        [{"message": (labels or {}).get(item, item), **entry} for item, entry in rows.items()],
        columns=["message", "deliveries", "failed", "last_outcome"],
    )
    return out.astype({"deliveries": int, "failed": int})


def receives(frame: pd.DataFrame, labels: Mapping[str, str] | None = None,
             max_receive_count: int | None = None, title: str = "Deliveries per message", *,
             highlight: Iterable[str] = (), highlight_label: str = "poison message",
             others_label: str = "the rest of its batch") -> Figure:
    """Bars of deliveries per message; optional maxReceiveCount line.

    Bars are coloured by the last outcome. ``highlight`` (messages by label, or id when
    unlabelled) singles some out instead: those bars get the error colour and
    ``highlight_label``, every other bar the muted colour and ``others_label``, so a
    poison message stands out from the messages it dragged along.
    """
    data = receives_per_message(frame, labels)
    marked = set(highlight)
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.28 * len(data) + 1)))
    if marked:
        colors = [COLORS["error"] if m in marked else COLORS["muted"] for m in data["message"]]
    else:
        colors = [outcome_color(o) for o in data["last_outcome"]]
    ax.barh(range(len(data)), data["deliveries"], color=colors)
    ax.set_yticks(range(len(data)))
    ax.set_yticklabels(data["message"], fontsize=8)
    ax.invert_yaxis()
    handles = []
    if marked:
        handles += [plt.Rectangle((0, 0), 1, 1, color=COLORS["error"], label=highlight_label),
                    plt.Rectangle((0, 0), 1, 1, color=COLORS["muted"], label=others_label)]
    if max_receive_count is not None:
        handles.append(ax.axvline(max_receive_count, color=COLORS["rule"], linestyle="--",
                                  label=f"maxReceiveCount {max_receive_count}"))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_xlabel("times delivered to the function")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title)
    fig.tight_layout()
    return fig
