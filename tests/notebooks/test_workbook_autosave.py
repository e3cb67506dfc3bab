"""Using the workbook in JupyterLab changes no tracked file.

In a copy of the repository's tracked files (its own git repository), ``tools/workbook.py open``
starts JupyterLab as ``make lab`` does; each chapter is then saved through Jupyter's contents API
the way autosave saves it after a kernel ran and the learner cleared the outputs. ``git status``
must stay clean, and a save aimed at ``notebooks/`` must be refused.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tools import ui_smoke, workbook

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "lambda-lab-test"


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
    server, url, _ = ui_smoke.start_lab(repo, home, TOKEN)  # as make lab starts it, and as make ui-test does
    base = url.split("/lab", 1)[0]
    try:
        names = [p.name for p in workbook.chapters(repo / "notebooks")]
        for name in names:
            status, model = _api(base, "GET", f"{name}?content=1")
            assert status == 200, f"{name} is not in the working copy JupyterLab serves"
            assert not [c for c in model["content"]["cells"] if "solution" in c["metadata"].get("tags", [])]
            assert _api(base, "PUT", name, _as_autosave_writes(model))[0] == 200
        status, _ = _api(base, "PUT", f"../notebooks/{names[0]}", _as_autosave_writes(model))
        assert status in (400, 403, 404), "a save outside the working copy must be refused"
    finally:
        ui_smoke.stop_lab(server)
    assert _git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert (repo / "workbook" / names[0]).exists()
