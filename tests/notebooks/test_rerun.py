"""Running every cell of a chapter twice in one kernel prints what the notebook stores.

nbval checks one fresh run; this checks that set-up is idempotent, as it must be for a
learner who presses Run All a second time. It runs in ``make notebooks`` beside nbval, not in the
unit step (which leaves ``tests/notebooks`` out: starting kernels is the slow part of the suite).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: What nbval compares, minus images (nbval skips them too).
COMPARED = ("text/plain", "text/html", "application/json")


def _comparable(cell) -> list:
    """The outputs nbval compares; a stream split into chunks counts as one text, as in nbval."""
    found = []
    for output in cell.get("outputs", []):
        kind = output["output_type"]
        if kind == "stream":
            if found and found[-1][0] == output["name"]:
                found[-1] = (output["name"], found[-1][1] + output["text"])
            else:
                found.append((output["name"], output["text"]))
        elif kind == "error":
            found.append(("error", output["ename"], output["evalue"]))
        else:
            data = output.get("data", {})
            found.append(tuple((key, data[key]) for key in COMPARED if key in data))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_run_all_twice_gives_the_stored_outputs(path):
    stored = nbformat.read(path, as_version=4)
    fresh = nbformat.read(path, as_version=4)
    client = NotebookClient(fresh, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        for _ in range(2):
            for index, cell in enumerate(fresh.cells):
                if cell.cell_type == "code":
                    cell.outputs = []
                    client.execute_cell(cell, index)
    for index, (want, got) in enumerate(zip(stored.cells, fresh.cells)):
        if want.cell_type == "code" and "NBVAL_IGNORE_OUTPUT" not in want.source:
            assert _comparable(got) == _comparable(want), f"cell {index} differs on the second run:\n{want.source}"
