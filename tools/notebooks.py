"""Keep chapter notebooks executed, normalized and paired with their py:percent file.

    python tools/notebooks.py refresh [NOTEBOOK ...]   re-execute, normalize, rewrite the .py pair
    python tools/notebooks.py check   [NOTEBOOK ...]   fail if any notebook is not in that state

``check`` also fails when a stored output shows a path of the machine that ran it (a traceback
into site-packages, a /tmp file name) and when notebooks/index.md no longer matches the chapters'
opening cells (``tools/pages.py``); ``refresh`` rewrites the index.

The .ipynb with its outputs is the source of truth (strict nbval compares against it);
the .py pair exists so reviews read code and prose, not JSON.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
STRIP_FLAGS = [
    "--keep-output",
    "--keep-count",
    "--keep-id",
    "--extra-keys",
    "metadata.language_info.version",
]
RAISES = "NBVAL_RAISES_EXCEPTION"
#: JupyterLab's Run All continues past an error only in cells with this tag; nbval reads it too.
RAISES_TAG = "raises-exception"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
IGNORE = re.compile(r"#\s*NBVAL_IGNORE_OUTPUT(.*)")
FORBIDDEN = {"time.sleep(": "time is virtual in this workbook: advance lab.clock instead"}
#: An absolute path of the machine that executed a cell: a home or temporary folder, an installed
#: package, a Windows drive. Stored outputs must read the same on every machine.
MACHINE_PATH = re.compile(
    r"(?<![\w.~/-])(?:/home/|/root/|/tmp/|/work/|/Users/|/var/folders/|/private/var/|/opt/|/usr/|/srv/|/mnt/)"
    r"|(?<![\w])[A-Za-z]:\\(?=[\w.$ ])"
    r"|file:///|site-packages|dist-packages"
)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _paired(nb_path: Path) -> Path:
    return nb_path.with_suffix(".py")


def prepare(nb) -> None:
    """Name the kernel (so JupyterLab asks nothing) and turn ``# NBVAL_RAISES_EXCEPTION``
    comments into the ``raises-exception`` tag (nbval warns when both are present)."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in nb.cells:
        if cell.cell_type == "code" and RAISES in cell.source:
            cell.source = "\n".join(line for line in cell.source.splitlines() if RAISES not in line)
            tags = cell.metadata.setdefault("tags", [])
            if RAISES_TAG not in tags:
                tags.append(RAISES_TAG)


def execute(nb_path: Path) -> list[str]:
    """Run every cell in a fresh kernel in the notebook's folder; return unexpected errors."""
    nb = nbformat.read(nb_path, as_version=4)
    prepare(nb)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True, record_timing=False,
        resources={"metadata": {"path": str(nb_path.parent)}},
    )
    client.execute()
    nbformat.write(nb, nb_path)
    problems = []
    for index, cell in enumerate(nb.cells):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors and RAISES_TAG not in cell.metadata.get("tags", []):
            problems.append(f"{nb_path.name} cell {index}: {errors[0]['ename']}: {errors[0]['evalue']}")
    return problems


def refresh(nb_path: Path) -> list[str]:
    """Bring the notebook up to date with its .py (if newer), execute, normalize, re-pair."""
    py_path = _paired(nb_path)
    if py_path.exists() and (not nb_path.exists() or py_path.stat().st_mtime > nb_path.stat().st_mtime):
        subprocess.run([_bin("jupytext"), "--quiet", "--to", "ipynb", "--update", str(py_path),
                        "-o", str(nb_path)], check=True)
    problems = execute(nb_path)
    subprocess.run([_bin("nbstripout"), *STRIP_FLAGS, str(nb_path)], check=True)
    subprocess.run([_bin("jupytext"), "--quiet", "--to", "py:percent", str(nb_path)], check=True)
    return problems


def check(nb_path: Path) -> list[str]:
    """Everything CI requires of a committed notebook, as a list of problems."""
    problems = []
    verify = subprocess.run([_bin("nbstripout"), "--verify", *STRIP_FLAGS, str(nb_path)], capture_output=True)
    if verify.returncode != 0:
        problems.append(f"{nb_path.name}: not normalized (run: make refresh NB={nb_path.relative_to(ROOT)})")
    py_path = _paired(nb_path)
    expected = subprocess.run([_bin("jupytext"), "--quiet", "--to", "py:percent", "-o", "-", str(nb_path)],
                              capture_output=True, text=True, check=True).stdout
    if not py_path.exists() or py_path.read_text(encoding="utf-8").strip() != expected.strip():
        problems.append(f"{nb_path.name}: {py_path.name} is missing or out of sync with the notebook")
    nb = nbformat.read(nb_path, as_version=4)
    if nb.metadata.get("kernelspec", {}).get("name") != KERNELSPEC["name"]:
        problems.append(f"{nb_path.name}: no python3 kernelspec, so JupyterLab would ask which kernel to use")
    for index, cell in enumerate(nb.cells):
        problems += _check_cell(nb_path.name, index, cell)
    return problems


def _check_cell(name: str, index: int, cell) -> list[str]:
    if cell.cell_type != "code":
        return []
    problems = []
    if cell.execution_count is None and cell.source.strip():
        problems.append(f"{name} cell {index}: never executed, so nbval would not check it")
    for line in cell.source.splitlines():
        match = IGNORE.search(line)
        if match and len(match.group(1).strip(" :-—")) < 10:
            problems.append(f"{name} cell {index}: NBVAL_IGNORE_OUTPUT needs a comment saying why")
    if RAISES in cell.source:
        problems.append(f"{name} cell {index}: use the {RAISES_TAG!r} tag instead of {RAISES} (make refresh converts it)")
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if errors and RAISES_TAG not in cell.metadata.get("tags", []):
        problems.append(f"{name} cell {index}: raises {errors[0]['ename']} without the {RAISES_TAG!r} tag")
    for needle, why in FORBIDDEN.items():
        if needle in cell.source:
            problems.append(f"{name} cell {index}: {needle} found ({why})")
    for where, text in _output_texts(cell):
        found = MACHINE_PATH.search(text)
        if found:
            start = max(found.start() - 30, 0)
            problems.append(f"{name} cell {index}: {where} shows a path of the machine that ran it "
                            f"(...{text[start:found.end() + 30]!r}...)")
    return problems


def _output_texts(cell):
    """Every text a cell's outputs store, ANSI colours removed: (where, text). Binary images are skipped."""
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            yield f"{output.get('name', 'stream')} output", ANSI.sub("", output.get("text", ""))
        elif kind == "error":
            yield "error output", ANSI.sub("", "\n".join([output.get("evalue", ""), *output.get("traceback", [])]))
        else:
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json") or mime == "image/svg+xml":
                    text = value if isinstance(value, str) else json.dumps(value)
                    yield f"{mime} output", ANSI.sub("", text)


def _pages():
    """tools/pages.py, whether this file runs as a script (tools/ on sys.path) or as ``tools.notebooks``."""
    if __package__:
        from tools import pages
    else:
        import pages
    return pages


def _notebooks(args: list[str]) -> list[Path]:
    if args:
        return [Path(a).resolve() for a in args]
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("refresh", "check"):
        print(__doc__)
        return 2
    action = refresh if argv[0] == "refresh" else check
    problems = []
    for nb_path in _notebooks(argv[1:]):
        found = action(nb_path)
        print(f"{'ok ' if not found else 'BAD'} {nb_path.name}")
        problems += found
    pages = _pages()
    if action is refresh:
        try:
            pages.write_index()
        except pages.SkeletonError:
            pass  # pages.check() names the chapter
    found = pages.check()
    print(f"{'ok ' if not found else 'BAD'} {pages.INDEX}, README chapter table")
    problems += found
    for problem in problems:
        print(f"  - {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
