"""Batch results read as AWS reads them, batch assembly under 6 MB, and the validation table."""

import json
import warnings
from pathlib import Path

import pytest

from lambda_lab import ConfigurationError, Lab
from lambda_lab.patterns import InvalidPatternError
from lambda_lab.sources import batching
from lambda_lab.sources.sqs import VisibilityTimeoutWarning, check_visibility, validate

IDS = ("id1", "id2", "id3", "id4")
SAMPLES = Path(__file__).parent / "data" / "aws-sample-events"


def _judge(response, *, report=True, outcome="success"):
    return batching.judge(outcome, response, IDS, report_batch_item_failures=report)


# ------------------------------------------------------------- ReportBatchItemFailures


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None},
                                      {"statusCode": 200}])
def test_empty_or_null_responses_mean_complete_success(response):
    out = _judge(response)
    assert out.succeeded == IDS and out.failed == ()


def test_the_aws_sample_response_fails_only_the_listed_items():
    path = SAMPLES / "aws-docs" / "lambda-dg_sqs-batch-item-failures-response.json"
    sample = json.loads(path.read_text())
    out = _judge(sample)
    assert out.failed == ("id2", "id4") and out.succeeded == ("id1", "id3")


@pytest.mark.parametrize("response", [
    {"batchItemFailures": [{"itemIdentifier": ""}]},
    {"batchItemFailures": [{"itemIdentifier": None}]},
    {"batchItemFailures": [{"itemId": "id2"}]},           # bad key name
    {"batchItemFailures": [{"itemIdentifier": "nope"}]},  # unknown message id
    {"batchItemFailures": [{"itemIdentifier": "id1"}, {"itemIdentifier": "nope"}]},
    {"batchItemFailures": "id2"},
    "not json object",
    ["id2"],
])
def test_invalid_responses_fail_the_whole_batch(response):
    out = _judge(response)
    assert out.all_failed and out.failed == IDS


@pytest.mark.parametrize("outcome", ["error", "timeout", "throttled"])
def test_a_failed_invocation_fails_everything_whatever_it_returned(outcome):
    out = _judge({"batchItemFailures": []}, outcome=outcome)
    assert out.failed == IDS and outcome in out.reason


def test_without_report_batch_item_failures_the_list_is_ignored():
    out = _judge({"batchItemFailures": [{"itemIdentifier": "id2"}]}, report=False)
    assert out.succeeded == IDS and out.failed == ()
    assert "ignored" in out.reason


def test_duplicate_identifiers_fail_the_item_once_in_batch_order():
    out = _judge({"batchItemFailures": [{"itemIdentifier": "id3"}, {"itemIdentifier": "id1"},
                                        {"itemIdentifier": "id3"}]})
    assert out.failed == ("id1", "id3") and out.succeeded == ("id2", "id4")


# ------------------------------------------------------------- batch assembly


def test_batch_builder_stops_at_the_batch_size():
    builder = batching.BatchBuilder(max_records=3)
    added = [builder.add({"body": str(i)}) for i in range(3)]
    assert all(added) and builder.full and builder.room == 0


def test_batch_builder_keeps_the_event_under_the_payload_cap():
    record = {"body": "x" * 1000}
    builder = batching.BatchBuilder(max_records=100, max_bytes=5_000)
    while builder.add(record):
        pass
    event_bytes = len(json.dumps({"Records": builder.records}, separators=(",", ":")).encode())
    assert builder.capped and 0 < len(builder) < 100
    assert event_bytes <= 5_000 < event_bytes + batching.record_bytes(record)


def test_an_oversized_first_record_still_gets_its_own_batch():
    builder = batching.BatchBuilder(max_records=10, max_bytes=100)
    assert builder.add({"body": "y" * 500}) and not builder.add({"body": "z"})


# ------------------------------------------------------------- validation table


@pytest.mark.parametrize("fifo, batch_size, window, concurrency, rule", [
    (False, 0, 0, None, "BatchSize for standard queues must be a whole number, 1-10,000"),
    (False, 10_001, 1, None, "BatchSize for standard queues must be a whole number, 1-10,000"),
    (False, 2.5, 1, None, "whole number"),
    (True, 11, 0, None, "FIFO queues allow batch sizes 1-10, got 11"),
    (True, 0, 0, None, "FIFO queues allow batch sizes 1-10"),
    (True, 10, 1, None, "Batching window is not supported for FIFO queues"),
    (False, 10, 301, None, "MaximumBatchingWindowInSeconds must be 0-300"),
    (False, 10, -1, None, "MaximumBatchingWindowInSeconds must be 0-300"),
    (False, 11, 0, None, "requires MaximumBatchingWindowInSeconds of at least 1 s"),
    (False, 100, 0.5, None, "requires MaximumBatchingWindowInSeconds of at least 1 s"),
    (False, 10, 0, 1, "MaximumConcurrency must be a whole number, 2-1,000"),
    (False, 10, 0, 1001, "MaximumConcurrency must be a whole number, 2-1,000"),
])
def test_settings_aws_refuses_raise_an_error_naming_the_rule(fifo, batch_size, window, concurrency, rule):
    with pytest.raises(ConfigurationError, match=rule) as err:
        validate(fifo=fifo, batch_size=batch_size, maximum_batching_window_s=window,
                 maximum_concurrency=concurrency)
    assert "https://docs.aws.amazon.com/" in str(err.value)


@pytest.mark.parametrize("fifo, batch_size, window, concurrency", [
    (False, 1, 0, None), (False, 10, 0, 2), (False, 11, 1, None), (False, 10_000, 300, 1000), (True, 10, 0, 2),
])
def test_settings_inside_the_limits_are_accepted(fifo, batch_size, window, concurrency):
    validate(fifo=fifo, batch_size=batch_size, maximum_batching_window_s=window, maximum_concurrency=concurrency)


def test_function_timeout_above_visibility_timeout_is_refused():
    with pytest.raises(ConfigurationError, match=r"timeout \(31 s\) must be less than or equal .* \(30 s\)"):
        check_visibility(31, 30, 0)
    assert check_visibility(30, 30, 0) is not None  # allowed, but under the 6x guidance
    assert check_visibility(5, 35, 5) is None  # 6 x 5 + 5 = 35
    assert "6 x function timeout" in check_visibility(5, 34, 5)


def test_the_mapping_checks_the_queue_before_it_polls():
    with Lab(seed=0) as lab:
        sqs = lab.client("sqs")
        url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "10"})["QueueUrl"]
        fn = lab.function("f", lambda e, c: None, timeout_s=20)
        with pytest.raises(ConfigurationError, match="visibility timeout"):
            lab.sqs_trigger(url, fn)
        fn.timeout_s = 5
        with pytest.warns(VisibilityTimeoutWarning, match="services-sqs-configure.html"):
            lab.sqs_trigger(url, fn)
        fn.timeout_s = 1
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lab.sqs_trigger(url, fn)  # 10 >= 6 x 1: no warning
        fifo_url = sqs.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        with pytest.raises(ConfigurationError, match="FIFO queues allow batch sizes 1-10, got 100"):
            lab.sqs_trigger(fifo_url, fn, batch_size=100)
        with pytest.raises(InvalidPatternError):
            lab.sqs_trigger(url, fn, filter_patterns=[{"body": {"kind": "order"}}])  # not a list of rules
