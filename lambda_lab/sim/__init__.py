"""Simulations at AWS scale, in numpy and pandas, checked against closed forms.

- :mod:`.delivery`: SQS receives and duplicates, at-least-once sources, stream batch retries;
- :mod:`.backoff`: backoff strategies, AWS's retry schedules, the contention experiment;
- :mod:`.storm`: concurrency under event storms (sync, async, SQS);
- :mod:`.theory`: Little's law, Erlang B and the other closed forms;
- :mod:`.cost`: dated prices; :mod:`.params`: every AWS number with its source;
- :mod:`.plots`: one figure per function (imports matplotlib only when used).

Every function takes a ``seed`` (an int or a ``numpy.random.Generator``): same seed, same output.
Run ``python -m lambda_lab.sim storm --help`` for the command line.
"""

from __future__ import annotations

from . import backoff, cost, delivery, params, storm, theory
from .backoff import (
    aws_schedules,
    backoff_delays,
    contention_experiment,
    contention_run,
    eventbridge_schedule,
    lambda_async_error_schedule,
    lambda_async_throttle_schedule,
    sns_managed_schedule,
)
from .cost import cost_table, storm_cost
from .delivery import at_least_once, duplicate_rate_curve, sqs_receives, stream_batch_retries
from .storm import StormConfig, StormResult, StormSummary, arrivals, compare, simulate_storm
from .theory import erlang_b, littles_law

__all__ = [
    "StormConfig",
    "StormResult",
    "StormSummary",
    "arrivals",
    "at_least_once",
    "aws_schedules",
    "backoff",
    "backoff_delays",
    "compare",
    "contention_experiment",
    "contention_run",
    "cost",
    "cost_table",
    "delivery",
    "duplicate_rate_curve",
    "erlang_b",
    "eventbridge_schedule",
    "lambda_async_error_schedule",
    "lambda_async_throttle_schedule",
    "littles_law",
    "params",
    "simulate_storm",
    "sns_managed_schedule",
    "sqs_receives",
    "storm",
    "storm_cost",
    "stream_batch_retries",
    "theory",
]
