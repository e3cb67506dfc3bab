"""lambda_lab: a local Lambda service on a virtual clock, backed by moto, for the workbook."""

from .durations import LogNormal, Uniform
from .errors import ConfigurationError, LabError, LabSafetyError, TooManyRequestsException
from .lab import Lab, RunSummary
from .runtime import Function, InvokeResult
from .show import show, show_event

__all__ = [
    "ConfigurationError",
    "Function",
    "InvokeResult",
    "Lab",
    "LabError",
    "LabSafetyError",
    "LogNormal",
    "RunSummary",
    "TooManyRequestsException",
    "Uniform",
    "show",
    "show_event",
]
