"""Exercise checks for chapter 04_dynamodb_streams.

Each check sets up its own scenario in the learner's lab, with fresh names and values or ids
drawn at random, so only behaviour passes, never a typed-in value:

- ``to_python``: a fresh table with a ``NEW_IMAGE`` stream gets three items holding every
  DynamoDB type (fractional numbers, binary at the top and inside a map, sets, lists, maps
  nested two deep), written through ``lab.client("dynamodb")``; a stream mapping hands each
  record's ``NewImage`` to the learner's ``fn``, which must return the item boto3's Table
  resource would: ``Decimal``, ``bytes``, ``set``, ``list``, ``dict``, ``None``, ``bool``, at any
  depth, types compared as well as values.
- ``unblocked``: writes good orders and two poison orders into the chapter's table and runs the
  learner's own mapping for half an hour of virtual time. Every good order must be processed
  within 5 minutes of being written and never skipped; each poison order must end in the
  chapter's queue (inside the ``DDBStreamBatchInfo`` range of an invocation record there). The
  learner's mapping stays as it is; the records are told apart from earlier runs' by reading the
  stream (public ``dynamodbstreams`` calls) from where it ended before the writes.
- ``exactly_once``: a fresh users table's stream feeds a function that runs the learner's handler
  and then crashes on the first delivery of each batch (after the side effects, so Lambda
  delivers the batch again). Two users join, one changes, one leaves and comes back. The
  welcomes counted in ``ex3-welcomes`` must be one per INSERT, every record must end processed,
  and the deduplication must be a conditional write (a set in memory passes in the lab only
  because the lab runs one execution environment).
"""

from __future__ import annotations

import json
import random
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

from botocore.exceptions import ClientError

from . import Verdict, fresh_name, report, short
from .. import ledger as L

if TYPE_CHECKING:
    from ..lab import Lab

Handler = Callable[[Any, Any], Any]

EX1 = "Exercise 1 (DynamoDB JSON into Python)"
EX2 = "Exercise 2 (a poison record must not block the shard)"
EX3 = "Exercise 3 (exactly one welcome per new user)"


def _tables(lab: "Lab") -> set[str]:
    ddb = lab.client("dynamodb")
    return {name for page in ddb.get_paginator("list_tables").paginate() for name in page["TableNames"]}


def _fresh(lab: "Lab", prefix: str) -> str:
    """A name no table or function of this lab has yet."""
    return fresh_name(lab, prefix, _tables(lab))


def _table_with_stream(lab: "Lab", name: str, key: str, view_type: str) -> str:
    """Create table ``name`` (hash key ``key``, a string) with a stream; return the stream ARN."""
    ddb = lab.client("dynamodb")
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type})
    return ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]


def _remove(lab: "Lab", mapping: Any, table: str) -> None:
    """Undo a check's own scenario: stop its mapping, forget it, delete its table."""
    if mapping is not None:
        mapping.stop()
        if mapping in lab.sources:
            lab.sources.remove(mapping)
    try:
        lab.client("dynamodb").delete_table(TableName=table)
    except ClientError:
        pass


def _mappings() -> type:
    from ..sources.dynamodb import StreamEventSourceMapping

    return StreamEventSourceMapping


# --------------------------------------------------------------------------- Exercise 1
#: The type descriptors of DynamoDB JSON: a dict with exactly one of these keys is a typed value.
TYPE_KEYS = frozenset({"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"})


def _number(rng: random.Random) -> Decimal:
    """A fractional number whose last digit is not 0 (so its text round-trips as written)."""
    return Decimal(f"{rng.randint(1, 999)}.{rng.randint(0, 9)}{rng.randint(1, 9)}")


def _item(rng: random.Random, item_id: str) -> dict[str, Any]:
    """An item as boto3's Table resource returns it, with every DynamoDB type, maps two deep."""
    return {
        "id": item_id,
        "name": f"lamp {secrets.token_hex(3)}",
        "price": _number(rng),
        "stock": Decimal(rng.randint(0, 500)),
        "photo": secrets.token_bytes(rng.randint(4, 12)),
        "on_sale": rng.random() < 0.5,
        "discontinued": None,
        "tags": {f"tag-{secrets.token_hex(2)}" for _ in range(3)},
        "sizes": {_number(rng) for _ in range(3)},
        "thumbnails": {secrets.token_bytes(6) for _ in range(2)},
        "history": [_number(rng), f"note {secrets.token_hex(2)}", True, None,
                    {"when": f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", "qty": _number(rng)}],
        "details": {
            "maker": f"maker {secrets.token_hex(2)}",
            "weight_kg": _number(rng),
            "checksum": secrets.token_bytes(8),
            "dimensions": {"width_cm": _number(rng), "height_cm": _number(rng), "glass": rng.random() < 0.5},
            "colors": {f"c-{secrets.token_hex(2)}" for _ in range(2)},
            "parts": [{"serial": secrets.token_bytes(4)}, _number(rng)],
        },
    }


def _is_binary(value: Any) -> bool:
    from boto3.dynamodb.types import Binary

    return isinstance(value, (bytes, bytearray, Binary))


def _as_bytes(value: Any) -> bytes:
    return bytes(value.value) if hasattr(value, "value") else bytes(value)


def _is_attribute_value(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in TYPE_KEYS


def _mismatch(expected: Any, got: Any, path: str) -> tuple[str, str, Any, Any] | None:
    """The first place ``got`` differs from ``expected``: (path, kind of mistake, expected, got), or None."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return path, _kind(expected, got, path), expected, got
        if _is_attribute_value(got) and not _is_attribute_value(expected):
            return path, "still typed", expected, got
        missing = [k for k in expected if k not in got]
        if missing:
            return path, "missing", missing, sorted(got, key=str)
        for key in expected:
            found = _mismatch(expected[key], got[key], f"{path}.{key}" if path else key)
            if found:
                return found
        extra = [k for k in got if k not in expected]
        return (path, "extra", expected, extra) if extra else None
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return path, _kind(expected, got, path), expected, got
        for n, (e, g) in enumerate(zip(expected, got)):
            found = _mismatch(e, g, f"{path}[{n}]")
            if found:
                return found
        return None
    if isinstance(expected, set):
        if not isinstance(got, (set, frozenset)):
            return path, _kind(expected, got, path), expected, got
        sample = next(iter(expected))
        for element in got:
            found = _mismatch(sample, element, f"{path} (an element)")
            if found and found[1] not in ("other", "binary other"):
                return found  # the elements have the wrong type: say which
        if _is_binary(sample):
            same = {_as_bytes(g) for g in got if _is_binary(g)} == {_as_bytes(e) for e in expected}
            same = same and all(_is_binary(g) for g in got)
        else:
            same = got == expected and all(type(g) is type(sample) for g in got)
        return None if same else (path, "other", expected, got)
    if _is_binary(expected):
        if _is_binary(got) and _as_bytes(got) == _as_bytes(expected):
            return None
        return path, _kind(expected, got, path), expected, got
    if isinstance(expected, bool) or expected is None or isinstance(expected, (str, Decimal)):
        if type(got) is type(expected) and got == expected:
            return None
        return path, _kind(expected, got, path), expected, got
    raise TypeError(f"unexpected value in the check's item: {expected!r}")  # the check's own bug


def _kind(expected: Any, got: Any, path: str) -> str:
    """What kind of mistake turns ``expected`` into ``got``."""
    if _is_attribute_value(got):
        return "still typed"
    if isinstance(expected, Decimal):
        if isinstance(got, float):
            return "float"
        if isinstance(got, int) and not isinstance(got, bool):
            return "int"
        if isinstance(got, str):
            return "number text"
    if _is_binary(expected):
        if isinstance(got, str):
            return "base64"
        return "binary other"
    if isinstance(expected, set) and isinstance(got, (list, tuple)):
        return "set as list"
    if expected is None and got is True:
        return "null"
    return "other"


#: What each kind of mistake teaches (formatted with the path, expected and got values).
_EX1_HINTS = {
    "float": "at {path}, the number came back as a float ({got!r}): boto3 gives every N as decimal.Decimal "
             "(Decimal(text)), because a float cannot hold a price like 19.99 exactly: float instead of Decimal",
    "int": "at {path}, the number came back as an int ({got!r}): boto3 gives every N, whole or not, as "
           "decimal.Decimal (Decimal(text))",
    "number text": "at {path}, the number is still text ({got!r}): an N holds a number written as a string; "
                   "make it decimal.Decimal(text)",
    "base64": "at {path}, the binary value is still base64 text ({got!r}): stream events carry binary (B, BS) as "
              "base64 text: decode it with base64.b64decode to get bytes",
    "binary other": "at {path}, expected bytes {expected!r}, got {got!r}: decode the base64 text of B and BS "
                    "with base64.b64decode",
    "set as list": "at {path}, got a list ({got!r}): SS, NS and BS are sets (of str, Decimal and bytes), as "
                   "boto3 returns them; L is the list",
    "null": "at {path}, got True: {{'NULL': True}} means the value is None",
    "still typed": "nested values not converted: at {path} there is still DynamoDB JSON ({got!r}); an M (map) "
                   "and an L (list) hold typed values too: convert them at any depth (recursively)",
    "missing": "attribute(s) {expected!r} missing at {path!s}: the result must hold every attribute of the image",
    "extra": "unexpected attribute(s) {got!r} at {path!s}: the result must hold the image's attributes only",
    "other": "at {path}: expected {expected!r} ({expected_type}), got {got!r} ({got_type})",
}


def _hint(found: tuple[str, str, Any, Any]) -> str:
    path, kind, expected, got = found
    return _EX1_HINTS[kind].format(path=path or "the top level", expected=_Short(expected), got=_Short(got),
                                   expected_type=type(expected).__name__, got_type=type(got).__name__)


class _Short:
    """Formats as a shortened repr (``{x!r}`` in a hint stays readable for big values)."""

    def __init__(self, value: Any):
        self.value = value

    def __repr__(self) -> str:
        return short(self.value, 60)

    __str__ = __repr__


def _error_hint(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, TypeError) and "bytearray" in str(error) and "bytes" in str(error):
        return (f"fn raised {text}. That is boto3's TypeDeserializer meeting binary: stream events carry binary "
                f"as base64 text: decode it first (base64.b64decode), in B and BS at any depth, then deserialize")
    return f"fn raised {text}"


def to_python(lab: "Lab", fn: Callable[[Any], Any]) -> Verdict:
    """Exercise 1: ``fn(image)`` turns a stream record's NewImage into the item boto3's Table resource returns."""
    if not callable(fn):
        return report(EX1, [f"expected a function fn(image), got {short(fn)}"])
    rng = random.Random(secrets.randbits(64))
    name = _fresh(lab, "ex1-check")
    arn = _table_with_stream(lab, name, "id", "NEW_IMAGE")
    results: dict[str, Any] = {}  # item id -> what fn returned, or the exception it raised
    images: dict[str, Any] = {}

    def apply_fn(event: dict, context: Any) -> None:
        for record in event["Records"]:
            image = record["dynamodb"]["NewImage"]
            item_id = record["dynamodb"]["Keys"]["id"]["S"]
            images[item_id] = json.loads(json.dumps(image))  # a copy fn cannot change
            try:
                results[item_id] = fn(image)
            except Exception as exc:  # the learner's bug is the check's finding
                results[item_id] = _Raised(exc)

    mapping = None
    try:
        mapping = lab.stream_trigger(arn, lab.function(name, apply_fn, timeout_s=10), batch_size=10)
        expected = {}
        from boto3.dynamodb.types import TypeSerializer

        serializer = TypeSerializer()
        for _ in range(3):
            item = _item(rng, f"item-{secrets.token_hex(4)}")
            expected[item["id"]] = item
            lab.client("dynamodb").put_item(TableName=name, Item={k: serializer.serialize(v) for k, v in item.items()})
        lab.run(5)
    finally:
        _remove(lab, mapping, name)
    problems: list[str] = []
    if set(results) != set(expected):
        return report(EX1, [f"the check's mapping delivered {len(results)} of {len(expected)} records; "
                            f"is the lab running? (a bug in the check if it persists)"])
    for item_id, item in expected.items():
        got = results[item_id]
        if isinstance(got, _Raised):
            problems.append(_error_hint(got.error))
            break
        if got is None:
            problems.append("fn returned None: return the item as a dict of Python values")
            break
        if not isinstance(got, dict):
            problems.append(f"return the item as a dict of attribute name -> value, got {short(got)}")
            break
        try:
            unchanged = got == images[item_id]
            found = None if unchanged else _mismatch(item, got, "")
        except Exception as exc:  # a value that cannot even be compared
            problems.append(f"the result cannot be compared with the item ({type(exc).__name__}: {exc}): return "
                            f"plain Python values")
            break
        if unchanged:
            problems.append("fn returned the DynamoDB JSON unchanged (values like {'S': ...} and {'N': '19.99'}): "
                            "turn each typed value into the Python value it holds")
            break
        if found:
            problems.append(_hint(found))
            break
    return report(EX1, problems)


class _Raised:
    def __init__(self, error: BaseException):
        self.error = error


# --------------------------------------------------------------------------- Exercise 2
#: Good orders and where the two poison orders go among them (positions in the writes).
EX2_GOOD, EX2_POISON_AT = 10, (3, 8)
#: How long the check runs the lab (virtual seconds) and how long a good order may wait.
EX2_RUN_S, EX2_MAX_WAIT_S = 1800, 300


def _queue_url(lab: "Lab", queue: str) -> str | None:
    if queue.startswith(("http://", "https://")):
        return queue
    try:
        return lab.client("sqs").get_queue_url(QueueName=queue.rsplit(":", 1)[-1])["QueueUrl"]
    except ClientError:
        return None


def _latest_iterators(lab: "Lab", stream_arn: str) -> list[str]:
    """An iterator at the end of each open shard: what is read from it was written after this call."""
    streams = lab.client("dynamodbstreams")
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    return [streams.get_shard_iterator(StreamArn=stream_arn, ShardId=s["ShardId"],
                                       ShardIteratorType="LATEST")["ShardIterator"]
            for s in shards if "EndingSequenceNumber" not in s.get("SequenceNumberRange", {})]


def _read_new(lab: "Lab", iterators: list[str]) -> list[dict]:
    """The stream records after ``iterators`` (GetRecords, as the boto3 client returns them)."""
    streams = lab.client("dynamodbstreams")
    records: list[dict] = []
    for iterator in iterators:
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records.extend(page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


def _failure_ranges(lab: "Lab", queue_url: str) -> list[tuple[int, int]]:
    """The (start, end) sequence-number ranges of the invocation records in the queue, left visible."""
    from ..helpers.sqs import receive_all

    sqs = lab.client("sqs")
    messages = receive_all(lab, queue_url)
    ranges = []
    for message in messages:
        try:
            info = json.loads(message["Body"])["DDBStreamBatchInfo"]
            ranges.append((int(info["startSequenceNumber"]), int(info["endSequenceNumber"])))
        except (ValueError, KeyError, TypeError):
            continue  # not an invocation record: someone else's message
    for start in range(0, len(messages), 10):  # visible again: the queue is left as it was
        sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for n, m in enumerate(messages[start:start + 10])])
    return ranges


def _active(mapping: Any) -> bool:
    return bool(mapping.enabled) and not mapping.stopped


def _ex2_mapping(lab: "Lab", table: str, function: str) -> tuple[Any, list[str]]:
    """The learner's one active mapping of ``table`` to ``function``, or the problems that stop the check."""
    mappings = [s for s in lab.sources if isinstance(s, _mappings())]
    on_table = [m for m in mappings if m.table == table]
    mine = [m for m in on_table if m.fn.name == function and _active(m)]
    if len(mine) == 1:
        return mine[0], []
    if len(mine) > 1:
        return None, [f"{len(mine)} enabled mappings read the stream of table {table!r} into {function!r}: each "
                      f"reads every record, so each record is processed twice. Stop the old one (mapping.stop()) "
                      f"and keep one"]
    others = sorted({m.fn.name for m in on_table if _active(m)})
    if others:
        return None, [f"the mapping on the stream of table {table!r} invokes {', '.join(map(repr, others))}, not "
                      f"{function!r}: map the stream to the exercise's function (lab.runtime.functions[{function!r}])"]
    if on_table:
        return None, [f"the mapping on the stream of table {table!r} is disabled or stopped: create one with "
                      f"lab.stream_trigger(stream_arn, fn, ...), fn being the function {function!r}"]
    elsewhere = sorted({m.table for m in mappings if m.fn.name == function and _active(m)})
    if elsewhere:
        return None, [f"{function!r} reads the stream of {', '.join(map(repr, elsewhere))}, not of {table!r}: use "
                      f"the LatestStreamArn of table {table!r} (describe_table)"]
    return None, [f"no lab.stream_trigger reads the stream of table {table!r} into {function!r}: create one with "
                  f"lab.stream_trigger(stream_arn, fn, ...), fn being the function {function!r}"]


def unblocked(lab: "Lab", table: str, queue: str, function: str = "ex2") -> Verdict:
    """Exercise 2: with the learner's mapping, a poison record ends in ``queue`` and blocks no good record.

    Writes good orders and two poison orders (a negative amount, which ``function`` refuses)
    into ``table``, runs the lab for 30 virtual minutes and reads where each record ended.
    ``queue`` is the queue's URL or name.
    """
    if not isinstance(table, str) or not isinstance(queue, str) or not isinstance(function, str):
        return report(EX2, [f"expected the table's name, the queue's URL and the function's name, got "
                            f"{short(table, 40)}, {short(queue, 40)}, {short(function, 40)}"])
    ddb = lab.client("dynamodb")
    try:
        stream_arn = ddb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
    except ClientError:
        return report(EX2, [f"there is no table {table!r} in the lab: run the exercise's set-up cell"])
    if not stream_arn:
        return report(EX2, [f"table {table!r} has no stream: run the exercise's set-up cell"])
    queue_url = _queue_url(lab, queue)
    if queue_url is None:
        return report(EX2, [f"there is no queue {queue!r} in the lab: run the exercise's set-up cell"])
    mapping, problems = _ex2_mapping(lab, table, function)
    if mapping is None:
        return report(EX2, problems)
    iterators = _latest_iterators(lab, stream_arn)
    kinds: dict[str, str] = {}  # order id -> "good" or "poison"
    rng = random.Random(secrets.randbits(64))
    for n in range(EX2_GOOD + len(EX2_POISON_AT)):
        poison = n in EX2_POISON_AT
        order_id = f"o-{secrets.token_hex(4)}"
        amount = -rng.randint(1, 99) if poison else rng.randint(1, 500)
        kinds[order_id] = "poison" if poison else "good"
        ddb.put_item(TableName=table, Item={"order_id": {"S": order_id}, "amount": {"N": str(amount)}})
    written = {}  # sequence number -> "good" or "poison"
    for record in _read_new(lab, iterators):
        order_id = record["dynamodb"].get("NewImage", {}).get("order_id", {}).get("S")
        if order_id in kinds:
            written[record["dynamodb"]["SequenceNumber"]] = kinds[order_id]
    lab.run(EX2_RUN_S)
    rows = lab.outcomes(function, source="dynamodb")
    rows = {row.item: row for row in rows[rows["item"].isin(list(written))].itertuples()}
    ranges = _failure_ranges(lab, queue_url)
    return report(EX2, _ex2_problems(mapping, written, rows, ranges, queue_url, lab))


def _ex2_problems(mapping: Any, written: dict[str, str], rows: dict[str, Any], ranges: list[tuple[int, int]],
                  queue_url: str, lab: "Lab") -> list[str]:
    """What went wrong for the records the check wrote, each said once, in a fixed order."""
    good = [s for s, kind in written.items() if kind == "good"]
    poison = [s for s, kind in written.items() if kind == "poison"]
    retries, age = mapping.maximum_retry_attempts, mapping.maximum_record_age_s
    problems: list[str] = []

    unread = [s for s in written if s not in rows]
    if unread:
        problems.append(f"{len(unread)} of the {len(written)} records the check wrote never reached the function: "
                        f"does the mapping filter them out, or was it made with another stream?")
    waiting = [s for s in good if s in rows and rows[s].ending == L.PENDING]
    late = [rows[s].ended - rows[s].accepted for s in good
            if s in rows and rows[s].ending == L.PROCESSED and rows[s].ended - rows[s].accepted > EX2_MAX_WAIT_S]
    if waiting:
        if not mapping.bisect and retries == -1:
            why = ("the shard is blocked: with the defaults Lambda retries a failing batch, whole, until its "
                   "records expire from the stream (24 h), and every record behind it waits. Limit the retries "
                   "(maximum_retry_attempts), split the failing batch (bisect_batch_on_function_error=True) and "
                   "send what still fails to the queue (on_failure)")
        elif retries == -1:
            why = ("bisect isolates the poison record, but with maximum_retry_attempts=-1 it is retried alone "
                   "until it expires (24 h), and the records behind it wait: limit the retries too")
        else:
            why = (f"maximum_retry_attempts={retries} keeps retrying the poison record for too long: the records "
                   f"behind it wait; a few retries are enough")
        problems.append(f"{len(waiting)} good order(s) still wait after {EX2_RUN_S // 60} minutes: {why}")
    if late:
        problems.append(f"good orders waited up to {max(late):.0f} s behind the poison record (at most "
                        f"{EX2_MAX_WAIT_S} s allowed): fewer retries (maximum_retry_attempts) free the shard sooner")

    skipped = [s for s in good if s in rows and rows[s].ending in (L.DESTINATION, L.DROPPED)]
    if skipped:
        where = " ".join(str(rows[s].where) for s in skipped)
        if "RecordAgeExceeded" in where:
            problems.append(f"{len(skipped)} good order(s) were skipped ({_ending_words(rows, skipped)}) when they "
                            f"passed maximum_record_age_s={age}: records written with the poison are as old as it, "
                            f"so they age out while they wait behind it. Limit the retries instead "
                            f"(maximum_retry_attempts){'' if mapping.bisect else ' and bisect the batch'}")
        elif not mapping.bisect:
            problems.append(f"{len(skipped)} good order(s) were skipped with the poison "
                            f"({_ending_words(rows, skipped)}): without bisect the whole failing batch is given up "
                            f"on. Turn on bisect_batch_on_function_error so the batch is split until the poison "
                            f"record is alone")
        else:
            problems.append(f"{len(skipped)} good order(s) were skipped ({_ending_words(rows, skipped)}): "
                            f"{short(rows[skipped[0]].where, 120)}")

    queue_name = queue_url.rsplit("/", 1)[-1]
    for s in poison:
        row = rows.get(s)
        if row is None or row.ending == L.PENDING:
            continue  # said above: unread, or blocking the shard
        inside = any(start <= int(s) <= end for start, end in ranges)
        if row.ending == L.DROPPED:
            if mapping.on_failure is None:
                problems.append("the poison record was dropped: Lambda gave up on it and nothing kept a trace. Give "
                                f"the mapping an on-failure destination: on_failure=<the ARN of {queue_name!r}>")
            else:
                problems.append(f"the poison record was dropped: {short(row.where, 120)}")
        elif row.ending == L.PROCESSED:
            problems.append("the poison record ended processed: the function must still fail on it (the exercise "
                            "changes the mapping, not the handler)")
        elif not inside:
            problems.append(f"the poison record went to {str(row.where).split(' ')[0]}, not to {queue_name!r}: "
                            f"set on_failure to the queue's ARN, lab.arn('sqs', {queue_name!r})")
    return list(dict.fromkeys(problems))


def _ending_words(rows: dict[str, Any], sequences: list[str]) -> str:
    endings = sorted({rows[s].ending for s in sequences})
    words = {L.DESTINATION: "sent to the on-failure destination", L.DROPPED: "dropped"}
    return " or ".join(words.get(e, e) for e in endings)


# --------------------------------------------------------------------------- Exercise 3
#: The chapter's tables: welcomes sent per user, and the eventIDs already handled.
EX3_WELCOMES, EX3_SEEN = "ex3-welcomes", "ex3-seen"
#: Operations whose ConditionExpression makes a write conditional (what a dedupe needs).
CONDITIONAL_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems")
#: Retries of the check's mapping: the crash costs one; a handler that keeps failing ends dropped.
EX3_RETRIES = 2


class CrashAfterWork(RuntimeError):
    """The check's crash after the handler returned: Lambda delivers the batch again."""


def _has_condition(params: Any) -> bool:
    if isinstance(params, dict):
        return "ConditionExpression" in params or "Expected" in params or any(
            _has_condition(v) for v in params.values())
    if isinstance(params, list):
        return any(_has_condition(v) for v in params)
    return False


def _welcomes(lab: "Lab", users: list[str]) -> dict[str, int] | None:
    """Welcomes sent to each of ``users`` (the ``sent`` counter in ex3-welcomes), or None without the table."""
    ddb = lab.client("dynamodb")
    counts = {}
    try:
        for user in users:
            item = ddb.get_item(TableName=EX3_WELCOMES, Key={"user_id": {"S": user}}, ConsistentRead=True).get("Item")
            counts[user] = int(Decimal(item["sent"]["N"])) if item and "sent" in item else 0
    except (ClientError, KeyError, ValueError):
        return None
    return counts


def exactly_once(lab: "Lab", handler: Handler) -> Verdict:
    """Exercise 3: one welcome per INSERT, also when Lambda delivers a batch twice; a conditional write dedupes."""
    if not callable(handler):
        return report(EX3, [f"expected a function handler(event, context), got {short(handler)}"])
    missing = [t for t in (EX3_WELCOMES, EX3_SEEN) if t not in _tables(lab)]
    if missing:
        return report(EX3, [f"there is no table {' or '.join(map(repr, missing))} in the lab: run the exercise's "
                            f"set-up cell"])
    name = _fresh(lab, "ex3-users")
    arn = _table_with_stream(lab, name, "user_id", "NEW_AND_OLD_IMAGES")
    u1, u2 = f"u-{secrets.token_hex(4)}", f"u-{secrets.token_hex(4)}"
    delivered: set[tuple[str, ...]] = set()
    deliveries: list[tuple[bool, dict[str, int] | None]] = []  # (first delivery?, welcomes after it)
    errors: list[BaseException] = []

    def crash_after(event: dict, context: Any) -> Any:
        batch = tuple(r["eventID"] for r in event["Records"])
        first = batch not in delivered
        delivered.add(batch)
        try:
            result = handler(event, context)
        except Exception as exc:  # the learner's bug is the check's finding; Lambda retries
            errors.append(exc)
            raise
        finally:
            deliveries.append((first, _welcomes(lab, [u1, u2])))
        if first:
            raise CrashAfterWork("the check crashed after the handler returned: Lambda delivers this batch again")
        return result

    conditional = [0]

    def count_conditional(params: Any = None, model: Any = None, **_: Any) -> None:
        if model is not None and model.name in CONDITIONAL_WRITES and _has_condition(params):
            conditional[0] += 1

    events = lab.client("dynamodb").meta.events
    hook = f"lambda-lab-check-ex3-{name}"
    mapping = None
    try:
        events.register("before-parameter-build.dynamodb", count_conditional, unique_id=hook)
        fn = lab.function(name, crash_after, timeout_s=10)
        mapping = lab.stream_trigger(arn, fn, maximum_retry_attempts=EX3_RETRIES)
        ddb = lab.client("dynamodb")
        ddb.put_item(TableName=name, Item={"user_id": {"S": u1}, "name": {"S": "Ada"}})
        ddb.put_item(TableName=name, Item={"user_id": {"S": u2}, "name": {"S": "Grace"}})
        ddb.update_item(TableName=name, Key={"user_id": {"S": u1}}, UpdateExpression="SET #n = :n",
                        ExpressionAttributeNames={"#n": "name"}, ExpressionAttributeValues={":n": {"S": "Ada L."}})
        ddb.delete_item(TableName=name, Key={"user_id": {"S": u2}})
        ddb.put_item(TableName=name, Item={"user_id": {"S": u2}, "name": {"S": "Grace H."}})
        lab.run(60)
    finally:
        events.unregister("before-parameter-build.dynamodb", unique_id=hook)
        _remove(lab, mapping, name)
    rows = lab.outcomes(name, source="dynamodb")
    final = _welcomes(lab, [u1, u2])
    return report(EX3, _ex3_problems(rows, deliveries, errors, final, conditional[0], u1, u2))


def _ex3_problems(rows: Any, deliveries: list, errors: list[BaseException], final: dict[str, int] | None,
                  conditional: int, u1: str, u2: str) -> list[str]:
    problems: list[str] = []
    inserts, wanted = 3, {u1: 1, u2: 2}
    if errors:
        error = errors[-1]
        response = getattr(error, "response", None)
        code = (response.get("Error") or {}).get("Code", "") if isinstance(response, dict) else ""
        if "ConditionalCheckFailed" in type(error).__name__ or code == "ConditionalCheckFailedException":
            problems.append("the handler let ConditionalCheckFailedException escape when the batch came again, so the "
                            "batch fails on every retry, forever (until its records expire): catch it "
                            "(ddb.exceptions.ConditionalCheckFailedException): it means this record was handled "
                            "already, skip it")
        else:
            problems.append(f"the handler raised {type(error).__name__}: {short(str(error), 150)}")
    not_processed = [r for r in rows.itertuples() if r.ending != L.PROCESSED]
    if len(rows) == 0:
        problems.append("no record reached the handler (a bug in the check if it persists)")
    elif not_processed and not errors:
        problems.append(f"{len(not_processed)} record(s) ended {not_processed[0].ending!r}, not processed")
    if final is None:
        problems.append(f"could not read {EX3_WELCOMES!r}: run the exercise's set-up cell")
        return problems
    first = next((counts for is_first, counts in deliveries if is_first and counts is not None), None)
    if first is not None and not errors:
        if first == {u1: 0, u2: 0}:
            problems.append("nobody was welcomed: call send_welcome(user_id) for each INSERT record "
                            "(the user id is in record['dynamodb']['Keys']['user_id']['S'])")
        else:
            if first[u1] > 1:
                problems.append(f"a user inserted once and then modified was welcomed {first[u1]} times in one "
                                f"delivery: welcome on INSERT only (a MODIFY is an existing user changing)")
            if first[u2] == 1:
                problems.append("a user who left (REMOVE) and came back (a new INSERT) was not welcomed again: "
                                "deduplicate on the record's eventID, not on the user id; a user who comes back is "
                                "a new INSERT with a new eventID")
            elif first[u2] > 2:
                problems.append(f"a user with two INSERTs and a REMOVE was welcomed {first[u2]} times in one "
                                f"delivery: welcome on INSERT only")
    if first is not None and any(final[u] > first[u] for u in (u1, u2)):
        problems.append("users were welcomed again when Lambda delivered the batch again after a crash (at-least-once "
                        "processing): make a conditional put of the record's eventID into 'ex3-seen' "
                        "(ConditionExpression='attribute_not_exists(eventID)') first, and send only when it succeeds")
    if not problems and final != wanted:
        problems.append(f"welcomes sent: {final[u1]} and {final[u2]}, expected {wanted[u1]} (one INSERT) and "
                        f"{wanted[u2]} (two INSERTs)")
    if not problems and conditional < inserts:
        problems.append(f"welcomes are right here, but no conditional write remembers what was handled "
                        f"({conditional} put_item with a ConditionExpression through lab.client('dynamodb') for "
                        f"{inserts} INSERTs). A set in memory works in the lab only because it runs one execution "
                        f"environment; on AWS each environment has its own memory, and a retry can land in "
                        f"another. Deduplicate with a conditional put into 'ex3-seen'")
    return problems
