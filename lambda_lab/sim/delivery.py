"""Delivery: SQS receives and duplicates, at-least-once sources, stream batch retries.

All functions are vectorised over messages and take a ``seed`` (int or numpy Generator).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from typing import TYPE_CHECKING

import numpy as np

from . import params as P
from . import theory
from ._rng import Seed, make_rng

if TYPE_CHECKING:  # imported where a table is built: at_least_once (used by storms) needs no pandas
    import pandas as pd


@dataclass(frozen=True)
class SqsDeliverySummary:
    """What happened to ``messages`` SQS messages (fractions are of messages)."""

    messages: int
    receives: int
    receives_per_message: float
    duplicate_fraction: float
    duplicates: int
    dlq_fraction: float
    p_timeout: float

    def as_dict(self) -> dict:
        return asdict(self)


def sqs_receives(
    messages: int,
    visibility_timeout_s: float,
    median_duration_s: float,
    duration_cv: float = 0.5,
    max_receive_count: int = P.SQS_MAX_RECEIVE_COUNT,
    seed: Seed = 0,
) -> tuple[pd.DataFrame, SqsDeliverySummary]:
    """Receive each message until one processing finishes within the visibility timeout.

    Every receive draws a processing time D (lognormal, ``median_duration_s``, coefficient of
    variation ``duration_cv``). If D > V the message becomes visible again while the first
    copy is still running, so it is received (and processed) again: a duplicate. After
    ``max_receive_count`` receives the redrive policy moves it to the dead-letter queue.
    Returns one row per message (``receives``, ``processings``, ``dlq``) and a summary.
    """
    if max_receive_count < 1:
        raise ValueError(f"maxReceiveCount must be at least 1, got {max_receive_count}")
    rng = make_rng(seed)
    sigma = theory.lognormal_sigma(duration_cv)
    draws = rng.lognormal(np.log(median_duration_s), sigma, size=(messages, max_receive_count))
    ok = draws <= visibility_timeout_s
    any_ok = ok.any(axis=1)
    first_ok = np.where(any_ok, ok.argmax(axis=1), max_receive_count - 1)
    receives = first_ok + 1
    dlq = ~any_ok
    import pandas as pd

    df = pd.DataFrame({"receives": receives, "processings": receives, "dlq": dlq})
    p = theory.p_exceeds_lognormal(visibility_timeout_s, median_duration_s, sigma)
    summary = SqsDeliverySummary(
        messages=int(messages),
        receives=int(receives.sum()),
        receives_per_message=float(receives.mean()),
        duplicate_fraction=float((receives > 1).mean()),
        duplicates=int(receives.sum() - messages),
        dlq_fraction=float(dlq.mean()),
        p_timeout=p,
    )
    return df, summary


def duplicate_rate_curve(
    ratios: np.ndarray | list[float],
    messages: int = 20_000,
    median_duration_s: float = 1.0,
    duration_cv: float = 0.5,
    max_receive_count: int = P.SQS_MAX_RECEIVE_COUNT,
    seed: Seed = 0,
) -> pd.DataFrame:
    """Simulated and theoretical duplicate fraction against V / median(D)."""
    rng = make_rng(seed)
    sigma = theory.lognormal_sigma(duration_cv)
    rows = []
    for r in ratios:
        _, s = sqs_receives(messages, r * median_duration_s, median_duration_s, duration_cv, max_receive_count, rng)
        rows.append(
            {
                "v_over_d": float(r),
                "duplicate_fraction": s.duplicate_fraction,
                "theory": theory.sqs_duplicate_fraction(
                    theory.p_exceeds_lognormal(r * median_duration_s, median_duration_s, sigma), max_receive_count),
                "receives_per_message": s.receives_per_message,
                "dlq_fraction": s.dlq_fraction,
            }
        )
    import pandas as pd

    return pd.DataFrame(rows)


def at_least_once(events: int, duplicate_rate: float, seed: Seed = 0) -> np.ndarray:
    """Deliveries per event for an at-least-once source with a given duplicate rate.

    AWS documents that S3, SNS, EventBridge, async invokes and event source mappings may
    deliver an event more than once, but publishes no rate: ``duplicate_rate`` is an
    assumption. Each event is delivered once plus a geometric number of extra copies with
    mean ``duplicate_rate / (1 - duplicate_rate)``, so P(at least one duplicate) = rate.
    """
    if not 0 <= duplicate_rate < 1:
        raise ValueError(f"duplicate_rate must be in [0, 1), got {duplicate_rate}")
    rng = make_rng(seed)
    if duplicate_rate == 0:
        return np.ones(events, dtype=np.int64)
    return rng.geometric(1 - duplicate_rate, size=events).astype(np.int64)


def stream_batch_retries(
    records: int,
    batch_size: int,
    p_fail: float,
    partial: bool,
    max_attempts: int = 10_000,
    seed: Seed = 0,
) -> tuple[pd.DataFrame, dict]:
    """Processings per record when a stream batch fails and is retried.

    Each processing of a record fails independently with probability ``p_fail`` (a transient
    error). Without partial batch responses the whole batch is retried; with
    ``ReportBatchItemFailures`` Lambda retries from the lowest failed sequence number, so the
    records before it are not processed again
    (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html).
    Returns one row per batch attempt and a summary.
    """
    rng = make_rng(seed)
    n_batches = -(-records // batch_size)
    sizes = np.full(n_batches, batch_size)
    sizes[-1] = records - batch_size * (n_batches - 1)
    # start index of the unfinished part of each batch; vectorised across batches
    start = np.zeros(n_batches, dtype=np.int64)
    processings = 0
    attempts = np.zeros(n_batches, dtype=np.int64)
    rows = []
    active = np.arange(n_batches)
    attempt = 0
    while active.size and attempt < max_attempts:
        attempt += 1
        remaining = sizes[active] - start[active]
        fails = rng.random((active.size, batch_size)) < p_fail
        width = np.arange(batch_size)[None, :] < remaining[:, None]
        fails &= width
        has_fail = fails.any(axis=1)
        first_fail = np.where(has_fail, fails.argmax(axis=1), remaining)
        # the function processes every record of the batch it was given
        processings += int(remaining.sum())
        attempts[active] += 1
        rows.append({"attempt": attempt, "batches": int(active.size), "records_sent": int(remaining.sum())})
        if partial:
            start[active] += first_fail
        active = active[has_fail]
    import pandas as pd

    df = pd.DataFrame(rows)
    summary = {
        "records": int(records),
        "processings": processings,
        "processings_per_record": processings / records,
        "mean_attempts_per_batch": float(attempts.mean()),
        "partial": bool(partial),
    }
    return df, summary
