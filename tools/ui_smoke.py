"""make ui-test: every chapter of a fresh working copy, run in a real JupyterLab in headless Chromium.

Not part of ``make test``. Needs the system Chromium (Debian/Ubuntu, once: ``sudo apt-get install -y
chromium``; Playwright's own browser download is not used) and Playwright, pinned in
``requirements-ui.txt``, which only ``make ui-test`` installs.

    python tools/ui_smoke.py [--chapters 00 07] [--keep] [--chromium /usr/bin/chromium]

It copies the repository's files (tracked and untracked, not ignored) into a temporary folder and
starts ``tools/workbook.py open`` there, as ``make lab`` does, with Jupyter's config, data and
runtime directories in that folder too: nothing is written to the developer's ``workbook/``, to
tracked files or to ``~/.jupyter``. In the copy, no file outside ``workbook/`` may change. Then:

* the URL JupyterLab prints must land on chapter 00; chapter 00 is opened at exactly that URL,
  every other chapter in a workspace of its own;
* on opening, the notebook must be trusted and start its kernel by itself: no kernel picker, no
  "No Kernel" (the dialog that once came 1 run in 3);
* Kernel > Restart Kernel and Run All Cells, with only the restart confirmation as a dialog; the
  last code cell must run, and every code cell, in order, from 1;
* the notebook is saved (in the temporary copy) and read back: no error output outside cells
  tagged ``raises-exception`` (stderr is allowed: chapters show warnings on purpose); every cell that showed a figure before shows one
  again, and every figure in the page has loaded;
* a chapter with an ipywidgets output must render live controls: sliders whose labels are not
  cut off, and a Run Interact button whose press prints the kernel's answer.

It prints one line of timings per chapter and exits 1 if any chapter failed (the temporary folder
is then kept, with a screenshot of each failed chapter).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import workbook  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STARTUP_S = 90
OPEN_S = 120
RUN_S = 300
RESTART_DIALOG = "Restart Kernel?"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

#: Records the title of every JupyterLab dialog that appears, however briefly.
RECORD_DIALOGS = """
window.__uiDialogs = [];
new MutationObserver(() => {
  for (const d of document.querySelectorAll('.jp-Dialog')) {
    let seen = window.__uiDialogs.find(s => s.node === d);
    if (!seen) window.__uiDialogs.push(seen = {node: d, title: ''});
    const head = d.querySelector('.jp-Dialog-header');
    const text = ((head && head.textContent) || d.textContent || '').trim().slice(0, 200);
    if (text) seen.title = text;
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""
#: The titles of the dialogs recorded so far (a dialog is recorded when attached, its title as it fills in).
DIALOGS = "() => window.__uiDialogs.map(s => s.title)"

#: The kernel as the notebook's toolbar shows it: its name and its status.
KERNEL_STATE = """() => {
  const panel = document.querySelector('%s');
  if (!panel || !panel.querySelector('.jp-Cell')) return null;
  const name = panel.querySelector('.jp-Toolbar-kernelName');
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  return {name: name ? name.textContent.trim() : '', status: status ? status.getAttribute('data-status') : ''};
}""" % PANEL

#: The execution prompts of the notebook's code cells ("1", "*", "" ...), in order.
PROMPTS = """() => [...document.querySelectorAll('%s .jp-CodeCell')].map(c => {
  const p = c.querySelector('.jp-InputArea-prompt');
  return p ? p.textContent.replace(/[\\[\\]:\\s]/g, '') : '';
})""" % PANEL

#: Every output image of the notebook: loaded, and its size.
IMAGES = """() => [...document.querySelectorAll('%s .jp-OutputArea-output img')].map(
  i => ({ok: i.complete && i.naturalWidth > 0, width: i.naturalWidth}))""" % PANEL

#: The ipywidgets controls: sliders, the labels whose text does not fit, buttons, errors.
WIDGETS = """() => {
  const panel = document.querySelector('%s');
  const labels = [...panel.querySelectorAll('.widget-interact .widget-label')];
  return {
    sliders: panel.querySelectorAll('.widget-interact .widget-slider').length,
    cut: labels.filter(l => l.textContent && l.scrollWidth > l.clientWidth + 1).map(l => l.textContent),
    buttons: panel.querySelectorAll('.widget-interact button').length,
    errors: [...panel.querySelectorAll('.jp-OutputArea-output')].filter(
      o => /Error displaying widget|Error rendering view|model not found/.test(o.textContent)).length,
  };
}""" % PANEL


class ChapterFailed(AssertionError):
    pass


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout


def copy_repository(target: Path) -> list[str]:
    """Copy the repository's files as a clone has them, plus untracked files not ignored (work in
    progress), to ``target``; return their names."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.split("\0")
    names = [name for name in names if name and (ROOT / name).is_file()]
    for name in names:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return names


def snapshot(clone: Path) -> dict[str, str]:
    """Every file of the copy outside what git ignores there (workbook/, caches), with its SHA-256."""
    ignored = {"workbook", "__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis"}
    return {str(p.relative_to(clone)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in clone.rglob("*") if p.is_file() and not ignored & set(p.relative_to(clone).parts)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(clone: Path, home: Path, token: str) -> tuple[subprocess.Popen, str, list[str]]:
    """``tools/workbook.py open`` in ``clone``; return the server, the URL it printed, its log so far."""
    env = dict(os.environ, JUPYTER_TOKEN=token, JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    command = [sys.executable, "tools/workbook.py", "open", f"--port={_free_port()}", "--no-browser",
               "--ServerApp.port_retries=0"]
    server = subprocess.Popen(command, cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True)
    selector = selectors.DefaultSelector()
    selector.register(server.stdout, selectors.EVENT_READ)
    log, url, deadline = [], None, time.monotonic() + STARTUP_S
    while time.monotonic() < deadline and server.poll() is None:
        if selector.select(timeout=0.2):
            line = server.stdout.readline()
            log.append(line)
            found = re.search(r"http://127\.0\.0\.1:\d+/\S*", line)
            url = url or (found and found.group(0))
        if url:
            try:
                socket.create_connection(("127.0.0.1", int(url.split(":")[2].split("/")[0])), timeout=1).close()
                return server, url, log
            except ConnectionRefusedError:
                continue
    stop_lab(server)
    raise RuntimeError("JupyterLab did not start:\n" + "".join(log))


def stop_lab(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def _api(base: str, token: str, path: str, method: str = "GET") -> object:
    request = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    with opener.open(request, timeout=60) as response:
        body = response.read()
    return json.loads(body) if body else None


def _tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _has_image(cell: dict) -> bool:
    return any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
               for o in cell.get("outputs", []))


def check_saved(before: dict, after: dict) -> list[str]:
    """Problems in the notebook JupyterLab saved after Run All, against the copy as it was built."""
    problems = []
    figures = {c["id"] for c in before["cells"] if c["cell_type"] == "code" and _has_image(c)}
    for n, cell in enumerate(after["cells"]):
        if cell["cell_type"] != "code":
            continue
        allowed = "raises-exception" in _tags(cell)
        for out in cell.get("outputs", []):
            if out["output_type"] == "error" and not allowed:
                problems.append(f"cell {n}: {out['ename']}: {out['evalue'][:200]}")
        if cell.get("id") in figures and not _has_image(cell):
            problems.append(f"cell {n}: showed a figure before Run All, none after")
    return problems


def run_chapter(browser, base: str, token: str, clone: Path, name: str, url: str, shots: Path) -> dict:
    """Open one chapter, restart and run all, check it; return its timings (seconds)."""
    path = clone / "workbook" / name
    before = json.loads(path.read_text(encoding="utf-8"))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(RECORD_DIALOGS)
    page = context.new_page()
    timings, t0 = {}, time.monotonic()
    try:
        page.goto(url)
        try:
            page.wait_for_function(f"() => {{ const s = ({KERNEL_STATE})(); return document.querySelector('.jp-Dialog')"
                                   f" || (s && s.status === 'idle' && s.name && s.name !== 'No Kernel'); }}",
                                   timeout=OPEN_S * 1000, polling=250)
            page.wait_for_timeout(500)  # a dialog's title fills in after it is attached
        except Exception as error:
            state = page.evaluate(KERNEL_STATE)
            raise ChapterFailed(f"no kernel started by itself: {state}, dialogs {page.evaluate(DIALOGS)}") \
                from error
        timings["open"] = time.monotonic() - t0
        dialogs = page.evaluate(DIALOGS)
        if dialogs:
            raise ChapterFailed(f"dialog on opening: {dialogs}")
        model = _api(base, token, f"/api/contents/{name}?content=1")
        untrusted = [c for c in model["content"]["cells"]
                     if c["cell_type"] == "code" and not c["metadata"].get("trusted", False)]
        if untrusted:
            raise ChapterFailed(f"not trusted: {len(untrusted)} code cells untrusted")

        t1 = time.monotonic()
        page.click(".lm-MenuBar-itemLabel:text-is('Kernel')")
        page.click(".lm-Menu-itemLabel:text-is('Restart Kernel and Run All Cells…')")
        page.locator(".jp-Dialog button.jp-mod-accept").click(timeout=30_000)
        page.wait_for_function(f"() => ({PROMPTS})().slice(-1)[0] === '*'", timeout=60_000, polling=100)
        page.wait_for_function(f"() => !({PROMPTS})().includes('*') && ({KERNEL_STATE})().status === 'idle'",
                               timeout=RUN_S * 1000, polling=250)
        timings["run_all"] = time.monotonic() - t1
        prompts = page.evaluate(PROMPTS)
        if prompts != [str(i) for i in range(1, len(prompts) + 1)]:
            ran = sum(p.isdigit() for p in prompts)
            raise ChapterFailed(f"Run All stopped: {ran} of {len(prompts)} code cells ran (prompts {prompts})")

        images = page.evaluate(IMAGES)
        if not all(i["ok"] for i in images):
            raise ChapterFailed(f"{sum(not i['ok'] for i in images)} of {len(images)} figures did not load")
        timings["figures"] = len(images)
        timings["figure_px"] = max((i["width"] for i in images), default=0)

        if any(WIDGET_VIEW in o.get("data", {}) for c in before["cells"] for o in c.get("outputs", [])):
            page.locator(f"{PANEL} .widget-interact .widget-slider").first.scroll_into_view_if_needed()
            widgets = page.evaluate(WIDGETS)
            if not widgets["sliders"] or not widgets["buttons"] or widgets["errors"]:
                raise ChapterFailed(f"ipywidgets did not render live controls: {widgets}")
            if widgets["cut"]:
                raise ChapterFailed(f"slider labels cut off: {widgets['cut']}")
            interact = page.locator(f"{PANEL} .widget-interact").first
            interact.locator("button").first.click()
            interact.locator(".jp-OutputArea-output").first.wait_for(timeout=60_000)
            timings["widgets"] = widgets["sliders"]

        t2, saved = time.monotonic(), path.stat().st_mtime_ns
        page.click(".lm-MenuBar-itemLabel:text-is('File')")
        page.click(".lm-Menu-itemLabel:text-is('Save Notebook')")
        page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')",
                               timeout=60_000, polling=250)
        while path.stat().st_mtime_ns == saved:
            if time.monotonic() - t2 > 60:
                raise ChapterFailed("Save Notebook did not write the notebook")
            time.sleep(0.1)
        timings["save"] = time.monotonic() - t2
        problems = check_saved(before, json.loads(path.read_text(encoding="utf-8")))
        if problems:
            raise ChapterFailed("\n  ".join(["outputs:"] + problems))
        dialogs = page.evaluate(DIALOGS)
        if dialogs != [RESTART_DIALOG]:
            raise ChapterFailed(f"dialogs: {dialogs} (only {RESTART_DIALOG!r} is expected)")
        timings["total"] = time.monotonic() - t0
        return timings
    except Exception:
        try:
            page.screenshot(path=str(shots / f"{Path(name).stem}.png"), full_page=False)
        except Exception:  # noqa: BLE001 (the screenshot is a courtesy; report the real failure)
            pass
        raise
    finally:
        for session in _api(base, token, "/api/sessions") or []:  # free the CPU for the next chapter
            _api(base, token, f"/api/sessions/{session['id']}", method="DELETE")
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapters", nargs="*", default=[], help="chapter numbers (00 07 ...): default every chapter")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("Playwright is missing: make ui-test installs it (pip install -r requirements-ui.txt)")
        return 2
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium}: sudo apt-get install -y chromium (Debian/Ubuntu)")
        return 2

    status_before = _git_status()
    temp = Path(tempfile.mkdtemp(prefix="lambda-lab-ui-"))
    clone, home, shots = temp / "repo", temp / "jupyter", temp / "screenshots"
    shots.mkdir(parents=True)
    copy_repository(clone)
    files_before = snapshot(clone)
    names = [p.name for p in workbook.chapters(clone / "notebooks")
             if not args.chapters or p.name[:2] in args.chapters]
    token = secrets.token_hex(16)
    failures, rows = {}, []
    started = time.monotonic()
    server, printed, log = start_lab(clone, home, token)
    try:
        base = printed.split("/lab")[0]
        landing = f"{base}/lab/tree/{workbook.FIRST_CHAPTER}"
        if printed.split("?")[0] != landing:
            failures["make lab"] = f"the printed URL {printed} does not land on {workbook.FIRST_CHAPTER}"
        print(f"JupyterLab up in {time.monotonic() - started:.1f} s; printed {printed}", flush=True)
        with sync_playwright() as play:
            browser = play.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
            for name in names:
                if name == workbook.FIRST_CHAPTER:
                    url = f"{landing}?token={token}"  # what make lab prints, with the real token
                else:
                    url = f"{base}/lab/workspaces/{Path(name).stem}/tree/{name}?token={token}"
                try:
                    t = run_chapter(browser, base, token, clone, name, url, shots)
                    rows.append(f"{name:28} ok    open {t['open']:5.1f} s  run all {t['run_all']:5.1f} s  "
                                f"save {t['save']:4.1f} s  total {t['total']:5.1f} s  "
                                f"figures {t['figures']:2} (max {t['figure_px']} px)"
                                + (f"  widgets {t['widgets']} sliders" if "widgets" in t else ""))
                except Exception as error:  # noqa: BLE001 (report every chapter, then fail)
                    failures[name] = f"{type(error).__name__}: {error}"
                    rows.append(f"{name:28} FAIL  {str(error).splitlines()[0][:150]}")
                print(rows[-1], flush=True)
            browser.close()
    finally:
        stop_lab(server)
    files_after = snapshot(clone)
    changed = sorted(n for n in files_before.keys() | files_after.keys() if files_before.get(n) != files_after.get(n))
    if changed:
        failures["tracked files"] = f"JupyterLab changed files outside workbook/: {changed}"
    status_after = _git_status()
    if status_after != status_before:  # others may be editing the same tree: a warning, the copy is the test
        print(f"note: git status of {ROOT} changed during the run (not by this test, which writes only to {temp}):\n"
              f"{status_before}->\n{status_after}")
    print(f"{len(names)} chapters in {time.monotonic() - started:.1f} s")
    for what, why in failures.items():
        print(f"FAILED {what}: {why}")
    if failures or args.keep:
        print(f"kept {temp} (screenshots in {shots})")
    else:
        shutil.rmtree(temp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
