"""EventBridge content matching, shared by Lambda filter criteria and EventBridge rules.

Generic: what a pattern sees of one source's record (an SQS body parsed or as text, say) is
decided by that source's mapping in ``sources/<source>.py``.

An event pattern is a JSON object that mirrors the shape of the events it selects:

* every key of the pattern must be satisfied (AND across fields);
* a pattern value that is an object descends into the event's object of that name;
* a pattern value that is an array lists rules for a leaf, any one of which may
  match (OR); a rule is a plain JSON value (exact match) or a one-key operator
  object such as ``{"prefix": "us-"}``;
* when the event holds an array, a leaf rule matches if any element matches, and a
  nested pattern matches if any object in the array satisfies the whole sub-pattern
  (AWS matches arrays of objects; moto's flattening matcher never does);
* ``{"$or": [p1, p2, ...]}`` matches if any of two or more sub-patterns matches.

Operators: ``prefix``, ``suffix`` (both also as ``{"equals-ignore-case": s}``),
``equals-ignore-case``, ``wildcard``, ``anything-but`` (value, list, or
``prefix``/``suffix``/``equals-ignore-case``/``wildcard``), ``numeric``, ``cidr``
and ``exists``. A field missing from the event matches only ``{"exists": false}``.

Patterns are JSON, so NaN, infinity, bytes, other Python objects and non-string keys
are refused, as is nesting deeper than ``limits.PATTERN_MAX_DEPTH`` (the lab's limit:
AWS documents none). Wildcards cost O(len(pattern) x len(value)) at most.

Sources: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
and https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html.

>>> matches({"detail": {"state": ["stopped"]}}, {"detail": {"state": "stopped"}})
True
>>> matches({"detail": {"items": {"sku": ["X1"]}}},
...         {"detail": {"items": [{"sku": "X0"}, {"sku": "X1"}]}})
True
"""

from __future__ import annotations

import functools
import ipaddress
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

from . import limits
from .errors import LabError

__all__ = ["InvalidEventError", "InvalidPatternError", "OPERATORS", "VALUE_TESTS", "check_cidr",
           "check_json", "check_wildcard", "leaves", "match_checked", "matches", "objects",
           "parse_pattern", "validate"]

_PREFIX = "Event pattern is not valid: "
_NUMERIC_OPS = ("<", "<=", "=", ">", ">=")
_LOWER_OPS = (">", ">=")
_UPPER_OPS = ("<", "<=")
_ANYTHING_BUT_OPS = ("prefix", "suffix", "equals-ignore-case", "wildcard")

#: Every operator this matcher knows; anything else is refused by :func:`validate`.
OPERATORS = (
    "prefix", "suffix", "equals-ignore-case", "wildcard",
    "anything-but", "numeric", "cidr", "exists",
)


class InvalidPatternError(ValueError, LabError):
    """A pattern AWS would refuse; the message names the rule that was broken."""

    def __init__(self, reason: str) -> None:
        super().__init__(_PREFIX + reason)
        self.reason = reason


class InvalidEventError(ValueError, LabError):
    """An event given as JSON text that cannot be matched (the message says why)."""


# ---------------------------------------------------------------- validation


def validate(pattern: dict | str) -> dict:
    """Parse ``pattern`` (a dict or JSON text) and check it; return the dict.

    Raises :class:`InvalidPatternError` for anything EventBridge refuses: bad
    JSON, a non-object pattern, a leaf that is not an array, an empty array or
    object, an unknown operator, or an operator given the wrong kind of value;
    and for what JSON cannot hold (NaN, infinity, bytes, other Python objects,
    non-string keys) or a pattern nested deeper than ``limits.PATTERN_MAX_DEPTH``.
    """
    if isinstance(pattern, (str, bytes)):
        pattern = parse_pattern(pattern)
    if not isinstance(pattern, dict):
        raise InvalidPatternError("Filter is not an object")
    check_json(pattern)  # first, so the recursive checks below only see bounded JSON
    _check_object(pattern, "")
    return pattern


def _too_deep() -> InvalidPatternError:
    """The refusal for a pattern nested deeper than ``limits.PATTERN_MAX_DEPTH``."""
    limit = limits.PATTERN_MAX_DEPTH
    return InvalidPatternError(
        f"Patterns may nest objects and arrays at most {limit} levels deep (the lab's limit, "
        f"limits.PATTERN_MAX_DEPTH; AWS documents none): this one has more than {limit} levels")


def parse_pattern(text: str | bytes) -> Any:
    """JSON text to Python, refusing NaN/Infinity (Python's json reads them, JSON has none)."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        raise InvalidPatternError(f"Invalid JSON: {err.msg}") from None
    except RecursionError:
        # json's C parser recurses once per level; deeper than ~1,000 it gives up.
        raise _too_deep() from None


def _refuse_constant(name: str) -> float:
    """``parse_constant`` hook: json calls it for NaN, Infinity and -Infinity."""
    raise InvalidPatternError(f"Numbers must be finite, got {name} (not JSON)")


def check_json(pattern: dict) -> None:
    """Refuse anything that is not JSON, or nested too deep; iterative, so any depth is safe.

    Patterns are JSON: objects with string keys, arrays, strings, finite numbers, true,
    false and null. A cyclic dict is refused as too deep.
    """
    stack: list[tuple[Any, str, int]] = [(pattern, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, (dict, list)) and depth > limits.PATTERN_MAX_DEPTH:
            raise _too_deep()
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    raise InvalidPatternError(
                        f"Object keys must be strings, got {key!r}{_at(path)}")
                stack.append((value, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, path, depth + 1) for item in node)
        else:
            _check_scalar(node, path)


def _check_scalar(value: Any, path: str) -> None:
    """A JSON scalar: string, finite number, true, false or null."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidPatternError(f"Numbers must be finite, got {value!r}{_at(path)}")
    if value is not None and not isinstance(value, (str, int, float)):  # bool is an int
        raise InvalidPatternError(
            f"{type(value).__name__} is not a JSON value{_at(path)}: patterns hold only "
            "strings, numbers, true, false, null, arrays and objects")


def _check_object(node: dict, path: str) -> None:
    """Check one pattern object: each key holds an object, a rule list, or ``$or``."""
    if not node:
        raise InvalidPatternError(f"Empty objects are not allowed{_at(path)}")
    for key, value in node.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            _check_or(value, where)
        elif isinstance(value, dict):
            _check_object(value, where)
        elif isinstance(value, list):
            _check_rules(value, where)
        else:
            raise InvalidPatternError(f"Match value must be an array{_at(where)}")


def _check_or(value: Any, path: str) -> None:
    """``$or`` needs an array of at least two non-empty pattern objects."""
    if not isinstance(value, list) or len(value) < 2:
        raise InvalidPatternError('"$or" requires an array of at least two patterns')
    for sub in value:
        if not isinstance(sub, dict):
            raise InvalidPatternError(f'"$or" elements must be objects{_at(path)}')
        _check_object(sub, path)


def _check_rules(rules: list, path: str) -> None:
    """A leaf's rule list: non-empty; each entry a JSON scalar or one operator object."""
    if not rules:
        raise InvalidPatternError(f"Empty arrays are not allowed{_at(path)}")
    for rule in rules:
        if isinstance(rule, dict):
            _check_operator(rule, path)
        elif isinstance(rule, list):
            raise InvalidPatternError(
                f"Match value must be String, number, true, false, or null{_at(path)}")


def _check_operator(rule: dict, path: str) -> None:
    """An operator object has exactly one known key whose value fits that operator."""
    if len(rule) != 1:
        raise InvalidPatternError(f"Only one key allowed in match expression{_at(path)}")
    op, arg = next(iter(rule.items()))
    checker = _CHECKERS.get(op)
    if checker is None:
        raise InvalidPatternError(f'"{op}" is not a recognized operator{_at(path)}')
    checker(arg, path)


def _at(path: str) -> str:
    """Suffix naming the pattern field an error refers to."""
    return f" (at {path})" if path else ""


def _is_number(value: Any) -> bool:
    """JSON number: int or float but not bool (Python's bool is an int)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_string(op: str) -> Callable[[Any, str], None]:
    """Checker for operators whose value is a single string."""
    def check(arg: Any, path: str) -> None:
        if not isinstance(arg, str):
            raise InvalidPatternError(f'"{op}" requires a string{_at(path)}')
    return check


def _check_affix(op: str) -> Callable[[Any, str], None]:
    """``prefix``/``suffix``: a string or ``{"equals-ignore-case": string}``."""
    def check(arg: Any, path: str) -> None:
        if isinstance(arg, dict) and list(arg) == ["equals-ignore-case"]:
            arg = arg["equals-ignore-case"]
        if not isinstance(arg, str):
            raise InvalidPatternError(
                f'"{op}" requires a string or {{"equals-ignore-case": string}}{_at(path)}')
    return check


def check_wildcard(arg: Any, path: str) -> None:
    """``wildcard``: a string; ``\\`` may escape only ``*`` or ``\\``; no ``**``."""
    _check_string("wildcard")(arg, path)
    index = 0
    while index < len(arg):
        if arg[index] == "\\":
            if index + 1 >= len(arg) or arg[index + 1] not in "*\\":
                raise InvalidPatternError(f"Invalid escape character at pos {index}{_at(path)}")
            index += 2
            continue
        if arg.startswith("**", index):
            raise InvalidPatternError(
                f"Consecutive wildcard characters at pos {index}{_at(path)}")
        index += 1


def _check_exists(arg: Any, path: str) -> None:
    """``exists``: true or false."""
    if not isinstance(arg, bool):
        raise InvalidPatternError(f'"exists" requires true or false{_at(path)}')


def check_cidr(arg: Any, path: str) -> None:
    """``cidr``: an IPv4 or IPv6 network in ``address/length`` form."""
    try:
        if not isinstance(arg, str) or "/" not in arg:
            raise ValueError(arg)
        ipaddress.ip_network(arg, strict=False)
    except ValueError:
        raise InvalidPatternError(
            f'"cidr" requires an IP prefix like "10.0.0.0/24", got {arg!r}{_at(path)}') from None


def _check_numeric(arg: Any, path: str) -> None:
    """``numeric``: ``[op, n]`` or a range ``[">"|">=", low, "<"|"<=", high]``."""
    need = ('"numeric" requires [operator, number] or [">"|">=", low, "<"|"<=", high]'
            + _at(path))
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise InvalidPatternError(need)
    ops, nums = arg[0::2], arg[1::2]
    if any(op not in _NUMERIC_OPS for op in ops) or not all(map(_is_number, nums)):
        raise InvalidPatternError(need)
    if len(arg) == 4 and (ops[0] not in _LOWER_OPS or ops[1] not in _UPPER_OPS
                          or nums[0] >= nums[1]):
        raise InvalidPatternError(need)


def _check_anything_but(arg: Any, path: str) -> None:
    """``anything-but``: a string/number, a list of only strings or only numbers,
    or one of ``prefix``/``suffix``/``equals-ignore-case``/``wildcard``."""
    if isinstance(arg, str) or _is_number(arg):
        return
    if isinstance(arg, list):
        if arg and (all(isinstance(a, str) for a in arg) or all(map(_is_number, arg))):
            return
    elif isinstance(arg, dict) and len(arg) == 1 and next(iter(arg)) in _ANYTHING_BUT_OPS:
        op, inner = next(iter(arg.items()))
        for value in inner if isinstance(inner, list) and inner else [inner]:
            (check_wildcard if op == "wildcard" else _check_string(op))(value, path)
        return
    raise InvalidPatternError(
        '"anything-but" requires a string, a number, a non-empty list of only strings '
        'or only numbers, or one of {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": '
        f"string}}{_at(path)}")


_CHECKERS: dict[str, Callable[[Any, str], None]] = {
    "prefix": _check_affix("prefix"),
    "suffix": _check_affix("suffix"),
    "equals-ignore-case": _check_string("equals-ignore-case"),
    "wildcard": check_wildcard,
    "anything-but": _check_anything_but,
    "numeric": _check_numeric,
    "cidr": check_cidr,
    "exists": _check_exists,
}


# ------------------------------------------------------------------ matching


def matches(pattern: dict | str, event: dict | str) -> bool:
    """True if ``event`` satisfies ``pattern``; both may be dicts or JSON text.

    The pattern is validated first, so an invalid one raises
    :class:`InvalidPatternError` rather than silently matching. Event text too
    deeply nested for Python's JSON parser raises :class:`InvalidEventError`; an
    event dict may nest to any depth.
    """
    checked = validate(pattern)
    if isinstance(event, (str, bytes)):
        event = _parse_event(event)
    if not isinstance(event, dict):
        raise TypeError("event must be a JSON object")
    return _match_object(checked, event)


def _parse_event(text: str | bytes) -> Any:
    """JSON text to Python; too deep for Python's parser is refused with the AWS limit named."""
    try:
        return json.loads(text)
    except RecursionError:
        raise InvalidEventError(
            "Event JSON is nested too deep for Python's parser (about 1,000 levels); PutEvents "
            f"processes nested JSON up to {limits.EVENTBRIDGE_EVENT_MAX_DEPTH:,} levels deep"
        ) from None


def match_checked(pattern: dict, event: dict) -> bool:
    """:func:`matches` without the checks: ``pattern`` as :func:`validate` returned it, ``event`` a dict.

    For a caller that validated its patterns once and tests many events (a source's filter, which
    first decides what the pattern sees: an SQS record's body parsed or as text, for example).
    """
    return _match_object(pattern, event)


def _match_object(pattern: dict, node: dict) -> bool:
    """Every key of ``pattern`` holds for the event object ``node``."""
    for key, sub in pattern.items():
        if key == "$or":
            ok = any(_match_object(alt, node) for alt in sub)
        elif isinstance(sub, dict):
            ok = any(_match_object(sub, child) for child in objects(node.get(key)))
        else:
            ok = _match_leaf(sub, leaves(node.get(key)) if key in node else [])
        if not ok:
            return False
    return True


def objects(value: Any) -> list[dict]:
    """Objects a nested pattern can descend into: the object itself, or every object
    inside an array; ``[{}]`` when there is none, so only ``exists: false`` holds."""
    found = [value] if isinstance(value, dict) else list(_walk(value, dict))
    return found or [{}]


def leaves(value: Any) -> list[Any]:
    """Scalar values of a field: the value itself, or the scalars inside an array.
    An object is not a leaf, so it yields nothing (operators work on leaves only)."""
    if isinstance(value, dict):
        return []
    if isinstance(value, list):
        return [v for v in _walk(value, object) if not isinstance(v, (dict, list))]
    return [value]


def _walk(value: Any, kind: type) -> Iterator[Any]:
    """Yield the elements of (possibly nested) arrays that are instances of ``kind``, in order.

    Iterative, because an event's arrays may nest deeper than Python's recursion limit.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, kind):
            yield item


def _match_leaf(rules: list, values: list[Any]) -> bool:
    """OR over the rules; a field that is absent or holds no scalar has no ``values``."""
    return any(_match_rule(rule, values) for rule in rules)


def _match_rule(rule: Any, values: list[Any]) -> bool:
    """One rule against a field's values: true if any value satisfies it."""
    if not isinstance(rule, dict):
        return any(_equal(rule, v) for v in values)
    op, arg = next(iter(rule.items()))
    if op == "exists":
        return bool(values) == arg
    test = VALUE_TESTS[op]
    return any(test(arg, v) for v in values)


def _equal(expected: Any, value: Any) -> bool:
    """Exact match: numbers compare by value (5 == 5.0); bool, null and strings
    only equal their own kind (so ``true`` never equals ``1``)."""
    if _is_number(expected) and _is_number(value):
        return expected == value
    return type(expected) is type(value) and expected == value


def _affix(test: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    """``prefix``/``suffix`` test, with the optional ``equals-ignore-case`` form."""
    def run(arg: Any, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        if isinstance(arg, dict):
            return test(value.lower(), arg["equals-ignore-case"].lower())
        return test(value, arg)
    return run


def _equals_ignore_case(arg: str, value: Any) -> bool:
    """String equality regardless of case."""
    return isinstance(value, str) and value.lower() == arg.lower()


def _wildcard(arg: str, value: Any) -> bool:
    """``*`` matches any run of characters (even none); ``\\*`` and ``\\\\`` are literal.

    Not a regex: ``.*a.*a.*b`` backtracks in O(n^k) for k stars (88 s for ``*a*a*a*a*b``
    against 400 characters). Matching the literal pieces between stars leftmost-first is
    exact for a glob with only ``*`` and costs O(len(arg) x len(value)) at worst.
    """
    if not isinstance(value, str):
        return False
    return _match_pieces(_wildcard_pieces(arg), value)


@functools.lru_cache(maxsize=1024)
def _wildcard_pieces(arg: str) -> tuple[str, ...]:
    """The literal pieces between unescaped ``*``, escapes resolved: ``a*b\\*`` -> ("a", "b*").

    A backslash before anything but ``*`` or ``\\`` (which :func:`validate` refuses) is
    dropped, as the old regex translation did.
    """
    pieces, current, index = [], [], 0
    while index < len(arg):
        char = arg[index]
        if char == "*":
            pieces.append("".join(current))
            current = []
        elif char != "\\":
            current.append(char)
        elif arg[index + 1:index + 2] in ("*", "\\"):
            current.append(arg[index + 1])
            index += 1
        index += 1
    pieces.append("".join(current))
    return tuple(pieces)


def _match_pieces(pieces: tuple[str, ...], value: str) -> bool:
    """``value`` is pieces[0] + any + pieces[1] + any + ... + pieces[-1] (one piece: equal)."""
    if len(pieces) == 1:
        return value == pieces[0]
    first, *middle, last = pieces
    end = len(value) - len(last)
    if end < len(first) or not value.startswith(first) or not value.endswith(last):
        return False
    position = len(first)
    for piece in middle:  # the leftmost place for each piece leaves the most room for the rest
        found = value.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def _numeric(arg: list, value: Any) -> bool:
    """All comparisons in ``[op, n, (op, n)]`` hold; only JSON numbers qualify."""
    if not _is_number(value):
        return False
    return all(_COMPARE[op](value, bound) for op, bound in zip(arg[0::2], arg[1::2]))


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "=": lambda a, b: a == b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _cidr(arg: str, value: Any) -> bool:
    """The value is an IP address (v4 or v6) inside the network ``arg``."""
    if not isinstance(value, str):
        return False
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(arg, strict=False)
    except ValueError:
        return False


def _anything_but(arg: Any, value: Any) -> bool:
    """The value is none of the listed values, or fails the nested string test."""
    if isinstance(arg, dict):
        op, inner = next(iter(arg.items()))
        test = VALUE_TESTS[op]
        return not any(test(i, value) for i in (inner if isinstance(inner, list) else [inner]))
    excluded = arg if isinstance(arg, list) else [arg]
    return not any(_equal(e, value) for e in excluded)


#: Value tests shared with SNS filter policies (lambda_lab.filter_policy), by operator name.
VALUE_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": _affix(str.startswith),
    "suffix": _affix(str.endswith),
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
    "anything-but": _anything_but,
    "numeric": _numeric,
    "cidr": _cidr,
}
