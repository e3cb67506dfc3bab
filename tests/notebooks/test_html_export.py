"""tools/export_html.py (make html): a site that reads offline, every figure with an alt text, no widget repr."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from html.parser import HTMLParser

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools import export_html as html

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
WIDGET_REPR = "interactive(children=(IntSlider(value=100000, description='files'), Output()), _dom_classes=('widget-interact',))"


class Tags(HTMLParser):
    """Every tag of a page with its attributes, and the text outside scripts and styles."""

    def __init__(self):
        super().__init__()
        self.tags, self.text, self._skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse(path):
    page = Tags()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def figure_cell(source, execution_count=1):
    return new_code_cell(source, execution_count=execution_count, outputs=[
        new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure size 480x240 with 1 Axes>"})])


def chapter():
    widget = new_code_cell("controls", execution_count=3, outputs=[new_output(
        "execute_result", execution_count=3,
        data={html.WIDGET: {"model_id": "c926", "version_major": 2, "version_minor": 0}, "text/plain": WIDGET_REPR})])
    solution = new_code_cell("answer = 3", execution_count=4)
    solution.metadata["tags"] = ["solution"]
    return new_notebook(cells=[
        new_markdown_cell("# 07 · Event storms: 100,000 files at once\n\nBack to [the index](index.md), "
                          "on to [SQS](02_sqs.ipynb#the-picture); see the [glossary](glossary.md) or "
                          "[AWS](https://docs.aws.amazon.com/lambda/latest/dg/lambda-invocation.html)."),
        new_markdown_cell("The queue holds the backlog. The line climbs by 5 batches a second:"),
        figure_cell('plots.storm_panels(run.timeline, title="Concurrent invocations")\nplt.show()'),
        figure_cell("plots.duplicate_curve(curve)\nplt.show()", execution_count=2),
        widget,
        solution,
    ])


def assert_self_contained(page):
    for tag, attrs in page.tags:
        if tag == "script":
            assert not attrs.get("src"), f"a script is loaded from {attrs['src']}"
        if tag == "link":
            assert "stylesheet" not in attrs.get("rel", ""), f"an external stylesheet: {attrs.get('href')}"
        if tag == "img":
            assert attrs.get("alt", "").strip(), "an image without alt text"
            assert attrs["src"].startswith("data:image/"), "an image that is not embedded"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    source = tmp_path_factory.mktemp("notebooks")
    nbformat.write(chapter(), source / "07_event_storms.ipynb")
    shutil.copyfile(html.SOURCE / "index.md", source / "index.md")
    out = tmp_path_factory.mktemp("site")
    written = html.build(source, out)
    return out, written


def test_the_site_has_an_index_and_every_chapter(site):
    out, written = site
    assert [p.name for p in written] == ["index.html", "07_event_storms.html"]
    index = parse(out / "index.html")
    links = {attrs.get("href") for tag, attrs in index.tags if tag == "a"}
    assert {"00_start_here.html", "07_event_storms.html", "glossary.html", "further-reading.html"} <= links
    assert not any(href and re.search(r"\.(ipynb|md)(#|$)", href) for href in links)


def test_pages_load_nothing_from_the_internet_and_every_image_has_alt_text(site):
    out, written = site
    for path in written:
        page = parse(path)
        assert_self_contained(page)
        assert not re.search(r"@import|url\(\s*['\"]?https?:", path.read_text(encoding="utf-8"))


def test_figures_get_their_title_and_the_prose_before_them_as_alt_text(site):
    out, _ = site
    alts = [attrs["alt"] for tag, attrs in parse(out / "07_event_storms.html").tags if tag == "img"]
    assert alts == ["Figure: Concurrent invocations. The line climbs by 5 batches a second",
                    "Figure drawn by plots.duplicate_curve(curve). The line climbs by 5 batches a second"]


def test_the_widget_shows_no_repr_and_solutions_are_folded(site):
    out, _ = site
    page = parse(out / "07_event_storms.html")
    text = " ".join(page.text)
    assert "interactive(children=" not in (out / "07_event_storms.html").read_text(encoding="utf-8")
    assert "this cell shows sliders" in text
    assert ("details", {"class": "lab-solution"}) in page.tags
    links = {attrs.get("href") for tag, attrs in page.tags if tag == "a"}
    assert {"index.html", "02_sqs.html#the-picture", "glossary.html"} <= links


def test_a_widget_that_carries_its_figure_shows_the_figure():
    nb = chapter()
    nb.cells[4].outputs[0]["data"]["image/png"] = PNG
    (output,) = html.for_the_web(nb).cells[4].outputs
    assert set(output["data"]) == {"image/png", "text/plain"}
    assert "interactive(children=" not in output["data"]["text/plain"]
    assert output["metadata"]["image/png"]["alt"].startswith("Figure")


def test_an_alt_text_stored_with_the_figure_wins():
    nb = chapter()
    nb.cells[2].outputs[0]["metadata"] = {"image/png": {"alt": "Concurrency climbs to 100 and stays there."}}
    assert html.for_the_web(nb).cells[2].outputs[0]["metadata"]["image/png"]["alt"] == (
        "Concurrency climbs to 100 and stays there.")


def test_links_to_other_sites_are_left_alone():
    text = "[a](01_s3.ipynb) [b](https://example.com/x.md) [c](notebooks/00_start_here.ipynb) [d](index.md#top)"
    assert html.local_links(text) == (
        "[a](01_s3.html) [b](https://example.com/x.md) [c](notebooks/00_start_here.ipynb) [d](index.html#top)")


def test_the_chapters_as_stored_export_cleanly(tmp_path):
    written = html.build(html.SOURCE, tmp_path)
    chapters = sorted(html.SOURCE.glob("[0-9][0-9]_*.ipynb"))
    assert [p.name for p in written] == [*(f"{Path(p).stem}.html" for p in html.PAGES),
                                         *(f"{c.stem}.html" for c in chapters)]
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert_self_contained(parse(path))
        assert "interactive(children=" not in text
        assert not re.search(r'href="[^":]*\.(ipynb|md)(#[^"]*)?"', text), f"{path.name} links to a source file"
