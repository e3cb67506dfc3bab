"""Hardening of lambda_lab.patterns: wildcard cost, nesting depth, non-JSON values, error types.

Each test here failed (or, for the wildcard, hung for minutes) before the fix it guards.
None of them measures time: the wildcard tests check results and that the backtracking
regex engine is no longer used (``benchmarks/patterns.py`` prints the timings).
"""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_lab import limits, patterns
from lambda_lab.errors import LabError
from lambda_lab.patterns import InvalidPatternError, matches, validate
from lambda_lab.sources.sqs import matches_filter

DEEP = 1_000  # deeper than Python's default recursion limit allows a recursive walk to go


def old_wildcard(arg: str, value: str) -> bool:
    """The matcher's wildcard before the fix (a regex): the reference for its semantics."""
    parts = re.findall(r"\\[*\\]|\*|[^*\\]+", arg)
    body = "".join(".*" if p == "*" else re.escape(p[-1] if p[0] == "\\" else p) for p in parts)
    return re.compile(body, re.DOTALL).fullmatch(value) is not None


class _NoRegex:
    """Stands in for the ``re`` module inside lambda_lab.patterns: any use is a failure."""

    def __getattr__(self, name: str):
        raise AssertionError(f"wildcard matching used re.{name} (backtracking regex engine)")


def wildcard(arg: str, value: str) -> bool:
    return matches({"v": [{"wildcard": arg}]}, {"v": value})


# ------------------------------------------------------------------- wildcard


@pytest.mark.parametrize(("arg", "value", "expected"), [
    ("*a*a*a*a*b", "a" * 400, False),  # took 88 s with the regex
    ("*a*a*a*a*b", "a" * 400 + "b", True),
    ("*a*a*a*a*a*a*a*a*b", "a" * 2_000 + "c", False),
    ("a*" * 50 + "b", "a" * 500, False),
])
def test_pathological_wildcards_match_without_the_regex_engine(monkeypatch, arg, value, expected):
    # The old matcher compiled ".*a.*a.*a.*a.*b", whose backtracking is O(n^k) for k stars;
    # forbidding ``re`` makes the old code fail at once instead of hanging the suite.
    monkeypatch.setattr(patterns, "re", _NoRegex(), raising=False)
    assert wildcard(arg, value) is expected
    assert matches({"v": [{"anything-but": {"wildcard": arg}}]}, {"v": value}) is (not expected)


@pytest.mark.parametrize(("arg", "value", "expected"), [
    ("", "", True), ("", "a", False), ("*", "", True), ("*", "any\nthing", True),
    ("a*", "a", True), ("*a", "ba", True), ("a*a", "a", False), ("a*a", "aa", True),
    ("ab*ba", "aba", False), ("ab*ba", "abba", True), ("*ab*", "xaby", True),
    ("a\\*b", "a*b", True), ("a\\*b", "axb", False), ("a\\\\b", "a\\b", True),
    ("a\\\\*", "a\\", True), ("\\*", "*", True), ("\\**", "*x", True), ("*\\*", "x", False),
    ("x*y*z", "xzyz", True), ("x*y*z", "xzzy", False),
])
def test_wildcard_semantics_examples(arg, value, expected):
    assert old_wildcard(arg, value) is expected  # the examples describe the old semantics
    assert wildcard(arg, value) is expected


TOKENS = st.sampled_from(["a", "b", "*", "\\*", "\\\\", "\n"])


@st.composite
def wildcard_arg(draw: st.DrawFn) -> str:
    """A wildcard string validate accepts: escapes only ``\\*``/``\\\\``, never ``**``."""
    tokens = draw(st.lists(TOKENS, max_size=8))
    kept = [t for i, t in enumerate(tokens) if not (t == "*" and i and tokens[i - 1] == "*")]
    return "".join(kept)


@settings(derandomize=True, max_examples=400, deadline=None)
@given(arg=wildcard_arg(), value=st.text(alphabet="ab*\\\n", max_size=10))
def test_wildcard_agrees_with_the_old_regex_on_small_inputs(arg, value):
    validate({"v": [{"wildcard": arg}]})
    assert wildcard(arg, value) is old_wildcard(arg, value)


# ------------------------------------------------------------------- nesting


def nested_pattern(depth: int) -> dict:
    """``{"a": {"a": ... {"a": ["x"]}}}`` with ``depth`` objects, built without recursion."""
    node: dict = {"a": ["x"]}
    for _ in range(depth - 1):
        node = {"a": node}
    return node


def test_pattern_nested_1000_deep_is_refused_naming_the_limit():
    limit = limits.PATTERN_MAX_DEPTH
    for pattern in (nested_pattern(DEEP), '{"a":' * DEEP + '["x"]' + "}" * DEEP):
        with pytest.raises(InvalidPatternError, match=f"more than {limit} levels"):
            validate(pattern)


def test_pattern_nested_in_arrays_is_refused():
    text = '{"a": [' + "[" * DEEP + "]" * DEEP + "]}"
    with pytest.raises(InvalidPatternError, match="levels"):
        validate(text)


def test_pattern_at_the_depth_limit_is_accepted():
    # the innermost ["x"] is a level of its own, so depth - 1 objects fit the limit
    pattern = nested_pattern(limits.PATTERN_MAX_DEPTH - 1)
    assert matches(pattern, json.loads(json.dumps(pattern).replace('["x"]', '"x"'))) is True
    with pytest.raises(InvalidPatternError):
        validate(nested_pattern(limits.PATTERN_MAX_DEPTH))


def test_cyclic_pattern_is_refused_not_a_recursion_error():
    pattern: dict = {"a": ["x"]}
    pattern["b"] = pattern
    with pytest.raises(InvalidPatternError, match="levels"):
        validate(pattern)


def test_event_nested_1000_deep_still_matches():
    deep_list: list = ["x"]
    deep_dict: dict = {"leaf": "x"}
    for _ in range(DEEP):
        deep_list = [deep_list]
        deep_dict = {"a": deep_dict}
    assert matches({"v": ["x"]}, {"v": deep_list}) is True
    assert matches({"v": {"w": ["x"]}}, {"v": deep_list}) is False
    assert matches({"w": ["x"], "v": {"a": {"a": [{"exists": False}]}}},
                   {"w": "x", "v": deep_dict}) is True
    assert matches({"v": {"a": {"leaf": ["x"]}}}, {"v": deep_dict}) is False


def test_event_text_too_deep_to_parse_is_refused_naming_the_limit():
    text = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(ValueError, match="1,100 levels") as err:
        matches({"a": ["x"]}, text)
    assert type(err.value).__name__ == "InvalidEventError" and isinstance(err.value, LabError)


def test_sqs_body_too_deep_to_parse_is_a_plain_string_body():
    body = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    record = {"messageId": "m1", "body": body, "eventSource": "aws:sqs"}
    assert matches_filter({"body": {"a": [{"exists": True}]}}, record) is False
    assert matches_filter({"body": [{"prefix": '{"a": [['}]}, record) is True


# ------------------------------------------------------------ non-JSON values


@pytest.mark.parametrize(("pattern", "names"), [
    ({"a": [math.nan]}, "Numbers must be finite, got nan (at a)"),
    ({"a": [math.inf]}, "Numbers must be finite, got inf (at a)"),
    ({"a": [{"numeric": [">", -math.inf]}]}, "Numbers must be finite, got -inf (at a.numeric)"),
    ({"a": [{"anything-but": [1, math.nan]}]}, "Numbers must be finite"),
    ({"a": [b"x"]}, "bytes is not a JSON value (at a)"),
    ({"a": [object()]}, "object is not a JSON value (at a)"),
    ({"a": [{1, 2}]}, "set is not a JSON value (at a)"),
    ({"a": [("x", "y")]}, "tuple is not a JSON value (at a)"),
    ({"a": {1: ["x"]}}, "Object keys must be strings, got 1 (at a)"),
    ({"a": [{"prefix": b"x"}]}, "bytes is not a JSON value (at a.prefix)"),
    ('{"a": [NaN]}', "Numbers must be finite, got NaN"),
    ('{"a": [{"numeric": ["<", Infinity]}]}', "Numbers must be finite, got Infinity"),
    ('{"a": [1e999]}', "Numbers must be finite, got inf (at a)"),
])
def test_non_json_values_are_refused_naming_the_rule(pattern, names):
    with pytest.raises(InvalidPatternError, match="^Event pattern is not valid: ") as err:
        validate(pattern)
    assert names in str(err.value)


def test_invalid_pattern_error_is_a_lab_error_and_still_a_value_error():
    with pytest.raises(InvalidPatternError) as err:
        validate({"a": "x"})
    assert isinstance(err.value, LabError)
    assert isinstance(err.value, ValueError)
