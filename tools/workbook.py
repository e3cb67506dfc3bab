"""The learner's working copy: the student edition of every chapter, in git-ignored ``workbook/``.

    python tools/workbook.py build                  create what is missing; report chapters whose source changed
    python tools/workbook.py reset                  keep the learner's copies in workbook/.backup/<time>/, start over
    python tools/workbook.py open [--port N] [...]  build, then serve JupyterLab on 127.0.0.1, on chapter 00

``notebooks/`` is the tracked source: solutions and stored outputs, what strict nbval compares.
The student edition leaves out the cells tagged ``solution`` and clears the outputs of the cells
tagged ``exercise`` (the learner's starter) and ``check``; every other cell keeps its outputs, so
a learner reads the chapter before running it. ``workbook/solutions/`` holds every chapter with
its solutions shown, for a learner who opens them on purpose.

The index, glossary and further-reading pages (``notebooks/*.md``) are not learner work: every
``build`` copies them afresh, into ``workbook/`` and ``workbook/solutions/``.

A copy, once made, belongs to the learner: ``build`` never overwrites it. When its source changed
(after ``git pull``), ``build`` says so and names ``make workbook-reset``. JupyterLab is rooted at
``workbook/``, so nothing saved from it (autosave, Run All, Clear Outputs) reaches a tracked file.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "notebooks"
WORKBOOK = ROOT / "workbook"
SOLUTION_TAG = "solution"
#: Cells whose outputs the student edition clears: the starter a learner completes, and its check.
CLEARED_TAGS = frozenset({"exercise", "check"})
STATE_FILE = ".edition.json"
FIRST_CHAPTER = "00_start_here.ipynb"
RESET_TARGET = "make workbook-reset"
#: Pages that are not learner work (the index, made from the chapters by tools/pages.py, the glossary,
#: further reading): copied into the working copy and beside the solutions on every build.
PAGES = ("index.md", "glossary.md", "further-reading.md")


def chapters(source: Path = SOURCE) -> list[Path]:
    """The chapter notebooks of ``source``, in order."""
    return sorted(source.glob("[0-9][0-9]_*.ipynb"))


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def student_edition(nb):
    """A copy of ``nb`` without solution cells, with the exercise and check cells' outputs cleared."""
    edition = copy.deepcopy(nb)
    edition.cells = [cell for cell in edition.cells if SOLUTION_TAG not in _tags(cell)]
    for cell in edition.cells:
        if cell.cell_type == "code" and _tags(cell) & CLEARED_TAGS:
            cell.outputs = []
            cell.execution_count = None
    return edition


def solutions_edition(nb):
    """A copy of ``nb`` with its solution cells shown rather than collapsed."""
    edition = copy.deepcopy(nb)
    for cell in edition.cells:
        if SOLUTION_TAG in _tags(cell):
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
    return edition


def digest(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex): what a copy was built from."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _state(target: Path) -> dict[str, str]:
    path = target / STATE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def build(source: Path = SOURCE, target: Path = WORKBOOK) -> list[str]:
    """Create the chapters ``target`` lacks and refresh ``target/solutions``; return what to tell the learner.

    A chapter already in ``target`` is never rewritten. One whose source changed since it was
    made is reported, with the target that starts over.
    """
    (target / "solutions").mkdir(parents=True, exist_ok=True)
    state, messages, stale = _state(target), [], []
    for chapter in chapters(source):
        nb = nbformat.read(chapter, as_version=4)
        nbformat.write(solutions_edition(nb), target / "solutions" / chapter.name)
        copy_path = target / chapter.name
        if not copy_path.exists():
            nbformat.write(student_edition(nb), copy_path)
            state[chapter.name] = digest(chapter)
            messages.append(f"created {copy_path.relative_to(target.parent)}")
        elif state.get(chapter.name) != digest(chapter):
            stale.append(chapter.name)
    (target / STATE_FILE).write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    for page in PAGES:
        if (source / page).exists():
            for folder in (target, target / "solutions"):
                shutil.copyfile(source / page, folder / page)
    if stale:
        messages.append(
            f"newer in {source.name}/ than your working copy: {', '.join(stale)}. Your copies are kept as "
            f"they are; `{RESET_TARGET}` starts over from the new versions (it keeps yours in "
            f"{target.name}/.backup/).")
    return messages


def reset(source: Path = SOURCE, target: Path = WORKBOOK, now: datetime | None = None) -> list[str]:
    """Move the learner's chapters to ``target/.backup/<UTC time>/`` and build every chapter afresh."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    backup = target / ".backup" / stamp
    mine = [target / c.name for c in chapters(source) if (target / c.name).exists()]
    for path in mine:
        backup.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), backup / path.name)
    (target / STATE_FILE).unlink(missing_ok=True)
    kept = [f"your previous copies are in {backup.relative_to(target.parent)}/"] if mine else []
    return kept + build(source, target)


def trust(target: Path = WORKBOOK) -> int:
    """Sign the working copy's chapters (and their solutions) as trusted; return how many were signed.

    What ``jupyter trust`` does: the signatures go to the user's Jupyter data directory
    (``nbsignatures.db``), never into a notebook, so no file changes. Without them JupyterLab shows
    "Not Trusted" and sanitizes the stored outputs a learner reads before running a chapter.
    JupyterLab re-signs a notebook itself when the learner saves it.
    """
    from nbformat.sign import NotebookNotary

    notary, signed = NotebookNotary(), 0
    try:
        for path in [*chapters(target), *chapters(target / "solutions")]:
            nb = nbformat.read(path, as_version=4)
            if not notary.check_signature(nb):
                notary.sign(nb)
                signed += 1
    finally:
        notary.store.close()
    return signed


def jupyter_command(port: int, extra: list[str]) -> list[str]:
    """The JupyterLab command line: 127.0.0.1 only, rooted at the working copy, opening chapter 00.

    ``default_url`` makes the URL JupyterLab prints (and the one ``/`` redirects to) land on
    chapter 00, with the token; the trailing path makes it open chapter 00 in the browser.
    """
    command = [str(Path(sys.executable).with_name("jupyter")), "lab", "--ip=127.0.0.1", f"--port={port}",
               f"--ServerApp.root_dir={WORKBOOK}", f"--LabApp.default_url=/lab/tree/{FIRST_CHAPTER}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # JupyterLab refuses root unless told; containers often run as root
    return command + extra + [str(WORKBOOK / FIRST_CHAPTER)]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("build", "reset", "open"):
        print(__doc__)
        return 2
    action, rest = argv[0], argv[1:]
    for message in (reset() if action == "reset" else build()):
        print(message)
    if action != "open":
        return 0
    port = 8888
    if rest and rest[0].startswith("--port="):
        port, rest = int(rest[0].split("=", 1)[1]), rest[1:]
    trust()
    command = jupyter_command(port, rest)
    os.execv(command[0], command)
    return 0  # not reached: JupyterLab replaces this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
