"""A lab error in a notebook shows as ``ErrorName: message``: no frames, no paths of the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import lambda_lab
from lambda_lab import ConfigurationError, Lab, LabSafetyError, TooManyRequestsException, notebook
from lambda_lab.errors import LabError

PACKAGE_DIR = Path(lambda_lab.__file__).resolve().parent


class RecordingShell:
    """The two things the handler and the registration use from an IPython shell."""

    def __init__(self):
        self.shown = []
        self.custom = None

    def _showtraceback(self, etype, evalue, stb):
        self.shown.append((etype, evalue, stb))

    def set_custom_exc(self, exc_tuple, handler):
        self.custom = (exc_tuple, handler)


def _raised_from_inside_the_lab():
    """A real ConfigurationError, raised several frames deep inside lambda_lab."""
    with Lab(seed=0) as lab:
        try:
            lab.function("too-long", lambda event, context: None, timeout_s=1_000)
        except ConfigurationError:
            return sys.exc_info()
    raise AssertionError("a 1,000 s timeout was accepted")


def _assert_no_path(lines):
    text = "\n".join(lines)
    assert str(PACKAGE_DIR) not in text and str(PACKAGE_DIR.parent) not in text
    assert ".py" not in text and "File " not in text and os.sep + "lambda_lab" not in text


def test_the_handler_shows_one_line_without_frames_or_paths():
    etype, value, tb = _raised_from_inside_the_lab()
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    assert any(Path(f).resolve().is_relative_to(PACKAGE_DIR) for f in frames)  # the frames the handler hides
    shell = RecordingShell()
    stb = notebook.show_lab_error(shell, etype, value, value.__traceback__)
    assert stb == [f"ConfigurationError: {value}"] and "900" in stb[0]
    _assert_no_path(stb)
    # shown through the shell, which is how ipykernel turns it into an error output (ename, evalue, traceback)
    assert shell.shown == [(ConfigurationError, value, stb)]
    assert sys.last_value is value  # so %tb and %debug still reach the full traceback


@pytest.mark.parametrize("error", [
    ConfigurationError("Timeout must be 1-900 seconds, got 1000"),
    LabSafetyError("refusing to send requests to example.com: the lab only talks to this machine"),
    TooManyRequestsException("f", "ReservedFunctionConcurrentInvocationLimitExceeded", 0),
])
def test_every_lab_error_gets_the_short_form(error):
    assert isinstance(error, LabError) and isinstance(error, notebook.LAB_ERRORS)
    stb = notebook.short_traceback(type(error), error)
    assert stb == [f"{type(error).__name__}: {error}"]
    _assert_no_path(stb)


def test_the_lab_errors_keep_their_builtin_bases():
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(LabSafetyError, RuntimeError)
    assert TooManyRequestsException("f", "r", 1).status_code == 429


def test_an_error_without_a_message_shows_its_name():
    assert notebook.short_traceback(ConfigurationError, ConfigurationError()) == ["ConfigurationError"]


def test_registration_is_idempotent_and_covers_the_lab_errors():
    shell = RecordingShell()
    assert notebook.show_lab_errors_briefly(shell) is True
    first = shell.custom
    assert notebook.show_lab_errors_briefly(shell) is True
    assert shell.custom == first == ((LabError,), notebook.show_lab_error)


def test_outside_ipython_nothing_is_registered(monkeypatch):
    import IPython

    assert IPython.get_ipython() is None  # imported, but no shell is running: plain pytest
    assert notebook.show_lab_errors_briefly() is False
    monkeypatch.delitem(sys.modules, "IPython")
    assert notebook.show_lab_errors_briefly() is False


IPYTHON_SCRIPT = textwrap.dedent("""
    import json, sys
    from IPython.core.interactiveshell import InteractiveShell

    class Shell(InteractiveShell):
        # ipykernel's shell overrides this to publish the error message; record what it would send
        shown = []
        def _showtraceback(self, etype, evalue, stb):
            self.shown.append({"ename": etype.__name__, "evalue": str(evalue), "traceback": stb})

    shell = Shell.instance()
    shell.history_manager.enabled = False
    results = [shell.run_cell(code) for code in (
        "from lambda_lab import Lab, notebook\\nnotebook.setup()\\nnotebook.setup()",
        "Lab(seed=0).function('too-long', lambda event, context: None, timeout_s=1_000)",
        "1 / 0",
    )]
    print(json.dumps({"success": [r.success for r in results],
                      "error": [type(r.error_in_exec).__name__ for r in results],
                      "shown": Shell.shown}))
""")


def test_ipython_routes_a_lab_error_through_the_handler(tmp_path):
    """Real IPython, no kernel: run_code calls the handler, the cell fails, other errors keep their frames."""
    env = {**os.environ, "IPYTHONDIR": str(tmp_path), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", IPYTHON_SCRIPT], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["success"] == [True, False, False]
    assert got["error"] == ["NoneType", "ConfigurationError", "ZeroDivisionError"]
    lab_error, other = got["shown"]
    assert lab_error["ename"] == "ConfigurationError" and "900" in lab_error["evalue"]
    assert lab_error["traceback"] == [f"ConfigurationError: {lab_error['evalue']}"]
    _assert_no_path(lab_error["traceback"])
    assert other["ename"] == "ZeroDivisionError" and len(other["traceback"]) > 1  # untouched
