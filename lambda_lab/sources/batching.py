"""What every batching event source mapping shares: limits, filter criteria, batch assembly, results.

SQS, DynamoDB Streams and Kinesis mappings all invoke a function synchronously
with a batch of records, under the 6 MB synchronous payload limit, and all read
the function's answer the same way when ``ReportBatchItemFailures`` is on. The
queue- or stream-specific parts (what to delete, where to checkpoint) stay in
each source's module.

Result rules: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
("Reporting batch item failures"). The numbers (payload limit, batching window) and the range
check live in :mod:`lambda_lab.limits`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from .. import limits, patterns


def check_window(window_s: float, *, source: str) -> None:
    """``MaximumBatchingWindowInSeconds``: 0-300 seconds, for every batching mapping.

    Rules that belong to one source stay with it: SQS's "a batch over 10 needs a window of
    at least 1 s" is in ``sources/sqs.py``. ``source`` is the page the error cites.
    """
    limits.check_range("MaximumBatchingWindowInSeconds", window_s, limits.BATCHING_WINDOW_MIN_S,
                       limits.BATCHING_WINDOW_MAX_S, unit="seconds", url=source)


# --------------------------------------------------------------- filter criteria


def normalize_filters(filter_patterns: Any) -> list[dict]:
    """Accept a pattern, a list of patterns (dicts or JSON text), or Lambda's
    ``{"Filters": [{"Pattern": "..."}]}``; validate each and return dicts."""
    if filter_patterns is None:
        return []
    if isinstance(filter_patterns, dict) and "Filters" in filter_patterns:
        filter_patterns = [f["Pattern"] for f in filter_patterns["Filters"]]
    elif isinstance(filter_patterns, (dict, str)):
        filter_patterns = [filter_patterns]
    return [patterns.validate(p) for p in filter_patterns]


# --------------------------------------------------------------- batch assembly


def record_bytes(record: dict[str, Any]) -> int:
    """Bytes one record adds to the event's JSON (plus the comma that separates records)."""
    return len(json.dumps(record, separators=(",", ":")).encode()) + 1


#: Bytes of the ``{"Records":[]}`` wrapper.
EVENT_OVERHEAD_BYTES = len(b'{"Records":[]}')


@dataclass
class BatchBuilder:
    """Collects records for one invocation until the batch size or the payload cap is reached.

    ``add`` returns False (and keeps nothing) when the record would push the event
    over ``max_bytes``; the caller keeps that record for the next batch. A batch
    always takes its first record, so one oversized record still gets its own
    invocation.
    """

    max_records: int
    max_bytes: int = limits.SYNC_PAYLOAD_MAX_BYTES

    def __post_init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.bytes = EVENT_OVERHEAD_BYTES
        self.capped = False

    def add(self, record: dict[str, Any]) -> bool:
        size = record_bytes(record)
        if self.records and self.bytes + size > self.max_bytes:
            self.capped = True
            return False
        self.records.append(record)
        self.bytes += size
        return True

    @property
    def room(self) -> int:
        """How many more records the batch size allows."""
        return self.max_records - len(self.records)

    @property
    def full(self) -> bool:
        """True once the batch size or the payload cap stops the batch."""
        return self.capped or self.room <= 0

    def __len__(self) -> int:
        return len(self.records)


# --------------------------------------------------------------- results


@dataclass(frozen=True)
class BatchOutcome:
    """How Lambda reads one invocation's result: which items succeeded, which failed, and why.

    ``failed`` keeps the order of the batch. ``reason`` is a short sentence for
    logs and the notebook.
    """

    succeeded: tuple[str, ...]
    failed: tuple[str, ...]
    reason: str

    @property
    def all_failed(self) -> bool:
        return not self.succeeded and bool(self.failed)


def _everything(item_ids: Sequence[str], failed: bool, reason: str) -> BatchOutcome:
    ids = tuple(item_ids)
    return BatchOutcome((), ids, reason) if failed else BatchOutcome(ids, (), reason)


def judge(
    outcome: str,
    response: Any,
    item_ids: Sequence[str],
    *,
    report_batch_item_failures: bool,
) -> BatchOutcome:
    """Read an invocation the way Lambda does.

    ``outcome`` is the invocation's (success, error, timeout, throttled),
    ``response`` the handler's return value, ``item_ids`` the identifiers in the
    batch (SQS message ids, stream sequence numbers).

    * error, timeout or throttle: the whole batch failed, whatever was returned;
    * success without ReportBatchItemFailures: the whole batch succeeded, and a
      returned ``batchItemFailures`` list is ignored;
    * success with it: ``parse_item_failures`` decides.
    """
    if outcome != "success":
        return _everything(item_ids, True, f"invocation {outcome}: the whole batch returns")
    if not report_batch_item_failures:
        ignored = isinstance(response, dict) and response.get("batchItemFailures")
        note = " (batchItemFailures ignored: ReportBatchItemFailures is off)" if ignored else ""
        return _everything(item_ids, False, "success: the whole batch is done" + note)
    return parse_item_failures(response, item_ids)


def parse_item_failures(response: Any, item_ids: Sequence[str]) -> BatchOutcome:
    """Apply AWS's ReportBatchItemFailures rules to a successful invocation's response.

    Complete success: a null or empty response, or a null or empty
    ``batchItemFailures`` list. Complete failure: a response that is not a JSON
    object, a ``batchItemFailures`` that is not a list, or any entry whose
    ``itemIdentifier`` is missing (a bad key name), null, empty, or not in the batch.
    Otherwise only the listed items failed.
    """
    if response is None or response == {}:
        return _everything(item_ids, False, "success: empty response")
    if not isinstance(response, dict):
        return _everything(item_ids, True, f"invalid response ({type(response).__name__}): the whole batch returns")
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return _everything(item_ids, False, "success: no batchItemFailures")
    if not isinstance(failures, list):
        return _everything(item_ids, True, "invalid batchItemFailures (not a list): the whole batch returns")
    known = set(item_ids)
    reported: set[str] = set()
    for entry in failures:
        problem = _entry_problem(entry, known)
        if problem:
            return _everything(item_ids, True, f"{problem}: the whole batch returns")
        reported.add(entry["itemIdentifier"])
    failed = tuple(i for i in item_ids if i in reported)
    succeeded = tuple(i for i in item_ids if i not in reported)
    return BatchOutcome(succeeded, failed, f"partial: {len(failed)} of {len(item_ids)} reported failed")


def _entry_problem(entry: Any, known: set[str]) -> str | None:
    if not isinstance(entry, dict) or "itemIdentifier" not in entry:
        return "batchItemFailures entry without itemIdentifier"
    ident = entry["itemIdentifier"]
    if ident is None:
        return "null itemIdentifier"
    if not isinstance(ident, str):
        return f"itemIdentifier is not a string ({ident!r})"
    if ident == "":
        return "empty itemIdentifier"
    if ident not in known:
        return f"unknown itemIdentifier {ident!r}"
    return None


def reported_failures(response: Any) -> set[str]:
    """Message ids a handler listed in ``batchItemFailures`` (whether or not Lambda reads them)."""
    if not isinstance(response, dict) or not isinstance(response.get("batchItemFailures"), list):
        return set()
    return {e["itemIdentifier"] for e in response["batchItemFailures"]
            if isinstance(e, dict) and isinstance(e.get("itemIdentifier"), str)}
