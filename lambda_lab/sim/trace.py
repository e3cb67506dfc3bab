"""The synthetic upload trace in data/storm_trace.csv, and how it was made.

A nightly job copies 100,000 files into a bucket over about two minutes: it ramps up over
10 s, uploads at roughly 1,000 files per second with Poisson noise, stalls for 8 s
(a network hiccup) and then catches up at double speed. Regenerate the file with
``python -m lambda_lab.sim trace > data/storm_trace.csv``; same seed, same file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._rng import Seed, make_rng


def make_trace(seconds: int = 120, seed: Seed = 2026) -> pd.DataFrame:
    """Events per second of the upload job (columns ``second``, ``events``)."""
    rng = make_rng(seed)
    t = np.arange(seconds)
    rate = np.full(seconds, 1_000.0)
    rate[:10] = np.linspace(100, 1_000, 10)  # ramp up
    rate[60:68] = 0.0  # the stall
    rate[68:76] = 2_000.0  # catching up
    rate[110:] = np.linspace(800, 50, seconds - 110)  # the tail
    return pd.DataFrame({"second": t, "events": rng.poisson(rate)})


def main() -> None:
    print(make_trace().to_csv(index=False), end="")
