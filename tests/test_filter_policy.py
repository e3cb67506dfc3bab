"""SNS subscription filter policies (lambda_lab.filter_policy), case by case from SNS's pages.

Every case names the page and section its policy and message come from (the ``doc`` column):

  string#...    https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html
  numeric#...   https://docs.aws.amazon.com/sns/latest/dg/numeric-value-matching.html
  key#...       https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html
  and-or#...    https://docs.aws.amazon.com/sns/latest/dg/and-or-logic.html
  examples#...  https://docs.aws.amazon.com/sns/latest/dg/example-filter-policies.html
  limits#...    https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html
  recorded#...  SNS's answer recorded from AWS on 14-15 May 2024 in LocalStack's validated snapshot,
                https://github.com/localstack/localstack/blob/master/tests/aws/services/sns/test_sns_filter_policy.snapshot.json
  lab           what the lab decides where SNS documents nothing (module docstring)

A case marked "(variant)" applies the section's example to the other scope or type, or flips it to
the counter-example. The differential test runs moto's own matcher (moto.sns.utils.FilterPolicyMatcher)
on the same cases and keeps, in MOTO_WRONG, the cases where moto disagrees with SNS's pages and why.
"""

from __future__ import annotations

import json

import pytest
from moto.sns.utils import FilterPolicyMatcher

from lambda_lab import filter_policy as fp
from lambda_lab.errors import InvalidParameterException, LabError

A, B = fp.ATTRIBUTES, fp.BODY


def S(value: str) -> dict:
    return {"DataType": "String", "StringValue": value}


def N(value: object) -> dict:
    return {"DataType": "Number", "StringValue": str(value)}


def ARR(values: list) -> dict:
    return {"DataType": "String.Array", "StringValue": json.dumps(values)}


def BIN(value: bytes) -> dict:
    return {"DataType": "Binary", "BinaryValue": value}


def attrs(**named: dict) -> dict:
    return named


def body(obj: object) -> str:
    return obj if isinstance(obj, str) else json.dumps(obj)


# The example message of examples#message, as attributes and as a body.
EX_ATTRS = attrs(customer_interests=ARR(["soccer", "rugby", "hockey"]), store=S("example_corp"),
                 event=S("order_placed"), price_usd=N("210.75"))
EX_BODY = body({"customer_interests": ["soccer", "rugby", "hockey"], "store": "example_corp",
                "event": "order_placed", "price_usd": 210.75})
ACCEPTS = {"store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}],
           "customer_interests": ["rugby", "football", "baseball"],
           "price_usd": [{"numeric": [">=", 100]}]}
REJECTS = {"store": ["example_corp"], "event": ["order_cancelled"], "encrypted": [False],
           "customer_interests": ["basketball", "baseball"]}

CI = "customer_interests"
TWO = {CI: ["rugby", "tennis"]}
AB_LIST = {CI: [{"anything-but": ["rugby", "tennis"]}]}
AB_PREFIX = {"event": [{"anything-but": {"prefix": "order-"}}]}
AB_WILD = {CI: [{"anything-but": {"wildcard": "*ball"}}]}
AB_SUFFIX = {CI: [{"anything-but": {"suffix": "ball"}}]}
EIC = {CI: [{"equals-ignore-case": "tennis"}]}
CIDR = {"source_ip": [{"cidr": "10.0.0.0/24"}]}
PREFIX = {CI: [{"prefix": "bas"}]}
SUFFIX = {CI: [{"suffix": "ball"}]}
WILD = {CI: [{"wildcard": "*ball"}]}
NUM_EQ = {"price_usd": [{"numeric": ["=", 301.5]}]}
NUM_AB = {"price": [{"anything-but": [100, 500]}]}
NUM_NEG = {"price_usd": [{"numeric": ["<", 0]}]}
NUM_RANGE = {"price_usd": [{"numeric": [">", 0, "<=", 150]}]}
EXISTS = {"store": [{"exists": True}]}
NOT_EXISTS = {"store": [{"exists": False}]}
AND = {CI: ["rugby"], "price_usd": [{"numeric": [">", 100]}]}
OR3 = {CI: ["rugby", "football", "baseball"]}
OR_OP = {"source": ["aws.cloudwatch"],
         "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]}
OR_NESTED = {"source": ["aws.cloudwatch"],
             "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]},
                     {"metricType": ["MetricType"],
                      "$or": [{"metricId": [1234, 4321]}, {"spaceId": [1000, 2000, 3000]}]}]}
OR_BODY = {"$or": [{"metricName": ["CPUUtilization", "ReadLatency"]},
                   {"namespace": ["AWS/EC2", "AWS/ES"]}],
           "detail": {"scope": ["Service"],
                      "$or": [{"source": ["aws.cloudwatch"]},
                              {"type": ["CloudWatch Alarm State Change"]}]}}
NOT_OR = {"$or": [{"prefix": "abc"}]}  # and-or#or-operator: one object -> "$or" is a plain key
S3_RECORDS = {"Records": {"eventName": [{"prefix": "ObjectCreated:"}]}}


def p(id_, doc, scope, policy, message, expected):
    """One case: ``message`` is the attributes (MessageAttributes) or the body (MessageBody)."""
    return pytest.param(doc, scope, policy, message, expected, id=id_)


MATCH_CASES = [
    # --- examples#: the example message and the two example policies, both scopes
    p("ex-accept-attrs", "examples#accepts", A, ACCEPTS, EX_ATTRS, True),
    p("ex-accept-body", "examples#accepts", B, ACCEPTS, EX_BODY, True),
    p("ex-reject-attrs", "examples#rejects", A, REJECTS, EX_ATTRS, False),
    p("ex-reject-body", "examples#rejects", B, REJECTS, EX_BODY, False),
    p("ex-accept-attrs-cancelled", "examples#accepts (variant)", A, ACCEPTS,
      {**EX_ATTRS, "event": S("order_cancelled")}, False),
    p("ex-accept-body-cheap", "examples#accepts (variant)", B, ACCEPTS,
      body({**json.loads(EX_BODY), "price_usd": 99.99}), False),
    # --- string#exact
    p("exact-attr-rugby", "string#exact", A, TWO, attrs(customer_interests=S("rugby")), True),
    p("exact-attr-tennis", "string#exact", A, TWO, attrs(customer_interests=S("tennis")), True),
    p("exact-attr-array", "string#exact", A, TWO, attrs(customer_interests=ARR(["rugby", "tennis"])), True),
    p("exact-body-rugby", "string#exact", B, TWO, body({CI: "rugby"}), True),
    p("exact-body-tennis", "string#exact", B, TWO, body({CI: "tennis"}), True),
    p("exact-attr-baseball", "string#exact", A, TWO, attrs(customer_interests=S("baseball")), False),
    p("exact-attr-array-baseball", "string#exact", A, TWO, attrs(customer_interests=ARR(["baseball"])), False),
    p("exact-body-baseball", "string#exact", B, TWO, body({CI: "baseball"}), False),
    p("exact-body-array", "string#exact (variant)", B, TWO, body({CI: ["baseball", "tennis"]}), True),
    p("exact-attr-case-sensitive", "limits#string-matching", A, TWO, attrs(customer_interests=S("Rugby")), False),
    p("exact-body-case-sensitive", "limits#string-matching", B, TWO, body({CI: "RUGBY"}), False),
    p("exact-attr-absent", "string#exact (variant)", A, TWO, attrs(other=S("rugby")), False),
    p("exact-body-absent", "string#exact (variant)", B, TWO, body({"other": "rugby"}), False),
    p("exact-attr-number-type", "limits#types (variant)", A, {"n": ["5"]}, attrs(n=N(5)), False),
    # --- string#anything-but
    p("ab-attr-baseball", "string#anything-but", A, AB_LIST, attrs(customer_interests=S("baseball")), True),
    p("ab-attr-football", "string#anything-but", A, AB_LIST, attrs(customer_interests=S("football")), True),
    p("ab-attr-array-mixed", "string#anything-but", A, AB_LIST,
      attrs(customer_interests=ARR(["rugby", "baseball"])), True),
    p("ab-body-baseball", "string#anything-but", B, AB_LIST, body({CI: "baseball"}), True),
    p("ab-body-football", "string#anything-but", B, AB_LIST, body({CI: "football"}), True),
    p("ab-body-array-mixed", "string#anything-but", B, AB_LIST, body({CI: ["rugby", "baseball"]}), True),
    p("ab-attr-rugby", "string#anything-but", A, AB_LIST, attrs(customer_interests=S("rugby")), False),
    p("ab-attr-array-rugby", "string#anything-but", A, AB_LIST, attrs(customer_interests=ARR(["rugby"])), False),
    p("ab-body-array-rugby", "string#anything-but", B, AB_LIST, body({CI: ["rugby"]}), False),
    p("ab-body-rugby", "string#anything-but (variant)", B, AB_LIST, body({CI: "rugby"}), False),
    p("ab-attr-absent", "string#anything-but (variant: needs the key)", A, AB_LIST, attrs(x=S("y")), False),
    p("ab-body-absent", "string#anything-but (variant: needs the key)", B, AB_LIST, body({"x": "y"}), False),
    p("ab-single-attr", "examples#accepts (anything-but value)", A, {"event": [{"anything-but": "order_cancelled"}]},
      attrs(event=S("order_placed")), True),
    p("ab-single-attr-equal", "examples#accepts (variant)", A, {"event": [{"anything-but": "order_cancelled"}]},
      attrs(event=S("order_cancelled")), False),
    p("ab-or-not-exists-absent", "string#anything-but (combined with exists false)", A,
      {CI: [{"anything-but": ["rugby"]}, {"exists": False}]}, attrs(x=S("y")), True),
    p("ab-or-not-exists-rugby", "string#anything-but (combined with exists false)", A,
      {CI: [{"anything-but": ["rugby"]}, {"exists": False}]}, attrs(customer_interests=S("rugby")), False),
    p("ab-or-not-exists-body", "string#anything-but (combined with exists false)", B,
      {CI: [{"anything-but": ["rugby"]}, {"exists": False}]}, body({"x": "y"}), True),
    # --- string#anything-but prefix
    p("abp-attr-data-entry", "string#anything-but-prefix", A, AB_PREFIX, attrs(event=S("data-entry")), True),
    p("abp-attr-order-number", "string#anything-but-prefix", A, AB_PREFIX, attrs(event=S("order_number")), True),
    p("abp-body-data-entry", "string#anything-but-prefix", B, AB_PREFIX, body({"event": "data-entry"}), True),
    p("abp-body-order-number", "string#anything-but-prefix", B, AB_PREFIX, body({"event": "order_number"}), True),
    p("abp-attr-cancelled", "string#anything-but-prefix", A, AB_PREFIX, attrs(event=S("order-cancelled")), False),
    p("abp-body-cancelled", "string#anything-but-prefix", B, AB_PREFIX, body({"event": "order-cancelled"}), False),
    # --- string#anything-but wildcard
    p("abw-attr-array-match", "string#anything-but-wildcard", A, AB_WILD,
      attrs(customer_interests=ARR(["hockey", "rugby", "soccer"])), True),
    p("abw-body-array-match", "string#anything-but-wildcard", B, AB_WILD, body({CI: ["hockey", "rugby", "soccer"]}), True),
    p("abw-attr-array-nomatch", "string#anything-but-wildcard", A, AB_WILD,
      attrs(customer_interests=ARR(["baseball", "basketball"])), False),
    p("abw-body-array-nomatch", "string#anything-but-wildcard", B, AB_WILD, body({CI: ["baseball", "basketball"]}), False),
    p("abw-attr-string", "string#anything-but-wildcard (variant)", A, AB_WILD, attrs(customer_interests=S("golf")), True),
    # --- string#anything-but suffix
    p("abs-attr-array-match", "string#anything-but-suffix", A, AB_SUFFIX,
      attrs(customer_interests=ARR(["hockey", "rugby", "soccer"])), True),
    p("abs-body-array-match", "string#anything-but-suffix", B, AB_SUFFIX, body({CI: ["hockey", "rugby", "soccer"]}), True),
    p("abs-attr-array-nomatch", "string#anything-but-suffix", A, AB_SUFFIX,
      attrs(customer_interests=ARR(["baseball", "basketball"])), False),
    p("abs-body-array-nomatch", "string#anything-but-suffix", B, AB_SUFFIX, body({CI: ["baseball", "basketball"]}), False),
    p("abs-attr-string-match", "string#anything-but-suffix (variant)", A, AB_SUFFIX, attrs(customer_interests=S("rugby")), True),
    p("abs-attr-string-nomatch", "string#anything-but-suffix (variant)", A, AB_SUFFIX,
      attrs(customer_interests=S("football")), False),
    # --- string#equals-ignore-case
    p("eic-attr-upper", "string#equals-ignore-case", A, EIC, attrs(customer_interests=S("TENNIS")), True),
    p("eic-attr-title", "string#equals-ignore-case", A, EIC, attrs(customer_interests=S("Tennis")), True),
    p("eic-body-upper", "string#equals-ignore-case", B, EIC, body({CI: "TENNIS"}), True),
    p("eic-body-mixed", "string#equals-ignore-case", B, EIC, body({CI: "teNnis"}), True),
    p("eic-attr-other", "string#equals-ignore-case (variant)", A, EIC, attrs(customer_interests=S("tenis")), False),
    p("eic-attr-upper-pattern", "string#equals-ignore-case (variant: upper-case policy)", A,
      {CI: [{"equals-ignore-case": "TENNIS"}]}, attrs(customer_interests=S("tennis")), True),
    p("eic-body-upper-pattern", "string#equals-ignore-case (variant: upper-case policy)", B,
      {CI: [{"equals-ignore-case": "TeNnIs"}]}, body({CI: "Tennis"}), True),
    p("eic-attr-array", "string#equals-ignore-case (variant: String.Array)", A, EIC,
      attrs(customer_interests=ARR(["golf", "TENNIS"])), True),
    # --- string#ip-address
    p("cidr-attr-first", "string#ip-address", A, CIDR, attrs(source_ip=S("10.0.0.0")), True),
    p("cidr-attr-last", "string#ip-address", A, CIDR, attrs(source_ip=S("10.0.0.255")), True),
    p("cidr-body-first", "string#ip-address", B, CIDR, body({"source_ip": "10.0.0.0"}), True),
    p("cidr-body-last", "string#ip-address", B, CIDR, body({"source_ip": "10.0.0.255"}), True),
    p("cidr-attr-outside", "string#ip-address", A, CIDR, attrs(source_ip=S("10.1.1.0")), False),
    p("cidr-body-outside", "string#ip-address", B, CIDR, body({"source_ip": "10.1.1.0"}), False),
    p("cidr-attr-not-ip", "string#ip-address (variant)", A, CIDR, attrs(source_ip=S("not-an-ip")), False),
    p("cidr-body-ipv6", "string#ip-address (variant: IPv6)", B, {"ip": [{"cidr": "2001:db8::/32"}]},
      body({"ip": "2001:db8::1"}), True),
    # --- string#prefix
    p("prefix-attr-baseball", "string#prefix", A, PREFIX, attrs(customer_interests=S("baseball")), True),
    p("prefix-attr-basketball", "string#prefix", A, PREFIX, attrs(customer_interests=S("basketball")), True),
    p("prefix-body-baseball", "string#prefix", B, PREFIX, body({CI: "baseball"}), True),
    p("prefix-body-basketball", "string#prefix", B, PREFIX, body({CI: "basketball"}), True),
    p("prefix-attr-rugby", "string#prefix", A, PREFIX, attrs(customer_interests=S("rugby")), False),
    p("prefix-body-rugby", "string#prefix", B, PREFIX, body({CI: "rugby"}), False),
    p("prefix-attr-array", "string#prefix (variant: String.Array)", A, PREFIX,
      attrs(customer_interests=ARR(["rugby", "basketball"])), True),
    p("prefix-attr-number", "numeric#note (prefixes are for strings only)", A, {"n": [{"prefix": "1"}]},
      attrs(n=N(123)), False),
    # --- string#suffix
    p("suffix-attr-baseball", "string#suffix", A, SUFFIX, attrs(customer_interests=S("baseball")), True),
    p("suffix-attr-basketball", "string#suffix", A, SUFFIX, attrs(customer_interests=S("basketball")), True),
    p("suffix-body-baseball", "string#suffix", B, SUFFIX, body({CI: "baseball"}), True),
    p("suffix-body-basketball", "string#suffix", B, SUFFIX, body({CI: "basketball"}), True),
    p("suffix-attr-rugby", "string#suffix", A, SUFFIX, attrs(customer_interests=S("rugby")), False),
    p("suffix-body-rugby", "string#suffix", B, SUFFIX, body({CI: "rugby"}), False),
    # --- string#wildcard
    p("wild-body-array", "string#wildcard", B, WILD, body({CI: ["baseball", "basketball"]}), True),
    p("wild-attr-array", "string#wildcard", A, WILD, attrs(customer_interests=ARR(["baseball", "basketball"])), True),
    p("wild-attr-string", "string#wildcard (variant)", A, WILD, attrs(customer_interests=S("football")), True),
    p("wild-attr-nomatch", "string#wildcard (variant)", A, WILD, attrs(customer_interests=S("rugby")), False),
    p("wild-body-middle", "string#wildcard (variant)", B, {"k": [{"wildcard": "a*c*e"}]}, body({"k": "abcde"}), True),
    p("wild-body-middle-no", "string#wildcard (variant)", B, {"k": [{"wildcard": "a*c*e"}]}, body({"k": "abde"}), False),
    # --- numeric#exact
    p("num-eq-attr", "numeric#exact", A, NUM_EQ, attrs(price_usd=N("301.5")), True),
    p("num-eq-attr-exp", "numeric#exact", A, NUM_EQ, attrs(price_usd=N("3.015e2")), True),
    p("num-eq-body", "numeric#exact", B, NUM_EQ, body('{"price_usd": 301.5}'), True),
    p("num-eq-body-exp", "numeric#exact", B, NUM_EQ, body('{"price_usd": 3.015e2}'), True),
    p("num-eq-attr-other", "numeric#exact (variant)", A, NUM_EQ, attrs(price_usd=N("301.6")), False),
    p("num-eq-attr-string-type", "limits#types (variant: a String is not a Number)", A, NUM_EQ,
      attrs(price_usd=S("301.5")), False),
    p("num-eq-body-string", "numeric#exact (variant: a JSON string is not a number)", B, NUM_EQ,
      body({"price_usd": "301.5"}), False),
    p("num-literal-attr", "and-or#or-operator (metricId 1234)", A, {"metricId": [1234, 4321]},
      attrs(metricId=N(1234)), True),
    p("num-literal-attr-float", "limits#numeric-matching (5 decimals)", A, {"v": [1.5]}, attrs(v=N("1.500000")), True),
    p("num-literal-body", "and-or#or-operator (variant: body)", B, {"metricId": [1234, 4321]}, body({"metricId": 4321.0}), True),
    p("num-literal-body-no", "and-or#or-operator (variant: body)", B, {"metricId": [1234, 4321]}, body({"metricId": 1235}), False),
    p("num-six-decimals", "limits#numeric-matching (five digits of accuracy)", B, {"v": [{"numeric": ["=", 0.5]}]},
      body({"v": 0.500001}), True),
    # --- numeric#anything-but
    p("num-ab-attr-101", "numeric#anything-but", A, NUM_AB, attrs(price=N(101)), True),
    p("num-ab-attr-100.1", "numeric#anything-but", A, NUM_AB, attrs(price=N(100.1)), True),
    p("num-ab-body-101", "numeric#anything-but", B, NUM_AB, body({"price": 101}), True),
    p("num-ab-body-100.1", "numeric#anything-but", B, NUM_AB, body({"price": 100.1}), True),
    p("num-ab-body-array", "numeric#anything-but", B, NUM_AB, body({"price": [100, 50]}), True),
    p("num-ab-attr-array", "numeric#anything-but (Number.Array)", A, NUM_AB,
      attrs(price={"DataType": "Number.Array", "StringValue": "[100, 50]"}), True),
    p("num-ab-attr-100", "numeric#anything-but", A, NUM_AB, attrs(price=N(100)), False),
    p("num-ab-body-100", "numeric#anything-but", B, NUM_AB, body({"price": 100}), False),
    p("num-ab-body-500.0", "numeric#anything-but (variant)", B, NUM_AB, body({"price": 500.0}), False),
    # --- numeric#range
    p("num-neg-attr", "numeric#range", A, NUM_NEG, attrs(price_usd=N(-0.5)), True),
    p("num-neg-body", "numeric#range", B, NUM_NEG, body({"price_usd": -12}), True),
    p("num-neg-zero", "numeric#range", A, NUM_NEG, attrs(price_usd=N(0)), False),
    p("num-range-150", "numeric#range", A, NUM_RANGE, attrs(price_usd=N(150)), True),
    p("num-range-1", "numeric#range", B, NUM_RANGE, body({"price_usd": 1}), True),
    p("num-range-0", "numeric#range", A, NUM_RANGE, attrs(price_usd=N(0)), False),
    p("num-range-150.01", "numeric#range", B, NUM_RANGE, body({"price_usd": 150.01}), False),
    p("num-range-array", "numeric#range (variant: any element)", B, NUM_RANGE, body({"price_usd": [500, 20]}), True),
    p("num-range-attr-array", "numeric#range (variant: String.Array)", A, NUM_RANGE,
      attrs(price_usd=ARR([500, 20])), True),
    p("num-ge-100", "examples#accepts (numeric >= 100)", A, {"price_usd": [{"numeric": [">=", 100]}]},
      attrs(price_usd=N(100)), True),
    p("num-ge-99", "examples#accepts (variant)", B, {"price_usd": [{"numeric": [">=", 100]}]},
      body({"price_usd": 99}), False),
    p("num-le", "numeric#range (<=)", A, {"v": [{"numeric": ["<=", 5]}]}, attrs(v=N(5)), True),
    p("num-lt", "numeric#range (<)", A, {"v": [{"numeric": ["<", 5]}]}, attrs(v=N(5)), False),
    p("num-gt", "numeric#range (>)", B, {"v": [{"numeric": [">", 5]}]}, body({"v": 5.00001 + 0.00001}), True),
    p("num-range-ge-lt", "numeric#range ([>=, low, <, high])", B, {"v": [{"numeric": [">=", 1, "<", 2]}]},
      body({"v": 1}), True),
    p("num-range-ge-lt-top", "numeric#range ([>=, low, <, high])", B, {"v": [{"numeric": [">=", 1, "<", 2]}]},
      body({"v": 2}), False),
    p("num-range-string-attr", "limits#types (a String attribute is not a number)", A, NUM_RANGE,
      attrs(price_usd=S("100")), False),
    # --- key#exists
    p("exists-attr-present", "key#exists-true", A, EXISTS,
      attrs(store=S("fans"), customer_interests=ARR(["baseball", "basketball"])), True),
    p("exists-body-present", "key#exists-true", B, EXISTS, body({"store": "fans", CI: ["baseball", "basketball"]}), True),
    p("exists-attr-absent", "key#exists-true", A, EXISTS, attrs(customer_interests=ARR(["baseball", "basketball"])), False),
    p("exists-body-absent", "key#exists-true", B, EXISTS, body({CI: ["baseball", "basketball"]}), False),
    p("exists-attr-number", "key#exists-true (variant: Number)", A, EXISTS, attrs(store=N(99)), True),
    p("exists-body-null", "key#exists-true (non-null value)", B, EXISTS, body({"store": None}), False),
    p("exists-body-empty-string", "key#exists-true (non-empty value)", B, EXISTS, body({"store": ""}), False),
    p("exists-body-object", "key#exists (leaf nodes only)", B, EXISTS, body({"store": {"name": "fans"}}), False),
    p("exists-attr-binary", "limits#types (Binary ignored)", A, EXISTS, attrs(store=BIN(b"x")), False),
    p("not-exists-attr-present", "key#exists-false", A, NOT_EXISTS,
      attrs(store=S("fans"), customer_interests=ARR(["baseball", "basketball"])), False),
    p("not-exists-body-present", "key#exists-false", B, NOT_EXISTS, body({"store": "fans", CI: ["baseball"]}), False),
    p("not-exists-attr-absent", "key#exists-false", A, NOT_EXISTS,
      attrs(customer_interests=ARR(["baseball", "basketball"])), True),
    p("not-exists-body-absent", "key#exists-false", B, NOT_EXISTS, body({CI: ["baseball", "basketball"]}), True),
    p("not-exists-attr-none", "key#exists-false (note: empty set of attributes)", A, NOT_EXISTS, {}, False),
    p("not-exists-attr-binary-only", "key#exists-false (note) + limits#types (Binary ignored)", A, NOT_EXISTS,
      attrs(store=BIN(b"x")), False),
    p("not-exists-body-null", "key#exists-true (variant: null is not a value)", B, NOT_EXISTS, body({"store": None}), True),
    p("exact-or-not-exists", "key#exists-false (variant: OR with a value)", A, {"color": ["red", {"exists": False}]},
      attrs(size=S("L")), True),
    p("exact-or-not-exists-red", "key#exists-false (variant: OR with a value)", A,
      {"color": ["red", {"exists": False}]}, attrs(color=S("red")), True),
    p("exact-or-not-exists-blue", "key#exists-false (variant: OR with a value)", A,
      {"color": ["red", {"exists": False}]}, attrs(color=S("blue")), False),
    # --- and-or#and, and-or#or
    p("and-attr", "and-or#and", A, AND, attrs(customer_interests=S("rugby"), price_usd=N(101)), True),
    p("and-body", "and-or#and", B, AND, body({CI: "rugby", "price_usd": 101}), True),
    p("and-attr-cheap", "and-or#and", A, AND, attrs(customer_interests=S("rugby"), price_usd=N(100)), False),
    p("and-body-missing", "and-or#and", B, AND, body({CI: "rugby"}), False),
    p("or-attr-rugby", "and-or#or", A, OR3, attrs(customer_interests=S("rugby")), True),
    p("or-attr-baseball", "and-or#or", A, OR3, attrs(customer_interests=S("baseball")), True),
    p("or-body-football", "and-or#or", B, OR3, body({CI: "football"}), True),
    p("or-body-golf", "and-or#or", B, OR3, body({CI: "golf"}), False),
    # --- and-or#or-operator
    p("or-op-attr-metric", "and-or#or-operator", A, OR_OP,
      attrs(source=S("aws.cloudwatch"), metricName=S("CPUUtilization")), True),
    p("or-op-attr-namespace", "and-or#or-operator", A, OR_OP,
      attrs(source=S("aws.cloudwatch"), namespace=S("AWS/EC2")), True),
    p("or-op-attr-neither", "and-or#or-operator", A, OR_OP,
      attrs(source=S("aws.cloudwatch"), metricName=S("ReadLatency")), False),
    p("or-op-attr-no-source", "and-or#or-operator", A, OR_OP, attrs(namespace=S("AWS/EC2")), False),
    p("or-op-body-metric", "and-or#or-operator (body)", B, OR_OP,
      body({"source": "aws.cloudwatch", "metricName": "CPUUtilization"}), True),
    p("or-op-body-namespace", "and-or#or-operator (body)", B, OR_OP,
      body({"source": "aws.cloudwatch", "namespace": "AWS/EC2"}), True),
    p("or-op-body-neither", "and-or#or-operator (body)", B, OR_OP, body({"source": "aws.cloudwatch"}), False),
    p("or-nested-attr-metric-id", "and-or#or-operator (nested $or)", A, OR_NESTED,
      attrs(source=S("aws.cloudwatch"), metricType=S("MetricType"), metricId=N(1234)), True),
    p("or-nested-attr-space-id", "and-or#or-operator (nested $or)", A, OR_NESTED,
      attrs(source=S("aws.cloudwatch"), metricType=S("MetricType"), spaceId=N(3000)), True),
    p("or-nested-attr-no-type", "and-or#or-operator (nested $or)", A, OR_NESTED,
      attrs(source=S("aws.cloudwatch"), spaceId=N(3000)), False),
    p("or-nested-attr-metric-name", "and-or#or-operator (nested $or)", A, OR_NESTED,
      attrs(source=S("aws.cloudwatch"), metricName=S("ReadLatency")), True),
    p("or-body-nested-source", "and-or#or-operator (nested policy)", B, OR_BODY,
      body({"metricName": "CPUUtilization", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}), True),
    p("or-body-nested-type", "and-or#or-operator (nested policy)", B, OR_BODY,
      body({"namespace": "AWS/ES", "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"}}), True),
    p("or-body-nested-wrong-scope", "recorded#or-attribute (not passing)", B, OR_BODY,
      body({"metricName": "CPUUtilization", "detail": {"scope": "aws.cloudwatch",
                                                       "type": "CloudWatch Alarm State Change"}}), False),
    p("or-body-nested-no-scope", "recorded#or-attribute (not passing)", B, OR_BODY,
      body({"metricName": "CPUUtilization", "detail": {"type": "CloudWatch Alarm State Change"}}), False),
    p("or-body-nested-no-alternative", "recorded#or-attribute (not passing)", B, OR_BODY,
      body({"metricName": "CPUUtilization", "detail": {"scope": "Service"}}), False),
    p("or-not-recognized-one-object", "and-or#or-operator (fewer than 2 objects: a plain key)", A, NOT_OR,
      {"$or": S("abcdef")}, True),
    p("or-not-recognized-other", "and-or#or-operator (fewer than 2 objects: a plain key)", A, NOT_OR,
      {"$or": S("xyz")}, False),
    # --- types: limits#types
    p("type-binary-ignored", "limits#types (Binary ignored)", A, {"blob": ["x"]}, attrs(blob=BIN(b"x")), False),
    p("type-custom-string", "limits#types (String with a custom label)", A, {"c": ["red"]},
      attrs(c={"DataType": "String.color", "StringValue": "red"}), True),
    p("type-array-number", "limits#types (String.Array holds numbers)", A, {"n": [7]}, attrs(n=ARR(["a", 7])), True),
    p("type-array-bool", "limits#additional (true, false, null)", A, {"flag": [True]}, attrs(flag=ARR([True])), True),
    p("type-array-null", "limits#additional (true, false, null)", A, {"flag": [None]}, attrs(flag=ARR([None, "x"])), True),
    p("type-string-true", "limits#additional (variant: the string 'true' is not true)", A, {"flag": [True]},
      attrs(flag=S("true")), False),
    p("type-body-bool", "limits#additional (true, false, null)", B, {"encrypted": [False]}, body({"encrypted": False}), True),
    p("type-body-bool-string", "limits#additional (variant)", B, {"encrypted": [False]}, body({"encrypted": "false"}), False),
    p("type-body-null", "limits#additional (true, false, null)", B, {"coupon": [None]}, body({"coupon": None}), True),
    p("type-body-null-absent", "limits#additional (variant: absent is not null)", B, {"coupon": [None]}, body({}), False),
    p("type-delivered-form", "examples#message (the delivered Type/Value form)", A, {"store": ["example_corp"]},
      {"store": {"Type": "String", "Value": "example_corp"}}, True),
    # --- MessageBody scope: nesting and arrays (the payload examples)
    p("body-nested", "recorded#body (object.key prefix)", B, {"object": {"key": [{"prefix": "auto-"}]}},
      body({"object": {"key": "auto-test"}}), True),
    p("body-nested-no", "recorded#body (variant)", B, {"object": {"key": [{"prefix": "auto-"}]}},
      body({"object": {"key": "home-test"}}), False),
    p("body-dotted-key-no", "recorded#body-dot-attribute (a dotted key is not nesting)", B,
      {"object": {"nested": ["string.value"]}}, body({"object.nested": "string.value"}), False),
    p("body-array-of-objects", "recorded#body-array-of-objects", B, S3_RECORDS,
      body({"Records": [{"eventName": "ObjectRemoved:Delete"}, {"eventName": "ObjectCreated:Put"}]}), True),
    p("body-array-of-objects-no", "recorded#body-array-of-objects", B, S3_RECORDS,
      body({"Records": [{"eventName": "ObjectRemoved:Delete"}]}), False),
    p("body-array-of-arrays", "recorded#body-array-of-objects (list of list of dict)", B,
      {"Records": {"s3": {"object": {"key": [{"prefix": "auto-"}]}}}},
      body({"Records": [{"s3": {"object": [[{"key": "auto-insurance-2314.xml"}]]}}]}), True),
    p("body-route-to", "recorded#body-array-attributes", B, {"headers": {"route-to": ["queue1"]}},
      body({"headers": {"route-to": ["queue1", "queue2"]}}), True),
    p("body-route-to-no", "recorded#body-array-attributes", B, {"headers": {"route-to": ["queue1"]}},
      body({"headers": {"route-to": ["queue2"]}}), False),
    p("body-not-json", "limits#payload (a body that is not JSON never matches)", B, TWO, "rugby", False),
    p("body-json-array", "limits#payload (a JSON array is not an object)", B, TWO, body(["rugby"]), False),
    p("body-none", "limits#payload (no body)", B, TWO, None, False),
    p("body-attrs-ignored", "limits#scopes (MessageBody scope ignores attributes)", B, TWO, body({"x": 1}), False),
    p("attrs-body-ignored", "limits#scopes (MessageAttributes scope ignores the body)", A, TWO, {}, False),
    p("empty-policy", "lab (an empty policy matches everything)", A, {}, {}, True),
]

# Where moto 5.2's FilterPolicyMatcher disagrees with SNS's pages, and why. The differential test
# fails if moto starts agreeing on one of these (drop it from the list) or disagrees elsewhere.
MOTO_WRONG = {
    # Operators moto does not implement (its Subscribe even refuses cidr and wildcard).
    "cidr-attr-first": "no cidr: never matches",
    "cidr-attr-last": "no cidr: never matches",
    "cidr-body-first": "no cidr: never matches",
    "cidr-body-last": "no cidr: never matches",
    "cidr-body-ipv6": "no cidr: never matches",
    "wild-body-array": "no wildcard: never matches",
    "wild-attr-array": "no wildcard: never matches",
    "wild-attr-string": "no wildcard: never matches",
    "wild-body-middle": "no wildcard: never matches",
    "abw-attr-array-match": "anything-but supports only prefix: anything-but wildcard never matches",
    "abw-body-array-match": "anything-but supports only prefix: anything-but wildcard never matches",
    "abw-attr-string": "anything-but supports only prefix: anything-but wildcard never matches",
    "abs-attr-array-match": "anything-but supports only prefix: anything-but suffix never matches",
    "abs-body-array-match": "anything-but supports only prefix: anything-but suffix never matches",
    "abs-attr-string-match": "anything-but supports only prefix: anything-but suffix never matches",
    # equals-ignore-case: moto lower-cases the value but not the policy.
    "eic-attr-upper-pattern": "equals-ignore-case with an upper-case policy value never matches",
    "eic-body-upper-pattern": "equals-ignore-case with an upper-case policy value never matches",
    # anything-but on arrays.
    "ab-body-array-mixed": "anything-but needs every element unlisted; the page's example matches if any is",
    "num-ab-body-array": "anything-but needs every element unlisted; the page's [100, 50] example matches",
    "ab-attr-array-rugby": "anything-but iterates the characters of the String.Array's JSON text, so '[\"rugby\"]' matches",
    # A missing key ends moto's rule list at anything-but, before a later {"exists": false}.
    "ab-or-not-exists-absent": "anything-but on a missing key returns no-match before trying exists false",
    "ab-or-not-exists-body": "anything-but on a missing key returns no-match before trying exists false",
    "exact-or-not-exists": "a value rule on a missing key returns no-match before trying exists false",
    # $or in MessageBody scope: moto's body matcher cannot evaluate it.
    "or-op-body-metric": "$or in MessageBody scope raises TypeError",
    "or-op-body-namespace": "$or in MessageBody scope raises TypeError",
    "or-body-nested-source": "$or in MessageBody scope raises TypeError",
    "or-body-nested-type": "$or in MessageBody scope raises TypeError",
    "or-body-nested-wrong-scope": "$or in MessageBody scope raises TypeError",
    "or-body-nested-no-scope": "$or in MessageBody scope raises TypeError",
    "or-body-nested-no-alternative": "$or in MessageBody scope raises TypeError",
    # exists (key page): only non-null, non-empty leaf values exist; no attributes, no exists false.
    "exists-body-null": "exists true holds for a null value",
    "exists-body-empty-string": "exists true holds for an empty string",
    "exists-body-object": "exists true holds for an object (the key page: leaf nodes only)",
    "not-exists-body-null": "exists false fails for a null value (the lab: null is no value, as for exists true)",
    "exists-attr-binary": "a Binary attribute exists for moto; SNS ignores Binary attributes",
    "not-exists-attr-none": "exists false matches a message without attributes (the key page's note: it does not)",
    # null and arrays of values.
    "type-body-null": "a null rule never matches a null body value",
    "type-array-null": "a null rule never matches a null String.Array element",
    "type-array-number": "a number rule on a String.Array holding a string raises ValueError",
    "num-range-array": "numeric on a body array raises TypeError (the lab: any element, as for values)",
    "num-range-attr-array": "numeric ignores String.Array attributes (the lab: any element, as for values)",
    "prefix-attr-array": "prefix ignores String.Array attributes (the string page: each element is a separate string)",
    "body-array-of-arrays": "no match through an array of arrays of objects (recorded from AWS: it matches)",
    # Numbers.
    "num-six-decimals": "numeric compares floats exactly; the constraints page gives five digits of accuracy",
    "exact-attr-number-type": "a string rule matches a Number attribute's text (the lab: Number attributes are numbers)",
    # Not a publish SNS could see (every Publish has a Message); moto chokes on None.
    "body-none": "a missing body raises TypeError",
}


def _moto_attributes(message_attributes: dict) -> dict:
    """The Publish API form as moto's SNS responses hand it to the matcher (Type/Value)."""
    out = {}
    for name, attribute in message_attributes.items():
        if "Type" in attribute:
            out[name] = attribute
        else:
            out[name] = {"Type": attribute["DataType"],
                         "Value": attribute.get("StringValue", attribute.get("BinaryValue"))}
    return out


def moto_matches(scope: str, policy: dict, message: object) -> object:
    """moto's verdict, or the exception type it raised (a disagreement either way)."""
    try:
        matcher = FilterPolicyMatcher(policy, scope)
        if scope == A:
            return matcher.matches(_moto_attributes(message), "")
        return matcher.matches({}, message)
    except Exception as err:  # noqa: BLE001 - an exception is moto's answer here
        return type(err).__name__


@pytest.mark.parametrize(("doc", "scope", "policy", "message", "expected"), MATCH_CASES)
def test_matches(doc, scope, policy, message, expected):
    assert doc  # every case names its source
    if scope == A:
        assert fp.matches(policy, message, None, scope) is expected
    else:
        assert fp.matches(policy, {"ignored": S("x")}, message, scope) is expected


def test_moto_differential():
    """moto's matcher on every case: it agrees except on MOTO_WRONG, and is wrong on all of those.

    One test over all cases (not one per case) keeps the file fast; the failure lists every case.
    """
    disagreements = {c.id for c in MATCH_CASES if moto_matches(*c.values[1:4]) != c.values[4]}
    assert sorted(disagreements - set(MOTO_WRONG)) == [], "moto disagrees: list these in MOTO_WRONG, with why"
    assert sorted(set(MOTO_WRONG) - disagreements) == [], "moto now agrees: remove these from MOTO_WRONG"


def test_moto_wrong_lists_only_real_cases():
    ids = {c.id for c in MATCH_CASES}
    assert set(MOTO_WRONG) <= ids
    assert all(reason for reason in MOTO_WRONG.values())


# --------------------------------------------------------------------------- refusals

AWS_PREFIX = "Invalid parameter: FilterPolicy: "


def e(id_, doc, scope, policy, reason):
    """A policy SNS refuses; ``reason`` follows ``Invalid parameter: FilterPolicy: ``."""
    return pytest.param(doc, scope, policy, reason, id=id_)


ERROR_CASES = [
    # recorded#validate-policy and friends: SNS's words (JSON position left out)
    e("nested-list", "recorded#error-condition-list", A, {"key": [["value"]]},
      "Match value must be String, number, true, false, or null"),
    e("unknown-operator", "recorded#error-condition-operator", A, {"key": [{"wrong-operator": True}]},
      "Unrecognized match type wrong-operator"),
    e("two-operators", "recorded#error-condition-two-operators", A, {"key": [{"suffix": "value", "prefix": "value2"}]},
      "Only one key allowed in match expression"),
    e("suffix-number", "recorded#error-condition-is-numeric", A, {"key": [{"suffix": 100}]},
      "suffix match pattern must be a string"),
    e("suffix-null", "recorded#error-condition-is-none", A, {"key": [{"suffix": None}]},
      "suffix match pattern must be a string"),
    e("suffix-empty-list", "recorded#error-condition-empty-list", A, {"key": [{"suffix": []}]},
      "suffix match pattern must be a string"),
    e("suffix-list", "recorded#error-condition-list-wrong-type", A, {"key": [{"suffix": ["test", "test2"]}]},
      "suffix match pattern must be a string"),
    e("operator-not-in-list", "recorded#error-condition-is-not-list-and-operator", B, {"key": {"suffix": "value"}},
      '"suffix" must be an object or an array'),
    e("value-not-in-list", "recorded#sub-filter-policy-rule-no-list", B, {"key_a": "value_one"},
      '"key_a" must be an object or an array'),
    e("prefix-number", "recorded#error-condition-is-numeric (prefix)", B, {"key": [{"prefix": 1}]},
      "prefix match pattern must be a string"),
    e("prefix-ignore-case-form", "string#prefix (SNS takes a string only)", A,
      {"key": [{"prefix": {"equals-ignore-case": "a"}}]}, "prefix match pattern must be a string"),
    e("numeric-empty", "recorded#error-numeric-empty", A, {"key": [{"numeric": []}]},
      "Invalid member in numeric match: ]"),
    e("numeric-bad-operator", "recorded#error-numeric-wrong-operator", A, {"key": [{"numeric": ["operator"]}]},
      "Unrecognized numeric range operator: operator"),
    e("numeric-operator-order", "recorded#error-numeric-operator-order", A, {"key": [{"numeric": [1, "<="]}]},
      "Invalid member in numeric match: 1"),
    e("numeric-string-value", "recorded#error-numeric-type", A, {"key": [{"numeric": ["=", "000"]}]},
      "Value of equals must be numeric"),
    e("numeric-missing-value", "recorded#error-numeric-missing-value", A, {"key": [{"numeric": [">="]}]},
      "Value of >= must be numeric"),
    e("numeric-range-order", "recorded#error-numeric-wrong-range-order", A, {"key": [{"numeric": ["<", 100, ">", 10]}]},
      "Too many elements in numeric expression"),
    e("numeric-range-operators", "recorded#error-numeric-wrong-range-operators", A,
      {"key": [{"numeric": [">=", 1, ">", 2]}]}, "Bad numeric range operator: >"),
    e("numeric-bottom-top", "recorded#error-numeric-wrong-value-order", A, {"key": [{"numeric": [">", 3, "<", 1]}]},
      "Bottom must be less than top"),
    e("numeric-missing-top", "recorded#error-numeric-missing-range-value", A, {"key": [{"numeric": [">", 20, "<="]}]},
      "Value of <= must be numeric"),
    e("numeric-missing-second-op", "recorded#error-numeric-missing-range-operator", A,
      {"key": [{"numeric": [">", 20, 30]}]}, "Bad value in numeric range: 30"),
    e("numeric-bad-second-op", "recorded#error-numeric-wrong-second-range-operator", A,
      {"key": [{"numeric": [">", 20, "test"]}]}, "Bad numeric range operator: test"),
    e("numeric-string-low", "recorded#error-numeric-wrong-range-value-1-type", A,
      {"key": [{"numeric": [">", "20", "<", "30"]}]}, "Value of > must be numeric"),
    e("numeric-string-high", "recorded#error-numeric-wrong-range-value-2-type", A,
      {"key": [{"numeric": [">", 20, "<", "30"]}]}, "Value of < must be numeric"),
    e("numeric-too-many", "recorded#error-numeric-too-many-range", A,
      {"key": [{"numeric": [">", 20, "<", 30, "<", 50]}]}, "Too many terms in numeric range expression"),
    e("exists-null", "recorded#error-condition-none", A, {"key": [{"exists": None}]},
      "exists match pattern must be either true or false."),
    e("exists-string", "recorded#error-condition-string", A, {"key": [{"exists": "no"}]},
      "exists match pattern must be either true or false."),
    e("anything-but-unknown", "recorded#error-condition-wrong-operator (anything-but)", A,
      {"key": [{"anything-but": {"wrong-operator": None}}]}, "Unsupported anything-but pattern: wrong-operator"),
    e("anything-but-exists", "recorded#error-condition-anything-but-exists", A,
      {"key": [{"anything-but": {"exists": False}}]}, "Unsupported anything-but pattern: exists"),
    e("anything-but-ignore-case", "string#anything-but (prefix, wildcard, suffix only)", A,
      {"key": [{"anything-but": {"equals-ignore-case": "x"}}]}, "Unsupported anything-but pattern: equals-ignore-case"),
    e("anything-but-prefix-bool", "recorded#error-condition-anything-but-prefix-wrong-type", A,
      {"key": [{"anything-but": {"prefix": False}}]}, "prefix match pattern must be a string"),
    # limits#: 5 keys, 150 combinations
    e("six-keys", "recorded#error-complexity-too-many-fields", A, {f"key{i}": [f"value{i}"] for i in range(1, 7)},
      "Filter policy can not have more than 5 keys"),
    e("six-keys-body", "recorded#sub-filter-policy-max-attr-keys", B, {f"key_{c}": ["v"] for c in "abcdef"},
      "Filter policy can not have more than 5 keys"),
    e("six-keys-in-or", "limits#keys (the keys of one $or alternative)", A,
      {"a": ["1"], "b": ["1"], "$or": [{"c": ["1"], "d": ["1"], "e": ["1"], "f": ["1"]}, {"g": ["1"], "h": ["1"]}]},
      "Filter policy can not have more than 5 keys"),
    e("151-values", "recorded#error-complexity-in-one-condition", A, {"key": [f"value{i}" for i in range(151)]},
      "Filter policy is too complex"),
    e("100-x-51", "recorded#error-complexity-in-two-conditions", A,
      {"key1": [f"value{i}" for i in range(100)], "key2": [f"value{i}" for i in range(51)]},
      "Filter policy is too complex"),
    e("or-flat-152", "recorded#error-complexity-or-flat", A,
      {"source": ["aws.cloudwatch", "aws.events", "aws.test", "aws.test2"],
       "$or": [{"metricName": ["CPUUtilization", "ReadLatency", "t1", "t2", "t3", "t4"]},
               {"metricType": ["MetricType", "TestType", "TestType2", "TestType3"],
                "$or": [{"metricId": [1234, 4321, 5678, 9012]}, {"spaceId": [1, 2, 3, 4]}]}]},
      "Filter policy is too complex"),
    e("or-nested-160", "recorded#error-complexity-or-nested", B,
      {"$or": [{"metricName": ["CPUUtilization", "ReadLatency", "TestValue"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}],
       "detail": {"scope": ["Service", "Test"],
                  "$or": [{"source": ["aws.cloudwatch"]},
                          {"type": ["CloudWatch Alarm State Change", "TestValue", "TestValue2"]}]}},
      "Filter policy is too complex"),
    e("nested-216", "recorded#sub-filter-policy-nested-error-too-many-combinations", B,
      {"key_a": {"key_b": {"key_c": ["value_one", "value_two", "value_three", "value_four"]}},
       "key_d": {"key_e": ["value_one", "value_two", "value_three"]},
       "key_f": ["value_one", "value_two", "value_three"]},
      "Filter policy is too complex"),
]


@pytest.mark.parametrize(("doc", "scope", "policy", "reason"), ERROR_CASES)
def test_refused_with_sns_message(doc, scope, policy, reason):
    with pytest.raises(InvalidParameterException) as err:
        fp.validate(policy, scope)
    assert err.value.aws_message == AWS_PREFIX + reason
    assert err.value.reason == reason and err.value.status_code == 400
    assert isinstance(err.value, LabError) and str(err.value).startswith(AWS_PREFIX + reason)
    with pytest.raises(InvalidParameterException):  # matches() validates too
        fp.matches(policy, {}, "{}", scope)


def test_limit_errors_name_the_limit():
    with pytest.raises(InvalidParameterException, match=r"152 combinations.*must not exceed 150"):
        fp.validate(next(c for c in ERROR_CASES if c.id == "or-flat-152").values[2], A)
    with pytest.raises(InvalidParameterException, match=r"more than 5 keys \(this one has 6 keys"):
        fp.validate({f"k{i}": ["v"] for i in range(6)})


def test_nested_policy_refused_in_attributes_scope():
    """recorded#sub-filter-policy-nested-error: SNS's words have no "FilterPolicy:" here."""
    policy = {"object": {"key": [{"prefix": "auto-"}]}}
    with pytest.raises(InvalidParameterException) as err:
        fp.validate(policy, A)
    assert err.value.aws_message == ("Invalid parameter: Filter policy scope MessageAttributes does not "
                                     "support nested filter policy")
    assert fp.validate(policy, B) == policy


def test_scope_refused_with_sns_message():
    """recorded#sub-attrs-filter-scope-error."""
    with pytest.raises(InvalidParameterException) as err:
        fp.check_scope("RandomValue")
    assert err.value.aws_message == ("Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. "
                                     "Please use either MessageBody or MessageAttributes")
    assert fp.check_scope(None) == A


@pytest.mark.parametrize(("scope", "policy", "expected"), [
    pytest.param(A, {"key_a": ["value_one", "value_two", "value_three"], "key_b": ["value_one"],
                     "key_c": ["value_one", "value_two"]}, 6, id="limits-3x1x2"),
    pytest.param(A, OR_NESTED, 7, id="and-or-sum-7"),
    pytest.param(B, OR_BODY, 32, id="and-or-nested-32"),
    pytest.param(A, {"source": ["aws.cloudwatch", "aws.events", "aws.test"],
                     "$or": [{"metricName": ["CPUUtilization", "ReadLatency", "v1", "v2", "v3", "v4"]},
                             {"metricType": ["MetricType", "TestType", "TestType2", "TestType3"],
                              "$or": [{"metricId": [1234, 4321, 5678, 9012]},
                                      {"spaceId": [1, 2, 3, 4, 5, 6, 7]}]}]}, 150, id="recorded-150-accepted"),
    pytest.param(A, {f"k{i}": ["v"] for i in range(5)}, 1, id="five-keys-accepted"),
    pytest.param(B, {"state": ["SUCCESS"], "severity": [{"exists": True}], "message": [{"exists": True}],
                     "finding": {"standard_control": [{"exists": True}], "region": [{"exists": True}],
                                 "account": [{"exists": True}]}}, 8, id="limits-top-level-keys-only"),
])
def test_limits_accept_up_to_the_limit(scope, policy, expected):
    """The constraints and and-or pages' worked examples: accepted, with the combination they compute."""
    assert fp.validate(policy, scope) is policy
    assert fp.combinations(policy) == expected


@pytest.mark.parametrize("policy", [
    pytest.param('{"key": [', id="not-json"),
    pytest.param("[1]", id="not-an-object"),
    pytest.param({"key": []}, id="empty-list"),
    pytest.param({"key": {}}, id="empty-object"),
    pytest.param({"ip": [{"cidr": "10.0.0.0"}]}, id="cidr-not-a-prefix"),
    pytest.param({"k": [{"wildcard": "a**b"}]}, id="wildcard-double-star"),
    pytest.param({"k": [{"anything-but": [1, "a"]}]}, id="anything-but-mixed-list"),
    pytest.param({"k": [1_000_000_001]}, id="number-over-1e9"),
    pytest.param({"k": [{"numeric": [">", -2e9]}]}, id="numeric-under-minus-1e9"),
    pytest.param({"k": [float("nan")]}, id="nan"),
    pytest.param({"k": ["x" * (256 * 1024)]}, id="over-256-kb"),
])
def test_lab_worded_refusals(policy):
    """Refused as SNS would, in the lab's words (the message says so) under SNS's prefix."""
    with pytest.raises(InvalidParameterException) as err:
        fp.validate(policy, B)
    assert err.value.aws_message.startswith("Invalid parameter: FilterPolicy: ")
    assert "lab's wording" in str(err.value)


def test_policy_text_is_parsed():
    assert fp.validate('{"store": ["example_corp"]}') == {"store": ["example_corp"]}
    assert fp.matches('{"store": ["example_corp"]}', EX_ATTRS) is True


def test_filtered_out_reason_for_the_ledger():
    assert fp.filtered_out_reason(ACCEPTS, EX_ATTRS) is None
    assert fp.filtered_out_reason(REJECTS, EX_ATTRS).startswith(fp.FILTERED_OUT)
    assert "NoMessageAttributes" in fp.filtered_out_reason(TWO, {})
    assert "not a JSON object" in fp.filtered_out_reason(TWO, None, "plain text", B)


def test_enough_cases():
    assert len(MATCH_CASES) + len(ERROR_CASES) >= 150
    ops = {op for case in MATCH_CASES for rules in _rule_lists(case.values[2]) for rule in rules
           if isinstance(rule, dict) for op in rule}
    assert set(fp.OPERATORS) <= ops
    assert {case.values[1] for case in MATCH_CASES} == {A, B}


def _rule_lists(policy: dict):
    for value in policy.values():
        if isinstance(value, list) and all(isinstance(v, dict) and not (set(v) & set(fp.OPERATORS)) for v in value) \
                and len(value) >= 2 and all(isinstance(v, dict) for v in value):
            for alternative in value:
                yield from _rule_lists(alternative)
        elif isinstance(value, dict):
            yield from _rule_lists(value)
        else:
            yield value
