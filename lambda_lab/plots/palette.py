"""The workbook's colours, read from the style file so a figure and its legend never disagree."""

from __future__ import annotations

from importlib import resources

import matplotlib

#: Colour names, in the order of ``axes.prop_cycle`` in ``lab.mplstyle``.
NAMES = ("success", "error", "timeout", "throttled", "dropped", "line", "muted", "rule")


def _load() -> dict[str, str]:
    with resources.as_file(resources.files("lambda_lab") / "lab.mplstyle") as style:
        cycle = matplotlib.rc_params_from_file(str(style), use_default_template=False)["axes.prop_cycle"]
    colors = cycle.by_key()["color"]
    if len(colors) != len(NAMES):
        raise RuntimeError(f"lab.mplstyle has {len(colors)} colours in axes.prop_cycle; palette.NAMES has {len(NAMES)}")
    return dict(zip(NAMES, (c if c.startswith("#") else f"#{c}" for c in colors)))


#: Name -> hex colour.
COLORS: dict[str, str] = _load()

#: One colour per invocation outcome (``lab.log`` ``outcome``), the same in every chapter.
OUTCOME_COLORS = {name: COLORS[name] for name in ("success", "error", "timeout", "throttled", "dropped")}


def outcome_color(outcome: str) -> str:
    """The colour of an invocation outcome; ``muted`` for one the palette does not name."""
    return OUTCOME_COLORS.get(outcome, COLORS["muted"])
