"""Every chapter's final wiring exports as a SAM project that ``lambda_lab.cloud.validate`` passes.

Each chapter runs in a kernel as in ``test_rerun.py`` (once). Just before its closing ``lab.close()``
cell (a closed lab has stopped moto and its triggers, so there would be nothing left to read), one
extra cell exports the chapter's ``lab`` with ``lab.to_sam(<a temporary folder>, stub_unexportable=True)``,
validates it (cfn-lint, the SAM transform, cfn-lint again; offline) and prints what it found as JSON.

Stubs are allowed: most chapters' handlers are lambdas or cell functions that read notebook state
(the ``lab``, a client, a helper), which cannot be copied into a deployable file. What is checked is
that every function is exported, as code or as a stub the report names, that each file exported
as code imports on its own (no notebook around it) and defines its handler, and that the template
CloudFormation would get has no error and no warning. The temporary folder is made and removed
inside the kernel; nothing is written in the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: Starts the printed line, so the JSON is found among anything else the cell prints.
MARK = "CHAPTER-EXPORT "
EXPORT = f'''
import json as _json
import tempfile as _tempfile

from lambda_lab.cloud import validate as _validate

def _imports_alone(project, function):
    """Import the function's exported file as a module of its own (no notebook); '' or why it fails."""
    import importlib.util

    module_file, handler = function["handler"].rsplit(".", 1)
    spec = importlib.util.spec_from_file_location(
        "exported_" + function["name"].replace("-", "_"), project / "functions" / function["name"] / (module_file + ".py"))
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        return f"{{type(error).__name__}}: {{error}}"
    return "" if callable(getattr(module, handler, None)) else f"no {{handler}} in {{module_file}}.py"


with _tempfile.TemporaryDirectory() as _folder:
    _project = lab.to_sam(_folder, stub_unexportable=True)
    _found = _validate(_project)
    _report = _json.loads((_project / "export-report.json").read_text())
    _broken = {{f["name"]: _imports_alone(_project, f) for f in _report["functions"]}}
print({MARK!r} + _json.dumps({{
    "errors": _found.errors, "warnings": _found.warnings, "types": _found.transformed_types,
    "functions": sorted(lab.runtime.functions), "as_code": [f["name"] for f in _report["functions"]],
    "stubs": {{s["name"]: s["reason"] for s in _report["stubs"]}},
    "broken": {{name: why for name, why in _broken.items() if why}}}}))
'''


def _run_with_export(path: Path) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """The chapter, run once in one kernel with the export cell before its last ``lab.close()`` (or at the end)."""
    notebook = nbformat.read(path, as_version=4)
    closing = [i for i, cell in enumerate(notebook.cells)
               if cell.cell_type == "code" and "lab.close()" in cell.source.splitlines()]
    export = nbformat.v4.new_code_cell(EXPORT)
    notebook.cells.insert(closing[-1] if closing else len(notebook.cells), export)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                cell.outputs = []
                client.execute_cell(cell, index)
    return notebook, export


def _errors(cell) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for o in cell.get("outputs", []) if o["output_type"] == "error"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_the_final_wiring_exports_and_validates(path):
    notebook, export = _run_with_export(path)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if "raises-exception" in cell.metadata.get("tags", []):  # a chapter's deliberate error, as in nbval
            assert _errors(cell), f"cell {index} should raise:\n{cell.source}"
        else:
            assert not _errors(cell), f"cell {index} raised {_errors(cell)}:\n{cell.source}"
    printed = "".join(o["text"] for o in export.outputs if o["output_type"] == "stream" and o["name"] == "stdout")
    (line,) = [text for text in printed.splitlines() if text.startswith(MARK)]
    found = json.loads(line[len(MARK):])
    assert found["errors"] == []
    assert found["warnings"] == []
    assert found["types"]["AWS::Lambda::Function"] == len(found["functions"]) > 0
    # Every function of the lab once: exported as code, or a stub with the reason in the report.
    assert sorted(found["as_code"] + list(found["stubs"])) == found["functions"]
    assert all(found["stubs"].values())
    # What is exported as code imports on its own, from its file, and has its handler.
    assert found["broken"] == {}
