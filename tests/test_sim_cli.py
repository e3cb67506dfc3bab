"""The command line: JSON output and a --help that documents every option."""

import json
import subprocess
import sys

import pytest

from lambda_lab.sim import cli


def test_json_has_the_issue_keys(capsys):
    assert cli.main(["storm", "--events", "20000", "--duration-ms", "200", "--limit", "1000",
                     "--mode", "async", "--seed", "1", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    for key in ("completion_s", "invocations", "throttles", "dropped", "duplicates", "max_concurrency", "cost_usd"):
        assert key in data
    assert data["invocations"] == 20_000
    assert out.count("\n") == 1


@pytest.mark.parametrize("mode", ["sync", "async", "sqs"])
def test_each_mode_runs(mode, capsys):
    assert cli.main(["storm", "--events", "2000", "--mode", mode, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == mode


def test_help_documents_every_option(capsys):
    parser = cli.build_parser()
    storm = parser._subparsers._group_actions[0].choices["storm"]
    with pytest.raises(SystemExit):
        cli.main(["storm", "--help"])
    text = capsys.readouterr().out
    for action in storm._actions:
        for flag in action.option_strings:
            assert flag in text
        if action.option_strings and action.dest != "help":
            assert action.help, action.dest
    for aws_default in ("1,000 per Region", "21,600", "5 min", "default 10", "2-1000", "100 unreserved"):
        assert aws_default in " ".join(text.split())


def test_bad_config_is_an_error_not_a_traceback(capsys):
    assert cli.main(["storm", "--mode", "sqs", "--max-concurrency", "5000"]) == 2
    assert "MaximumConcurrency" in capsys.readouterr().err


def test_no_progress_bar_when_not_a_terminal():
    r = subprocess.run([sys.executable, "-m", "lambda_lab.sim", "storm", "--events", "5000", "--json"],
                       capture_output=True, text=True, check=True)
    assert r.stderr == ""
    assert json.loads(r.stdout)["events"] == 5000


def test_progress_only_on_a_terminal(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert cli._show_progress() is False  # pytest captures stdout: not a TTY
