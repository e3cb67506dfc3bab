"""Every invocation the lab makes, as records and as a pandas DataFrame."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

#: Outcomes an invocation can end in (``dropped`` is for events that never ran).
OUTCOMES = ("success", "error", "timeout", "throttled", "dropped")


@dataclass
class Invocation:
    """One attempt to run a function. Times are seconds since the lab started."""

    function: str
    source: str
    request_id: str
    attempt: int
    start: float
    end: float
    duration_ms: float
    billed_duration_ms: int
    init_duration_ms: float
    cold_start: bool
    outcome: str
    error_type: str | None = None
    error_message: str | None = None
    batch_size: int | None = None
    env_id: int | None = None
    items: tuple[str, ...] = ()
    result: Any = field(default=None, repr=False)
    log: str = field(default="", repr=False)
    end_s: float = field(default=0.0, repr=False)  # exact epoch end, for the clock and environments

    @property
    def ok(self) -> bool:
        return self.outcome == "success"

    @classmethod
    def never_ran(cls, function: str, source: str, outcome: str, *, at: float, error_type: str,
                  error_message: str, request_id: str = "", attempt: int = 1, batch_size: int | None = None,
                  items: tuple[str, ...] = (), result: Any = None) -> "Invocation":
        """An attempt that held no environment (throttled or dropped): zero length at ``at`` (s since start)."""
        at = round(at, 6)
        return cls(
            function=function, source=source, request_id=request_id, attempt=attempt, start=at, end=at,
            duration_ms=0.0, billed_duration_ms=0, init_duration_ms=0.0, cold_start=False, outcome=outcome,
            error_type=error_type, error_message=error_message, batch_size=batch_size, items=tuple(items),
            result=result,
        )


#: Columns of ``InvocationLog.to_frame()``, in order.
COLUMNS = [name for name in Invocation.__dataclass_fields__ if name not in ("result", "log", "end_s")]


class InvocationLog:
    """Append-only record of invocations; ``to_frame()`` is what tables and plots read."""

    def __init__(self) -> None:
        self.records: list[Invocation] = []

    def add(self, invocation: Invocation) -> Invocation:
        self.records.append(invocation)
        return invocation

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def to_frame(self, function: str | None = None) -> pd.DataFrame:
        """All invocations (or one function's) as a DataFrame with ``COLUMNS``."""
        rows = [
            {key: value for key, value in asdict(rec).items() if key in COLUMNS}
            for rec in self.records
            if function is None or rec.function == function
        ]
        frame = pd.DataFrame(rows, columns=COLUMNS)
        return frame.astype({"cold_start": bool, "attempt": int, "env_id": "Int64", "batch_size": "Int64"})
