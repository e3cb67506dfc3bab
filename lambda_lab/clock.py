"""Virtual time shared by moto and the lab, and the scheduler that runs on it.

moto reads the wall clock (``datetime.now``) every time it checks a visibility
timeout, a delay or a dedup window, so moving the process clock moves moto.
time-machine does that at C level with ``tick=False``: the clock only moves when
the lab says so, and ``time.monotonic``/``perf_counter`` stay real, which keeps
the Jupyter kernel's own timers working.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from dataclasses import dataclass, field
from typing import Callable

import time_machine

#: Where every lab starts, so timestamps in events repeat run to run.
DEFAULT_START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def iso_utc(epoch_s: float) -> str:
    """An epoch time in AWS's ISO-8601 form with milliseconds: ``2024-01-01T00:00:00.000Z``."""
    moment = dt.datetime.fromtimestamp(epoch_s, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Clock:
    """The lab's virtual clock: seconds since the Unix epoch, moved only by the lab."""

    def __init__(self, start: dt.datetime = DEFAULT_START, *, patch_process: bool = True):
        self.start_s = start.timestamp()
        self._now_s = self.start_s
        self._travel = None
        self._traveller = None
        if patch_process:
            self._travel = time_machine.travel(start, tick=False)
            self._traveller = self._travel.start()

    def now(self) -> float:
        """Current virtual time, seconds since the Unix epoch."""
        return self._now_s

    def now_ms(self) -> int:
        """Current virtual time, whole milliseconds since the Unix epoch."""
        return int(round(self._now_s * 1000))

    def elapsed(self) -> float:
        """Seconds since the lab started."""
        return self._now_s - self.start_s

    def datetime(self) -> dt.datetime:
        """Current virtual time as an aware UTC datetime."""
        return dt.datetime.fromtimestamp(self._now_s, tz=dt.timezone.utc)

    def iso(self) -> str:
        """Current virtual time as AWS prints it: ``2024-01-01T00:00:00.000Z``."""
        return iso_utc(self._now_s)

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (>= 0) without running scheduled work."""
        if seconds < 0:
            raise ValueError(f"time only moves forward; got advance({seconds})")
        return self.advance_to(self._now_s + seconds)

    def advance_to(self, t_s: float) -> float:
        """Move the clock to absolute time ``t_s`` if it is in the future; return now."""
        if t_s > self._now_s:
            if self._traveller is not None:
                self._traveller.shift(t_s - self._now_s)
            self._now_s = t_s
        return self._now_s

    def stop(self) -> None:
        """Give the process its real clock back."""
        if self._travel is not None:
            self._travel.stop()
            self._travel = self._traveller = None


@dataclass(order=True)
class _Task:
    due_s: float
    seq: int
    action: Callable[[], None] = field(compare=False)
    label: str = field(compare=False, default="")
    cancelled: bool = field(compare=False, default=False)


class Scheduler:
    """Work due at virtual times, run in time order (ties in the order they were scheduled)."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self._heap: list[_Task] = []
        self._seq = itertools.count()

    def at(self, due_s: float, action: Callable[[], None], label: str = "") -> _Task:
        """Run ``action()`` at absolute virtual time ``due_s`` (never earlier than now)."""
        task = _Task(max(due_s, self.clock.now()), next(self._seq), action, label)
        heapq.heappush(self._heap, task)
        return task

    def after(self, delay_s: float, action: Callable[[], None], label: str = "") -> _Task:
        """Run ``action()`` ``delay_s`` seconds from now."""
        return self.at(self.clock.now() + delay_s, action, label)

    def next_due(self) -> float | None:
        """Time of the earliest pending task, or None."""
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].due_s if self._heap else None

    def run_next(self) -> bool:
        """Advance to the earliest task and run it; False when nothing is scheduled."""
        due = self.next_due()
        if due is None:
            return False
        task = heapq.heappop(self._heap)
        self.clock.advance_to(task.due_s)
        task.action()
        return True

    def run_until(self, t_s: float) -> int:
        """Run every task due up to and including ``t_s``, then set the clock to ``t_s``."""
        ran = 0
        while (due := self.next_due()) is not None and due <= t_s:
            self.run_next()
            ran += 1
        self.clock.advance_to(t_s)
        return ran

    def __len__(self) -> int:
        return sum(1 for task in self._heap if not task.cancelled)
