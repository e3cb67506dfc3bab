"""Export the chapters as a self-contained HTML site (``make html``).

(Not ``tools/html.py``: a script in tools/ runs with tools/ first on sys.path, where a module named
``html`` would replace the standard library's for every tool, nbconvert and tornado included.)

    python tools/export_html.py [OUT]   write OUT/ (default: site/, git-ignored); open OUT/index.html

The chapters are exported as stored in ``notebooks/`` (nothing is executed), with nbconvert's
JupyterLab template and these changes, so that the site reads offline and with a screen reader:

- no script is loaded: the template's require.js, MathJax and Mermaid tags are left out, and the
  CSS is inlined by the template; figures are embedded as ``data:`` URIs;
- every figure gets an ``alt`` text: the one stored in the output's metadata
  (``{"image/png": {"alt": ...}}``) if any, else the figure's title in the cell (``title="..."``)
  or the call that drew it, followed by the last sentence of the prose before the cell;
- an ipywidgets output (which exports as "interactive(children=...)" without a kernel) becomes its
  static figure if the output carries one (``image/png``), else a note that the controls need
  JupyterLab;
- solution cells are folded in a ``<details>`` element;
- links between chapters and to the pages (``index.md``, ``glossary.md``, ``further-reading.md``)
  point to their ``.html`` exports.

``index.html``, ``glossary.html`` and ``further-reading.html`` come from the markdown pages of
``notebooks/`` (``tools/pages.py``).
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import jinja2
import nbformat
from nbconvert import HTMLExporter
from nbformat.v4 import new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "notebooks"
SITE = ROOT / "site"
PAGES = ("index.md", "glossary.md", "further-reading.md")
WIDGET = "application/vnd.jupyter.widget-view+json"
SOLUTION_TAG = "solution"
ALT_LIMIT = 300
WIDGET_NOTE = ("In JupyterLab this cell shows sliders (ipywidgets) that rerun the cell above with other "
               "settings. This page was exported without a kernel, so it shows the default setting only.")

TEMPLATE = r"""
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block extra_css -%}
<style type="text/css">
details.lab-solution > summary { cursor: pointer; padding: 4px 0 4px 80px; font-weight: 600; }
.lab-widget-note { font-style: italic; }
</style>
{%- endblock extra_css -%}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}" alt="{{ output.metadata.get('image/png', {}).get('alt', 'Figure') | escape_html }}">
</div>
{% endblock data_png %}
{% block codecell %}
{%- if 'solution' in cell.metadata.get('tags', []) -%}
<details class="lab-solution"><summary>Solution</summary>
{{ super() }}
</details>
{%- else -%}
{{ super() }}
{%- endif -%}
{% endblock codecell %}
"""

_LOCAL_LINK = re.compile(r"\]\((?![a-z][a-z0-9+.-]*:)([^)\s#/]+)\.(ipynb|md)(#[^)\s]*)?\)")
_TITLE = re.compile(r"""title=(["'])(.+?)\1""")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def exporter() -> HTMLExporter:
    return HTMLExporter(template_name="lab", template_file="lambda_lab_site.html.j2", embed_images=True,
                        extra_loaders=[jinja2.DictLoader({"lambda_lab_site.html.j2": TEMPLATE})])


def local_links(markdown: str) -> str:
    """``[S3](01_s3.ipynb#x)`` -> ``[S3](01_s3.html#x)``, ``(glossary.md)`` -> ``(glossary.html)``."""
    return _LOCAL_LINK.sub(lambda m: f"]({m.group(1)}.html{m.group(3) or ''})", markdown)


def _plain(markdown: str) -> str:
    text = _MD_LINK.sub(r"\1", markdown)
    text = re.sub(r"^\s*[#>]+\s*", "", text, flags=re.M)  # headings, quotes
    text = re.sub(r"[`*|]|(?<!\w)_|_(?!\w)", "", text)
    return " ".join(text.split())


def _last_sentence(markdown: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", markdown.strip()) if p.strip() and not p.lstrip().startswith("|")]
    if not paragraphs:
        return ""
    sentences = re.split(r"(?<=[.!?:])\s+(?=[A-Z(])", _plain(paragraphs[-1]))
    return sentences[-1].rstrip(":") if sentences else ""


def _drawn_by(source: str) -> str:
    title = _TITLE.search(source)
    if title:
        return f"Figure: {title.group(2)}"
    calls = [line.strip() for line in source.splitlines()
             if re.match(r"\s*[\w.]+\(", line) and not line.strip().startswith(("plt.", "print("))]
    return f"Figure drawn by {calls[-1]}" if calls else "Figure"


def alt_text(cell, prose: str) -> str:
    """An alt text for the figures of ``cell``: its title (or drawing call) and the sentence before it."""
    sentence = _last_sentence(prose)
    text = _drawn_by(cell.source) + (f". {sentence}" if sentence else "")
    return text if len(text) <= ALT_LIMIT else text[:ALT_LIMIT - 1].rstrip() + "…"


def _static_widget(output):
    data = output.get("data", {})
    if "image/png" in data:
        kept = copy.deepcopy(output)
        kept["data"] = {"image/png": data["image/png"], "text/plain": "static figure of the widget's default setting"}
        return kept
    return new_output("display_data", data={"text/html": f'<p class="lab-widget-note">{WIDGET_NOTE}</p>',
                                            "text/plain": WIDGET_NOTE})


def for_the_web(nb):
    """A copy of a chapter ready for export: alt texts, static widgets, links to .html pages."""
    nb = copy.deepcopy(nb)
    prose = ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = local_links(cell.source)
            prose = cell.source
            continue
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            if WIDGET in output.get("data", {}):
                output = _static_widget(output)
            if "image/png" in output.get("data", {}):
                meta = output.setdefault("metadata", {}).setdefault("image/png", {})
                meta.setdefault("alt", alt_text(cell, prose))
            outputs.append(output)
        cell.outputs = outputs
    return nb


def _title(nb, fallback: str) -> str:
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    heading = re.search(r"^#\s+(.+)$", first, re.M)
    return _plain(heading.group(1)) if heading else fallback


def export_notebook(nb, name: str, out: Path, html: HTMLExporter | None = None) -> Path:
    html = html or exporter()
    body, _ = html.from_notebook_node(nb, resources={"metadata": {"name": _title(nb, name)}})
    path = out / f"{name}.html"
    path.write_text(body, encoding="utf-8")
    return path


def export_page(markdown: str, name: str, out: Path, html: HTMLExporter | None = None) -> Path:
    nb = new_notebook(cells=[new_markdown_cell(local_links(markdown))])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return export_notebook(nb, name, out, html)


def build(source: Path = SOURCE, out: Path = SITE) -> list[Path]:
    """Write the site; return the files written, the index first."""
    out.mkdir(parents=True, exist_ok=True)
    html = exporter()
    written = [export_page((source / page).read_text(encoding="utf-8"), Path(page).stem, out, html)
               for page in PAGES if (source / page).exists()]
    for chapter in sorted(source.glob("[0-9][0-9]_*.ipynb")):
        written.append(export_notebook(for_the_web(nbformat.read(chapter, as_version=4)), chapter.stem, out, html))
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[0]).resolve() if argv else SITE
    written = build(out=out)
    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"open {written[0]}" if written else "nothing to export")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
