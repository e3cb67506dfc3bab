"""Optional check that a chapter runs and displays in a real JupyterLab (not part of make test).

Needs Chromium (Debian: apt-get install chromium) and Playwright in any Python
(pip install playwright; its own browser download is not needed):

    .venv/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=8899 --ServerApp.token=smoke --allow-root &
    python tools/ui_smoke.py notebooks/00_start_here.ipynb --port 8899 --token smoke --shot lab.png

It opens the notebook, clears outputs, runs all cells, waits for the last exercise check
to print its verdict, and saves a screenshot: proof that the virtual clock inside the
kernel does not disturb JupyterLab.
"""

from __future__ import annotations

import argparse
import sys

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", help="path relative to the repository, e.g. notebooks/00_start_here.ipynb")
    parser.add_argument("--port", type=int, default=8899)
    parser.add_argument("--token", default="smoke")
    parser.add_argument("--expect", default="Exercise 2: correct", help="text that must appear after Run All")
    parser.add_argument("--shot", default="ui_smoke.png", help="where to save the screenshot (PNG)")
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}/lab/tree/{args.notebook}?reset&token={args.token}"
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=60_000)
        select = page.locator(".jp-Dialog button.jp-mod-accept")
        if select.count():
            select.click()  # a kernel picker appears when the notebook names no known kernel
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached", timeout=60_000)
        page.click("text=Edit")
        page.click("li[data-command='editmenu:clear-all']")
        page.wait_for_selector(f"text={args.expect}", state="detached", timeout=10_000)
        page.click("text=Run")
        page.click("li[data-command='runmenu:run-all']")
        page.wait_for_selector(f"text={args.expect}", state="attached", timeout=120_000)
        images = page.locator(".jp-OutputArea-output img").count()
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
        page.screenshot(path=args.shot, full_page=False)
        browser.close()
    print(f"ran {args.notebook}: found {args.expect!r}, {images} images, {errors} stderr outputs; screenshot {args.shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
