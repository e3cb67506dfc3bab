"""Display defaults that make a chapter print the same thing on every machine."""

from __future__ import annotations

import warnings
from importlib import resources


def setup() -> None:
    """Set pandas, matplotlib and warning defaults for a chapter (idempotent)."""
    import matplotlib
    import matplotlib.pyplot as plt
    import pandas as pd

    pd.set_option("display.width", 120)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.max_colwidth", 60)
    pd.set_option("display.precision", 3)
    matplotlib.rcdefaults()
    with resources.as_file(resources.files("lambda_lab") / "lab.mplstyle") as style:
        plt.style.use(str(style))
    # Third-party deprecation chatter would land in stderr and differ between versions.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
