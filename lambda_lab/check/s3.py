"""Exercise checks for chapter 01_s3. Each check runs the learner's code in the chapter's lab."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import unquote_plus

from . import Verdict, report
from ..events import s3 as s3_events

if TYPE_CHECKING:
    from ..lab import Lab

#: Keys that break handlers which forget to decode (spaces, unicode, '+', '=', slashes).
AWKWARD_KEYS = ("plain.txt", "my photos/ça va.jpg", "c++ notes.txt", "year=2024/month=01/data 1.csv", "日本/写真.png")


def _fresh_bucket(lab: "Lab", name: str) -> str:
    s3 = lab.client("s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    n = 1
    while f"{name}-{n}" in existing:
        n += 1
    s3.create_bucket(Bucket=f"{name}-{n}")
    return f"{name}-{n}"


def decoded_keys(lab: "Lab", handler: Callable[[Any, Any], Any]) -> Verdict:
    """Exercise 1: ``handler`` reads every uploaded object, whatever its key, and returns its text."""
    bucket = _fresh_bucket(lab, "ex1-uploads")
    name = f"ex1-{bucket}"
    fn = lab.function(name, handler, maximum_retry_attempts=0)
    lab.s3_trigger(bucket, fn)
    for key in AWKWARD_KEYS:
        lab.client("s3").put_object(Bucket=bucket, Key=key, Body=f"contents of {key}".encode())
    lab.run_until_idle()
    problems = []
    for inv in lab.log:
        if inv.function != name or inv.outcome == "dropped":  # a dropped row repeats the failure
            continue
        key = inv.items[0] if inv.items else "?"
        if inv.outcome != "success":
            problems.append(f"{key!r}: {inv.error_type}: {inv.error_message}")
        elif inv.result != f"contents of {key}":
            problems.append(f"{key!r}: returned {inv.result!r}, expected the object's text")
    ran = {inv.items[0] for inv in lab.log if inv.function == name and inv.items}
    problems += [f"{key!r} was never handled" for key in AWKWARD_KEYS if key not in ran]
    return report("Exercise 1 (decode the key)", problems)


def idempotent(lab: "Lab", handler: Callable[[Any, Any], Any], outbox: list[str], uploads: int = 20) -> Verdict:
    """Exercise 2: with duplicate deliveries, ``handler`` sends one message per upload to ``outbox``."""
    outbox.clear()
    bucket = _fresh_bucket(lab, "ex2-invoices")
    name = f"ex2-{bucket}"
    fn = lab.function(name, handler)
    fn.configure_async(duplicate_rate=0.5)
    lab.s3_trigger(bucket, fn)
    keys = [f"invoice {i:03d}.pdf" for i in range(uploads)]
    for key in keys:
        lab.client("s3").put_object(Bucket=bucket, Key=key, Body=b"%PDF")
    lab.run_until_idle()
    runs = sum(1 for inv in lab.log if inv.function == name and inv.outcome == "success")
    problems = []
    if runs <= uploads:
        problems.append(f"expected some duplicate deliveries, saw {runs} runs for {uploads} uploads")
    sent = [unquote_plus(k) for k in outbox]
    missing = sorted(set(keys) - set(sent))
    twice = sorted(k for k in set(sent) if sent.count(k) > 1)
    if missing:
        problems.append(f"{len(missing)} upload(s) never sent, e.g. {missing[0]!r}")
    if twice:
        problems.append(f"{len(twice)} upload(s) sent more than once, e.g. {twice[0]!r} ({sent.count(twice[0])} times)")
    failed = [inv for inv in lab.log if inv.function == name and inv.outcome != "success"]
    if failed:
        problems.append(f"{len(failed)} invocation(s) failed, first: {failed[0].error_type}: {failed[0].error_message}")
    return report("Exercise 2 (idempotent handler)", problems)


def latest_per_key(fn: Callable[[list[dict]], dict[str, dict]]) -> Verdict:
    """Exercise 3: ``fn(records)`` returns, per decoded key, the record S3 produced last."""
    rng = random.Random(1)
    ids = s3_events.S3Ids(random.Random(2))
    records, expected = [], {}
    for step in range(12):
        key = rng.choice(["a.txt", "my file.txt", "b/c.txt"])
        rec = s3_events.record(name="ObjectCreated:Put", bucket="b", key=key, time_iso="2024-01-01T00:00:00.000Z",
                               region="us-east-1", ids=ids, epoch_s=1_704_067_200 + step, configuration_id="c",
                               size=step, etag="e")
        # S3 does not promise equal lengths: shorten some to test the right-padding rule.
        seq = rec["s3"]["object"]["sequencer"]
        rec["s3"]["object"]["sequencer"] = seq.rstrip("0") or seq
        records.append(rec)
        expected[key] = rec
    rng.shuffle(records)
    problems = []
    try:
        got = fn(records)
    except Exception as exc:  # the learner's bug is the message, not a crash of the check
        return report("Exercise 3 (order with the sequencer)", [f"raised {type(exc).__name__}: {exc}"])
    if not isinstance(got, dict):
        return report("Exercise 3 (order with the sequencer)", [f"expected a dict, got {type(got).__name__}"])
    if sorted(got) != sorted(expected):
        problems.append(f"keys {sorted(got)} != {sorted(expected)} (decode them with unquote_plus)")
    for key, rec in expected.items():
        if key in got and got[key] is not rec and got[key] != rec:
            problems.append(f"{key!r}: picked size {got[key]['s3']['object'].get('size')}, the latest was size "
                            f"{rec['s3']['object']['size']}")
    return report("Exercise 3 (order with the sequencer)", problems)
