"""Closed forms the simulations are checked against."""

from __future__ import annotations

import math

import numpy as np

from . import params as P


def littles_law(rate_per_s: float, mean_duration_s: float) -> float:
    """Mean number of concurrent invocations L = lambda * W (Little's law)."""
    return rate_per_s * mean_duration_s


def erlang_b(servers: int, offered_erlangs: float) -> float:
    """Blocking probability of an M/G/c/c loss system (Erlang B).

    Uses the stable recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)), which never forms
    a**c or c! and so works for c in the thousands (checked up to c = 3,000).
    """
    if servers < 0 or offered_erlangs < 0:
        raise ValueError("servers and offered load must be non-negative")
    b = 1.0
    a = float(offered_erlangs)
    for k in range(1, int(servers) + 1):
        b = a * b / (k + a * b)
    return b


def lognormal_sigma(cv: float) -> float:
    """Shape sigma of a lognormal whose coefficient of variation (sd / mean) is ``cv``."""
    return math.sqrt(math.log1p(cv * cv))


def p_exceeds_lognormal(threshold_s: float, median_s: float, sigma: float) -> float:
    """P(D > threshold) for D lognormal with the given median (seconds) and shape sigma."""
    if sigma == 0:
        return float(median_s > threshold_s)
    z = (math.log(threshold_s) - math.log(median_s)) / sigma
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def sqs_receives_per_message(p_timeout: float, max_receive_count: int) -> float:
    """Expected receives of one SQS message when each receive times out with probability p.

    A timed-out receive makes the message visible again; after ``max_receive_count`` receives
    the redrive policy moves it to the dead-letter queue:
    E[K] = sum_{j<M} p**j = (1 - p**M) / (1 - p).
    """
    p, m = float(p_timeout), int(max_receive_count)
    if p >= 1.0:
        return float(m)
    return (1.0 - p**m) / (1.0 - p)


def sqs_dlq_fraction(p_timeout: float, max_receive_count: int) -> float:
    """Fraction of messages that end in the dead-letter queue: p ** maxReceiveCount.

    Every one of them was processed ``max_receive_count`` times: each processing merely
    outlived the visibility timeout, so "dead-lettered" does not mean "never processed".
    """
    return float(p_timeout) ** int(max_receive_count)


def sqs_duplicate_fraction(p_timeout: float, max_receive_count: int) -> float:
    """Fraction of messages processed more than once: p if maxReceiveCount >= 2, else 0.

    A message is received a second time when its first processing outlives the visibility
    timeout (probability p). With maxReceiveCount = 1 that second receive would exceed the
    redrive limit, so SQS moves the message to the dead-letter queue instead: no duplicate,
    but a fraction p is dead-lettered although it was processed (see ``sqs_outcomes``).
    """
    if int(max_receive_count) < 1:
        raise ValueError(f"maxReceiveCount must be at least 1, got {max_receive_count}")
    return float(p_timeout) if int(max_receive_count) >= 2 else 0.0


def sqs_outcomes(p_timeout: float, max_receive_count: int) -> dict[str, float]:
    """Fractions of messages processed twice or more and dead-lettered, and mean receives.

    The two fractions are reported together because at maxReceiveCount = 1 the duplicates
    vanish into the dead-letter queue: every dead-lettered message was processed (each of its
    receives outlived the visibility timeout), so a 0 there is not a healthy queue.
    """
    return {
        "duplicate_fraction": sqs_duplicate_fraction(p_timeout, max_receive_count),
        "dlq_fraction": sqs_dlq_fraction(p_timeout, max_receive_count),
        "receives_per_message": sqs_receives_per_message(p_timeout, max_receive_count),
    }


def whole_batch_processings_per_record(batch_size: int, p_fail: float) -> float:
    """Expected processings per record when a batch is retried whole until every record succeeds.

    Each processing of a record fails independently with probability ``p_fail``; an attempt
    succeeds with probability (1 - p)**B, so attempts are geometric with mean 1 / (1 - p)**B.
    """
    return 1.0 / (1.0 - p_fail) ** batch_size


def exponential_backoff_sum(attempts: int, base_s: float, cap_s: float) -> float:
    """Total sleep of capped exponential backoff: sum_{k<n} min(cap, base * 2**k), seconds."""
    k = np.arange(int(attempts))
    return float(np.minimum(cap_s, base_s * 2.0**k).sum())


def expected_backoff_sum(strategy: str, attempts: int, base_s: float, cap_s: float) -> float:
    """Expected total sleep of ``attempts`` retries for ``exponential``, ``full_jitter``,
    ``equal_jitter`` or ``constant`` backoff, in seconds."""
    expo = exponential_backoff_sum(attempts, base_s, cap_s)
    factor = {"exponential": 1.0, "full_jitter": 0.5, "equal_jitter": 0.75}
    if strategy in factor:
        return factor[strategy] * expo
    if strategy == "constant":
        return attempts * base_s
    if strategy == "none":
        return 0.0
    raise ValueError(f"no closed form for strategy {strategy!r}")


def drain_lower_bound_s(events: int, duration_s: float, limit: int,
                        initial: float | None = None, per_s: float = 0.0) -> float:
    """Earliest time, in seconds, by which ``events`` items of ``duration_s`` seconds each can
    have been processed when at most ``min(limit, initial + per_s * t)`` run at time t.

    Count only the items that were processed: an item sent to a dead-letter queue or dropped
    used no concurrency, so a storm that loses items can end before N * duration / limit.
    ``initial`` and ``per_s`` describe the scaling ramp (``None``: the whole ``limit`` from
    t = 0). The work N * d must fit under the ramp: the smallest T with
    integral_0^T min(C, a + b t) dt >= N d, and never less than one duration. Cold starts
    only lengthen a storm, so leaving them out keeps this a lower bound.
    """
    if events <= 0:
        return 0.0
    work = events * duration_s  # concurrency-seconds the processed items need
    start = float(limit) if initial is None else min(float(initial), float(limit))
    if start >= limit or per_s <= 0:
        return max(duration_s, work / start)
    ramp_s = (limit - start) / per_s  # when the ramp reaches the limit
    ramp_work = start * ramp_s + per_s * ramp_s**2 / 2
    if work <= ramp_work:  # done while still ramping: solve a T + b T^2 / 2 = work
        t = (-start + math.sqrt(start * start + 2 * per_s * work)) / per_s
    else:
        t = ramp_s + (work - ramp_work) / limit
    return max(duration_s, t)


def sqs_ramp_minutes(target: int, initial: int = P.SQS_INITIAL_BATCHES, per_min: int = P.SQS_SCALE_PER_MIN) -> float:
    """Minutes for an SQS event source mapping to ramp from ``initial`` to ``target`` batches."""
    return max(0.0, (target - initial) / per_min)
