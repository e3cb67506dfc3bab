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
    """Lambda async retries on throttles (429) and 5xx: 1 s doubling to 5 min, for up to 6 h.

    The interval "increases exponentially from 1 second after the first attempt to a maximum of
    5 minutes" and retries last "up to 6 hours by default"
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
    AWS does not publish the jitter, so this schedule has none.
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
    """EventBridge target retries: up to 185 attempts within 24 hours, exponential with jitter.

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


def aws_schedules() -> pd.DataFrame:
    """One row per documented AWS retry schedule: attempts, first retry, longest wait, span."""
    rows = {
        "Lambda async, function error": lambda_async_error_schedule(),
        "Lambda async, throttle (429)": lambda_async_throttle_schedule(),
        "EventBridge target": eventbridge_schedule(),
        "SNS to Lambda / SQS": sns_managed_schedule(),
    }
    out = pd.DataFrame({name: schedule_summary(df) for name, df in rows.items()}).T
    out["attempts"] = out["attempts"].astype(int)
    return out[["attempts", "first_retry_s", "max_delay_s", "span_h", "span_days"]]


# --- The contention experiment --------------------------------------------------------------

def _sleep_ms(strategy: str, attempt: int, prev_ms: float, base_ms: float, cap_ms: float, r: random.Random) -> float:
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

    A client reads the row's version, then writes; the write succeeds only if the version is
    unchanged, otherwise the client sleeps per ``strategy`` and starts again. Each call reaches
    the server after a network delay |Normal(mean, sd)| ms. Returns the number of calls (reads
    plus writes) and the time in ms until the last client succeeded.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown backoff strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    rng = make_rng(seed)
    r = random.Random(int(rng.integers(2**63)))
    gauss = r.gauss
    version = 0
    calls = 0
    seen = [0] * clients
    attempt = [0] * clients
    prev = [base_ms] * clients
    heap = [(abs(gauss(net_mean_ms, net_sd_ms)), i, 0) for i in range(clients)]  # (time, client, kind 0=read)
    heapq.heapify(heap)
    last = 0.0
    while heap:
        t, i, kind = heapq.heappop(heap)
        calls += 1
        if kind == 0:
            seen[i] = version
            heapq.heappush(heap, (t + abs(gauss(net_mean_ms, net_sd_ms)), i, 1))
        elif seen[i] == version:
            version += 1
            last = t
        else:
            sleep = _sleep_ms(strategy, attempt[i], prev[i], base_ms, cap_ms, r)
            prev[i] = max(sleep, base_ms)
            attempt[i] += 1
            heapq.heappush(heap, (t + sleep + abs(gauss(net_mean_ms, net_sd_ms)), i, 0))
    return {"clients": clients, "strategy": strategy, "calls": calls, "time_ms": last}


def contention_experiment(
    client_counts: Iterable[int] = (10, 25, 50, 75, 100),
    strategies: Iterable[str] = ("none", "exponential", "full_jitter", "equal_jitter", "decorrelated_jitter"),
    reps: int = 10,
    seed: Seed = 0,
) -> pd.DataFrame:
    """Mean calls and completion time (ms) per strategy and client count, over ``reps`` runs."""
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
