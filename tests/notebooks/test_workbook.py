"""The learner's working copy: what the student edition keeps and clears, and that a learner's
copy is never overwritten (tools/workbook.py). Executing the editions is in tests/notebooks."""

from __future__ import annotations

from datetime import datetime, timezone

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools import workbook


def chapter(answer_text: str = "3"):
    def ran(source, text, tags=(), hidden=False):
        cell = new_code_cell(source, execution_count=1, outputs=[new_output("execute_result", {"text/plain": text}, execution_count=1)])
        cell.metadata["tags"] = list(tags)
        if hidden:
            cell.metadata["jupyter"] = {"source_hidden": True}
        return cell

    return new_notebook(cells=[
        new_markdown_cell("# Chapter"),
        ran("lab = 1", "the lesson's output"),
        ran("answer = None  # your code here", "", tags=["exercise"]),
        ran("answer = 3", answer_text, tags=["solution"], hidden=True),
        ran("check.ex1(answer)", "✓ Exercise 1: correct", tags=["check"]),
    ])


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(chapter(), folder / "00_start_here.ipynb")
    nbformat.write(chapter(), folder / "01_s3.ipynb")
    return folder


def read(path):
    return nbformat.read(path, as_version=4)


def test_the_student_edition_has_no_solution_and_no_stored_verdict():
    edition = workbook.student_edition(chapter())
    sources = [cell.source for cell in edition.cells]
    assert "answer = 3" not in sources
    starter, verdict = edition.cells[2], edition.cells[3]
    assert starter.outputs == [] and starter.execution_count is None
    assert verdict.outputs == [] and verdict.execution_count is None
    assert edition.cells[1].outputs[0]["data"]["text/plain"] == "the lesson's output"


def test_the_solutions_show_their_code():
    solutions = workbook.solutions_edition(chapter())
    shown = [c for c in solutions.cells if "solution" in c.metadata.get("tags", [])]
    assert len(shown) == 1 and "source_hidden" not in shown[0].metadata.get("jupyter", {})


def test_build_makes_every_chapter_and_its_solutions(source, tmp_path):
    target = tmp_path / "workbook"
    messages = workbook.build(source, target)
    assert sorted(p.name for p in target.glob("*.ipynb")) == ["00_start_here.ipynb", "01_s3.ipynb"]
    assert sorted(p.name for p in (target / "solutions").glob("*.ipynb")) == ["00_start_here.ipynb", "01_s3.ipynb"]
    assert len(messages) == 2 and all(m.startswith("created workbook/") for m in messages)
    assert "answer = 3" not in [c.source for c in read(target / "01_s3.ipynb").cells]
    assert "answer = 3" in [c.source for c in read(target / "solutions" / "01_s3.ipynb").cells]


def test_build_never_overwrites_the_learners_work(source, tmp_path):
    target = tmp_path / "workbook"
    workbook.build(source, target)
    mine = read(target / "00_start_here.ipynb")
    mine.cells[2].source = "answer = 42  # my attempt"
    nbformat.write(mine, target / "00_start_here.ipynb")
    assert workbook.build(source, target) == []
    assert read(target / "00_start_here.ipynb").cells[2].source == "answer = 42  # my attempt"


def test_a_newer_source_is_reported_with_the_target_that_starts_over(source, tmp_path):
    target = tmp_path / "workbook"
    workbook.build(source, target)
    nbformat.write(chapter(answer_text="changed upstream"), source / "01_s3.ipynb")
    (message,) = workbook.build(source, target)
    assert "01_s3.ipynb" in message and "00_start_here" not in message
    assert "make workbook-reset" in message


def test_a_chapter_added_upstream_appears_without_touching_the_others(source, tmp_path):
    target = tmp_path / "workbook"
    workbook.build(source, target)
    (target / "00_start_here.ipynb").write_text("{}", encoding="utf-8")  # whatever the learner left
    nbformat.write(chapter(), source / "02_sqs.ipynb")
    assert workbook.build(source, target) == ["created workbook/02_sqs.ipynb"]
    assert (target / "00_start_here.ipynb").read_text(encoding="utf-8") == "{}"


def test_reset_keeps_the_learners_copies_and_starts_over(source, tmp_path):
    target = tmp_path / "workbook"
    workbook.build(source, target)
    (target / "00_start_here.ipynb").write_text("{}", encoding="utf-8")
    nbformat.write(chapter(answer_text="changed upstream"), source / "01_s3.ipynb")
    when = datetime(2026, 12, 2, 9, 30, tzinfo=timezone.utc)
    messages = workbook.reset(source, target, now=when)
    assert messages[0] == "your previous copies are in workbook/.backup/20261202T093000Z/"
    assert (target / ".backup" / "20261202T093000Z" / "00_start_here.ipynb").read_text(encoding="utf-8") == "{}"
    assert read(target / "00_start_here.ipynb").cells[0].source == "# Chapter"
    assert workbook.build(source, target) == []  # nothing stale any more


def test_jupyterlab_binds_to_loopback_rooted_at_the_working_copy():
    command = workbook.jupyter_command(9999, ["--no-browser"])
    assert "--ip=127.0.0.1" in command and "--port=9999" in command and "--no-browser" in command
    assert f"--ServerApp.root_dir={workbook.WORKBOOK}" in command
    assert command[-1] == str(workbook.WORKBOOK / "00_start_here.ipynb")


def test_build_copies_the_pages_afresh_every_time(source, tmp_path):
    """The index, glossary and further reading are not learner work: every build refreshes them."""
    for page in workbook.PAGES:
        (source / page).write_text(f"# {page}\n", encoding="utf-8")
    target = tmp_path / "workbook"
    messages = workbook.build(source, target)
    assert len(messages) == 2  # the two chapters; copying the pages is not news to the learner
    for page in workbook.PAGES:
        assert (target / page).read_text(encoding="utf-8") == f"# {page}\n"
        assert (target / "solutions" / page).read_text(encoding="utf-8") == f"# {page}\n"
    (source / "index.md").write_text("# index, regenerated upstream\n", encoding="utf-8")
    (target / "glossary.md").write_text("scribbled on", encoding="utf-8")
    assert workbook.build(source, target) == []
    assert (target / "index.md").read_text(encoding="utf-8") == "# index, regenerated upstream\n"
    assert (target / "glossary.md").read_text(encoding="utf-8") == "# glossary.md\n"


def test_the_pages_copied_are_the_tracked_ones():
    from tools import pages

    assert workbook.PAGES == pages.PAGES
    assert all((workbook.SOURCE / page).exists() for page in workbook.PAGES)
