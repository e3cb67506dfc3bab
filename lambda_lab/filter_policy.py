"""SNS subscription filter policies: which published messages a subscription receives.

A subscription's ``FilterPolicy`` is evaluated by SNS, before anything reaches Lambda: a message it
rejects is never delivered (SNS counts it in the ``NumberOfNotificationsFilteredOut`` metrics) and
the lab's ledger shows it ``dropped`` with :data:`FILTERED_OUT` as the reason. The policy looks at
one of two scopes (``FilterPolicyScope``):

* ``MessageAttributes`` (the default): the publish's message attributes. Only ``String``,
  ``String.Array`` and ``Number`` attributes are compared; ``Binary`` attributes are ignored, as
  if absent. A ``String.Array`` attribute matches if any element matches. Policies may not nest.
* ``MessageBody``: the message itself, parsed as JSON. Policies may nest objects like an
  EventBridge pattern; a body that is not a JSON object never matches.

Every key of the policy must match (AND); within a key's list any rule may match (OR); ``$or``
joins alternative sub-policies. Rules (the operators SNS lists, pages below):

==========================  ========================================================  ==========
rule                        matches                                                   page
==========================  ========================================================  ==========
``"rugby"``, ``301.5``,     equal value (strings case-sensitive; numbers by value,    string /
``true``, ``null``          to 5 decimal places)                                      numeric
``{"prefix": s}``           a string starting with ``s``                              string
``{"suffix": s}``           a string ending with ``s``                                string
``{"equals-ignore-case":}`` a string equal to ``s`` ignoring case                     string
``{"wildcard": "*ball"}``   a string matching the glob (``*`` only)                   string
``{"cidr": "10.0.0.0/24"}`` an IP address in the network                              string
``{"anything-but": x}``     a present value that is none of ``x`` (a value, a list,   string /
                            or ``{"prefix"|"suffix"|"wildcard": s}``)                  numeric
``{"numeric": [op, n]}``    ``=``, ``<``, ``<=``, ``>``, ``>=``, or a range            numeric
                            ``[">"|">=", low, "<"|"<=", high]``
``{"exists": true|false}``  the key is (not) present                                  key
``"$or": [p1, p2, ...]``    any of two or more sub-policies                           and-or
==========================  ========================================================  ==========

Pages: https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html (string),
https://docs.aws.amazon.com/sns/latest/dg/numeric-value-matching.html (numeric),
https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html (key),
https://docs.aws.amazon.com/sns/latest/dg/and-or-logic.html (and-or),
https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html (limits).

Limits (the constraints page): at most :data:`MAX_KEYS` keys (in ``MessageBody`` scope only the
top-level keys count; with ``$or``, the keys of each alternative), at most
:data:`MAX_COMBINATIONS` combinations (the product of the rule-list lengths, a nested key's list
counting its length times its nesting level, ``$or`` alternatives adding up: the and-or page's
worked examples), policy JSON of at most :data:`MAX_POLICY_BYTES`, numbers within
+-:data:`NUMBER_LIMIT` with :data:`NUMBER_DECIMALS` decimal places. A policy SNS refuses raises
:class:`~lambda_lab.errors.InvalidParameterException` with SNS's message,
``Invalid parameter: FilterPolicy: <reason>``. The reasons are SNS's own words where they are
known: recorded from AWS on 14-15 May 2024 in LocalStack's validated snapshot
(https://github.com/localstack/localstack/blob/master/tests/aws/services/sns/test_sns_filter_policy.snapshot.json);
SNS also appends the JSON position (``\\n at [Source: ...; line: 1, column: 10]``), which the lab
leaves out, and says ``Invalid parameter: Attributes Reason: FilterPolicy: ...`` when the policy
came with Subscribe rather than SetSubscriptionAttributes. :data:`LAB_WORDED` lists the refusals
whose wording is the lab's (SNS refuses them, but its text is not recorded).

Where SNS differs from EventBridge (:mod:`lambda_lab.patterns`, whose leaf tests for prefix,
suffix, equals-ignore-case, wildcard (linear time) and cidr this module reuses):

* **Limits.** SNS: 5 keys, 150 combinations, 256 KB. EventBridge has none of these.
* **Attributes.** A policy sees typed attributes, not JSON: a ``Number`` attribute is a number,
  a ``String.Array`` a list, a ``Binary`` attribute nothing at all.
* **``exists``.** SNS's ``"exists": true`` needs a non-null, non-empty value (key page), so a
  body's ``null``, ``""`` or ``[]`` does not exist for SNS; EventBridge's ``exists`` holds for
  ``null``. ``"exists": false`` never matches a message without any attributes (key page: "An
  empty set of attributes results in the filter not matching"); the lab applies that note to the
  ``MessageAttributes`` scope only, the one it speaks of.
* **``anything-but``.** SNS allows ``prefix``, ``suffix`` and ``wildcard`` inside it (string
  page), not ``equals-ignore-case``; ``prefix``/``suffix`` take only a string, not
  EventBridge's ``{"equals-ignore-case": s}`` form. (In May 2024 AWS still refused
  ``anything-but`` ``suffix``: "Unsupported anything-but pattern: suffix"; the page now shows it,
  and the lab follows the page.) For an array, the page says both "matches if none of the array
  elements are listed" and, in its examples, that ``["rugby", "baseball"]`` matches
  ``anything-but ["rugby", "tennis"]``; the lab follows the examples (any element not listed),
  as the numeric page's ``[100, 50]`` example does too.
* **``$or``.** SNS treats ``"$or"`` as a plain key unless its value is an array of two or more
  objects with no operator keys (and-or page); EventBridge refuses such a policy.
* **Numbers** compare to 5 decimal places and must lie within +-10^9 (constraints page).
* **Refusals** read ``Invalid parameter: FilterPolicy: ...``, not ``Event pattern is not valid``.

What the lab decides where SNS documents nothing: an empty policy ``{}`` matches every message
(SNS removes a policy set to ""); empty rule lists and empty objects are refused (as EventBridge
does); nesting deeper than ``limits.PATTERN_MAX_DEPTH`` is refused.

>>> matches({"store": ["example_corp"]}, {"store": {"DataType": "String", "StringValue": "example_corp"}})
True
>>> matches({"detail": {"scope": ["Service"]}}, None, '{"detail": {"scope": "Service"}}', "MessageBody")
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from . import limits, patterns
from .errors import InvalidParameterException

__all__ = [
    "ATTRIBUTES", "BODY", "SCOPES", "OPERATORS", "ANYTHING_BUT_OPERATORS", "MAX_KEYS",
    "MAX_COMBINATIONS", "MAX_POLICY_BYTES", "NUMBER_LIMIT", "NUMBER_DECIMALS", "FILTERED_OUT",
    "LAB_WORDED", "InvalidParameterException", "check_scope", "combinations", "filtered_out_reason",
    "matches", "validate",
]

CONSTRAINTS_URL = limits.SNS_FILTER_CONSTRAINTS_URL

#: The two values of a subscription's ``FilterPolicyScope``; ``MessageAttributes`` is the default.
ATTRIBUTES, BODY = "MessageAttributes", "MessageBody"
SCOPES = (ATTRIBUTES, BODY)

#: Every operator SNS's filter-policy pages list (besides exact values and ``$or``).
OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard", "cidr", "anything-but",
             "numeric", "exists")
#: What ``anything-but`` may hold besides values (string page: prefix, wildcard, suffix).
ANYTHING_BUT_OPERATORS = ("prefix", "suffix", "wildcard")

#: The constraints page's limits (cited in limits.py).
MAX_KEYS = limits.SNS_FILTER_MAX_KEYS
MAX_COMBINATIONS = limits.SNS_FILTER_MAX_COMBINATIONS
MAX_POLICY_BYTES = limits.SNS_FILTER_MAX_BYTES
NUMBER_LIMIT = limits.SNS_FILTER_NUMBER_LIMIT
NUMBER_DECIMALS = limits.SNS_FILTER_NUMBER_DECIMALS

#: The ledger's ``where`` for a message the policy rejected (SNS never delivers it; CloudWatch
#: counts it in NumberOfNotificationsFilteredOut,
#: https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html).
FILTERED_OUT = "FilteredOut: the subscription filter policy did not match; SNS did not deliver it"

#: Refusals whose wording is the lab's: SNS refuses these, but its exact text is not recorded.
LAB_WORDED = (
    "the policy is not a JSON object or not JSON", "an empty object or rule list",
    "a cidr that is not an IP prefix", "a wildcard with a bad escape or **",
    "an anything-but value of the wrong kind", "a numeric value that is not an array",
    "a number outside +-10^9", "a policy over 256 KB", "nesting deeper than PATTERN_MAX_DEPTH",
    # extrapolated from recorded messages of the same form:
    "equals-ignore-case/wildcard match pattern must be a string (as recorded for prefix and suffix)",
    "Unsupported anything-but pattern: equals-ignore-case (as recorded for suffix and exists)",
)

_NUMERIC_OPS = ("<", "<=", "=", ">", ">=")
_RESERVED = frozenset(OPERATORS)


# ---------------------------------------------------------------- validation


def check_scope(scope: str | None) -> str:
    """``scope`` as SNS takes it (None means the default, ``MessageAttributes``); else SNS's refusal."""
    if scope is None:
        return ATTRIBUTES
    if scope not in SCOPES:
        raise InvalidParameterException(
            f"Invalid value [{scope}]. Please use either MessageBody or MessageAttributes",
            "FilterPolicyScope")
    return scope


def validate(policy: dict | str, scope: str | None = ATTRIBUTES) -> dict:
    """Parse ``policy`` (a dict or its JSON text) and check it as SNS would for ``scope``.

    Returns the policy as a dict. Raises :class:`InvalidParameterException` with SNS's message for
    anything SNS refuses: a nested policy in ``MessageAttributes`` scope, a rule that is not a
    value or one known operator, an operator given the wrong kind of value, more than
    :data:`MAX_KEYS` keys, more than :data:`MAX_COMBINATIONS` combinations, a policy over
    :data:`MAX_POLICY_BYTES`, a number outside +-:data:`NUMBER_LIMIT`.
    """
    scope = check_scope(scope)
    if isinstance(policy, (str, bytes)):
        size = len(policy.encode("utf-8") if isinstance(policy, str) else policy)
        policy = _wrap(patterns.parse_pattern, policy)
    else:
        size = None
    if not isinstance(policy, dict):
        raise InvalidParameterException("Filter policy must be a JSON object",
                                        detail="the lab's wording")
    # JSON only (finite numbers, string keys), no deeper than limits.PATTERN_MAX_DEPTH: EventBridge's
    # check, reused, so the recursive walks below only ever see bounded JSON.
    _wrap(patterns.check_json, policy)
    if size is None:
        size = len(json.dumps(policy, ensure_ascii=False).encode("utf-8"))
    if size > MAX_POLICY_BYTES:
        raise InvalidParameterException(
            "Filter policy is too large",
            detail=f"the lab's wording: {size:,} bytes; the maximum size of a filter policy is "
                   f"256 KB ({MAX_POLICY_BYTES:,} bytes), {CONSTRAINTS_URL}")
    if policy:
        _check_object(policy, scope, "")
        keys = _max_keys(policy)
        if keys > MAX_KEYS:
            raise InvalidParameterException(
                f"Filter policy can not have more than {MAX_KEYS} keys",
                detail=f"this one has {keys}{' top-level' if scope == BODY else ''} keys; "
                       f"{CONSTRAINTS_URL}")
        total = combinations(policy)
        if total > MAX_COMBINATIONS:
            raise InvalidParameterException(
                "Filter policy is too complex",
                detail=f"{total:,} combinations; the total combination of values must not exceed "
                       f"{MAX_COMBINATIONS}, {CONSTRAINTS_URL}")
    return policy


def _wrap(check: Callable[[Any], Any], value: Any) -> Any:
    """Run one of :mod:`patterns`' JSON checks, turning its refusal into SNS's exception."""
    try:
        return check(value)
    except patterns.InvalidPatternError as err:
        raise InvalidParameterException(err.reason, detail="the lab's wording") from None


def _is_or(value: Any) -> bool:
    """SNS reads ``"$or"`` as OR only for an array of 2+ objects none of whose keys is an operator."""
    return (isinstance(value, list) and len(value) >= 2
            and all(isinstance(v, dict) and not (_RESERVED & v.keys()) for v in value))


def _check_object(node: dict, scope: str, path: str) -> None:
    """One policy object: each key holds a rule list, a nested object (body scope), or ``$or``."""
    if not node:
        raise InvalidParameterException("Empty objects are not allowed",
                                        detail=f"the lab's wording{_at(path)}")
    for key, value in node.items():
        where = f"{path}.{key}" if path else key
        if key == "$or" and _is_or(value):
            for alternative in value:
                _check_object(alternative, scope, path)
        elif isinstance(value, dict):
            if scope == ATTRIBUTES:
                raise InvalidParameterException(
                    "Filter policy scope MessageAttributes does not support nested filter policy",
                    None, detail=f"{where} holds an object; use FilterPolicyScope MessageBody")
            _check_object(value, scope, where)
        elif isinstance(value, list):
            _check_rules(value, where)
        else:
            raise InvalidParameterException(f'"{key}" must be an object or an array')


def _at(path: str) -> str:
    return f" (at {path})" if path else ""


def _check_rules(rules: list, path: str) -> None:
    """A key's rule list: values and one-operator objects."""
    if not rules:
        raise InvalidParameterException("Empty arrays are not allowed",
                                        detail=f"the lab's wording{_at(path)}")
    for rule in rules:
        if isinstance(rule, dict):
            if len(rule) != 1:
                raise InvalidParameterException("Only one key allowed in match expression")
            op, arg = next(iter(rule.items()))
            check = _CHECKS.get(op)
            if check is None:
                raise InvalidParameterException(f"Unrecognized match type {op}")
            check(op, arg, path)
        elif isinstance(rule, list):
            raise InvalidParameterException(
                "Match value must be String, number, true, false, or null")
        else:
            _check_number(rule, path)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_number(value: Any, path: str) -> None:
    """Numbers in a policy lie within +-10^9 (constraints page)."""
    if _is_number(value) and not -NUMBER_LIMIT <= value <= NUMBER_LIMIT:
        raise InvalidParameterException(
            f"Numeric values must be between -{NUMBER_LIMIT:,} and {NUMBER_LIMIT:,}",
            detail=f"the lab's wording, got {value}{_at(path)}; {CONSTRAINTS_URL}")


def _check_string(op: str, arg: Any, path: str) -> None:
    if not isinstance(arg, str):
        raise InvalidParameterException(f"{op} match pattern must be a string")


def _check_wildcard(op: str, arg: Any, path: str) -> None:
    _check_string(op, arg, path)
    _wrap(lambda a: patterns.check_wildcard(a, path), arg)


def _check_cidr(op: str, arg: Any, path: str) -> None:
    _wrap(lambda a: patterns.check_cidr(a, path), arg)


def _check_exists(op: str, arg: Any, path: str) -> None:
    if not isinstance(arg, bool):
        raise InvalidParameterException("exists match pattern must be either true or false.")


def _check_anything_but(op: str, arg: Any, path: str) -> None:
    """A string, a number, a non-empty list of strings or of numbers, or one string operator."""
    if isinstance(arg, dict):
        if len(arg) != 1:
            raise InvalidParameterException("Only one key allowed in match expression")
        inner, value = next(iter(arg.items()))
        if inner not in ANYTHING_BUT_OPERATORS:
            raise InvalidParameterException(f"Unsupported anything-but pattern: {inner}")
        (_check_wildcard if inner == "wildcard" else _check_string)(inner, value, path)
        return
    values = arg if isinstance(arg, list) else [arg]
    if values and (all(isinstance(v, str) for v in values) or all(map(_is_number, values))):
        for value in values:
            _check_number(value, path)
        return
    raise InvalidParameterException(
        "Value of anything-but must be a string, a number, a non-empty list of only strings or "
        "only numbers, or one of prefix, suffix, wildcard",
        detail=f"the lab's wording{_at(path)}")


def _token(value: Any) -> str:
    """How SNS's messages print a member of a numeric expression: strings bare, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _check_numeric(op: str, arg: Any, path: str) -> None:
    """``[op, n]`` or ``[">"|">=", low, "<"|"<=", high]``, refused in SNS's order and words."""
    if not isinstance(arg, list):
        raise InvalidParameterException("Value of numeric must be an array",
                                        detail=f"the lab's wording{_at(path)}")
    if not arg:
        raise InvalidParameterException("Invalid member in numeric match: ]")
    first = arg[0]
    if not isinstance(first, str):
        raise InvalidParameterException(f"Invalid member in numeric match: {_token(first)}")
    if first not in _NUMERIC_OPS:
        raise InvalidParameterException(f"Unrecognized numeric range operator: {first}")
    if len(arg) < 2 or not _is_number(arg[1]):
        raise InvalidParameterException(
            f"Value of {'equals' if first == '=' else first} must be numeric")
    _check_number(arg[1], path)
    if len(arg) == 2:
        return
    if first not in (">", ">="):
        raise InvalidParameterException("Too many elements in numeric expression")
    second = arg[2]
    if not isinstance(second, str):
        raise InvalidParameterException(f"Bad value in numeric range: {_token(second)}")
    if second not in ("<", "<="):
        raise InvalidParameterException(f"Bad numeric range operator: {second}")
    if len(arg) < 4 or not _is_number(arg[3]):
        raise InvalidParameterException(f"Value of {second} must be numeric")
    _check_number(arg[3], path)
    if len(arg) > 4:
        raise InvalidParameterException("Too many terms in numeric range expression")
    if arg[1] >= arg[3]:
        raise InvalidParameterException("Bottom must be less than top")


_CHECKS: dict[str, Callable[[str, Any, str], None]] = {
    "prefix": _check_string, "suffix": _check_string, "equals-ignore-case": _check_string,
    "wildcard": _check_wildcard, "cidr": _check_cidr, "anything-but": _check_anything_but,
    "numeric": _check_numeric, "exists": _check_exists,
}


def combinations(policy: dict, depth: int = 1) -> int:
    """A validated policy's total combination, as the constraints and and-or pages compute it.

    Each key's rule list contributes its length times the key's nesting level (1 at the top); the
    contributions multiply; ``$or`` alternatives add up (the and-or page: "the sum of the
    combination complexities for each OR statement"). Computed as a product of sums, which equals
    that sum over the expanded alternatives without expanding them.
    """
    total = 1
    for key, value in policy.items():
        if key == "$or" and _is_or(value):
            total *= sum(combinations(alternative, depth) for alternative in value)
        elif isinstance(value, dict):
            total *= combinations(value, depth + 1)
        else:
            total *= depth * len(value)
    return total


def _top_keys(policy: dict) -> set[str]:
    """The top-level keys of the largest alternative (``$or`` expanded)."""
    keys = {k for k, v in policy.items() if not (k == "$or" and _is_or(v))}
    alternatives = [_top_keys(alt) for k, v in policy.items() if k == "$or" and _is_or(v)
                    for alt in v]
    return max((keys | alt for alt in alternatives), key=len, default=keys)


def _max_keys(policy: dict) -> int:
    return len(_top_keys(policy))


# ------------------------------------------------------------------ matching


def matches(policy: dict | str, message_attributes: Mapping[str, Any] | None = None,
            body: str | None = None, scope: str | None = ATTRIBUTES) -> bool:
    """True if SNS would deliver a publish with these attributes and this body under ``policy``.

    ``message_attributes`` is the Publish API's form, ``{name: {"DataType": "String",
    "StringValue": "red"}}`` (``BinaryValue`` for Binary), or the delivered form,
    ``{name: {"Type": "String", "Value": "red"}}``. ``body`` is the published message, read as
    JSON in ``MessageBody`` scope. The policy is validated first, so a policy SNS refuses raises
    :class:`InvalidParameterException` instead of matching.
    """
    scope = check_scope(scope)
    checked = validate(policy, scope)
    if not checked:
        return True
    if scope == ATTRIBUTES:
        view = _attribute_values(message_attributes or {})
        return _match_attributes(checked, view)
    parsed = _parse_body(body)
    return isinstance(parsed, dict) and _match_body(checked, parsed)


def filtered_out_reason(policy: dict | str, message_attributes: Mapping[str, Any] | None = None,
                        body: str | None = None, scope: str | None = ATTRIBUTES) -> str | None:
    """None if the message matches; else the ledger's ``where`` (:data:`FILTERED_OUT` and why)."""
    if matches(policy, message_attributes, body, scope):
        return None
    scope = check_scope(scope)
    if scope == ATTRIBUTES and not _attribute_values(message_attributes or {}):
        why = ("the message has no attributes to compare "
               "(CloudWatch: NumberOfNotificationsFilteredOut-NoMessageAttributes)")
    elif scope == BODY and not isinstance(_parse_body(body), dict):
        why = "the body is not a JSON object, so a MessageBody policy cannot match it"
    else:
        why = f"no match in {scope}"
    return f"{FILTERED_OUT} ({why})"


_MISSING = object()


def _parse_body(body: str | bytes | None) -> Any:
    if body is None:
        return _MISSING
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _MISSING


def _attribute_values(attributes: Mapping[str, Any]) -> dict[str, list[Any]]:
    """What a policy sees of each attribute: a list of values, by type; Binary ones dropped.

    ``String*`` -> the string; ``Number*`` -> the number; ``String.Array`` (and ``Number.Array``,
    the numeric page's example) -> the JSON array's scalar elements. A value SNS would have
    refused at Publish (a Number that is not a number, an array that is not JSON) yields nothing.
    """
    view: dict[str, list[Any]] = {}
    for name, attribute in attributes.items():
        if not isinstance(attribute, Mapping):
            continue
        data_type = str(attribute.get("DataType", attribute.get("Type", "")))
        value = attribute.get("StringValue", attribute.get("Value"))
        if data_type.startswith("Binary") or value is None:
            continue  # constraints page: "Amazon SNS ignores message attributes with the Binary data type"
        if data_type.endswith(".Array"):
            try:
                items = json.loads(value)
            except (TypeError, ValueError, RecursionError):
                items = None
            view[name] = [v for v in items if not isinstance(v, (dict, list))] \
                if isinstance(items, list) else []
        elif data_type.startswith("Number"):
            number = _to_number(value)
            view[name] = [] if number is None else [number]
        else:
            view[name] = [value if isinstance(value, str) else str(value)]
    return view


def _to_number(value: Any) -> float | None:
    if _is_number(value):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _match_attributes(policy: dict, view: dict[str, list[Any]]) -> bool:
    """Every key matches the attribute of that name (AND); ``$or`` alternatives see the same view."""
    for key, rules in policy.items():
        if key == "$or" and _is_or(rules):
            ok = any(_match_attributes(alt, view) for alt in rules)
        else:
            ok = _match_rules(rules, view.get(key), nothing_present=not view)
        if not ok:
            return False
    return True


def _match_body(policy: dict, node: dict) -> bool:
    """EventBridge's walk over the body (nested objects, arrays of objects) with SNS's rules."""
    for key, sub in policy.items():
        if key == "$or" and _is_or(sub):
            ok = any(_match_body(alt, node) for alt in sub)
        elif isinstance(sub, dict):
            ok = any(_match_body(sub, child) for child in patterns.objects(node.get(key)))
        else:
            ok = _match_rules(sub, patterns.leaves(node.get(key)) if key in node else None)
        if not ok:
            return False
    return True


def _match_rules(rules: list, values: list[Any] | None, nothing_present: bool = False) -> bool:
    """OR over a key's rules; ``values`` None when the key is absent."""
    present = values is not None and any(v is not None and v != "" for v in values)
    for rule in rules:
        if isinstance(rule, dict):
            op, arg = next(iter(rule.items()))
            if op == "exists":
                if arg == present and not (arg is False and nothing_present):
                    return True
            elif values and any(_TESTS[op](arg, v) for v in values):
                return True
        elif values and any(_equal(rule, v) for v in values):
            return True
    return False


def _quantize(number: float) -> float:
    """Numbers compare to :data:`NUMBER_DECIMALS` places ("five digits of accuracy")."""
    return round(number, NUMBER_DECIMALS)


def _equal(expected: Any, value: Any) -> bool:
    """Strings exactly (case-sensitive); numbers by value to 5 places; true/false/null only themselves."""
    if _is_number(expected) and _is_number(value):
        return _quantize(expected) == _quantize(value)
    return type(expected) is type(value) and expected == value


def _numeric(arg: list, value: Any) -> bool:
    if not _is_number(value):
        return False
    number = _quantize(value)
    return all(_COMPARE[op](number, _quantize(bound)) for op, bound in zip(arg[0::2], arg[1::2]))


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "=": lambda a, b: a == b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _anything_but(arg: Any, value: Any) -> bool:
    """The value is none of the listed values and fails the nested string test."""
    if isinstance(arg, dict):
        op, inner = next(iter(arg.items()))
        return not _TESTS[op](inner, value)
    excluded = arg if isinstance(arg, list) else [arg]
    return not any(_equal(e, value) for e in excluded)


# Leaf tests EventBridge and SNS share, reused from patterns: prefix and suffix (SNS accepts
# only the plain-string form, which is what reaches them), equals-ignore-case, wildcard (linear
# time, no regex) and cidr (IPv4 and IPv6).
_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": patterns.VALUE_TESTS["prefix"],
    "suffix": patterns.VALUE_TESTS["suffix"],
    "equals-ignore-case": patterns.VALUE_TESTS["equals-ignore-case"],
    "wildcard": patterns.VALUE_TESTS["wildcard"],
    "cidr": patterns.VALUE_TESTS["cidr"],
    "numeric": _numeric,
    "anything-but": _anything_but,
}
