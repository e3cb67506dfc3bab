"""Retry policies: how long each layer waits before trying again, and when it gives up.

One definition per schedule AWS documents, used by the lab's sources and by
``lambda_lab.sim``. A policy is a list of phases (how many retries, how far apart),
an optional maximum number of attempts and an optional maximum age. Delays are in
seconds; ``attempt`` counts every try, the first included.

This module imports only the standard library and ``limits``, so the simulation can use it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterator

from .. import limits as L

STREAMS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errorhandling.html"

#: Why a policy gave up, in AWS's words (the invocation record's ``condition``).
RETRIES_EXHAUSTED, EVENT_AGE_EXCEEDED = "RetriesExhausted", "EventAgeExceeded"


@dataclass(frozen=True)
class Phase:
    """``retries`` retries (None: no end) whose delays run from ``first_s`` towards ``last_s``.

    ``growth`` is how each delay follows the previous one: ``fixed`` (all ``first_s``),
    ``doubling`` (``first_s * 2**k`` capped at ``last_s``) or ``geometric`` (``retries``
    delays spaced evenly on a log scale from ``first_s`` to ``last_s``).
    """

    name: str
    retries: int | None
    first_s: float
    last_s: float | None = None
    growth: str = "fixed"

    def delay_s(self, k: int) -> float:
        """Delay before this phase's retry ``k`` (0-based), seconds, without jitter."""
        if self.growth == "fixed":
            return self.first_s
        if self.growth == "doubling":
            return min(self.last_s, self.first_s * 2.0 ** min(k, 64))  # no float overflow after days of retries
        ratio = (self.last_s / self.first_s) ** (1.0 / (self.retries - 1)) if self.retries > 1 else 1.0
        return self.first_s * ratio ** k


#: How far ``spread`` jitter moves a delay: the whole width, as a fraction of the delay (the lab's choice).
SPREAD = 0.2


@dataclass(frozen=True)
class RetryPolicy:
    """Delays between attempts and the limits that end them.

    ``max_attempts`` counts the first attempt (None: no count limit); ``max_age_s`` is
    how old an item may get before the layer gives up (None: no age limit).
    ``jitter`` is ``none``, ``equal`` (wait between half and all of each delay) or ``spread``
    (within 10 % either side of each delay, so the schedule keeps its mean length).
    ``assumption`` says what the lab chose where AWS publishes no number.
    """

    name: str
    phases: tuple[Phase, ...]
    max_attempts: int | None
    max_age_s: float | None
    jitter: str
    source: str
    assumption: str = ""
    first_phase: str = "first"  # the phase the first attempt belongs to

    def base_delay_s(self, retry: int) -> float | None:
        """Delay before retry ``retry`` (1 = the second attempt), seconds; None if there is none."""
        if self.max_attempts is not None and retry >= self.max_attempts:
            return None
        k = retry - 1
        for phase in self.phases:
            if phase.retries is None or k < phase.retries:
                return phase.delay_s(k)
            k -= phase.retries
        return None

    def delay_s(self, retry: int, rng: random.Random | None = None) -> float | None:
        """Like ``base_delay_s``, jittered with ``rng`` when the policy jitters."""
        base = self.base_delay_s(retry)
        if base is None or rng is None:
            return base
        return self.jittered(base, rng.uniform(0, 1))

    def jittered(self, base_s: float, u: float) -> float:
        """``base_s`` jittered by a uniform draw ``u`` in [0, 1) (vectorizes over numpy arrays too)."""
        if self.jitter == "none":
            return base_s
        if self.jitter == "spread":
            return base_s * (1 - SPREAD / 2 + SPREAD * u)
        return base_s / 2 + u * base_s / 2

    def phase_of(self, retry: int) -> str:
        """Name of the phase retry ``retry`` belongs to (``first`` for the first attempt)."""
        if retry == 0:
            return self.first_phase
        k = retry - 1
        for phase in self.phases:
            if phase.retries is None or k < phase.retries:
                return phase.name
            k -= phase.retries
        return "none"

    def gives_up(self, attempts: int, age_s: float) -> str | None:
        """The condition that ends an item after ``attempts`` tries at ``age_s`` seconds old, or None."""
        if self.max_age_s is not None and age_s >= self.max_age_s:
            return EVENT_AGE_EXCEEDED
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return RETRIES_EXHAUSTED
        if self.base_delay_s(attempts) is None:
            return RETRIES_EXHAUSTED
        return None

    def schedule(self, limit: int = 1_000_000) -> Iterator[tuple[int, float, float, str]]:
        """``(attempt, delay_s, at_s, phase)`` for every attempt without jitter, within the age limit.

        ``limit`` bounds policies with no count limit.
        """
        at, attempt = 0.0, 1
        yield attempt, 0.0, 0.0, self.first_phase
        while attempt < limit:
            delay = self.base_delay_s(attempt)
            if delay is None or (self.max_age_s is not None and at + delay > self.max_age_s + 1e-6):
                return
            at += delay
            attempt += 1
            yield attempt, delay, at, self.phase_of(attempt - 1)



def lambda_async_errors(maximum_retry_attempts: int = L.ASYNC_DEFAULT_RETRY_ATTEMPTS,
                        maximum_event_age_s: float = L.ASYNC_DEFAULT_EVENT_AGE_S) -> RetryPolicy:
    """Lambda's async queue after a function error or timeout: about 1 min, then about 2 min.

    "two more times, with a one-minute wait between the first two attempts, and two
    minutes between the second and third attempts" (invocation-async-error-handling).
    """
    return RetryPolicy(
        "Lambda async, function errors",
        tuple(Phase("retry", 1, delay) for delay in L.ASYNC_ERROR_RETRY_DELAYS_S),
        max_attempts=1 + maximum_retry_attempts, max_age_s=maximum_event_age_s, jitter="none",
        source=L.ASYNC_ERRORS_URL)


def lambda_async_throttles(maximum_event_age_s: float = L.ASYNC_DEFAULT_EVENT_AGE_S) -> RetryPolicy:
    """Lambda's async queue after a throttle (429) or a server error (5xx).

    "The retry interval increases exponentially from 1 second after the first attempt to a
    maximum of 5 minutes", for up to the maximum event age (6 hours by default). Throttles
    do not use up MaximumRetryAttempts.
    """
    return RetryPolicy(
        "Lambda async, throttles and 5xx",
        (Phase("retry", None, L.ASYNC_THROTTLE_BASE_S, L.ASYNC_THROTTLE_CAP_S, "doubling"),),
        max_attempts=None, max_age_s=maximum_event_age_s, jitter="equal", source=L.ASYNC_ERRORS_URL,
        assumption="AWS does not publish its jitter: the lab waits between half and all of each interval")


#: SNS's delivery policy for AWS-managed endpoints (Lambda, SQS); it cannot be changed.
SNS_MANAGED = RetryPolicy(
    "SNS delivery to Lambda and SQS",
    # The first attempt is one of the table's immediate ones.
    (Phase("immediate", L.SNS_IMMEDIATE - 1, 0.0),
     Phase("pre-backoff", L.SNS_PRE_BACKOFF, L.SNS_PRE_BACKOFF_DELAY_S),
     Phase("backoff", L.SNS_BACKOFF, L.SNS_BACKOFF_MIN_S, L.SNS_BACKOFF_MAX_S, "geometric"),
     Phase("post-backoff", L.SNS_POST_BACKOFF, L.SNS_POST_BACKOFF_DELAY_S)),
    max_attempts=L.SNS_TOTAL_ATTEMPTS, max_age_s=None, jitter="spread", source=L.SNS_RETRIES_URL,
    first_phase="immediate",
    assumption="the table's 100,015 attempts include the first; the backoff phase is geometric from 1 s "
               "to 20 s; SNS 'applies jittering to delivery retries' by an amount it does not publish: "
               "the lab spreads each interval 10 % either side, so the schedule keeps its 23 days")


def _eventbridge_cap_s(attempts: int = L.EVENTBRIDGE_MAX_ATTEMPTS, span_s: float = L.EVENTBRIDGE_MAX_AGE_S) -> float:
    """The cap that makes ``attempts`` doubling-from-1-s attempts span ``span_s`` (bisection)."""
    lo, hi = 1.0, span_s
    for _ in range(100):
        cap = (lo + hi) / 2
        total = sum(min(cap, 2.0 ** k) for k in range(attempts - 1))
        lo, hi = (cap, hi) if total < span_s else (lo, cap)
    return (lo + hi) / 2


#: EventBridge targets on a rule-based bus: 185 retries (186 attempts) within 24 hours by default.
EVENTBRIDGE_TARGET = RetryPolicy(
    "EventBridge target", (Phase("retry", None, 1.0, _eventbridge_cap_s(), "doubling"),),
    max_attempts=L.EVENTBRIDGE_MAX_ATTEMPTS, max_age_s=float(L.EVENTBRIDGE_MAX_AGE_S), jitter="equal",
    source=L.EVENTBRIDGE_RETRY_URL,
    assumption="AWS publishes the count (185 retries) and the span (24 h), not the intervals: this is a "
               "reconstruction, doubling from 1 s to the cap that makes 185 retries span 24 h")


def stream_mapping(maximum_retry_attempts: int = L.STREAM_RETRY_INFINITE,
                   maximum_record_age_s: int = L.STREAM_RECORD_AGE_INFINITE) -> RetryPolicy:
    """A stream event source mapping retrying a failed batch until it succeeds, runs out or expires.

    ``-1`` means no limit for both (the defaults). AWS retries at once; it publishes no delay.
    """
    attempts = None if maximum_retry_attempts == L.STREAM_RETRY_INFINITE else 1 + maximum_retry_attempts
    age = None if maximum_record_age_s == L.STREAM_RECORD_AGE_INFINITE else float(maximum_record_age_s)
    return RetryPolicy("stream mapping", (Phase("retry", None, 0.0),), max_attempts=attempts, max_age_s=age,
                       jitter="none", source=STREAMS_URL,
                       assumption="the lab retries a failed batch at once; AWS publishes no delay")
