"""Exercise checks for chapter 01_s3. Each check runs the learner's code in the chapter's lab.

Each check reads what the learner's code did (the object text it returned, the invoices it mailed,
the markers it wrote, the records it picked) on inputs the check makes itself:

* Exercise 1 writes a random text into each object, so only a handler that reads the object
  with ``get_object`` can return it, and uses keys that each wrong decoding breaks (spaces,
  ``+``, ``%``, ``=``, accents, Japanese).
* Exercise 2 plays other execution environments: one has already mailed two invoices (their
  markers are in the table), and some duplicates arrive while the first delivery is still
  running, in a second environment. A set in memory, a read-then-write and a marker written
  after the email all mail something twice or mail what was already mailed.
* Exercise 3 mixes sequencers of different lengths (comparing them as numbers picks the wrong
  one) with events that share one ``eventTime`` (sorting by time picks the wrong one).
"""

from __future__ import annotations

import copy
import random
import secrets
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from . import Verdict, report, short
from ..clock import iso_utc
from ..events import s3 as s3_events

if TYPE_CHECKING:
    from ..lab import Lab

#: Keys that break handlers which decode wrongly: a space (``+``), a real ``+`` (``%2B``, which
#: ``unquote`` plus ``replace("+", " ")`` gets wrong), a real ``%`` (decoding twice breaks it),
#: ``=``, accents and Japanese (UTF-8 escapes that ``replace`` alone leaves).
AWKWARD_KEYS = ("plain.txt", "my photos/ça va.jpg", "c++ notes.txt", "year=2024/month=01/data 1.csv",
                "50%25 off.txt", "日本/写真.png")

EX1 = "Exercise 1 (decode the key)"
EX2 = "Exercise 2 (idempotent handler)"
EX3 = "Exercise 3 (order with the sequencer)"


def _fresh_bucket(lab: "Lab", name: str) -> str:
    s3 = lab.client("s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    n = 1
    while f"{name}-{n}" in existing:
        n += 1
    s3.create_bucket(Bucket=f"{name}-{n}")
    return f"{name}-{n}"


# --------------------------------------------------------------------------- Exercise 1
def decoded_keys(lab: "Lab", handler: Callable[[Any, Any], Any]) -> Verdict:
    """Exercise 1: ``handler`` reads every uploaded object with ``get_object``, whatever its key, and returns its text.

    Each object holds a random text, so a handler that makes up the text from the key fails.
    """
    if not callable(handler):
        return report(EX1, [f"expected a function handler(event, context), got {short(handler)}"])
    bucket = _fresh_bucket(lab, "ex1-uploads")
    name = f"ex1-{bucket}"
    fn = lab.function(name, handler, maximum_retry_attempts=0)
    lab.s3_trigger(bucket, fn)
    texts = {key: f"{key} #{secrets.token_hex(6)}" for key in AWKWARD_KEYS}
    for key, text in texts.items():
        lab.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode())
    lab.run_until_idle()
    problems = []
    ran = set()
    for inv in lab.log:
        if inv.function != name or inv.outcome == "dropped":  # a dropped row repeats the failure
            continue
        key = inv.items[0] if inv.items else "?"
        ran.add(key)
        if inv.outcome != "success":
            hint = ""
            if inv.error_type in ("NoSuchKey", "ClientError") or "NoSuchKey" in str(inv.error_message):
                hint = " (the key in the event is URL-encoded: decode it with unquote_plus before get_object)"
            problems.append(f"{key!r}: {inv.error_type}: {inv.error_message}{hint}")
        elif inv.result != texts.get(key):
            hint = ("return the object's text: s3.get_object(...)['Body'].read().decode()" if inv.result is None
                    else "that is not the object's text; read it with s3.get_object and return .read().decode()")
            problems.append(f"{key!r}: returned {short(inv.result)}; {hint}")
    problems += [f"{key!r} was never handled" for key in AWKWARD_KEYS if key not in ran]
    return report(EX1, problems)


# --------------------------------------------------------------------------- Exercise 2
#: Exercise 2's uploads (keys as stored). ``invoice 002.pdf`` is uploaded twice: two uploads, two
#: sequencers, two emails.
EX2_KEYS = ("invoice 001.pdf", "invoice 002.pdf", "März/invoice 003.pdf", "invoice 004.pdf", "invoice 002.pdf",
            "invoice 005.pdf", "invoice 006.pdf")
#: Uploads that another execution environment has already mailed (their markers are in the table).
EX2_ALREADY_SENT = (0, 3)
#: Deliveries, by upload: ``n`` is one delivery, ``("race", n)`` a delivery during which a
#: duplicate runs in a second execution environment (right after the first one's first
#: DynamoDB call returns).
EX2_DELIVERIES: tuple[Any, ...] = (1, 2, 0, 1, ("race", 5), 2, 4, 3, 3, 4, 2, ("race", 6), 6)


def marker_ids(record: dict) -> tuple[str, str]:
    """The marker ids the exercise accepts: ``bucket/key/sequencer``, the key as in the event or decoded."""
    s3 = record["s3"]
    bucket, key, seq = s3["bucket"]["name"], s3["object"]["key"], s3["object"]["sequencer"]
    return f"{bucket}/{key}/{seq}", f"{bucket}/{unquote_plus(key)}/{seq}"


def _ex2_records(lab: "Lab", bucket: str) -> list[dict]:
    ids = s3_events.S3Ids(random.Random(f"ex2-{lab.seed}-{bucket}"))
    now = lab.clock.now()
    records = []
    for n, key in enumerate(EX2_KEYS):
        lab.client("s3").put_object(Bucket=bucket, Key=key, Body=b"%PDF")
        records.append(s3_events.record(
            name="ObjectCreated:Put", bucket=bucket, key=key, time_iso=iso_utc(now + n), region=lab.region,
            ids=ids, epoch_s=now + n, configuration_id="invoices", size=4, etag="e"))
    return records


def idempotent(lab: "Lab", handler: Callable[[Any, Any], Any], outbox: list, table: str = "sent") -> Verdict:
    """Exercise 2: with duplicate deliveries in several execution environments, one email per upload.

    ``handler`` appends a key to ``outbox`` for each email. The check first plays an execution
    environment that already mailed two uploads (it writes their markers, ``bucket/key/sequencer``,
    to ``table``), then delivers every upload one to three times, some duplicates concurrently in a
    second environment. It wants one email per upload not mailed before, none for the two, a
    marker in ``table`` for every upload, and no failed invocation.
    """
    if not callable(handler):
        return report(EX2, [f"expected a function handler(event, context), got {short(handler)}"])
    if not isinstance(outbox, list):
        return report(EX2, [f"expected the outbox list, got {short(outbox)}"])
    ddb = lab.client("dynamodb")
    bucket = _fresh_bucket(lab, "ex2-invoices")
    records = _ex2_records(lab, bucket)
    try:
        for n in EX2_ALREADY_SENT:
            for marker in set(marker_ids(records[n])):
                ddb.put_item(TableName=table, Item={"id": {"S": marker}})
    except ClientError as error:
        return report(EX2, [f"could not write to the table {table!r} ({error.response['Error']['Code']}): "
                            "run the cell that creates it first"])
    outbox.clear()
    fn = lab.function(f"ex2-{bucket}", handler)
    results, raced = _deliver(ddb, fn, records)

    problems = []
    failed = [r for r in results if r.function_error]
    if failed:
        payload = failed[0].payload if isinstance(failed[0].payload, dict) else {}
        problems.append(f"{len(failed)} of {len(results)} invocations failed, first: {payload.get('errorType')}: "
                        f"{payload.get('errorMessage')} (a duplicate must end quietly: return, do not raise)")
    sent = Counter(unquote_plus(k) if isinstance(k, str) else k for k in outbox)
    wanted = Counter(key for n, key in enumerate(EX2_KEYS) if n not in EX2_ALREADY_SENT)
    raced_keys = {EX2_KEYS[n] for n in raced}
    for key in dict.fromkeys(EX2_KEYS):
        got, want = sent.get(key, 0), wanted.get(key, 0)
        if got == want:
            continue
        if want == 0:
            problems.append(f"{key!r} mailed {got} time(s), but another execution environment had already mailed "
                            f"it and its marker was in {table!r}: look in the table, not in memory (a set in one "
                            "environment is empty in the next)")
        elif got > want:
            raced = " (two copies ran at once, in two environments: a read then a write lets both through)" \
                if key in raced_keys else ""
            problems.append(f"{key!r} mailed {got} times for {want} upload(s): duplicate deliveries were mailed "
                            f"again{raced}; write the marker with a conditional put before mailing")
        else:
            why = " (it was uploaded twice: two sequencers, two emails)" if want > 1 else ""
            problems.append(f"{key!r} mailed {got} time(s) for {want} upload(s){why}")
    extra = sorted(str(k) for k in sent if k not in wanted and k not in EX2_KEYS)
    if extra:
        problems.append(f"unexpected entries in outbox, e.g. {extra[0]!r}: append the record's key")
    missing = [EX2_KEYS[n] for n, rec in enumerate(records) if not _has_marker(ddb, table, rec)]
    if missing:
        problems.append(f"no marker in {table!r} for {len(missing)} upload(s), e.g. {missing[0]!r}: write one per "
                        "upload with id 'bucket/key/sequencer' so every execution environment sees it")
    return report(EX2, problems)


def _deliver(ddb: Any, fn: Any, records: list[dict]) -> tuple[list[Any], set[int]]:
    """Invoke ``fn`` per EX2_DELIVERIES: the results, and the uploads whose race took place.

    A race runs the duplicate nested, in a second environment, as soon as the first copy's
    first DynamoDB call returns (a handler that never calls DynamoDB sees no race).
    """
    results: list[Any] = []
    raced: set[int] = set()
    pending: dict[str, Any] = {"event": None, "upload": None}

    def duplicate_now(**_: Any) -> None:
        event, pending["event"] = pending["event"], None
        if event is not None:
            raced.add(pending["upload"])
            results.append(fn.invoke(event))  # the first environment is busy: this one runs in another

    hook_id = f"lambda-lab-check-ex2-{id(fn)}"
    ddb.meta.events.register("after-call.dynamodb", duplicate_now, unique_id=hook_id)
    try:
        for step in EX2_DELIVERIES:
            race = isinstance(step, tuple)
            event = s3_events.event([copy.deepcopy(records[step[1] if race else step])])
            if race:
                pending["event"], pending["upload"] = copy.deepcopy(event), step[1]
            results.append(fn.invoke(event))
            pending["event"] = None
    finally:
        ddb.meta.events.unregister("after-call.dynamodb", unique_id=hook_id)
    return results, raced


def _has_marker(ddb: Any, table: str, record: dict) -> bool:
    for marker in set(marker_ids(record)):
        try:
            if "Item" in ddb.get_item(TableName=table, Key={"id": {"S": marker}}, ConsistentRead=True):
                return True
        except ClientError:
            return False
    return False


# --------------------------------------------------------------------------- Exercise 3
#: (key as stored, [(sequencer, eventTime), ...] oldest first, arrival order as indexes). The
#: latest of each key is the last in its list.
EX3_HISTORY = (
    # Sequencers of different lengths: as numbers the 18-digit one is larger, but right-padded
    # with zeros (S3's rule) the 16-digit one is later.
    ("my file.txt", [("0055B1C8D2A0F6B27C", "2024-01-01T00:00:00.100Z"),
                     ("0055B1C8D2A0F6B3", "2024-01-01T00:00:00.200Z")], [1, 0]),
    ("c++/résumé.pdf", [("0055B1C8D2A0F6C0", "2024-01-01T00:00:01.000Z"),
                        ("0055B1C8D2A0F6C0A1", "2024-01-01T00:00:01.000Z"),
                        ("0055B1C8D2A0F6C1", "2024-01-01T00:00:01.000Z")], [2, 0, 1]),
    # Same eventTime (S3 gives milliseconds), latest arriving first: "last wins" fails here...
    ("reports/daily 1.csv", [("0055B1C8D2A0F6D001", "2024-01-01T00:00:02.000Z"),
                             ("0055B1C8D2A0F6D002", "2024-01-01T00:00:02.000Z")], [1, 0]),
    # ...and latest arriving last: "first of the latest time wins" fails here.
    ("reports/daily 2.csv", [("0055B1C8D2A0F6D101", "2024-01-01T00:00:02.000Z"),
                             ("0055B1C8D2A0F6D102", "2024-01-01T00:00:02.000Z")], [0, 1]),
    # One event delivered twice (a duplicate: same sequencer): either copy is right.
    ("plain.txt", [("0055B1C8D2A0F6E0", "2024-01-01T00:00:03.000Z"),
                   ("0055B1C8D2A0F6E1", "2024-01-01T00:00:04.000Z")], [1, 0, 1]),
)


def _ex3_records() -> tuple[list[dict], dict[str, str]]:
    """Shuffled records and, per decoded key, the sequencer of its latest event."""
    ids = s3_events.S3Ids(random.Random(3))
    streams, latest = [], {}
    for key, history, arrival in EX3_HISTORY:
        made = []
        for size, (seq, time_iso) in enumerate(history, start=1):
            rec = s3_events.record(name="ObjectCreated:Put", bucket="b", key=key, time_iso=time_iso,
                                   region="us-east-1", ids=ids, epoch_s=1_704_067_200, configuration_id="c",
                                   size=size, etag="e")
            rec["s3"]["object"]["sequencer"] = seq
            made.append(rec)
        streams.append([copy.deepcopy(made[i]) for i in arrival])
        latest[key] = history[-1][0]
    # Interleave the keys, keeping each key's arrival order.
    records = []
    while any(streams):
        for stream in streams:
            if stream:
                records.append(stream.pop(0))
    return records, latest


def latest_per_key(fn: Callable[[list[dict]], dict[str, dict]]) -> Verdict:
    """Exercise 3: ``fn(records)`` returns, per decoded key, the record S3 produced last."""
    if not callable(fn):
        return report(EX3, [f"expected a function latest_per_key(records), got {short(fn)}"])
    records, latest = _ex3_records()
    try:
        got = fn(copy.deepcopy(records))
    except Exception as exc:  # the learner's bug is the message, not a crash of the check
        return report(EX3, [f"raised {type(exc).__name__}: {exc}"])
    if not isinstance(got, dict):
        return report(EX3, [f"expected a dict from each decoded key to a record, got {short(got)}"])
    problems = []
    if sorted(map(str, got)) != sorted(latest):
        problems.append(f"keys {sorted(map(str, got))} != {sorted(latest)} (decode them with unquote_plus)")
    for key, seq in latest.items():
        if key not in got:
            continue
        picked = got[key]
        try:
            picked_seq = picked["s3"]["object"]["sequencer"]
        except (TypeError, KeyError, IndexError):
            problems.append(f"{key!r}: expected an S3 record, got {short(picked)}")
            continue
        if picked_seq != seq:
            problems.append(f"{key!r}: picked the event with sequencer {picked_seq}, the latest is {seq} "
                            "(the latest has the greatest sequencer once the shorter one is right-padded with zeros: "
                            "compare sequencer_key(...) values)")
    return report(EX3, problems)
