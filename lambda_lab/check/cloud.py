"""Exercise checks for chapter 08_to_the_cloud.

Each check runs its own scenario in the learner's lab, with order ids and totals drawn at random,
so only behaviour passes, never a typed-in value.

- ``travels``: the handler must be exportable (``lambda_lab.cloud.handlers``); the check exports
  it, imports the exported file as a module of its own (so nothing of the notebook is there), and
  invokes **that** function with an SQS event of orders it made up; every order must then be in
  the table ``ex1-orders`` with ``order_id`` a string and ``total`` the number sent.
- ``reviewed``: exports the lab, and every ``review`` row of the mapping's function must be ok;
  then writes orders to the mapping's table, one with a negative total at a random place, and runs
  the lab for at most an hour of virtual time: the good ones must be processed, the bad one must
  reach the on-failure destination ``ex2-failed``.

What the hints rest on: Lambda runs a handler from its file with its imports only; the review's
rules and their AWS sources are in ``lambda_lab.cloud.review``; a stream's records wait behind a
failing batch until it succeeds, is retried out or expires
(https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import random
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import Problems, Verdict, fresh_name, report
from .. import ledger as L
from ..cloud import handlers
from ..cloud.review import review
from ..cloud.sam import logical_id
from ..events import sqs as sqs_events

if TYPE_CHECKING:
    from ..lab import Lab

EX1 = "Exercise 1 (a handler that travels)"
EX2 = "Exercise 2 (a stream consumer that passes the review)"
EX1_TABLE = "ex1-orders"
EX2_QUEUE = "ex2-failed"
#: How long the check waits for the orders behind the bad one (virtual seconds).
EX2_WAIT_S = 3_600
_MODULES = itertools.count(1)


# --------------------------------------------------------------------------- exercise 1


def _import_exported(handler: Any, folder: Path) -> Any:
    """Export ``handler`` into ``folder`` and import the file it wrote as a fresh module."""
    done = handlers.export("ex1-check", handler, folder)
    module_file, function = done.handler.split(".")
    spec = importlib.util.spec_from_file_location(f"lambda_lab_exported_{next(_MODULES)}",
                                                  folder / f"{module_file}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function)


def _ex1_orders(rng: random.Random) -> list[dict[str, Any]]:
    return [{"order_id": f"o-{rng.getrandbits(32):08x}", "total": float(Decimal(rng.randrange(1, 100_000)) / 100)}
            for _ in range(rng.randint(3, 6))]


def _sqs_event(lab: "Lab", orders: list[dict[str, Any]]) -> dict[str, Any]:
    """A real SQS event: the orders sent to a fresh queue and received back."""
    sqs = lab.client("sqs")
    name = fresh_name(lab, "ex1-check-queue")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": json.dumps(o)}
                                                  for i, o in enumerate(orders)])
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                   MessageAttributeNames=["All"])["Messages"]
    sqs.delete_queue(QueueUrl=url)
    return sqs_events.event(sqs_events.record(m, lab.arn("sqs", name), lab.region) for m in messages)


def _ex1_saved(lab: "Lab", orders: list[dict[str, Any]], problems: Problems) -> None:
    ddb = lab.client("dynamodb")
    for order in orders:
        item = ddb.get_item(TableName=EX1_TABLE, Key={"order_id": {"S": order["order_id"]}}).get("Item")
        if item is None:
            problems.add(f"an order was not saved in {EX1_TABLE} (save every message of the batch, in that table)")
        elif "N" not in item.get("total", {}):
            problems.add(f"total is saved as {item.get('total')!r}: save it as a number ({{'N': ...}})", key="type")
        elif Decimal(item["total"]["N"]) != Decimal(str(order["total"])):
            problems.add("a total was saved with another value than the message's", key="value")


def travels(lab: "Lab", handler: Any) -> Verdict:
    """Exercise 1: ``handler`` exports as code, and the exported file alone saves every order."""
    reason = handlers.stub_needed(handler)
    if reason is not None:
        return report(EX1, [f"lab.to_sam would refuse it: {reason}. Import what it uses in its own cell and make "
                            f"the client inside it with boto3.client(\"dynamodb\")"])
    if EX1_TABLE not in lab.client("dynamodb").list_tables()["TableNames"]:
        return report(EX1, [f"the table {EX1_TABLE} is missing: run the cell that creates it first"])
    with tempfile.TemporaryDirectory(prefix="lambda-lab-check-") as folder:
        try:
            exported = _import_exported(handler, Path(folder))
        except Exception as error:  # the learner's file may not even import
            return report(EX1, [f"the exported file does not import on its own: {type(error).__name__}: {error}"])
    orders = _ex1_orders(random.Random())
    result = lab.function(fresh_name(lab, "ex1-check"), exported).invoke(_sqs_event(lab, orders))
    if result.function_error:
        return report(EX1, [f"the exported handler failed: {result.payload.get('errorType')}: "
                            f"{result.payload.get('errorMessage')}"])
    problems = Problems()
    _ex1_saved(lab, orders, problems)
    return report(EX1, problems.lines())


# --------------------------------------------------------------------------- exercise 2


def _review_rows(lab: "Lab", function: str) -> Any:
    with tempfile.TemporaryDirectory(prefix="lambda-lab-check-") as folder:
        rows = review(lab.to_sam(Path(folder) / "app", stub_unexportable=True))
    logical = logical_id(function, "Function")
    return rows[rows["resource"].str.startswith(logical + "/") | (rows["resource"] == logical)]


def _ex2_write(lab: "Lab", table: str, rng: random.Random) -> tuple[list[str], str]:
    """Write good orders and one with a negative total; return (good ids, bad id)."""
    ids = [f"o-{rng.getrandbits(32):08x}" for _ in range(rng.randint(5, 8))]
    bad = ids[rng.randrange(len(ids) - 1)]  # never last: something must wait behind it
    ddb = lab.client("dynamodb")
    for order_id in ids:
        total = -rng.randint(1, 500) if order_id == bad else rng.randint(1, 500)
        ddb.put_item(TableName=table, Item={"order_id": {"S": order_id}, "total": {"N": str(total)}})
    return [i for i in ids if i != bad], bad


def reviewed(lab: "Lab", mapping: Any) -> Verdict:
    """Exercise 2: the mapping passes ``review``, and a bad order neither blocks nor vanishes."""
    problems = Problems()
    for row in _review_rows(lab, mapping.fn.name).itertuples():
        if not row.ok:
            problems.add(f"review: {row.check} is {row.has}; it should be {row.should}")
    if problems.found:
        return report(EX2, problems.lines())
    before = len(lab.outcomes(function=mapping.fn.name))  # rows are in the order accepted
    good, bad = _ex2_write(lab, mapping.table, random.Random())
    lab.run_until_idle(max_s=EX2_WAIT_S)
    rows = lab.outcomes(function=mapping.fn.name).iloc[before:]
    ended = rows[rows["ending"].isin(L.ENDINGS)]
    processed = int((ended["ending"] == L.PROCESSED).sum())
    elsewhere = ended[ended["ending"] != L.PROCESSED]
    if processed < len(good) and len(elsewhere) > 1:
        problems.add(f"after an hour only {processed} of the {len(good)} good orders were processed: the others went "
                     f"to the on-failure destination with the bad one (a batch that runs out of retries or ages out "
                     f"goes there whole: bisect it and bound the retries)")
    elif processed < len(good):
        problems.add(f"after an hour only {processed} of the {len(good)} good orders were processed: the bad one "
                     f"still holds up the shard (fewer retries, or bisect the batch)")
    if len(elsewhere) != 1 or elsewhere["ending"].iloc[0] != L.DESTINATION \
            or not str(elsewhere["where"].iloc[0]).startswith(EX2_QUEUE):
        where = ", ".join(sorted(set(f"{e} ({w})" for e, w in zip(elsewhere["ending"], elsewhere["where"]))))
        problems.add(f"the bad order should end in {EX2_QUEUE} (and only it); what did not succeed ended: "
                     f"{where or 'nowhere yet'}")
    return report(EX2, problems.lines())
