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


class Task:
    """One piece of work due at ``due_s`` (epoch seconds), as ``Scheduler.at``/``after`` return it.

    ``cancel()`` stops it from running; ``done`` says it has run; ``pending`` says it still will.
    Owners that keep lists of their tasks prune them with ``[t for t in tasks if t.pending]``.
    """

    __slots__ = ("due_s", "seq", "action", "label", "done", "_cancelled", "_scheduler")

    def __init__(self, due_s: float, seq: int, action: Callable[[], None], label: str,
                 scheduler: "Scheduler | None" = None):
        self.due_s, self.seq, self.action, self.label = due_s, seq, action, label
        self.done = False  # True once the scheduler has started its action
        self._cancelled = False
        self._scheduler = scheduler

    def __lt__(self, other: "Task") -> bool:
        return (self.due_s, self.seq) < (other.due_s, other.seq)

    @property
    def cancelled(self) -> bool:
        """True once ``cancel()`` was called before the task ran."""
        return self._cancelled

    @property
    def pending(self) -> bool:
        """True while the task will still run: neither run nor cancelled."""
        return not (self.done or self._cancelled)

    def cancel(self) -> bool:
        """Stop the task from running; True if it was pending (cancelling twice is harmless)."""
        if not self.pending:
            return False
        self._cancelled = True
        if self._scheduler is not None:
            self._scheduler._forget(self)
        return True

    def __repr__(self) -> str:
        state = "done" if self.done else "cancelled" if self._cancelled else "pending"
        return f"Task(due_s={self.due_s}, label={self.label!r}, {state})"


class Scheduler:
    """Work due at virtual times, run in time order (ties in the order they were scheduled).

    Cancelled tasks stay in the heap until they reach its top or until more than half of
    the heap is cancelled; then it is rebuilt, so a source that reschedules a poll on every
    message keeps the heap the size of its live work.
    """

    def __init__(self, clock: Clock):
        self.clock = clock
        self._heap: list[Task] = []
        self._cancelled = 0  # cancelled tasks still in the heap
        self._seq = itertools.count()
        self._running = 0  # depth of task actions running now

    def at(self, due_s: float, action: Callable[[], None], label: str = "") -> Task:
        """Run ``action()`` at absolute virtual time ``due_s`` (epoch s; never earlier than now)."""
        task = Task(max(due_s, self.clock.now()), next(self._seq), action, label, self)
        heapq.heappush(self._heap, task)
        return task

    def after(self, delay_s: float, action: Callable[[], None], label: str = "") -> Task:
        """Run ``action()`` ``delay_s`` seconds from now."""
        return self.at(self.clock.now() + delay_s, action, label)

    @property
    def running(self) -> bool:
        """True while a scheduled task's action is running (on any thread)."""
        return self._running > 0

    def next_due(self) -> float | None:
        """Time of the earliest pending task (epoch s), or None."""
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
            self._cancelled -= 1
        return self._heap[0].due_s if self._heap else None

    def run_next(self) -> bool:
        """Advance to the earliest task and run it; False when nothing is scheduled."""
        if self.next_due() is None:
            return False
        task = heapq.heappop(self._heap)
        self.clock.advance_to(task.due_s)
        task.done = True
        self._running += 1
        try:
            task.action()
        except KeyboardInterrupt:
            # Ctrl-C stops the run, not the work: the same task goes back (an owner holding it
            # can still cancel it), so a later run does it.
            task.done = False
            heapq.heappush(self._heap, task)
            raise
        finally:
            self._running -= 1
        return True

    def run_until(self, t_s: float) -> int:
        """Run every task due up to and including ``t_s`` (epoch s), then set the clock to ``t_s``."""
        ran = 0
        while (due := self.next_due()) is not None and due <= t_s:
            self.run_next()
            ran += 1
        self.clock.advance_to(t_s)
        return ran

    def _forget(self, task: Task) -> None:
        """Count a cancelled task; rebuild the heap once cancelled ones are the majority."""
        self._cancelled += 1
        if 2 * self._cancelled > len(self._heap):
            # O(n) now and then keeps every push/pop O(log live) instead of O(log all-time).
            self._heap = [t for t in self._heap if not t.cancelled]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def __len__(self) -> int:
        """Pending tasks."""
        return len(self._heap) - self._cancelled
