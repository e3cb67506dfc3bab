"""What one storm is: :class:`StormConfig`, its modes, arrivals and jitters.

This module imports only the standard library and :mod:`lambda_lab.limits`, so the command
line can build its parser (``--help``) without loading numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .. import limits
from ..limits import check_range
from . import params as P

MODES = ("sync", "async", "sqs")
ARRIVALS = ("burst", "poisson", "trace")
# How Lambda's queue spaces throttle retries. AWS documents 1 s growing to 5 min but not the
# jitter; "exponential" (none) shows what synchronised retries do.
JITTERS = ("exponential", "full_jitter", "equal_jitter", "decorrelated_jitter")


@dataclass(frozen=True)
class StormConfig:
    """One storm. Units are in the names; defaults are AWS defaults where AWS has one."""

    events: int = 100_000
    mode: str = "async"
    duration_ms: float = 200.0
    limit: int = P.ACCOUNT_CONCURRENCY
    reserved: Optional[int] = None
    arrival: str = "burst"
    rate_per_s: float = 1_000.0
    trace_path: Optional[str] = None
    jitter: str = "equal_jitter"
    retry_base_s: float = P.ASYNC_THROTTLE_BASE_S
    retry_cap_s: float = P.ASYNC_THROTTLE_CAP_S
    max_event_age_s: float = P.ASYNC_MAX_EVENT_AGE_S
    scaling: str = "current"
    cold_start_ms: float = P.COLD_START_MS
    batch_size: int = P.SQS_BATCH_SIZE
    max_concurrency: Optional[int] = None
    visibility_timeout_s: Optional[float] = None
    max_receive_count: int = P.SQS_MAX_RECEIVE_COUNT
    duplicate_rate: float = 0.0
    memory_mb: int = 512  # the worked example in reference/aws-facts.md §10 (3M invocations at 512 MB)
    free_tier: bool = False
    tick_ms: Optional[float] = None
    seed: int = 0

    def effective_limit(self) -> int:
        """The function's concurrency ceiling: reserved concurrency if set, else the account's."""
        if self.reserved is None:
            return int(self.limit)
        if self.reserved < 0:
            raise ValueError(f"reserved concurrency must be >= 0, got {self.reserved}")
        if self.reserved > self.limit - P.UNRESERVED_FLOOR:
            raise ValueError(
                f"reserved concurrency {self.reserved} leaves less than {P.UNRESERVED_FLOOR} unreserved "
                f"of the account's {self.limit} (PutFunctionConcurrency rule)"
            )
        return int(self.reserved)

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.arrival not in ARRIVALS:
            raise ValueError(f"arrival must be one of {', '.join(ARRIVALS)}, got {self.arrival!r}")
        if self.jitter not in JITTERS:
            raise ValueError(f"jitter must be one of {', '.join(JITTERS)}, got {self.jitter!r}")
        if self.scaling not in ("current", "pre2023"):
            raise ValueError(f"scaling must be 'current' or 'pre2023', got {self.scaling!r}")
        if self.events < 0 or self.duration_ms <= 0:
            raise ValueError("events must be >= 0 and duration_ms > 0")
        # The same refusals, and wording, as the lab's (ConfigurationError is a ValueError).
        check_range("MaximumEventAgeInSeconds", self.max_event_age_s, P.ASYNC_MIN_EVENT_AGE_S,
                    P.ASYNC_MAX_EVENT_AGE_S, unit="seconds", url=limits.EVENT_INVOKE_CONFIG_URL)
        check_range("BatchSize for standard queues", self.batch_size, limits.SQS_BATCH_SIZE_MIN,
                    P.SQS_BATCH_SIZE_MAX, url=limits.SQS_PARAMETERS_URL)
        if self.max_concurrency is not None:
            check_range("ScalingConfig.MaximumConcurrency", self.max_concurrency, P.SQS_MAX_CONCURRENCY_MIN,
                        P.SQS_MAX_CONCURRENCY_MAX, url=limits.SCALING_CONFIG_URL)
        if self.max_receive_count < 1:
            raise ValueError(f"maxReceiveCount must be at least 1, got {self.max_receive_count}")
        self.effective_limit()

    def visibility_s(self) -> float:
        """The queue's visibility timeout: as set, or 6x a full batch's duration (AWS's guidance)."""
        if self.visibility_timeout_s is not None:
            return float(self.visibility_timeout_s)
        return P.SQS_VISIBILITY_FACTOR * self.batch_size * self.duration_ms / 1000
