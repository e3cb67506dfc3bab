"""Where every accepted item ended: one row per item and consumer (``lab.outcomes()``).

The invocation log has a row per attempt; the ledger has a row per thing a source
accepted for a function: an SQS message, an S3 record, an asynchronous event, an
SNS message per subscription, a stream record, an EventBridge event per target, a
synchronous request. Each row ends exactly once, in one of ``ENDINGS``, and says
where it went and which retry layer decided it. Ending a row twice is a bug in the
lab, so it raises.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable, Iterator

import pandas as pd

#: Terminal endings, plus ``pending`` for rows still in flight when you ask.
PROCESSED, DEAD_LETTER, DESTINATION, DROPPED, FAILED, PENDING = (
    "processed", "dead_letter", "destination", "dropped", "failed", "pending")
ENDINGS = (PROCESSED, DEAD_LETTER, DESTINATION, DROPPED, FAILED)

#: Retry layers: Lambda's own (async queue, event source mappings), the synchronous
#: caller, and the sources that retry before Lambda (SNS delivery, EventBridge targets).
LAMBDA, CALLER = "lambda", "caller"

#: Columns of ``Ledger.to_frame()``, in order. Times are seconds since the lab started.
COLUMNS = ["source", "item", "function", "copy", "accepted", "ended", "attempts", "ending", "where", "layer",
           "request_id"]


class LedgerError(RuntimeError):
    """The lab tried to end an item twice or to end it with an unknown ending (a lab bug)."""


@dataclass
class Entry:
    """One accepted item for one consumer and how it ended (``ending`` None while in flight)."""

    source: str
    item: str
    function: str
    accepted: float
    copy: int = 1
    attempts: int = 0
    ending: str | None = None
    where: str | None = None
    layer: str | None = None
    ended: float | None = None
    request_id: str | None = None  # Lambda's id for an asynchronous event
    seq: int = field(default=0, repr=False)

    @property
    def done(self) -> bool:
        return self.ending is not None


class Ledger:
    """Append-only record of accepted items; ``to_frame()`` is ``lab.outcomes()``."""

    def __init__(self, elapsed: Callable[[], float]):
        """``elapsed()`` returns seconds since the lab started (the log's time base)."""
        self._elapsed = elapsed
        self._entries: list[Entry] = []
        self._seq = itertools.count()

    def accept(self, source: str, item: str, function: str, *, copy: int = 1,
               accepted_s: float | None = None) -> Entry:
        """Record that ``source`` accepted ``item`` for ``function``; return its row.

        ``accepted_s`` is seconds since the lab started (default: now); ``copy`` numbers
        the extra deliveries of an at-least-once source (2 for a duplicate).
        """
        at = self._elapsed() if accepted_s is None else accepted_s
        entry = Entry(source, item, function, round(at, 6), copy=copy, seq=next(self._seq))
        self._entries.append(entry)
        return entry

    def attempt(self, entry: Entry, count: int = 1) -> None:
        """Count ``count`` more attempts to deliver ``entry`` (throttles included)."""
        entry.attempts += count

    def end(self, entry: Entry, ending: str, where: str, layer: str = LAMBDA, *,
            ended_s: float | None = None) -> Entry:
        """End ``entry`` once: ``ending`` in ``ENDINGS``, ``where`` it went (or AWS's reason for a drop).

        ``ended_s`` is seconds since the lab started (default: now).
        """
        if ending not in ENDINGS:
            raise LedgerError(f"unknown ending {ending!r}; expected one of {', '.join(ENDINGS)}")
        if entry.done:
            raise LedgerError(
                f"{entry.source} item {entry.item!r} for {entry.function} already ended "
                f"({entry.ending}, {entry.where}); cannot also end {ending} ({where})")
        entry.ending, entry.where, entry.layer = ending, where, layer
        entry.ended = round(self._elapsed() if ended_s is None else ended_s, 6)
        return entry

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def to_frame(self, function: str | None = None, source: str | None = None) -> pd.DataFrame:
        """One row per item and consumer with ``COLUMNS``; rows in flight show ending ``pending``."""
        rows = [
            {"source": e.source, "item": e.item, "function": e.function, "copy": e.copy,
             "accepted": e.accepted, "ended": e.ended, "attempts": e.attempts,
             "ending": e.ending or PENDING, "where": e.where, "layer": e.layer,
             "request_id": e.request_id}
            for e in self._entries
            if (function is None or e.function == function) and (source is None or e.source == source)
        ]
        frame = pd.DataFrame(rows, columns=COLUMNS)
        return frame.astype({"copy": int, "attempts": int, "ended": float})
