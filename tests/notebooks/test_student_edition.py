"""The student edition of every chapter, executed as a learner first meets it (strict nbval cannot
compare it: its exercise outputs are cleared). Every cell runs; each check, on the untouched
starter, says "not yet" with a hint and does not raise."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tools import workbook

NOTEBOOKS = workbook.chapters()
RAISES_TAG = "raises-exception"


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif output["output_type"] in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def _tagged(nb, tag: str) -> list:
    return [cell for cell in nb.cells if tag in cell.metadata.get("tags", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_the_student_edition_runs_and_every_check_says_not_yet(path: Path, tmp_path: Path):
    source = nbformat.read(path, as_version=4)
    edition = workbook.student_edition(source)
    assert not _tagged(edition, "solution")
    checks = _tagged(edition, "check")
    assert len(checks) == len(_tagged(source, "solution")) > 0, "each solution needs one check cell"
    NotebookClient(edition, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    for index, cell in enumerate(edition.cells):
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        if RAISES_TAG not in cell.metadata.get("tags", []):
            assert not errors, f"cell {index} raised {errors[0]['ename']}: {errors[0]['evalue']}\n{cell.source}"
    for cell in checks:
        verdict = _text(cell)
        assert "not yet" in verdict, f"{cell.source!r} printed {verdict!r}"
        assert "\n  - " in verdict, f"{cell.source!r} gave no hint: {verdict!r}"
