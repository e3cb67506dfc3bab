"""Handing an event to Lambda's async queue, answered as the Invoke API answers it.

SNS and EventBridge do not run functions; they call Invoke with
``InvocationType=Event`` and act on the answer. ``hand_off`` is that call:

- 202: accepted; Lambda's queue now owns the item (and its ledger row);
- 404 ``ResourceNotFoundException``: the function does not exist. A client-side error:
  SNS and EventBridge do not retry it;
- 429 ``TooManyRequestsException`` or 500 ``ServiceException``: only when injected with
  ``lab.faults.fail_next(...)``, to show the caller's own retry layer at work.

Reserved concurrency 0 is not a refusal: Lambda accepts the event and then sends it to
the dead-letter queue or on-failure destination, or drops it
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from ..lab import Lab
    from ..ledger import Entry

#: Faults ``fail_next`` can inject, and what Invoke answers for each.
FAULTS = {
    "throttle": (429, "TooManyRequestsException", "Rate Exceeded."),
    "server": (500, "ServiceException", "The AWS Lambda service encountered an internal error."),
}


@dataclass(frozen=True)
class Handoff:
    """Invoke's answer to an asynchronous hand-off."""

    status_code: int
    request_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status_code == 202

    @property
    def retryable(self) -> bool:
        """Throttles and server errors are worth retrying; client errors (4xx but 429) are not."""
        return self.status_code == 429 or self.status_code >= 500


class Faults:
    """Injected failures of the next hand-offs to a function (``lab.faults``)."""

    def __init__(self) -> None:
        self._next: dict[str, deque[str]] = defaultdict(deque)

    def fail_next(self, function: str, count: int = 1, error: str = "throttle") -> None:
        """Make the next ``count`` hand-offs to ``function`` fail with ``error`` (throttle or server)."""
        if error not in FAULTS:
            raise ConfigurationError(f"error must be one of {', '.join(FAULTS)}, got {error!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigurationError(f"count must be a whole number of hand-offs >= 1, got {count!r}")
        self._next[function].extend([error] * count)

    def take(self, function: str) -> str | None:
        """The fault for this hand-off, if one is waiting."""
        waiting = self._next.get(function)
        return waiting.popleft() if waiting else None


def hand_off(lab: "Lab", function: str, event: Any, *, source: str, entry: "Entry",
             depth: int, items: tuple[str, ...] = ()) -> Handoff:
    """Invoke ``function`` with ``InvocationType=Event`` for ``entry``; return Invoke's answer.

    On 202 the async queue ends ``entry`` later; otherwise the caller still owns it.
    """
    fn = lab.runtime.functions.get(function)
    if fn is None:
        return Handoff(404, error_code="ResourceNotFoundException",
                       error_message=f"Function not found: {lab.arn('lambda', 'function:' + function)}")
    fault = lab.faults.take(function)
    if fault is not None:
        status, code, message = FAULTS[fault]
        return Handoff(status, error_code=code, error_message=message)
    answer = lab.async_queue.submit(fn, event, source=source, items=items, depth=depth, entry=entry)
    return Handoff(202, request_id=answer["ResponseMetadata"]["RequestId"])
