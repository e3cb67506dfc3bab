"""Errors the lab raises, each naming the AWS rule and limit it enforces."""

from __future__ import annotations


class LabError(Exception):
    """Base of the errors the lab raises on purpose; a notebook shows them as one line (``notebook.setup``)."""


class ConfigurationError(ValueError, LabError):
    """A setting AWS would refuse (the message names the rule, the limit and the value)."""


class LabSafetyError(RuntimeError, LabError):
    """The lab refused to talk to something that is not on this machine."""


class TooManyRequestsException(LabError):
    """Lambda's throttle (HTTP 429) for a synchronous call, as the Invoke API raises it."""

    status_code = 429

    def __init__(self, function: str, reason: str, limit: int, *, reserved: bool = True):
        self.function = function
        self.reason = reason
        self.limit = limit
        pool = f"its reserved concurrency is {limit}" if reserved else f"the unreserved pool of {limit} is in use"
        super().__init__(f"Rate Exceeded. Reason: {reason} ({function}: {pool})")
