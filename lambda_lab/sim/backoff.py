"""Retry backoff: the five strategies, AWS's documented schedules, and the contention experiment.

Strategies follow "Exponential Backoff And Jitter" (Marc Brooker, AWS Architecture Blog, 2015,
https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/):

- ``none``: retry at once; ``constant``: always ``base``;
- ``exponential``: ``min(cap, base * 2**k)``;
- ``full_jitter``: uniform on ``[0, min(cap, base * 2**k)]``;
- ``equal_jitter``: half of it fixed, the other half uniform;
- ``decorrelated_jitter``: ``min(cap, uniform(base, 3 * previous))``, starting from ``base``.
"""

from __future__ import annotations

import heapq
import random
from typing import Iterable

import numpy as np
import pandas as pd

from .. import limits
from ..delivery import retry
from ..limits import check_range
from . import params as P
from ._rng import Seed, make_rng

STRATEGIES = ("none", "constant", "exponential", "full_jitter", "equal_jitter", "decorrelated_jitter")


def backoff_delays(
    strategy: str,
    attempts: int,
    base_s: float,
    cap_s: float,
    clients: int | None = None,
    seed: Seed = 0,
) -> np.ndarray:
    """Sleep before each retry, seconds: shape ``(attempts,)`` or ``(clients, attempts)``.

    Retry ``k`` (0-based) uses ``min(cap_s, base_s * 2**k)`` as its exponential ceiling.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown backoff strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    rng = make_rng(seed)
    shape = (attempts,) if clients is None else (clients, attempts)
    expo = np.minimum(cap_s, base_s * 2.0 ** np.arange(attempts))
    expo = np.broadcast_to(expo, shape)
    if strategy == "none":
        return np.zeros(shape)
    if strategy == "constant":
        return np.full(shape, float(base_s))
    if strategy == "exponential":
        return expo.copy()
    if strategy == "full_jitter":
        return rng.uniform(0.0, 1.0, shape) * expo
    if strategy == "equal_jitter":
        return expo / 2 + rng.uniform(0.0, 1.0, shape) * expo / 2
    # decorrelated: each sleep depends on the previous one, so loop over attempts only.
    out = np.empty(shape)
    prev = np.full(shape[:-1], float(base_s))
    for k in range(attempts):
        prev = np.minimum(cap_s, rng.uniform(base_s, 3.0 * prev))
        out[..., k] = prev
    return out


# --- AWS's documented schedules -----------------------------------------------------------

def _schedule(delays_s: Iterable[float], phases: Iterable[str]) -> pd.DataFrame:
    delays = np.asarray(list(delays_s), dtype=float)
    return pd.DataFrame(
        {
            "attempt": np.arange(1, len(delays) + 1),
            "delay_s": delays,
            "at_s": np.cumsum(delays),
            "phase": list(phases),
        }
    )


def _from_policy(policy: retry.RetryPolicy) -> pd.DataFrame:
    """A policy's un-jittered attempts as a table: one definition for the lab and the simulation."""
    rows = list(policy.schedule())
    return _schedule([delay for _, delay, _, _ in rows], [phase for *_, phase in rows])


def lambda_async_error_schedule(max_retry_attempts: int = P.ASYNC_MAX_RETRY_ATTEMPTS) -> pd.DataFrame:
    """Lambda async retries on a function error: first attempt at 0, then after ~1 min and ~2 min.

    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    """
    check_range("MaximumRetryAttempts", max_retry_attempts, limits.ASYNC_MIN_RETRY_ATTEMPTS,
                P.ASYNC_MAX_RETRY_ATTEMPTS, integer=True, url=limits.EVENT_INVOKE_CONFIG_URL)
    return _from_policy(retry.lambda_async_errors(max_retry_attempts))


def lambda_async_throttle_schedule(max_event_age_s: float = P.ASYNC_MAX_EVENT_AGE_S) -> pd.DataFrame:
    """Lambda async retries on throttles (429) and 5xx: 1 s growing to 5 min, for up to 6 h.

    The interval "increases exponentially from 1 second after the first attempt to a maximum of
    5 minutes" and retries last "up to 6 hours by default"
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
    AWS gives neither the growth factor nor the jitter: doubling is the lab's assumption, so
    the attempt count is a reconstruction, and this schedule has no jitter.
    """
    check_range("MaximumEventAgeInSeconds", max_event_age_s, P.ASYNC_MIN_EVENT_AGE_S, P.ASYNC_MAX_EVENT_AGE_S,
                unit="seconds", url=limits.EVENT_INVOKE_CONFIG_URL)
    return _from_policy(retry.lambda_async_throttles(max_event_age_s))


def sns_managed_schedule() -> pd.DataFrame:
    """SNS delivery retries to AWS-managed endpoints (Lambda, SQS): 100,015 attempts over ~23 days.

    Phases: 3 immediate, 2 one second apart, 10 with exponential backoff from 1 s to 20 s,
    100,000 twenty seconds apart (https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html).
    The backoff phase is a geometric sequence from 1 s to 20 s; SNS also jitters, which is left out.
    """
    return _from_policy(retry.SNS_MANAGED)


def eventbridge_schedule(jitter: bool = False, seed: Seed = 0) -> pd.DataFrame:
    """EventBridge target retries: up to 185 retries (186 attempts) within 24 hours, exponential with jitter.

    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html. The
    intervals are the lab's reconstruction (``lambda_lab.delivery.retry.EVENTBRIDGE_TARGET``);
    with ``jitter`` each delay is jittered as that policy does, and attempts that would fall
    after 24 h are not made.
    """
    policy = retry.EVENTBRIDGE_TARGET
    if not jitter:
        return _from_policy(policy)
    base = np.array([policy.base_delay_s(k) for k in range(1, policy.max_attempts)])
    delays = np.concatenate([[0.0], policy.jittered(base, make_rng(seed).uniform(0.0, 1.0, base.shape))])
    delays = delays[np.cumsum(delays) <= policy.max_age_s + 1e-6]
    return _schedule(delays, ["first"] + ["retry"] * (len(delays) - 1))


def schedule_summary(schedule: pd.DataFrame) -> dict:
    """Attempts and span of a retry schedule (seconds, hours and days)."""
    span = float(schedule["at_s"].iloc[-1])
    return {
        "attempts": int(len(schedule)),
        "first_retry_s": float(schedule["delay_s"].iloc[1]) if len(schedule) > 1 else float("nan"),
        "max_delay_s": float(schedule["delay_s"].max()),
        "span_s": span,
        "span_h": span / 3600,
        "span_days": span / 86400,
    }


#: Row name -> (schedule, what that layer retries, whether AWS publishes the intervals).
_SCHEDULES = {
    "Lambda async, function error": (lambda_async_error_schedule, "function error", "documented"),
    "Lambda async, throttle (429)": (lambda_async_throttle_schedule, "throttle, 5xx", "reconstructed"),
    "EventBridge target": (eventbridge_schedule, "delivery", "reconstructed"),
    "SNS delivery to Lambda / SQS": (sns_managed_schedule, "delivery, not function errors", "documented"),
}


def aws_schedules() -> pd.DataFrame:
    """One row per AWS retry schedule: attempts, first retry (s), longest wait (s), span (h, days).

    ``retries`` says which failure the layer retries; ``intervals`` says whether AWS publishes
    them (``documented``) or only a count, span or growth the lab filled in (``reconstructed``).
    """
    out = pd.DataFrame({name: schedule_summary(make()) for name, (make, _, _) in _SCHEDULES.items()}).T
    out["attempts"] = out["attempts"].astype(int)
    out = out[["attempts", "first_retry_s", "max_delay_s", "span_h", "span_days"]]
    out["retries"] = [what for _, what, _ in _SCHEDULES.values()]
    out["intervals"] = [how for *_, how in _SCHEDULES.values()]
    return out


# --- The contention experiment --------------------------------------------------------------

def _sleep_ms(strategy: str, attempt: int, prev_ms: float, base_ms: float, cap_ms: float, r: random.Random) -> float:
    """Sleep before the next read, ms, after ``attempt`` failed writes (1 on the first retry)."""
    ceil = min(cap_ms, base_ms * 2.0**attempt)
    if strategy == "none":
        return 0.0
    if strategy == "constant":
        return base_ms
    if strategy == "exponential":
        return ceil
    if strategy == "full_jitter":
        return r.uniform(0.0, ceil)
    if strategy == "equal_jitter":
        return ceil / 2 + r.uniform(0.0, ceil / 2)
    if strategy == "decorrelated_jitter":
        return min(cap_ms, r.uniform(base_ms, prev_ms * 3.0))
    raise ValueError(f"unknown backoff strategy {strategy!r}")


def contention_run(
    clients: int,
    strategy: str,
    seed: Seed = 0,
    base_ms: float = P.BLOG_BASE_MS,
    cap_ms: float = P.BLOG_CAP_MS,
    net_mean_ms: float = P.BLOG_NET_MEAN_MS,
    net_sd_ms: float = P.BLOG_NET_SD_MS,
) -> dict:
    """``clients`` clients each make one optimistic-concurrency update of a single row.

    Accounting follows the 2015 post's simulator (aws-samples/aws-arch-backoff-simulator,
    reference/aws-facts.md §11) so the figures can be set side by side. An attempt is a read
    then a write, four one-way network delays of |Normal(mean, sd)| ms each (read request and
    response, write request and response). The write succeeds only if the row's version is
    the one read. After a failed write the client counts the attempt *before* sleeping, so
    its first backoff uses ``base * 2**1`` (10 ms at base 5 ms). Returns ``calls``, the number
    of writes the server handled, and ``time_ms``, when the last successful write's response
    reached its client.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown backoff strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    rng = make_rng(seed)
    r = random.Random(int(rng.integers(2**63)))

    def hop() -> float:
        return abs(r.gauss(net_mean_ms, net_sd_ms))

    version, calls, last = 0, 0, 0.0
    seen, attempt, prev = [0] * clients, [0] * clients, [base_ms] * clients
    # only the server's order matters, so the heap holds arrivals at the server:
    # (time ms, client, 0 = read request, 1 = write request)
    heap = [(hop(), i, 0) for i in range(clients)]
    heapq.heapify(heap)
    while heap:
        t, i, kind = heapq.heappop(heap)
        if kind == 0:
            seen[i] = version
            heapq.heappush(heap, (t + hop() + hop(), i, 1))  # read response, then write request
            continue
        calls += 1
        reply = t + hop()  # the write's response reaches the client
        if seen[i] == version:
            version += 1
            last = max(last, reply)
            continue
        attempt[i] += 1
        sleep = _sleep_ms(strategy, attempt[i], prev[i], base_ms, cap_ms, r)
        prev[i] = max(sleep, base_ms)
        heapq.heappush(heap, (reply + sleep + hop(), i, 0))
    return {"clients": clients, "strategy": strategy, "calls": calls, "time_ms": last}


def contention_experiment(
    client_counts: Iterable[int] = (10, 25, 50, 75, 100),
    strategies: Iterable[str] = ("none", "exponential", "full_jitter", "equal_jitter", "decorrelated_jitter"),
    reps: int = 10,
    seed: Seed = 0,
) -> pd.DataFrame:
    """Mean writes (``calls``) and completion time (ms) per strategy and client count, over
    ``reps`` runs; see ``contention_run`` for what is counted."""
    rng = make_rng(seed)
    rows = []
    for n in client_counts:
        for s in strategies:
            runs = [contention_run(n, s, seed=rng) for _ in range(reps)]
            rows.append(
                {
                    "clients": n,
                    "strategy": s,
                    "calls": float(np.mean([x["calls"] for x in runs])),
                    "time_ms": float(np.mean([x["time_ms"] for x in runs])),
                }
            )
    return pd.DataFrame(rows)
