"""The ``context`` object a handler receives, with the attributes AWS's Python runtime sets."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .clock import Clock


class LambdaContext:
    """What ``handler(event, context)`` gets as ``context`` (names as in AWS's runtime).

    AWS sets ``memory_limit_in_mb`` from an environment variable, so it is a string
    there too. ``get_remaining_time_in_millis()`` reads the lab's virtual clock.
    """

    def __init__(
        self,
        *,
        clock: "Clock",
        function_name: str,
        function_version: str,
        invoked_function_arn: str,
        memory_limit_in_mb: int,
        aws_request_id: str,
        log_group_name: str,
        log_stream_name: str,
        deadline_s: float,
    ):
        self._clock = clock
        self._deadline_s = deadline_s
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.aws_request_id = aws_request_id
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out, on the virtual clock."""
        return max(0, int(round((self._deadline_s - self._clock.now()) * 1000)))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, "
            f"aws_request_id={self.aws_request_id!r})"
        )
