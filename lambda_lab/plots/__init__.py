"""Figures: DataFrame in, matplotlib Figure out, one idea each, laid out like ``events/``.

``invocations`` (any function: timeline, concurrency), ``async_retries`` (the asynchronous retry
schedule), ``sqs`` (deliveries per message), ``sns`` (two retry layers), ``dynamodb`` (how long
records waited in a shard), ``apigateway`` (request latency), ``metrics`` (CloudWatch-style panels). Colours come
from ``palette``. The data behind each figure comes from a separate function so tests can check it.
"""

from . import async_retries, metrics, sqs
from .invocations import concurrency, concurrency_series, timeline

__all__ = ["async_retries", "concurrency", "concurrency_series", "metrics", "sqs", "timeline"]
