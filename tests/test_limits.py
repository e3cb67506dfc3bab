"""lambda_lab.limits: AWS numbers named once and cited, and the one range check."""

import ast
import math
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_lab import limits
from lambda_lab.errors import ConfigurationError
from lambda_lab.limits import check_range
from lambda_lab.sim import backoff, params, simulate_storm
from lambda_lab.sources import batching

PACKAGE = Path(limits.__file__).parent
QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"


# --------------------------------------------------------------- the check's wording


def _message(*args, **kwargs) -> str:
    with pytest.raises(ConfigurationError) as err:
        check_range(*args, **kwargs)
    return str(err.value)


def test_one_wording_names_the_setting_the_range_the_value_and_the_page():
    assert _message("Timeout", 1000, 1, 900, unit="seconds", url=QUOTAS) == (
        f"Timeout must be 1-900 seconds, got 1000 ({QUOTAS})"
    )


def test_ranges_print_thousands_separators_and_floats_without_noise():
    assert _message("BatchSize", 0, 1, 10_000, url="u") == "BatchSize must be 1-10,000, got 0 (u)"
    assert _message("Age", 30, 60.0, 21_600.0, unit="seconds", url="u") == "Age must be 60-21,600 seconds, got 30 (u)"
    assert _message("Rate", 0.1, 0.5, 1.5, url="u") == "Rate must be 0.5-1.5, got 0.1 (u)"


def test_integer_settings_and_extra_allowed_values_are_part_of_the_wording():
    kwargs = dict(url="u", integer=True, allowed=(limits.STREAM_RETRY_INFINITE,))
    assert _message("MaximumRetryAttempts", -5, 0, 10_000, **kwargs) == (
        "MaximumRetryAttempts must be a whole number, -1 or 0-10,000, got -5 (u)"
    )
    check_range("MaximumRetryAttempts", -1, 0, 10_000, **kwargs)  # -1 means "retry until the record expires"


@pytest.mark.parametrize("value", [True, False, "5", None, [5], math.nan, math.inf, -math.inf])
def test_bools_non_numbers_nan_and_infinity_are_refused(value):
    # True == 1 and False == 0 in Python; neither is a setting AWS would take.
    assert f"got {value!r} (u)" in _message("MaximumRetryAttempts", value, 0, 2, url="u")


@pytest.mark.parametrize("value", [2.0, 1.5])
def test_integer_settings_refuse_floats_even_whole_ones(value):
    assert f"got {value!r}" in _message("MemorySize", value, 0, 10, url="u", integer=True)


@pytest.mark.parametrize("value", [1, 900, 1.5, 899.999])
def test_bounds_are_inclusive_and_floats_pass_unless_integer_is_asked(value):
    check_range("Timeout", value, 1, 900, unit="seconds", url=QUOTAS)


def test_the_error_is_a_value_error_so_simulation_callers_catch_it_as_before():
    assert issubclass(ConfigurationError, ValueError)


def test_the_lab_and_a_stream_mapping_share_the_window_range_but_not_sqs_rule():
    with pytest.raises(ConfigurationError, match="MaximumBatchingWindowInSeconds must be 0-300 seconds"):
        batching.check_window(301, source="u")
    batching.check_window(0, source="u")  # a stream mapping takes batch 100 with window 0
    from lambda_lab.sources.sqs import check_window_for_batch

    with pytest.raises(ConfigurationError, match="BatchSize over 10 requires"):
        check_window_for_batch(100, 0)


def test_the_lab_and_the_simulation_refuse_alike():
    with pytest.raises(ConfigurationError) as from_backoff:
        backoff.lambda_async_throttle_schedule(30)
    with pytest.raises(ConfigurationError) as from_storm:
        simulate_storm(events=10, max_event_age_s=30)
    assert str(from_backoff.value) == str(from_storm.value) == (
        f"MaximumEventAgeInSeconds must be 60-21,600 seconds, got 30 ({limits.EVENT_INVOKE_CONFIG_URL})"
    )


# --------------------------------------------------------------- the numbers


def test_numbers_agree_with_the_aws_facts_sheet():
    assert limits.SYNC_PAYLOAD_MAX_BYTES == 6 * 2**20 and limits.ASYNC_PAYLOAD_MAX_BYTES == 2**20
    assert (limits.FUNCTION_TIMEOUT_MIN_S, limits.FUNCTION_TIMEOUT_MAX_S) == (1, 15 * 60)
    assert limits.ASYNC_DEFAULT_EVENT_AGE_S == limits.ASYNC_MAX_EVENT_AGE_S == 6 * 3600
    assert sum(limits.ASYNC_ERROR_RETRY_DELAYS_S) == 3 * 60
    phases = limits.SNS_IMMEDIATE + limits.SNS_PRE_BACKOFF + limits.SNS_BACKOFF + limits.SNS_POST_BACKOFF
    assert phases == limits.SNS_TOTAL_ATTEMPTS == 100_015
    assert limits.EVENTBRIDGE_MAX_AGE_S == 24 * 3600
    assert limits.SQS_FIFO_BATCH_SIZE_MAX < limits.SQS_BATCH_SIZE_MAX  # FIFO is the small one (facts (a))


def test_the_simulation_takes_its_numbers_from_limits():
    assert params.__all__, "params re-exports limits' names"
    for name in params.__all__:
        assert getattr(params, name) is getattr(limits, name), name


def _numeric_literals(path: Path) -> set:
    tree = ast.parse(path.read_text())
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) in (int, float)}


def _module_level_numbers(path: Path) -> list[str]:
    """Names assigned a bare number (or arithmetic on numbers) at module level."""
    found = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            if all(isinstance(n, (ast.Constant, ast.BinOp, ast.Tuple, ast.operator, ast.expr_context))
                   for n in ast.walk(node.value)) and _numeric_literals_in(node.value):
                found.append(ast.unparse(node))
    return found


def _numeric_literals_in(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and type(n.value) in (int, float) for n in ast.walk(node))


def test_params_defines_no_number_of_its_own():
    assert _numeric_literals(PACKAGE / "sim" / "params.py") == set()


@pytest.mark.parametrize("relative", ["runtime.py", "sources/batching.py", "sim/params.py"])
def test_modules_that_used_to_define_limits_no_longer_do(relative):
    path = PACKAGE / relative
    assert _module_level_numbers(path) == []
    distinctive = {limits.FUNCTION_TIMEOUT_MAX_S, limits.FUNCTION_MEMORY_MAX_MB, limits.ASYNC_MAX_EVENT_AGE_S,
                   limits.BATCHING_WINDOW_MAX_S, limits.SQS_BATCH_SIZE_MAX, 1024}
    assert _numeric_literals(path) & distinctive == set()


def _cited(lines: list[str], index: int) -> bool:
    """True if line ``index`` or the nearest comment block above it (past sibling assignments) cites a source."""
    if "#" in lines[index] and _is_citation(lines[index].split("#", 1)[1]):
        return True
    i = index - 1
    while i >= 0 and lines[i].strip() and not lines[i].lstrip().startswith("#"):
        i -= 1  # sibling constants of the same citation
    block = []
    while i >= 0 and lines[i].lstrip().startswith("#") and not lines[i].lstrip().startswith("# ---"):
        block.append(lines[i])
        i -= 1
    return _is_citation(" ".join(block))


def _is_citation(text: str) -> bool:
    return "https://" in text or "_URL" in text or "awsdocs archive" in text


def test_every_number_in_limits_cites_its_source():
    source = (PACKAGE / "limits.py").read_text()
    lines = source.splitlines()
    numbers = [
        node for node in ast.parse(source).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id.isupper() and not node.targets[0].id.startswith("_")
        and not node.targets[0].id.endswith("_URL") and _numeric_literals_in(node.value)
    ]
    assert len(numbers) > 80
    uncited = [node.targets[0].id for node in numbers if not _cited(lines, node.lineno - 1)]
    assert uncited == []


# --------------------------------------------------------------- imports


def test_limits_imports_only_the_standard_library():
    """Load limits without lambda_lab/__init__.py (which imports boto3) and look at sys.modules."""
    code = (
        "import sys, types\n"
        "pkg = types.ModuleType('lambda_lab'); pkg.__path__ = [sys.argv[1]]\n"
        "sys.modules['lambda_lab'] = pkg\n"
        "import lambda_lab.limits as limits\n"
        "assert limits.SYNC_PAYLOAD_MAX_BYTES\n"
        "heavy = ('boto3', 'botocore', 'moto', 'pandas', 'numpy', 'matplotlib', 'requests')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
        "print(sorted(m for m in sys.modules if m.startswith('lambda_lab')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(PACKAGE)], capture_output=True, text=True, check=True)
    heavy, ours = out.stdout.splitlines()
    assert heavy == "[]"
    assert ours == "['lambda_lab', 'lambda_lab.errors', 'lambda_lab.limits']"


@pytest.mark.parametrize("name", ["limits.py", "errors.py"])
def test_limits_and_errors_import_statements_are_stdlib_or_errors(name):
    tree = ast.parse((PACKAGE / name).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: only lambda_lab.errors is allowed
                assert node.module == "errors", ast.unparse(node)
                continue
            modules = [node.module]
        else:
            continue
        for module in modules:
            assert module.split(".")[0] in sys.stdlib_module_names, module
