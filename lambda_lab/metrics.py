"""CloudWatch metrics computed from a run: what ``lab.metrics(period_s=60)`` returns.

One row per datapoint, columns ``namespace, metric, dimension, period, statistic, value``:
``dimension`` is the function name (``AWS/Lambda``) or the queue name (``AWS/SQS``);
``period`` is the start of the period in seconds since the lab started, the time base of
``lab.log.to_frame()`` and ``lab.outcomes()``; ``statistic`` is CloudWatch's name for it
(``Sum``, ``Average``, ``Maximum``, ``p99``). Metric names and definitions are AWS's:

- "Types of metrics for Lambda functions",
  https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
- "Available CloudWatch metrics for Amazon SQS",
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
- periods: "a multiple of 60" seconds for regular-resolution metrics,
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html

A period with no data has no datapoint, as in CloudWatch: a minute without invocations has
no ``Invocations`` row, not a 0 (Sum metrics are not zero-filled). Each datapoint carries the
time of the event it counts: when the function was invoked for invocation metrics ("the
timestamp on an error metric reflects when the function was invoked"), when the write failed
for ``DeadLetterErrors``, when Lambda gave the event up for ``AsyncEventsDropped``.

``AWS/Lambda``, dimension ``FunctionName``:

=============================  ======================  ==================================================
metric                         statistics (unit)       what the lab counts
=============================  ======================  ==================================================
Invocations                    Sum                     attempts that ran (success, error, timeout); an SQS
                                                       batch is one; throttles and drops are not
Errors                         Sum                     attempts that ended in error or timeout (a batch
                                                       that reports item failures succeeded)
Throttles                      Sum                     throttled attempts (they ran nothing)
Duration                       Average, Maximum, p99   ``duration_ms`` of attempts that ran; the log keeps
                               (ms)                    the cold start apart in ``init_duration_ms``, and
                                                       "Duration does not include cold start time"
ConcurrentExecutions           Maximum                 most environments busy at once in the period
DeadLetterErrors               Sum                     failed writes to the dead-letter queue (``lab.sends``)
DestinationDeliveryFailures    Sum                     failed writes to a destination (``lab.sends``)
RecursiveInvocationsDropped    Sum                     invocations not run because a loop was detected
AsyncEventsReceived            Sum                     events Lambda queued (``InvocationType=Event``),
                                                       once each even when ``duplicate_rate`` runs a copy
AsyncEventAge                  Average, Maximum (ms)   per attempt that ran: from queueing to that attempt
AsyncEventsDropped             Sum                     events (copies included) that ended without a
                                                       successful run, even when they reached a DLQ or
                                                       on-failure destination; a stopped loop's too
IteratorAge                    Maximum (ms)            per stream mapping attempt (retries and throttles
                                                       too): "the age of the last record in the batch
                                                       when the batch was sent to the function"
=============================  ======================  ==================================================

``AWS/SQS``, dimension ``QueueName``: ``ApproximateNumberOfMessagesVisible`` (Maximum, count)
and ``ApproximateAgeOfOldestMessage`` (Maximum, seconds). moto keeps no history of a queue,
so ``QueueSampler`` looks at every queue once a minute of virtual time.

Where the lab simplifies CloudWatch (say so in a chapter's "In production"):

- SQS values are samples taken at the start of each virtual minute (0 s, 60 s, ...), after
  what a cell did at that instant and before the work scheduled for it; ``Maximum`` over a
  longer period is the largest of its samples. They exist only against in-process moto
  (a moto server or LocalStack runs elsewhere; real AWS has real CloudWatch).
- Every existing queue reports ``ApproximateNumberOfMessagesVisible`` at every sample, 0
  included; AWS reports while a queue is active. ``ApproximateAgeOfOldestMessage`` is
  reported while the queue holds a message, as AWS does.
- The oldest message is the oldest non-deleted one (in flight and delayed included). AWS
  leaves out poison-pill messages, those received three or more times and not deleted; the
  lab does not. A message moto moved to a dead-letter queue counts from the move, as on AWS,
  when the lab's SQS mapping recorded it (``lab.outcomes()`` ``dead_letter``).
- ``ConcurrentExecutions`` is the exact maximum of the lab's environments, not a sample.
- ``p99`` is the nearest-rank percentile: the smallest value at or above 99 % of the
  datapoints, so the Maximum below 100 invocations.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from . import ledger as L
from . import limits
from .delivery.send import DEAD_LETTER, DESTINATION
from .errors import ConfigurationError
from .sources.async_queue import RECURSION_STOPPED

if TYPE_CHECKING:
    from .lab import Lab

LAMBDA, SQS = "AWS/Lambda", "AWS/SQS"

#: Columns of ``compute()`` / ``lab.metrics()``, in order.
COLUMNS = ["namespace", "metric", "dimension", "period", "statistic", "value"]

#: Log outcomes of attempts that ran the function, and those that count as function errors.
RAN = ("success", "error", "timeout")
FUNCTION_ERRORS = ("error", "timeout")

#: The lab's hidden relay queues (``delivery/relay.py``) are plumbing, not the learner's queues.
HIDDEN_QUEUE_PREFIX = "lambda-lab-"

#: Columns of ``QueueSampler.to_frame()``.
SAMPLE_COLUMNS = ["time", "queue", "visible", "oldest_id", "oldest_sent"]


@dataclass(frozen=True)
class Run:
    """What a run recorded, as frames; every time is seconds since the lab started."""

    log: pd.DataFrame  # lab.log.to_frame()
    ledger: pd.DataFrame  # lab.outcomes()
    sends: pd.DataFrame  # lab.sends.to_frame()
    received: pd.DataFrame  # function, request_id, time: events the async queue accepted
    samples: pd.DataFrame  # QueueSampler.to_frame()
    iterator_ages: pd.DataFrame  # function, time, value (ms): every stream mapping attempt
    period_s: int


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric: its statistics, unit, and the observations it is computed from.

    ``observe(run)`` returns one row per datapoint sent to CloudWatch, columns ``dimension``,
    ``time`` (s since the lab started) and ``value`` (in ``unit``).
    """

    namespace: str
    name: str
    statistics: tuple[str, ...]
    unit: str
    observe: Callable[[Run], pd.DataFrame]


# --- observations ---------------------------------------------------------------------------
def _observations(dimension: Any, time: Any, value: Any) -> pd.DataFrame:
    frame = pd.DataFrame({"dimension": dimension, "time": time, "value": value})
    return frame.astype({"dimension": str, "time": float, "value": float})


def _count(rows: pd.DataFrame, time: str) -> pd.DataFrame:
    """A datapoint of 1 per row, at ``time``, for the row's function."""
    return _observations(rows["function"], rows[time], 1.0)


def _ran(run: Run) -> pd.DataFrame:
    return run.log[run.log["outcome"].isin(RAN)]


def _invocations(run: Run) -> pd.DataFrame:
    return _count(_ran(run), "start")


def _errors(run: Run) -> pd.DataFrame:
    return _count(run.log[run.log["outcome"].isin(FUNCTION_ERRORS)], "start")


def _throttles(run: Run) -> pd.DataFrame:
    return _count(run.log[run.log["outcome"] == "throttled"], "start")


def _duration(run: Run) -> pd.DataFrame:
    ran = _ran(run)
    return _observations(ran["function"], ran["start"], ran["duration_ms"])


def _concurrent_executions(run: Run) -> pd.DataFrame:
    # Imported here so that making a Lab does not load matplotlib.
    from .plots.invocations import concurrency_series

    frames = [_concurrency_of(function, concurrency_series(rows), run.period_s)
              for function, rows in run.log.groupby("function", sort=True)]
    return pd.concat(frames, ignore_index=True) if frames else _observations([], [], [])


def _concurrency_of(function: str, series: pd.DataFrame, period_s: int) -> pd.DataFrame:
    """Each change of the step function, plus the value it carries into each period start."""
    times, values = series["time"].to_numpy(), series["concurrency"].to_numpy()
    starts = np.arange(math.floor(times[0] / period_s) * period_s, times[-1], period_s, dtype=float)
    before = np.searchsorted(times, starts, side="right") - 1
    carried = np.where(before >= 0, values[np.maximum(before, 0)], 0)
    obs = _observations(function, np.concatenate([times, starts]), np.concatenate([values, carried]))
    return obs[obs["value"] > 0]  # a period with no environment busy has no datapoint


def _failed_sends(purpose: str) -> Callable[[Run], pd.DataFrame]:
    def observe(run: Run) -> pd.DataFrame:
        failed = run.sends[(run.sends["purpose"] == purpose) & ~run.sends["ok"].astype(bool)]
        return _count(failed, "time")

    return observe


def _recursion_dropped(run: Run) -> pd.DataFrame:
    stopped = run.log[(run.log["outcome"] == "dropped") & (run.log["error_type"] == RECURSION_STOPPED)]
    return _count(stopped, "start")


def _async_received(run: Run) -> pd.DataFrame:
    return _count(run.received, "time")


def _async_event_age(run: Run) -> pd.DataFrame:
    queued = run.received[["request_id", "time"]].rename(columns={"time": "queued"})
    attempts = _ran(run).merge(queued, on="request_id")  # only async events have a queueing time
    return _observations(attempts["function"], attempts["start"],
                         ((attempts["start"] - attempts["queued"]) * 1000).round(1))


def _async_dropped(run: Run) -> pd.DataFrame:
    ledger = run.ledger
    # Only the async queue gives a ledger row a request id, and it never ends one twice.
    gone = ledger[ledger["request_id"].notna() & ledger["ending"].isin([L.DEAD_LETTER, L.DESTINATION, L.DROPPED])]
    return _count(gone, "ended")


def _iterator_age(run: Run) -> pd.DataFrame:
    ages = run.iterator_ages
    return _observations(ages["function"], ages["time"], ages["value"])


def _queue_visible(run: Run) -> pd.DataFrame:
    return _observations(run.samples["queue"], run.samples["time"], run.samples["visible"])


def _oldest_message_age(run: Run) -> pd.DataFrame:
    samples = run.samples[run.samples["oldest_id"].notna()]
    moved = run.ledger[(run.ledger["source"] == "sqs") & (run.ledger["ending"] == L.DEAD_LETTER)]
    moved_at = moved.drop_duplicates("item").set_index("item")["ended"]
    arrived = samples["oldest_id"].map(moved_at)
    # In a dead-letter queue a message's age starts when it was moved there, not when it was sent.
    arrived = arrived.where(arrived.notna() & (arrived <= samples["time"]), samples["oldest_sent"])
    return _observations(samples["queue"], samples["time"], (samples["time"] - arrived).round(3))


#: Every metric the lab computes, in the order ``compute`` lists them.
METRICS: tuple[Metric, ...] = (
    Metric(LAMBDA, "Invocations", ("Sum",), "Count", _invocations),
    Metric(LAMBDA, "Errors", ("Sum",), "Count", _errors),
    Metric(LAMBDA, "Throttles", ("Sum",), "Count", _throttles),
    Metric(LAMBDA, "Duration", ("Average", "Maximum", "p99"), "Milliseconds", _duration),
    Metric(LAMBDA, "ConcurrentExecutions", ("Maximum",), "Count", _concurrent_executions),
    Metric(LAMBDA, "DeadLetterErrors", ("Sum",), "Count", _failed_sends(DEAD_LETTER)),
    Metric(LAMBDA, "DestinationDeliveryFailures", ("Sum",), "Count", _failed_sends(DESTINATION)),
    Metric(LAMBDA, "RecursiveInvocationsDropped", ("Sum",), "Count", _recursion_dropped),
    Metric(LAMBDA, "AsyncEventsReceived", ("Sum",), "Count", _async_received),
    Metric(LAMBDA, "AsyncEventAge", ("Average", "Maximum"), "Milliseconds", _async_event_age),
    Metric(LAMBDA, "AsyncEventsDropped", ("Sum",), "Count", _async_dropped),
    Metric(LAMBDA, "IteratorAge", ("Maximum",), "Milliseconds", _iterator_age),
    Metric(SQS, "ApproximateNumberOfMessagesVisible", ("Maximum",), "Count", _queue_visible),
    Metric(SQS, "ApproximateAgeOfOldestMessage", ("Maximum",), "Seconds", _oldest_message_age),
)

#: Metric name -> its definition.
BY_NAME = {metric.name: metric for metric in METRICS}


# --- statistics -----------------------------------------------------------------------------
def _p99(values: np.ndarray) -> float:
    """Nearest rank: the smallest value at or above 99 % of ``values``."""
    ordered = np.sort(values)
    return float(ordered[math.ceil(0.99 * len(ordered)) - 1])


STATISTICS: dict[str, Callable[[np.ndarray], float]] = {
    "Sum": lambda v: float(v.sum()),
    "Average": lambda v: float(v.mean()),
    "Maximum": lambda v: float(v.max()),
    "p99": _p99,
}


def aggregate(metric: Metric, observations: pd.DataFrame, period_s: int) -> pd.DataFrame:
    """``metric``'s datapoints per dimension and period (s), one row per statistic; none for empty periods."""
    periods = (observations["time"] // period_s * period_s).astype(int)
    rows = [
        (metric.namespace, metric.name, dimension, period, statistic,
         round(STATISTICS[statistic](values.to_numpy()), 3))
        for (dimension, period), values in observations.groupby([observations["dimension"], periods],
                                                                  sort=True)["value"]
        for statistic in metric.statistics
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


# --- the entry point ------------------------------------------------------------------------
def compute(lab: "Lab", period_s: int = limits.CLOUDWATCH_PERIOD_S, *, dimension: str | None = None) -> pd.DataFrame:
    """Every metric of ``METRICS`` for the run so far, per ``period_s`` seconds (a multiple of 60).

    ``dimension`` keeps one function's or one queue's rows. ``frame.attrs["period_s"]`` says
    the period, for ``lambda_lab.plots.metrics``.
    """
    check_period(period_s)
    run = _record(lab, period_s)
    parts = [aggregate(metric, metric.observe(run), period_s) for metric in METRICS]
    found = [part for part in parts if len(part)]  # pandas warns about concatenating empty frames
    frame = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=COLUMNS)
    frame = frame.astype({"period": int, "value": float})
    if dimension is not None:
        frame = frame[frame["dimension"] == dimension].reset_index(drop=True)
    frame.attrs["period_s"] = period_s
    return frame


def check_period(period_s: Any) -> None:
    """Refuse a period CloudWatch refuses for regular-resolution metrics (whole multiples of 60 s)."""
    step = limits.CLOUDWATCH_PERIOD_S
    whole = isinstance(period_s, numbers.Integral) and not isinstance(period_s, bool)
    if not whole or period_s < step or period_s % step:
        raise ConfigurationError(f"Period must be a whole multiple of {step} seconds for regular-resolution "
                                 f"metrics, got {period_s!r} ({limits.METRIC_STAT_URL})")


def _record(lab: "Lab", period_s: int) -> Run:
    queue = lab._async_queue  # not lab.async_queue: asking for metrics must not create the queue
    received = queue.received if queue is not None else {}
    return Run(
        log=lab.log.to_frame(),
        ledger=lab.outcomes(),
        sends=lab.sends.to_frame(),
        received=pd.DataFrame([(fn, rid, at) for rid, (fn, at) in received.items()],
                              columns=["function", "request_id", "time"]),
        samples=lab.queue_sampler.to_frame(),
        iterator_ages=pd.DataFrame([(source.fn.name, at, ms) for source in lab.sources
                                    for at, ms in getattr(source, "iterator_ages", ())],
                                   columns=["function", "time", "value"]),
        period_s=period_s,
    )


# --- SQS: looking at the queues as virtual time passes --------------------------------------
@dataclass(frozen=True)
class QueueSample:
    """One look at one queue. Times are seconds since the lab started."""

    time: float
    queue: str
    visible: int  # ApproximateNumberOfMessages: visible and not delayed
    oldest_id: str | None  # the message that arrived first among those not deleted
    oldest_sent: float | None


class QueueSampler:
    """Looks at every queue once a minute of virtual time, for the ``AWS/SQS`` metrics (``lab.queue_sampler``).

    It reads in-process moto's queues directly: an SQS call would draw from moto's seeded
    random stream (every response gets a request id) and shift the message ids a chapter
    prints, and no SQS API returns a queue's oldest message anyway. It is not a source:
    ``lab.run_until_idle()`` never waits for it, and it changes nothing it reads.
    """

    def __init__(self, lab: "Lab"):
        self.lab = lab
        self.samples: list[QueueSample] = []
        self._task: Any = None

    def start(self) -> None:
        """Take a sample now and at every whole minute of virtual time (in-process moto only)."""
        if self.lab.endpoint_url is None:
            self._task = self.lab.scheduler.at(self.lab.clock.now(), self._sample, "cloudwatch: sample queues")

    def stop(self) -> None:
        """Sample no more (the lab calls this on close)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def to_frame(self) -> pd.DataFrame:
        """The samples, columns ``SAMPLE_COLUMNS`` (``time`` and ``oldest_sent`` in s since the lab started)."""
        frame = pd.DataFrame([(s.time, s.queue, s.visible, s.oldest_id, s.oldest_sent) for s in self.samples],
                             columns=SAMPLE_COLUMNS)
        return frame.astype({"time": float, "visible": int, "oldest_sent": float})

    def _sample(self) -> None:
        # moto is imported where it is used, as Lab._start_moto does: other endpoints never load it.
        from moto.core.utils import unix_time_millis

        clock = self.lab.clock
        at, now_ms = round(clock.elapsed(), 6), unix_time_millis()
        for name, queue in sorted(_moto_queues(self.lab).items()):
            if not name.startswith(HIDDEN_QUEUE_PREFIX):
                self.samples.append(_look(queue, name, at, now_ms, clock.start_s))
        step = limits.CLOUDWATCH_PERIOD_S
        next_s = clock.start_s + step * (math.floor(at / step) + 1)
        self._task = self.lab.scheduler.at(next_s, self._sample, "cloudwatch: sample queues")


def _moto_queues(lab: "Lab") -> dict[str, Any]:
    """moto's queues in the lab's account and region (none yet if SQS was never used)."""
    from moto.sqs.models import sqs_backends

    # dict.get, not []: moto's backend dicts create a backend on a missing key.
    account = dict.get(sqs_backends, lab.account_id)
    backend = dict.get(account, lab.region) if account is not None else None
    return backend.queues if backend is not None else {}


def _look(queue: Any, name: str, at: float, now_ms: float, start_s: float) -> QueueSample:
    # moto 5.2.5 keeps a queue's messages in arrival order in ``_messages`` until they are deleted.
    messages = queue._messages
    # moto's own ApproximateNumberOfMessages (visible, not delayed), with the clock read once:
    # its per-message properties read the patched clock each, which is slow on a long queue.
    visible = sum(1 for m in messages if now_ms > m.visible_at and not now_ms < m.delayed_until)
    first = messages[0] if messages else None
    sent = None if first is None else round(first.sent_timestamp / 1000 - start_s, 6)
    return QueueSample(at, name, visible, None if first is None else first.id, sent)
