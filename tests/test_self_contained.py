"""No tracked file refers to a path outside the repository.

A clone must run on any machine: code, tests, docs and stored notebook outputs may not name an
absolute path of the machine that wrote them (home and work folders, temporary files, drive letters)
or read from the shared reference folder next to the repository. Web addresses are fine, and so are
citations such as "reference/aws-facts.md" (a document, not a path that code reads).

The needles are assembled from pieces, so this file does not match itself.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".venv", ".git", "__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis",
             "build", "dist"}
SLASH, BACKSLASH = "/", "\\"

# Folders at the root of a disk that only exist on one machine (work, home, root, Users, tmp).
_MACHINE_DIRS = "|".join(["wo" + "rk", "ho" + "me", "ro" + "ot", "Us" + "ers", "t" + "mp"])
_ABSOLUTE = re.compile(
    r"(?<![\w.~/\\-])"            # not the tail of a longer path or word (a/work/x, ~/work/x)
    + SLASH + f"(?:{_MACHINE_DIRS})" + SLASH
    + r"(?=[\w.$-])"              # followed by a file or folder name: a path, not prose about "/tmp"
)
# A Windows drive: a letter, a colon, a backslash (or two, escaped in source code) and a folder name
# of two or more characters that ends in the next backslash or the end of the string; or the letter,
# colon and forward slash before Users or Windows. The name rule keeps "if s:" + backslash + "n" quiet.
_SEP = re.escape(BACKSLASH)
_DRIVE = re.compile(r"(?<![\w\\])[A-Za-z]:(?:(" + _SEP + r"{1,2})[\w.$-]{2,}(?:\1|(?=[\"'\s,;)\]]|$))"
                    + "|/(?:Us" + "ers|Win" + "dows)/)")
# The shared reference folder that sits next to the repository on the machine it was written on.
_SHARED = re.compile(r"\.\.[/\\]+sha" + "red\\b|\\bsha" + "red[/\\\\]+refer" + "ence\\b")

# Removed before matching: web addresses with a host (their path is on the server, not on a disk here),
# only the scheme of a file address (its path is on a disk here), ANSI colour codes, raw or escaped
# (a traceback's colour code would otherwise glue itself to the path after it), and escapes such as
# backslash-n in source code.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s\"'<>]+[^\s\"'<>)]*")
_FILE_URL = re.compile(r"\bfile://", re.IGNORECASE)
_ANSI = re.compile(r"(?:\x1b|\\u001[bB]|\\x1[bB]|\\033|\\e)\[[0-9;]*[A-Za-z]")
_ESCAPE = re.compile(r"\\[nrt\"']")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
JSON_SUFFIXES = {".ipynb", ".json"}


def _json_text(line: str) -> str:
    """The decoded string literals of one line of JSON (a notebook stores text as one string a line)."""
    parts = []
    for literal in _JSON_STRING.findall(line):
        try:
            parts.append(json.loads(literal))
        except ValueError:
            parts.append(literal)
    return " ".join(parts) if parts else line


def findings_in_line(line: str, *, json_strings: bool = False) -> list[str]:
    """The outside-the-repository paths in one line of text, as the strings that matched.

    With ``json_strings`` the line is read as JSON: its string literals are decoded first, so a
    notebook's ``"\\u001b[32m"`` is a colour code and ``"\\n"`` a line break, as the reader sees them.
    """
    text = _json_text(line) if json_strings else line
    text = _ANSI.sub(" ", _FILE_URL.sub(" ", _URL.sub(" ", text)))
    found = [m.group(0) for m in _DRIVE.finditer(text)]
    text = _ESCAPE.sub(" ", text)
    found += [m.group(0) for m in _ABSOLUTE.finditer(text)]
    found += [m.group(0) for m in _SHARED.finditer(text)]
    return found


def repository_files(root: Path = ROOT) -> list[Path]:
    """Tracked files (``git ls-files``); without git, every file outside the skipped folders."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return sorted(path for path in root.rglob("*")
                      if path.is_file() and not SKIP_DIRS.intersection(path.relative_to(root).parts))
    names = [name for name in listed.decode("utf-8", "surrogateescape").split("\0") if name]
    return [root / name for name in names if (root / name).is_file()]  # skip deleted-but-staged files


def text_lines(path: Path) -> list[str] | None:
    """The file's lines, or None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", "replace").splitlines()


def outside_references(root: Path = ROOT) -> list[str]:
    """``file:line: matched text | the line`` for every reference to a path outside the repository."""
    problems = []
    for path in repository_files(root):
        lines = text_lines(path)
        json_strings = path.suffix in JSON_SUFFIXES
        for number, line in enumerate(lines or (), start=1):
            for found in findings_in_line(line, json_strings=json_strings):
                excerpt = line.strip()
                excerpt = excerpt if len(excerpt) <= 160 else excerpt[:157] + "..."
                problems.append(f"{path.relative_to(root).as_posix()}:{number}: {found!r} | {excerpt}")
    return problems


def test_no_tracked_file_refers_to_a_path_outside_the_repository():
    problems = outside_references()
    assert not problems, (
        f"{len(problems)} reference(s) to paths outside the repository; use a path relative to the file "
        "(Path(__file__).parent / ...), copy the data into the repository, or re-execute the notebook:\n"
        + "\n".join(problems))


def test_this_check_and_the_copied_samples_pass_before_they_are_committed():
    paths = [Path(__file__), *sorted((ROOT / "tests" / "data").rglob("*.*"))]
    for path in paths:
        for number, line in enumerate(text_lines(path) or (), start=1):
            assert not findings_in_line(line, json_strings=path.suffix in JSON_SUFFIXES), f"{path.name}:{number}"


def test_the_file_list_is_not_empty():
    names = {path.relative_to(ROOT).as_posix() for path in repository_files()}
    assert "pyproject.toml" in names and "lambda_lab/__init__.py" in names


# --- the detector itself -------------------------------------------------------------------------
W, H, T, U = "/wo" + "rk/", "/ho" + "me/", "/t" + "mp/", "/Us" + "ers/"


@pytest.mark.parametrize("line", [
    f'    sample = json.load(open("{W}shared/x.json"))',
    f'SAMPLES = Path("{H}ana/samples")',
    f'File "{W}main/lambda_lab/runtime.py", line 128, in invoke',
    f'print("\\033[32m{W}main/lambda_lab/lab.py")',
    f'text = "Traceback:\\n{W}main/lambda_lab/lab.py"',
    f"    python tools/ui_smoke.py --shot {T}lab.png",
    f"see {U}ana/lab/notes.md",
    "open('" + "/r" + "oot/.config/x')",
    "C:" + BACKSLASH + "Users" + BACKSLASH + "ana" + BACKSLASH + "lab",
    'PATH = "C:' + BACKSLASH * 2 + 'Users' + BACKSLASH * 2 + 'ana"',
    "D:/Us" + "ers/ana/lab",
    "file://" + W + "main/README.md",
    'REFERENCE = Path("..' + "/sha" + 'red/aws-facts.md")',
    'json.load(open("sha' + 'red/refer' + 'ence/aws-sample-events/a.json"))',
])
def test_the_detector_finds_machine_paths(line):
    assert findings_in_line(line)


@pytest.mark.parametrize("line", [
    # a stored traceback: colour codes and the path are one JSON string
    f'      "\\u001b[36mFile \\u001b[39m\\u001b[32m{W}main/lambda_lab/lab.py:155\\u001b[39m, in",',
    f'      "Traceback (most recent call last):\\n{W}main/x.py",',
    f'   "evalue": "cannot open {H}ana/lab/x.csv",',
    '      "C:' + BACKSLASH * 2 + 'Users' + BACKSLASH * 2 + 'ana' + BACKSLASH * 2 + 'lab",',
])
def test_the_detector_reads_notebook_json_as_its_text(line):
    assert findings_in_line(line, json_strings=True)


@pytest.mark.parametrize("line", [
    "Every value comes from ``reference/aws-facts.md`` (compiled 2026-11-26).",
    "checked against the sample events in reference/aws-sample-events/ (aws-docs, sam-cli,",
    "https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html",
    "see https://github.com/aws/aws-lambda-go" + H + "x and http://localhost:8888" + W + "nb",
    "a bucket shared with every other function, shared by the account",
    "Lambda gives each environment 512 MB of /tmp by default",
    "SAMPLES = Path(__file__).parent / 'data' / 'aws-sample-events'",
    "notebooks" + T + "x.ipynb and repo" + W + "x and ~" + W + "x",
    "the lab never reads `~/.aws` or `AWS_*` variables",
    "ratio 3:1, https://x.example/a:b",
    'message = f"window_s:\\n{value}"',
    'code = "if s:\\n    return x\\n" + "a:\\n"',
    "drive = 'C:' + sep",
])
def test_the_detector_leaves_citations_urls_and_prose_alone(line):
    assert findings_in_line(line) == []


@pytest.mark.parametrize("line", [
    '    "    if s:\\n",',
    '      "\\u001b[34m(timeout_s, visibility_timeout_s, window_s)\\u001b[39m\\n",',
    '    "See reference/aws-facts.md and https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html\\n",',
    '   "ename": "ConfigurationError",',
])
def test_the_detector_leaves_notebook_code_and_links_alone(line):
    assert findings_in_line(line, json_strings=True) == []


def test_git_less_walk_skips_the_venv_and_caches(tmp_path, monkeypatch):
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(subprocess, "run", no_git)
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "site.py").write_text(f"X = '{W}x'\n")
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "__pycache__" / "m.pyc").write_bytes(b"\0" + W.encode())
    (tmp_path / "pkg" / "m.py").write_text(f"\nX = '{H}ana/x'\n")
    assert outside_references(tmp_path) == [f"pkg/m.py:2: '{H}' | X = '{H}ana/x'"]
