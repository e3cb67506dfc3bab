"""Using the workbook in JupyterLab changes no tracked file.

In a copy of the repository's tracked files (its own git repository), ``tools/workbook.py open``
starts JupyterLab as ``make lab`` does; each chapter is then saved through Jupyter's contents API
the way autosave saves it after a kernel ran and the learner cleared the outputs. ``git status``
must stay clean, and a save aimed at ``notebooks/`` must be refused.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tools import workbook

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "lambda-lab-test"
STARTUP_S = 90


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=lab", "-c", "user.email=lab@example.com", *args],
                          cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The repository's tracked files (as in a fresh clone), committed in a repository of their own."""
    copy = tmp_path / "clone"
    for name in _git(ROOT, "ls-files", "-z").split("\0"):
        if name and (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    _git(copy, "init", "-q")
    _git(copy, "add", "-A")
    _git(copy, "commit", "-q", "-m", "clone")
    return copy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(server: subprocess.Popen) -> str:
    """Read JupyterLab's log (stderr) until it prints its URL, then until that port accepts a
    connection (the URL is logged just before the socket listens). Waiting is on the log pipe,
    so a dead server fails the test at once rather than after a timeout."""
    selector = selectors.DefaultSelector()
    selector.register(server.stderr, selectors.EVENT_READ)
    log, base, deadline = [], None, time.monotonic() + STARTUP_S
    while time.monotonic() < deadline and server.poll() is None:
        if selector.select(timeout=0.2):
            line = server.stderr.readline()
            log.append(line)
            found = re.search(r"(http://127\.0\.0\.1:(\d+))/lab", line)
            base = base or (found and found.group(1))
        if base:
            try:
                socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=1).close()
                return base
            except ConnectionRefusedError:
                continue
    raise AssertionError("JupyterLab did not start:\n" + "".join(log))


def _api(base: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base}/api/contents/{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}


def _as_autosave_writes(model: dict) -> dict:
    """What JupyterLab saves after a kernel ran and the learner pressed Clear Outputs."""
    nb = model["content"]
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.7"}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return {"type": "notebook", "format": "json", "content": nb}


def test_saving_every_chapter_from_jupyterlab_leaves_git_clean(repo: Path):
    home = repo.parent / "jupyter"  # Jupyter's own state goes under the user's home, outside the repository
    env = dict(os.environ, JUPYTER_TOKEN=TOKEN, JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_DATA_DIR=str(home / "data"))
    command = [sys.executable, "tools/workbook.py", "open", f"--port={_free_port()}", "--no-browser",
               "--ServerApp.port_retries=0"]
    server = subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        base = _wait_for_server(server)
        names = [p.name for p in workbook.chapters(repo / "notebooks")]
        for name in names:
            status, model = _api(base, "GET", f"{name}?content=1")
            assert status == 200, f"{name} is not in the working copy JupyterLab serves"
            assert not [c for c in model["content"]["cells"] if "solution" in c["metadata"].get("tags", [])]
            assert _api(base, "PUT", name, _as_autosave_writes(model))[0] == 200
        status, _ = _api(base, "PUT", f"../notebooks/{names[0]}", _as_autosave_writes(model))
        assert status in (400, 403, 404), "a save outside the working copy must be refused"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert _git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert (repo / "workbook" / names[0]).exists()
