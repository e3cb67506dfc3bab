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


class InvalidRequestContentException(LabError):
    """Lambda's 400 for an Invoke request whose body is not JSON (the Invoke API's error).

    https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: "The request body could not
    be parsed as JSON, or a request header is invalid."
    """

    status_code = 400

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(f"Could not parse request body into json: {detail} "
                         "(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)")


class RequestEntityTooLargeException(LabError):
    """Lambda's 413 for an Invoke request larger than the payload quota (the Invoke API's error)."""

    status_code = 413

    def __init__(self, size_bytes: int, limit_bytes: int, operation: str):
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes
        super().__init__(
            f"Request must be smaller than {limit_bytes} bytes for the {operation} operation, got {size_bytes} "
            "(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)")


class InvalidParameterException(ValueError, LabError):
    """SNS's 400 ``InvalidParameter`` (boto3: ``InvalidParameterException``), as Subscribe and
    SetSubscriptionAttributes raise it for a subscription attribute SNS refuses.

    ``aws_message`` is SNS's text, ``Invalid parameter: <parameter>: <reason>`` (or
    ``Invalid parameter: <reason>`` for a rule SNS states without a parameter name); ``detail``,
    when given, is the lab's addition (the limit and the value) and only appears in ``str(err)``.
    https://docs.aws.amazon.com/sns/latest/api/API_SetSubscriptionAttributes.html
    """

    status_code = 400
    code = "InvalidParameter"

    def __init__(self, reason: str, parameter: str | None = "FilterPolicy", *, detail: str = ""):
        self.parameter = parameter
        self.reason = reason
        self.detail = detail
        self.aws_message = (f"Invalid parameter: {parameter}: {reason}" if parameter
                            else f"Invalid parameter: {reason}")
        super().__init__(self.aws_message + (f" ({detail})" if detail else ""))
