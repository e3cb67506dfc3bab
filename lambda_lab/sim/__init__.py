"""Simulations at AWS scale, in numpy and pandas, checked against closed forms.

- :mod:`.delivery`: SQS receives and duplicates, at-least-once sources, stream batch retries;
- :mod:`.backoff`: backoff strategies, AWS's retry schedules, the contention experiment;
- :mod:`.storm`: concurrency under event storms (sync, async, SQS);
- :mod:`.theory`: Little's law, Erlang B and the other closed forms;
- :mod:`.cost`: dated prices; :mod:`.params`: every AWS number with its source;
- :mod:`.plots`: one figure per function (imports matplotlib only when used).

Every function takes a ``seed`` (an int or a ``numpy.random.Generator``): same seed, same output.
Run ``python -m lambda_lab.sim storm --help`` for the command line.

Names load on first use (PEP 562), so ``import lambda_lab.sim`` costs almost nothing and
``python -m lambda_lab.sim storm --help`` never loads numpy or pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = ("backoff", "cost", "delivery", "params", "storm", "theory")

#: Public name -> the submodule that defines it.
_EXPORTS = {
    "aws_schedules": "backoff",
    "backoff_delays": "backoff",
    "contention_experiment": "backoff",
    "contention_run": "backoff",
    "eventbridge_schedule": "backoff",
    "lambda_async_error_schedule": "backoff",
    "lambda_async_throttle_schedule": "backoff",
    "sns_managed_schedule": "backoff",
    "cost_table": "cost",
    "storm_cost": "cost",
    "at_least_once": "delivery",
    "duplicate_rate_curve": "delivery",
    "sqs_receives": "delivery",
    "stream_batch_retries": "delivery",
    "StormConfig": "storm",
    "StormResult": "storm",
    "StormSummary": "storm",
    "arrivals": "storm",
    "compare": "storm",
    "simulate_storm": "storm",
    "erlang_b": "theory",
    "littles_law": "theory",
}

__all__ = sorted(set(_SUBMODULES) | set(_EXPORTS))


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
