"""DynamoDB Streams figures: how long each record waited in its shard (DataFrame in, Figure out)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from .palette import COLORS

#: A ledger ending -> its colour name in the palette.
ENDING_COLORS = {"processed": "success", "destination": "throttled", "dropped": "error", "pending": "muted"}


def waits_data(outcomes: pd.DataFrame, now_s: float) -> pd.DataFrame:
    """One row per record, in stream order: ``written`` and ``left`` (s since the lab started) and ``ending``.

    ``outcomes`` is ``lab.outcomes(...)`` for one stream mapping; a record still waiting
    (``pending``) has ``left`` = ``now_s``. ``waited_h`` is the wait in hours.
    """
    rows = outcomes.sort_values("item", key=lambda s: s.map(int))  # sequence numbers outgrow int64
    left = rows["ended"].fillna(now_s)
    return pd.DataFrame({"record": range(1, len(rows) + 1), "written": rows["accepted"].to_numpy(),
                         "left": left.to_numpy(), "ending": rows["ending"].to_numpy(),
                         "waited_h": ((left - rows["accepted"]) / 3600).round(2).to_numpy()})


def waits(outcomes: pd.DataFrame, now_s: float, title: str = "How long each record waited in the shard") -> Figure:
    """A bar per record from when it was written to when it left the shard, coloured by its ending (hours)."""
    data = waits_data(outcomes, now_s)
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.25 * len(data) + 1)))
    for row in data.itertuples():
        ax.barh(row.record, max(row.waited_h, 0.05), left=row.written / 3600,
                color=COLORS[ENDING_COLORS.get(row.ending, "muted")], height=0.6)
    for ending in dict.fromkeys(data["ending"]):
        ax.barh([], [], color=COLORS[ENDING_COLORS.get(ending, "muted")], label=ending)
    ax.set_xlabel("hours since the lab started")
    ax.set_ylabel("record (stream order)")
    ax.invert_yaxis()
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    return fig
