"""Lambda filter criteria on SQS records: the body's format decides what the pattern sees.

Examples from https://docs.aws.amazon.com/lambda/latest/dg/with-sqs-filtering.html and the
invocation-eventfiltering page. The pattern engine itself is tested in test_patterns.py.
"""

from __future__ import annotations

import json

import pytest

from lambda_lab.patterns import InvalidPatternError
from lambda_lab.sources.batching import normalize_filters
from lambda_lab.sources.sqs import matches_filter


def sqs_record(body: str, **extra: object) -> dict:
    """A minimal SQS record as Lambda's event source mapping delivers it."""
    return {"messageId": "059f36b4", "body": body, "eventSource": "aws:sqs",
            "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
            **extra}


def test_sqs_json_body_matches_parsed_json():
    pattern = '{ "body" : { "RequestCode" : [ "BBBB" ] } }'
    body = '{\n "RecordNumber": 1234,\n "TimeStamp": "t",\n "RequestCode": "BBBB"\n}'
    assert matches_filter(pattern, sqs_record(body)) is True
    assert matches_filter(pattern, sqs_record(body.replace("BBBB", "AAAA"))) is False


def test_sqs_json_body_numeric():
    pattern = {"body": {"RecordNumber": [{"numeric": [">", 9999]}]}}
    assert matches_filter(pattern, sqs_record('{"RecordNumber": 10000}')) is True
    assert matches_filter(pattern, sqs_record('{"RecordNumber": 1234}')) is False


def test_sqs_plain_body_matches_plain_string_pattern():
    pattern = {"body": [{"prefix": "Result: "}]}
    assert matches_filter(pattern, sqs_record("Result: ok")) is True
    assert matches_filter(pattern, sqs_record("Error: no")) is False


def test_sqs_format_mismatch_drops_the_record():
    assert matches_filter({"body": {"a": ["1"]}}, sqs_record("a=1")) is False
    assert matches_filter({"body": [{"prefix": "{"}]}, sqs_record('{"a": "1"}')) is False


def test_sqs_pattern_without_body_filters_other_keys():
    pattern = {"attributes": {"ApproximateReceiveCount": ["1"]}}
    assert matches_filter(pattern, sqs_record("plain")) is True
    assert matches_filter(pattern, sqs_record('{"a": 1}')) is True
    record = sqs_record("x", attributes={"ApproximateReceiveCount": "2"})
    assert matches_filter(pattern, record) is False


def test_sqs_json_body_array_of_objects():
    pattern = {"body": {"items": {"sku": ["X1"]}}}
    body = json.dumps({"items": [{"sku": "X0"}, {"sku": "X1"}]})
    assert matches_filter(pattern, sqs_record(body)) is True


def test_sqs_invalid_pattern_raises():
    with pytest.raises(InvalidPatternError):
        matches_filter({"body": "x"}, sqs_record("x"))


def test_normalize_filters_accepts_every_form_lambda_does():
    pattern = {"body": {"kind": ["order"]}}
    assert normalize_filters(None) == []
    assert normalize_filters(pattern) == [pattern]
    assert normalize_filters(json.dumps(pattern)) == [pattern]
    assert normalize_filters({"Filters": [{"Pattern": json.dumps(pattern)}]}) == [pattern]
    with pytest.raises(InvalidPatternError):
        normalize_filters([{"body": "not a list"}])
