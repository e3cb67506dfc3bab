"""tools/pages.py: the index read from the chapters' opening cells, its staleness check, the README's
chapter table, and the "← previous · index · next →" cell at the end of a chapter."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tools import pages

OPENING = """# {number} · {title}: {subtitle}

A promise in two
lines.

**You will learn to:** do one thing · do
another thing.

**Time:** {minutes} minutes · **Prerequisites:** chapter 00.

## At a glance

| a | b |
"""


def chapter(number="01", title="S3", subtitle="an upload", minutes=35, extra=()):
    return new_notebook(cells=[new_markdown_cell(OPENING.format(number=number, title=title, subtitle=subtitle,
                                                                minutes=minutes)),
                               new_code_cell("lab = 1"), *extra])


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(chapter("00", "Start here", "how", 20), folder / "00_start_here.ipynb")
    nbformat.write(chapter("01", "S3", "an upload", 35), folder / "01_s3.ipynb")
    nbformat.write(chapter("07", "Event storms", "100,000 files", 30), folder / "07_event_storms.ipynb")
    for page in (pages.GLOSSARY, pages.READING):
        (folder / page).write_text("# page\n", encoding="utf-8")
    return folder


@pytest.fixture
def readme(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("| chapter | time | what you learn |\n|---|---|---|\n"
                    "| [00 · Start here](notebooks/00_start_here.ipynb) | 20 min | things |\n"
                    "| [01 · S3](notebooks/01_s3.ipynb) | 35 min | things |\n"
                    "| [07 · Event storms](notebooks/07_event_storms.ipynb) | 30 min | things |\n", encoding="utf-8")
    return path


def test_the_opening_cell_gives_title_promise_goals_and_time():
    c = pages.read_chapter(chapter(), "01_s3.ipynb")
    assert (c.number, c.title, c.subtitle, c.label) == ("01", "S3", "an upload", "01 · S3")
    assert c.promise == "A promise in two lines."
    assert c.goals == ("do one thing", "do another thing")
    assert (c.minutes, c.prerequisites) == (35, "chapter 00")


def test_a_chapter_without_the_skeleton_is_named():
    nb = new_notebook(cells=[new_markdown_cell("# 01 · S3: an upload\n\nNo goals, no time.")])
    with pytest.raises(pages.SkeletonError, match=r"01_s3.ipynb: .*You will learn to.*Time"):
        pages.read_chapter(nb, "01_s3.ipynb")


def test_the_index_lists_every_chapter_with_time_and_goals_and_what_is_planned(source):
    text = pages.index_markdown(pages.chapters(source))
    assert "| [01 · S3](01_s3.ipynb) | 35 min | chapter 00 |" in text
    assert "## [07 · Event storms](07_event_storms.ipynb): 100,000 files" in text
    assert "- do another thing" in text and "**Time:** 20 minutes" in text
    assert "about 85 minutes" in text
    assert "03 · SNS, 04 · DynamoDB Streams, 05 · API Gateway, 06 · EventBridge and 08 · To the cloud are planned" in text
    nbformat.write(chapter("03", "SNS", "fan-out", 30), source / "03_sns.ipynb")
    assert "03 · SNS," not in pages.index_markdown(pages.chapters(source))  # written, so no longer planned


def test_check_fails_on_a_stale_index_and_passes_once_rewritten(source, readme):
    assert any("index.md is stale" in p for p in pages.check(source, readme))
    pages.write_index(source)
    assert pages.check(source, readme) == []
    nbformat.write(chapter("01", "S3", "an upload", 45), source / "01_s3.ipynb")  # the chapter grew
    problems = pages.check(source, readme)
    assert any("index.md is stale" in p for p in problems)
    assert "README.md: the chapter table's time for 01_s3.ipynb is not '45 min'" in problems


def test_check_compares_the_readme_table_with_the_chapters(source, readme):
    pages.write_index(source)
    readme.write_text(readme.read_text(encoding="utf-8").replace(
        "| [07 · Event storms](notebooks/07_event_storms.ipynb) | 30 min | things |\n",
        "| [02 · SQS](notebooks/02_sqs.ipynb) | 40 min | things |\n"), encoding="utf-8")
    assert pages.check(source, readme) == [
        "README.md: the chapter table has no row for 07_event_storms.ipynb",
        "README.md: the chapter table lists 02_sqs.ipynb, which does not exist",
    ]


def test_navigation_links_previous_index_and_next(source):
    found = pages.chapters(source)
    assert pages.nav_markdown(found, "00_start_here.ipynb") == "[index](index.md) · [01 · S3 →](01_s3.ipynb)"
    assert pages.nav_markdown(found, "01_s3.ipynb") == (
        "[← 00 · Start here](00_start_here.ipynb) · [index](index.md) · [07 · Event storms →](07_event_storms.ipynb)")
    assert pages.nav_markdown(found, "07_event_storms.ipynb") == "[← 01 · S3](01_s3.ipynb) · [index](index.md)"


def test_the_navigation_cell_is_added_once_updated_in_place_and_kept_last():
    nb = chapter()
    assert pages.set_navigation(nb, "[index](index.md)") is True
    assert nb.cells[-1].source == "[index](index.md)" and nb.cells[-1].metadata["tags"] == [pages.NAV_TAG]
    assert nb.cells[-1].id == pages.NAV_ID
    count = len(nb.cells)
    assert pages.set_navigation(nb, "[index](index.md)") is False  # already there: nothing to do
    assert pages.set_navigation(nb, "[← 00](00.ipynb) · [index](index.md)") is True
    assert len(nb.cells) == count and nb.cells[-1].source.startswith("[← 00]")
    nb.cells.append(new_markdown_cell("## A section added after it"))
    assert pages.set_navigation(nb, "[← 00](00.ipynb) · [index](index.md)") is True
    assert len(nb.cells) == count + 1 and nb.cells[-1].metadata["tags"] == [pages.NAV_TAG]
    assert sum(pages.NAV_TAG in c.metadata.get("tags", []) for c in nb.cells) == 1
    nbformat.validate(nb)


def test_navigate_writes_only_the_chapters_that_change(source):
    changed = pages.navigate(source=source, pair=False)
    assert [p.name for p in changed] == ["00_start_here.ipynb", "01_s3.ipynb", "07_event_storms.ipynb"]
    last = nbformat.read(source / "01_s3.ipynb", as_version=4).cells[-1]
    assert last.source.endswith("[07 · Event storms →](07_event_storms.ipynb)")
    assert pages.navigate(source=source, pair=False) == []
    nbformat.write(chapter("02", "SQS", "polling", 40), source / "02_sqs.ipynb")  # a chapter in between
    changed = pages.navigate(source=source, pair=False)
    assert [p.name for p in changed] == ["01_s3.ipynb", "02_sqs.ipynb", "07_event_storms.ipynb"]
    assert pages.chapters(source)[1].title == "S3"  # the navigation cell is never read as the opening
