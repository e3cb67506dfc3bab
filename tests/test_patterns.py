"""Tests for lambda_lab.patterns: EventBridge / Lambda filter-criteria matching.

Examples follow the AWS EventBridge "comparison operators" page and the Lambda
event-filtering pages where they have one. The last section compares the
matcher with moto's on the subset of patterns where moto is known to be right.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.events.models import EventPattern

from lambda_lab.patterns import InvalidPatternError, match_checked, matches, validate


def check(pattern: dict, hit: dict, miss: dict) -> None:
    """``pattern`` matches ``hit`` and does not match ``miss``."""
    assert matches(pattern, hit) is True
    assert matches(pattern, miss) is False


# ------------------------------------------------------------ exact values


def test_exact_string():
    check({"source": ["aws.ec2"]}, {"source": "aws.ec2"}, {"source": "aws.s3"})


def test_array_of_values_is_or():
    pattern = {"source": ["aws.ec2", "aws.fargate"]}
    check(pattern, {"source": "aws.fargate"}, {"source": "aws.s3"})


def test_exact_number_compares_numerically():
    check({"detail": {"count": [5]}}, {"detail": {"count": 5.0}}, {"detail": {"count": 6}})
    check({"detail": {"count": [5.0]}}, {"detail": {"count": 5}}, {"detail": {"count": "5"}})


def test_exact_boolean_is_not_a_number():
    check({"ok": [True]}, {"ok": True}, {"ok": 1})
    check({"n": [1]}, {"n": 1}, {"n": True})


def test_null_matching():
    check({"responseElements": [None]}, {"responseElements": None}, {"responseElements": "x"})


def test_null_does_not_match_missing_field():
    assert matches({"a": [None]}, {"b": 1}) is False


def test_empty_string_matching():
    check({"LastName": [""]}, {"LastName": ""}, {"LastName": "Doe"})


def test_and_across_fields():
    pattern = {"Location": ["New York"], "Day": ["Monday"]}
    check(pattern, {"Location": "New York", "Day": "Monday"},
          {"Location": "New York", "Day": "Tuesday"})


def test_nested_objects():
    pattern = {"source": ["aws.ec2"], "detail": {"state": ["terminated"]}}
    hit = {"source": "aws.ec2", "detail": {"state": "terminated", "id": "i-1"}}
    check(pattern, hit, {"source": "aws.ec2", "state": "terminated"})


def test_event_array_matches_if_any_element_matches():
    pattern = {"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}
    hit = {"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "other"]}
    check(pattern, hit, {"resources": ["other"]})


def test_arrays_of_objects_match_unlike_moto():
    pattern = {"detail": {"items": {"sku": ["X1"]}}}
    hit = {"detail": {"items": [{"sku": "X0"}, {"sku": "X1", "qty": 2}]}}
    miss = {"detail": {"items": [{"sku": "X0"}, {"sku": "X2"}]}}
    check(pattern, hit, miss)
    # moto's flattening matcher never looks inside arrays of objects:
    assert EventPattern.load(json.dumps(pattern)).matches_event(hit) is False


def test_arrays_of_objects_keep_fields_of_one_element_together():
    pattern = {"items": {"sku": ["X1"], "qty": [2]}}
    check(pattern, {"items": [{"sku": "X1", "qty": 2}]},
          {"items": [{"sku": "X1", "qty": 1}, {"sku": "X2", "qty": 2}]})


def test_json_string_inputs():
    assert matches('{"a": ["b"]}', '{"a": "b"}') is True


# ---------------------------------------------------------------- operators


def test_prefix():
    check({"time": [{"prefix": "2017-10-02"}]},
          {"time": "2017-10-02T18:43:48Z"}, {"time": "2017-10-03T18:43:48Z"})


def test_prefix_only_matches_strings():
    assert matches({"n": [{"prefix": "1"}]}, {"n": 123}) is False


def test_prefix_equals_ignore_case():
    check({"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
          {"detail": {"service": "eventbridge"}}, {"detail": {"service": "lambda"}})


def test_suffix():
    check({"FileName": [{"suffix": ".png"}]}, {"FileName": "cat.png"}, {"FileName": "cat.PNG"})


def test_suffix_equals_ignore_case():
    check({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}},
          {"detail": {"FileName": "cat.PNG"}}, {"detail": {"FileName": "cat.jpg"}})


def test_equals_ignore_case():
    check({"name": [{"equals-ignore-case": "alice"}]}, {"name": "ALICE"}, {"name": "alicia"})


def test_wildcard():
    pattern = {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}
    check(pattern, {"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/orders"},
          {"EventBusArn": "arn:aws:events:eu-west-1:123456789012:event-bus/orders"})


def test_wildcard_star_matches_empty_run_and_whole_value():
    assert matches({"p": [{"wildcard": "*/lib/*"}]}, {"p": "/lib/"}) is True
    assert matches({"p": [{"wildcard": "a*c"}]}, {"p": "abcd"}) is False


def test_wildcard_escaped_star_is_literal():
    pattern = {"p": [{"wildcard": "a\\*c"}]}
    check(pattern, {"p": "a*c"}, {"p": "abc"})
    check({"p": [{"wildcard": "a\\\\*"}]}, {"p": "a\\xyz"}, {"p": "ab"})


def test_anything_but_single_string():
    check({"detail": {"state": [{"anything-but": "initializing"}]}},
          {"detail": {"state": "running"}}, {"detail": {"state": "initializing"}})


def test_anything_but_single_number():
    check({"detail": {"x-limit": [{"anything-but": 123}]}},
          {"detail": {"x-limit": 124}}, {"detail": {"x-limit": 123.0}})


def test_anything_but_list_of_strings():
    pattern = {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}
    check(pattern, {"detail": {"state": "running"}}, {"detail": {"state": "stopped"}})


def test_anything_but_list_of_numbers():
    pattern = {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}
    check(pattern, {"detail": {"x-limit": 150}}, {"detail": {"x-limit": 200}})


def test_anything_but_prefix():
    check({"Region": [{"anything-but": {"prefix": "us-"}}]},
          {"Region": "eu-west-1"}, {"Region": "us-east-1"})


def test_anything_but_suffix():
    check({"FileName": [{"anything-but": {"suffix": ".png"}}]},
          {"FileName": "cat.jpg"}, {"FileName": "cat.png"})


def test_anything_but_equals_ignore_case():
    check({"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]},
          {"state": "running"}, {"state": "INITIALIZING"})


def test_anything_but_wildcard():
    check({"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]},
          {"FilePath": "/usr/bin/x"}, {"FilePath": "/usr/lib/x"})


def test_anything_but_does_not_match_missing_field():
    assert matches({"state": [{"anything-but": "initializing"}]}, {"other": 1}) is False


def test_numeric_range():
    pattern = {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}
    check(pattern, {"detail": {"c-count": 5}}, {"detail": {"c-count": 0}})


@pytest.mark.parametrize(("op", "hit", "miss"), [
    ("<", 9, 10), ("<=", 10, 10.5), ("=", 10.0, 11), (">", 11, 10), (">=", 10, 9.99),
])
def test_numeric_single_comparison(op, hit, miss):
    check({"n": [{"numeric": [op, 10]}]}, {"n": hit}, {"n": miss})


def test_numeric_equals_float_example():
    check({"x-limit": [{"numeric": ["=", 3.018e2]}]}, {"x-limit": 301.8}, {"x-limit": 301})


def test_numeric_only_matches_numbers():
    pattern = {"n": [{"numeric": [">", 0]}]}
    assert matches(pattern, {"n": "5"}) is False
    assert matches(pattern, {"n": True}) is False


def test_cidr_ipv4():
    check({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}},
          {"detail": {"source-ip": "10.0.0.255"}}, {"detail": {"source-ip": "10.0.1.1"}})


def test_cidr_ipv6():
    check({"sourceIPAddress": [{"cidr": "2001:db8::/32"}]},
          {"sourceIPAddress": "2001:db8:0:1::7"}, {"sourceIPAddress": "2001:db9::1"})


def test_cidr_ignores_non_addresses():
    assert matches({"ip": [{"cidr": "10.0.0.0/8"}]}, {"ip": "not-an-ip"}) is False


def test_exists_true():
    check({"detail": {"state": [{"exists": True}]}},
          {"detail": {"state": "x"}}, {"detail": {"other": "x"}})


def test_exists_false():
    check({"detail": {"state": [{"exists": False}]}},
          {"detail": {"other": "x"}}, {"detail": {"state": "x"}})


def test_exists_only_works_on_leaf_nodes():
    event = {"detail": {"state": {"name": "x"}}}
    assert matches({"detail": {"state": [{"exists": True}]}}, event) is False
    assert matches({"detail": {"state": [{"exists": False}]}}, event) is True


def test_exists_true_matches_null_value():
    assert matches({"a": [{"exists": True}]}, {"a": None}) is True


def test_missing_field_matches_only_exists_false():
    event = {"other": 1}
    assert matches({"a": [{"exists": False}]}, event) is True
    for rule in ["", None, {"prefix": ""}, {"numeric": [">", 0]}, {"exists": True}]:
        assert matches({"a": [rule]}, event) is False


def test_or():
    pattern = {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                       {"d-count": [{"numeric": ["<", 10]}]},
                       {"x-limit": [{"numeric": ["=", 301.8]}]}]}
    check(pattern, {"d-count": 3}, {"c-count": 9, "d-count": 10})


def test_or_nested_and_anded_with_siblings():
    pattern = {"source": ["app"],
               "detail": {"$or": [{"a": ["1"]}, {"b": [{"prefix": "x"}]}]}}
    check(pattern, {"source": "app", "detail": {"b": "xy"}},
          {"source": "other", "detail": {"b": "xy"}})


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(("pattern", "names"), [
    ({"a": [{"bogus-op": 1}]}, '"bogus-op" is not a recognized operator'),
    ({"a": "x"}, "Match value must be an array"),
    ({"a": 5}, "Match value must be an array"),
    ({"a": []}, "Empty arrays are not allowed"),
    ({"a": {}}, "Empty objects are not allowed"),
    ({"a": [["x"]]}, "Match value must be String, number, true, false, or null"),
    ({"a": [{"prefix": "x", "suffix": "y"}]}, "Only one key allowed"),
    ({"a": [{"prefix": 5}]}, '"prefix" requires'),
    ({"a": [{"suffix": {"ignore": "x"}}]}, '"suffix" requires'),
    ({"a": [{"equals-ignore-case": ["x"]}]}, '"equals-ignore-case" requires'),
    ({"a": [{"numeric": [">", "5"]}]}, '"numeric" requires'),
    ({"a": [{"numeric": ["!=", 5]}]}, '"numeric" requires'),
    ({"a": [{"numeric": [">", 5, ">", 6]}]}, '"numeric" requires'),
    ({"a": [{"numeric": [">", 9, "<", 1]}]}, '"numeric" requires'),
    ({"a": [{"numeric": [">", 1, "<", 9, "=", 5]}]}, '"numeric" requires'),
    ({"a": [{"exists": "yes"}]}, '"exists" requires true or false'),
    ({"a": [{"cidr": "10.0.0.0"}]}, '"cidr" requires'),
    ({"a": [{"cidr": "10.0.0.300/24"}]}, '"cidr" requires'),
    ({"a": [{"wildcard": "a**b"}]}, "Consecutive wildcard characters at pos 1"),
    ({"a": [{"wildcard": "a\\b"}]}, "Invalid escape character at pos 1"),
    ({"a": [{"anything-but": ["x", 1]}]}, '"anything-but" requires'),
    ({"a": [{"anything-but": []}]}, '"anything-but" requires'),
    ({"a": [{"anything-but": True}]}, '"anything-but" requires'),
    ({"a": [{"anything-but": {"numeric": [">", 1]}}]}, '"anything-but" requires'),
    ({"a": [{"anything-but": {"prefix": 3}}]}, '"prefix" requires'),
    ({"$or": [{"a": ["x"]}]}, '"$or" requires an array of at least two patterns'),
    ({"$or": [{"a": ["x"]}, "b"]}, '"$or" elements must be objects'),
    ({}, "Empty objects are not allowed"),
    ('{"a": [', "Invalid JSON"),
    ('["a"]', "Filter is not an object"),
])
def test_invalid_patterns_name_the_rule(pattern, names):
    with pytest.raises(InvalidPatternError, match="^Event pattern is not valid: ") as err:
        validate(pattern)
    assert names in str(err.value)
    assert isinstance(err.value, ValueError)


def test_matches_validates_first_unlike_moto():
    pattern = {"a": [{"bogus-op": 1}]}
    with pytest.raises(InvalidPatternError):
        matches(pattern, {"a": 1})
    # moto accepts the unknown operator and matches everything:
    assert EventPattern.load(json.dumps(pattern)).matches_event({"a": 1}) is True


def test_match_checked_skips_the_checks_matches_makes():
    pattern = validate({"detail": {"state": ["stopped"]}})
    assert match_checked(pattern, {"detail": {"state": "stopped"}}) is True
    assert match_checked(pattern, {"detail": {"state": "running"}}) is False


def test_validate_returns_parsed_pattern():
    assert validate('{"a": [{"numeric": [">=", 1, "<", 2]}]}') == {
        "a": [{"numeric": [">=", 1, "<", 2]}]}


# ------------------------------------------ differential test against moto
#
# Restricted to what moto gets right (moto-audit §6): no arrays of objects, no
# unknown operators, and additionally no booleans (moto treats True as 1), no
# empty objects/arrays and no dotted keys (moto flattens paths with ".").

KEYS = st.sampled_from(["a", "b", "c"])
TEXT = st.sampled_from(["", "a", "ab", "abc", "ba", "b", "x.y"])
NUMBER = st.one_of(st.integers(-3, 3), st.sampled_from([-1.5, 0.0, 0.5, 2.0, 2.5]))
SCALAR = st.one_of(TEXT, NUMBER, st.none())
LEAF = st.one_of(SCALAR, st.lists(st.one_of(TEXT, NUMBER), min_size=1, max_size=3))
EVENTS = st.recursive(
    st.dictionaries(KEYS, LEAF, min_size=1, max_size=3),
    lambda inner: st.dictionaries(KEYS, st.one_of(LEAF, inner), min_size=1, max_size=3),
    max_leaves=8,
)


@st.composite
def numeric_range(draw: st.DrawFn) -> dict:
    """A valid one- or two-sided ``numeric`` rule."""
    low, high = sorted(draw(st.lists(NUMBER, min_size=2, max_size=2, unique=True)))
    if draw(st.booleans()):
        return {"numeric": [draw(st.sampled_from(["<", "<=", "=", ">", ">="])), low]}
    return {"numeric": [draw(st.sampled_from([">", ">="])), low,
                        draw(st.sampled_from(["<", "<="])), high]}


RULE = st.one_of(
    SCALAR,
    st.builds(lambda s: {"prefix": s}, TEXT),
    st.builds(lambda s: {"suffix": s}, TEXT),
    st.builds(lambda xs: {"anything-but": xs}, st.lists(TEXT, min_size=1, max_size=3)),
    st.builds(lambda xs: {"anything-but": xs}, st.lists(NUMBER, min_size=1, max_size=3)),
    numeric_range(),
    st.builds(lambda b: {"exists": b}, st.booleans()),
)


@st.composite
def event_and_pattern(draw: st.DrawFn) -> tuple[dict, dict]:
    """An event plus a pattern aimed at it: mostly its own keys, some of its values."""
    event = draw(EVENTS)

    def aim(node: dict) -> dict:
        keys = draw(st.lists(st.sampled_from(sorted(node)), min_size=1, max_size=2,
                             unique=True))
        keys += ["z"] if draw(st.integers(0, 5)) == 0 else []  # sometimes a missing key
        pattern = {}
        for key in keys:
            value = node.get(key)
            if isinstance(value, dict) and draw(st.booleans()):
                pattern[key] = aim(value)
            else:
                own = [v for v in (value if isinstance(value, list) else [value])
                       if not isinstance(v, dict)] or [None]
                pattern[key] = draw(st.lists(st.one_of(RULE, st.sampled_from(own)),
                                             min_size=1, max_size=3))
        return pattern

    return event, aim(event)


@settings(derandomize=True, max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=event_and_pattern())
def test_agrees_with_moto_where_moto_is_right(case):
    event, pattern = case
    expected = EventPattern.load(json.dumps(pattern)).matches_event(event)
    assert matches(pattern, event) is expected


@settings(derandomize=True, max_examples=100, deadline=None)
@given(event=EVENTS, data=st.data())
def test_pattern_built_from_event_matches_it(event, data):
    """Turning every leaf of an event into an exact-match rule always matches."""
    def mirror(node: dict) -> dict:
        return {k: mirror(v) if isinstance(v, dict) else
                ([data.draw(st.sampled_from(v))] if isinstance(v, list) else [v])
                for k, v in node.items()}
    assert matches(mirror(event), event) is True
