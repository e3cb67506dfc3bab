"""CloudWatch metrics computed from a run (``lab.metrics``) and the console-style figure.

Definitions: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html and
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html.
Every expected value below is worked out by hand from the run it follows.
"""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lambda_lab import ConfigurationError, Lab  # noqa: E402
from lambda_lab.metrics import COLUMNS, METRICS  # noqa: E402
from lambda_lab.plots.metrics import console, console_data  # noqa: E402
from lambda_lab.plots.palette import COLORS  # noqa: E402


def values(frame, metric: str, statistic: str = "Sum", dimension: str | None = None) -> dict[int, float]:
    """Period start (s) -> value of one metric's statistic."""
    rows = frame[(frame["metric"] == metric) & (frame["statistic"] == statistic)]
    if dimension is not None:
        rows = rows[rows["dimension"] == dimension]
    return dict(zip(rows["period"], rows["value"]))


def failing(event, context):
    raise RuntimeError("no")


def make_queue(lab: Lab, name: str, **attributes: str) -> tuple[str, str]:
    url = lab.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, lab.arn("sqs", name)


def send(lab: Lab, url: str, *bodies: str) -> list[str]:
    return [lab.client("sqs").send_message(QueueUrl=url, MessageBody=b)["MessageId"] for b in bodies]


# --- AWS/Lambda: invocations, errors, throttles, duration -------------------------------------
def test_invocations_exclude_throttles_and_errors_include_timeouts(lab):
    fn = lab.function("f", lambda e, c: None, duration_ms=1_000, init_duration_ms=0, reserved_concurrency=1)
    answers = fn.invoke_concurrently([{"n": 1}, {"n": 2}, {"n": 3}])  # one runs, two get 429
    assert sum(isinstance(a, Exception) for a in answers) == 2
    lab.function("bad", failing, init_duration_ms=0).invoke({})
    lab.function("slow", lambda e, c: None, timeout_s=1, duration_ms=5_000, init_duration_ms=0).invoke({})
    frame = lab.metrics()
    assert values(frame, "Invocations", dimension="f") == {0: 1.0}
    assert values(frame, "Throttles", dimension="f") == {0: 2.0}
    assert values(frame, "Errors", dimension="f") == {}  # no error, no datapoint (not a 0)
    assert values(frame, "Errors", dimension="bad") == {0: 1.0}
    assert values(frame, "Errors", dimension="slow") == {0: 1.0}  # a timeout is a function error
    assert values(frame, "Duration", "Maximum", dimension="slow") == {0: 1_000.0}  # cut at the timeout


def test_duration_excludes_the_cold_start_and_p99_is_the_nearest_rank(lab):
    fn = lab.function("f", lambda e, c: None, duration_ms=lambda e: e["ms"], init_duration_ms=500)
    for ms in (100, 300):
        fn.invoke({"ms": ms})
    log = lab.log.to_frame("f")
    assert log["cold_start"].tolist() == [True, False] and log["init_duration_ms"].tolist() == [500.0, 0.0]
    frame = lab.metrics(dimension="f")
    assert values(frame, "Duration", "Average") == {0: 200.0}  # (100 + 300) / 2, not (600 + 300) / 2
    assert values(frame, "Duration", "Maximum") == {0: 300.0}
    assert values(frame, "Duration", "p99") == {0: 300.0}  # fewer than 100 datapoints: the maximum


def test_concurrent_executions_is_the_peak_and_carries_into_the_next_period(lab):
    fn = lab.function("f", lambda e, c: None, duration_ms=2_000, init_duration_ms=0)
    lab.run(59)
    fn.invoke_concurrently([{}, {}, {}])  # three environments busy from 59 s to 61 s
    frame = lab.metrics()
    assert values(frame, "ConcurrentExecutions", "Maximum") == {0: 3.0, 60: 3.0}
    assert values(frame, "Invocations") == {0: 3.0}  # invoked in the first minute only


# --- periods --------------------------------------------------------------------------------
def test_periods_bucket_by_invocation_time_and_empty_periods_have_no_row(lab):
    fn = lab.function("f", lambda e, c: None, duration_ms=50, init_duration_ms=0)
    start_s = lab.clock.start_s
    for at_s in (0, 59.9, 60, 190):
        lab.scheduler.run_until(start_s + at_s)
        fn.invoke({})
    assert lab.log.to_frame("f")["start"].tolist() == [0.0, 59.9, 60.0, 190.0]
    assert values(lab.metrics(), "Invocations") == {0: 2.0, 60: 1.0, 180: 1.0}  # no row for 120
    assert values(lab.metrics(period_s=120), "Invocations") == {0: 3.0, 120: 1.0}


@pytest.mark.parametrize("period_s", [30, 90, 60.0, True, 0])
def test_a_period_must_be_a_whole_multiple_of_60_seconds(lab, period_s):
    with pytest.raises(ConfigurationError, match="multiple of 60 seconds.*API_MetricStat"):
        lab.metrics(period_s=period_s)


def test_a_run_with_nothing_in_it_has_no_datapoints_but_the_frame_has_the_columns(lab):
    frame = lab.metrics()
    assert list(frame.columns) == COLUMNS and frame.empty


# --- AWS/Lambda: asynchronous invocation ----------------------------------------------------
def test_async_event_age_grows_with_the_retry_backoff(lab):
    fn = lab.function("f", failing, duration_ms=250, init_duration_ms=0)
    fn.invoke_async({})
    lab.run_until_idle()  # attempts at 0 s, 60.25 s (0.25 + 60), 180.5 s (0.5 + 60 + 120)
    frame = lab.metrics(dimension="f")
    assert values(frame, "AsyncEventsReceived") == {0: 1.0}
    assert values(frame, "AsyncEventAge", "Average") == {0: 0.0, 60: 60_250.0, 180: 180_500.0}
    assert values(frame, "Invocations") == values(frame, "Errors") == {0: 1.0, 60: 1.0, 180: 1.0}
    assert values(frame, "AsyncEventsDropped") == {180: 1.0}  # retries exhausted, nowhere to go


def test_a_dead_letter_write_that_arrives_is_a_dropped_event_not_a_dead_letter_error(lab):
    _, arn = make_queue(lab, "dlq")
    fn = lab.function("f", failing, dead_letter_arn=arn, maximum_retry_attempts=0)
    fn.invoke_async({})
    lab.run_until_idle()
    assert lab.outcomes()["ending"].tolist() == ["dead_letter"]
    frame = lab.metrics(dimension="f")
    assert values(frame, "DeadLetterErrors") == {}
    assert values(frame, "AsyncEventsDropped") == {0: 1.0}  # in the DLQ, still never run successfully


def test_failed_writes_are_dead_letter_errors_and_destination_delivery_failures(lab):
    sqs = lab.client("sqs")
    dlq_url, dlq_arn = make_queue(lab, "dlq")
    failures_url, failures_arn = make_queue(lab, "failures")
    fn = lab.function("f", failing, dead_letter_arn=dlq_arn, on_failure=failures_arn, maximum_retry_attempts=0)
    sqs.delete_queue(QueueUrl=dlq_url)
    sqs.delete_queue(QueueUrl=failures_url)
    fn.invoke_async({})
    lab.run_until_idle()
    assert [r.ok for r in lab.sends.records] == [False, False]
    frame = lab.metrics(dimension="f")
    assert values(frame, "DeadLetterErrors") == {0: 1.0}
    assert values(frame, "DestinationDeliveryFailures") == {0: 1.0}
    assert values(frame, "AsyncEventsDropped") == {0: 1.0}


def test_reserved_concurrency_zero_is_a_throttle_and_a_dropped_event_not_an_invocation(lab):
    fn = lab.function("off", lambda e, c: None, reserved_concurrency=0)
    fn.invoke_async({})
    lab.run_until_idle()
    frame = lab.metrics(dimension="off")
    assert values(frame, "Throttles") == values(frame, "AsyncEventsDropped") == {0: 1.0}
    assert values(frame, "Invocations") == values(frame, "AsyncEventAge", "Average") == {}


def test_a_stopped_loop_is_recursive_invocations_dropped(lab):
    def again(event, context):
        lab.runtime.functions["ping"].invoke_async({})

    lab.function("ping", again).invoke_async({})
    lab.run_until_idle()
    frame = lab.metrics(dimension="ping")
    assert values(frame, "Invocations") == {0: 16.0}
    assert values(frame, "AsyncEventsReceived") == {0: 17.0}
    assert values(frame, "RecursiveInvocationsDropped") == {0: 1.0}  # AWS's name: plural Invocations
    assert "RecursiveInvocationDropped" not in set(frame["metric"])


# --- AWS/SQS --------------------------------------------------------------------------------
def test_visible_messages_and_oldest_age_at_each_minute(lab):
    url, _ = make_queue(lab, "q")
    sqs = lab.client("sqs")
    send(lab, url, "a", "b", "c")
    lab.run(30)
    send(lab, url, "d", "e")
    lab.run(100)  # samples at 0 s, 60 s, 120 s
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
    for message in received[:3]:  # a, b, c: deleted; d, e: in flight until 160 s
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    lab.run(60)  # sample at 180 s: d and e visible again since 160 s
    frame = lab.metrics(dimension="q")
    assert values(frame, "ApproximateNumberOfMessagesVisible", "Maximum") == {0: 3, 60: 5, 120: 5, 180: 2}
    assert values(frame, "ApproximateAgeOfOldestMessage", "Maximum") == {0: 0, 60: 60, 120: 120, 180: 150}
    by_two_minutes = lab.metrics(period_s=120, dimension="q")
    assert values(by_two_minutes, "ApproximateNumberOfMessagesVisible", "Maximum") == {0: 5, 120: 5}


def test_an_sqs_batch_is_one_invocation_and_an_empty_queue_has_no_age(lab):
    url, _ = make_queue(lab, "q")
    lab.sqs_trigger(url, lab.function("f", lambda e, c: None), batch_size=10)
    send(lab, url, *"abcde")
    lab.run_until_idle()
    lab.run(60)
    frame = lab.metrics()
    assert values(frame, "Invocations", dimension="f") == {0: 1.0}
    assert values(frame, "ApproximateNumberOfMessagesVisible", "Maximum", dimension="q") == {0: 5, 60: 0}
    assert values(frame, "ApproximateAgeOfOldestMessage", "Maximum", dimension="q") == {0: 0}


def test_a_dead_letter_queue_counts_age_from_the_move_not_the_send(lab):
    dlq_url, dlq_arn = make_queue(lab, "q-dlq")
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})
    url, _ = make_queue(lab, "q", VisibilityTimeout="30", RedrivePolicy=policy)
    lab.sqs_trigger(url, lab.function("f", failing))
    send(lab, url, "poison")
    lab.run_until_idle()  # fails at 0 s, visible again at 30 s, moved on the next receive
    lab.run(60)
    [moved_at] = lab.outcomes().query("ending == 'dead_letter'")["ended"]
    assert 30 < moved_at < 31
    frame = lab.metrics(dimension="q-dlq")
    assert values(frame, "ApproximateNumberOfMessagesVisible", "Maximum") == {0: 0, 60: 1}
    assert values(frame, "ApproximateAgeOfOldestMessage", "Maximum") == {60: round(60 - moved_at, 3)}


def test_the_sampler_changes_nothing_a_run_records():
    def scenario(sample: bool):
        with Lab(seed=0) as lab:
            if not sample:
                lab.queue_sampler.stop()
            url, _ = make_queue(lab, "q", VisibilityTimeout="30")
            lab.sqs_trigger(url, lab.function("f", lambda e, c: None))
            ids = send(lab, url, "a", "b")
            lab.function("g", failing).invoke_async({})  # retries until 180 s: samples in between
            summary = lab.run_until_idle()
            return ids, summary, lab.log.to_frame(), lab.outcomes(), len(lab.queue_sampler.samples)

    ids, summary, log, outcomes, samples = scenario(sample=True)
    ids_off, summary_off, log_off, outcomes_off, samples_off = scenario(sample=False)
    assert samples > 0 and samples_off == 0
    assert summary.idle and summary == summary_off
    assert ids == ids_off  # moto's seeded ids: the sampler makes no API call
    assert log.equals(log_off) and outcomes.equals(outcomes_off)


# --- the frame and the figure ---------------------------------------------------------------
def test_every_metric_is_named_as_aws_names_it():
    lambda_names = [m.name for m in METRICS if m.namespace == "AWS/Lambda"]
    assert lambda_names == ["Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions",
                            "DeadLetterErrors", "DestinationDeliveryFailures", "RecursiveInvocationsDropped",
                            "AsyncEventsReceived", "AsyncEventAge", "AsyncEventsDropped", "IteratorAge"]
    assert [m.name for m in METRICS if m.namespace == "AWS/SQS"] == [
        "ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"]


def test_console_data_and_one_panel_per_metric(lab):
    fn = lab.function("f", failing, duration_ms=250, init_duration_ms=0)
    fn.invoke_async({})
    lab.run_until_idle()  # attempts in the periods starting at 0 s, 60 s and 180 s
    frame = lab.metrics()
    data = console_data(frame, ["Invocations", "Duration", "Throttles"], dimension="f")
    assert list(dict.fromkeys(data["metric"])) == ["Invocations", "Duration"]  # no throttles: no rows
    assert set(data.loc[data["metric"] == "Invocations", "kind"]) == {"bar"}
    assert set(data.loc[data["metric"] == "Duration", "kind"]) == {"line"}
    assert set(data.loc[data["metric"] == "Invocations", "color"]) == {COLORS["success"]}
    assert data.loc[data["metric"] == "Duration", "statistic"].tolist() == ["Average", "Maximum", "p99"] * 3
    figure = console(frame, ["Invocations", "Duration", "Throttles"], dimension="f")
    assert len(figure.axes) == 3
    average = figure.axes[1].lines[0]
    assert list(average.get_xdata()) == [0, 60, 120, 180]
    assert [str(y) for y in average.get_ydata()] == ["250.0", "250.0", "nan", "250.0"]  # no line across 120 s
    assert figure.axes[2].texts[0].get_text() == "no data"
    every = console(frame)  # one dimension in the frame: no need to name it
    assert len(every.axes) == len(set(frame["metric"]))
    plt.close("all")


def test_console_needs_a_dimension_when_the_frame_has_several(lab):
    for name in ("f", "g"):
        lab.function(name, lambda e, c: None).invoke({})
    with pytest.raises(ValueError, match="pass dimension=: the frame holds 2 \\(f, g\\)"):
        console_data(lab.metrics())
    with pytest.raises(ValueError, match="unknown metric"):
        console_data(lab.metrics(), ["Invocation"], dimension="f")
