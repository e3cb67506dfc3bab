"""AWS numbers the simulation uses, re-exported from :mod:`lambda_lab.limits`.

Each number is named once, with its AWS page, in ``lambda_lab/limits.py``; this module only
gives the simulation its familiar short import (``from . import params as P``). Times are in
seconds (``_S``), sizes in the unit in the name; prices are US dollars for us-east-1, x86.
``limits`` imports only the standard library, so the simulation still needs no moto or boto3.
"""

from __future__ import annotations

from ..limits import (
    ACCOUNT_CONCURRENCY,
    ASYNC_ERROR_RETRY_DELAYS_S,
    ASYNC_MAX_EVENT_AGE_S,
    ASYNC_MAX_RETRY_ATTEMPTS,
    ASYNC_MIN_EVENT_AGE_S,
    ASYNC_THROTTLE_BASE_S,
    ASYNC_THROTTLE_CAP_S,
    BLOG_BASE_MS,
    BLOG_CAP_MS,
    BLOG_NET_MEAN_MS,
    BLOG_NET_SD_MS,
    COLD_START_MS,
    EVENTBRIDGE_MAX_AGE_S,
    EVENTBRIDGE_MAX_ATTEMPTS,
    EVENTBRIDGE_PER_EVENT_USD,
    LAMBDA_FREE_GB_S,
    LAMBDA_FREE_REQUESTS,
    LAMBDA_PER_GB_S_USD,
    LAMBDA_PER_REQUEST_USD,
    LEGACY_BURST_PER_MIN,
    LEGACY_BURST_US_EAST_1,
    PRICES_AS_OF,
    S3_PER_PUT_USD,
    SCALING_ENVS,
    SCALING_WINDOW_S,
    SNS_BACKOFF,
    SNS_BACKOFF_MAX_S,
    SNS_BACKOFF_MIN_S,
    SNS_FREE_PUBLISHES,
    SNS_IMMEDIATE,
    SNS_PER_PUBLISH_USD,
    SNS_POST_BACKOFF,
    SNS_POST_BACKOFF_DELAY_S,
    SNS_PRE_BACKOFF,
    SNS_PRE_BACKOFF_DELAY_S,
    SNS_TOTAL_ATTEMPTS,
    SQS_BATCH_SIZE,
    SQS_BATCH_SIZE_MAX,
    SQS_FREE_REQUESTS,
    SQS_INITIAL_BATCHES,
    SQS_MAX_BATCHES,
    SQS_MAX_CONCURRENCY_MAX,
    SQS_MAX_CONCURRENCY_MIN,
    SQS_MAX_RECEIVE_COUNT,
    SQS_PER_REQUEST_USD,
    SQS_SCALE_PER_MIN,
    SQS_SCALE_PER_MIN_BEFORE_2023_11,
    SQS_VISIBILITY_FACTOR,
    UNRESERVED_FLOOR,
)

__all__ = [name for name in dir() if name.isupper()]
