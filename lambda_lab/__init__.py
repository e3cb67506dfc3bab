"""lambda_lab: a local Lambda service on a virtual clock, backed by moto, for the workbook.

Names load on first use, so ``import lambda_lab.sim`` does not pay for boto3, moto or pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module that defines it.
_EXPORTS = {
    "ConfigurationError": "errors",
    "LabError": "errors",
    "LabSafetyError": "errors",
    "TooManyRequestsException": "errors",
    "InvalidRequestContentException": "errors",
    "RequestEntityTooLargeException": "errors",
    "LogNormal": "durations",
    "Uniform": "durations",
    "Lab": "lab",
    "RunSummary": "lab",
    "Function": "runtime",
    "InvokeResult": "runtime",
    "show": "views",
    "show_event": "views",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lambda_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
