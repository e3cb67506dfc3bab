"""What ``lambda_lab.sim`` loads: nothing heavy on import, and no pandas for a command-line storm.

Speed itself is measured by benchmarks/sim_cli.py; these tests pin the imports it depends on.
Each check runs in a fresh interpreter, since the test process has loaded everything already.
"""

import dataclasses
import subprocess
import sys

import pandas as pd
import pytest

import lambda_lab.sim as sim

HEAVY = {"boto3", "botocore", "moto", "pandas", "matplotlib", "requests"}
LAB = {"lambda_lab.lab", "lambda_lab.runtime", "lambda_lab.sources"}


def _unwanted(modules: set[str], extra: frozenset[str] = frozenset()) -> list[str]:
    """The heavy packages (top-level names) and lab modules among ``modules``."""
    heavy = {m.split(".")[0] for m in modules} & (HEAVY | extra)
    lab = {m for m in modules if any(m == p or m.startswith(p + ".") for p in LAB)}
    return sorted(heavy | lab)


def _imported_by(*args: str) -> set[str]:
    """Every module a fresh ``python -X importtime ARGS`` imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True, check=True)
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}  # lines[0] is the header


def test_importing_sim_loads_no_aws_sdk_no_pandas_and_not_the_lab():
    code = "import lambda_lab.sim, sys; print('\\n'.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert _unwanted(set(done.stdout.split()), extra=frozenset({"numpy"})) == []


def test_storm_help_loads_neither_numpy_nor_pandas():
    modules = _imported_by("-m", "lambda_lab.sim", "storm", "--help")
    assert "lambda_lab.sim.cli" in modules
    assert _unwanted(modules, extra=frozenset({"numpy"})) == []


def test_a_storm_from_the_command_line_needs_no_pandas():
    modules = _imported_by("-m", "lambda_lab.sim", "storm", "--events", "2000", "--duplicate-rate", "0.05",
                           "--json", "--no-progress")
    assert "lambda_lab.sim.storm" in modules
    assert _unwanted(modules) == []


@pytest.mark.parametrize("name", sim.__all__)
def test_every_exported_name_still_loads(name):
    assert getattr(sim, name) is not None
    assert name in dir(sim)


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no_such_name"):
        sim.no_such_name  # noqa: B018


def test_timeline_is_a_dataframe_built_once():
    result = sim.simulate_storm(events=500, seed=1)
    assert isinstance(result.timeline, pd.DataFrame)
    assert result.timeline is result.timeline
    assert dataclasses.replace(result).timeline is result.timeline
