"""What a storm costs: Lambda requests and GB-seconds, SQS, SNS, EventBridge, S3 PUTs.

Prices are dated (``params.PRICES_AS_OF``), us-east-1, x86, and come from the sources in
reference/aws-facts.md §10; check them against the live pricing pages. Throttled attempts
are not billed: only invocations that ran count as requests. AWS: "Invocations aren't
recorded if the invocation request is throttled ... The value of Invocations equals the
number of requests billed"
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import params as P

if TYPE_CHECKING:  # imported where a table is built: a storm's cost needs no pandas
    import pandas as pd


def lambda_cost(invocations: int, gb_seconds: float, free_tier: bool = False) -> dict:
    """Lambda request and duration charges in US dollars."""
    req = max(0, invocations - (P.LAMBDA_FREE_REQUESTS if free_tier else 0))
    gbs = max(0.0, gb_seconds - (P.LAMBDA_FREE_GB_S if free_tier else 0))
    return {"lambda_requests_usd": req * P.LAMBDA_PER_REQUEST_USD, "lambda_duration_usd": gbs * P.LAMBDA_PER_GB_S_USD}


def gb_seconds(invocations: int, duration_ms: float, memory_mb: int) -> float:
    """Billed GB-seconds: invocations x duration (ms) x memory (MB), with 1 GB = 1,024 MB.

    The bill is linear in ``memory_mb``: the storm simulation's 512 MB (``StormConfig``) is the
    memory of AWS's worked example, not Lambda's default of 128 MB.
    """
    return invocations * duration_ms / 1000 * memory_mb / 1024


def sqs_requests(messages: int, receives: int) -> int:
    """SQS API requests for a queue feeding Lambda: one send per message, then one
    ReceiveMessage and one DeleteMessageBatch per batch (empty long polls left out)."""
    return messages + 2 * receives


def storm_cost(
    mode: str,
    invocations: int,
    gb_seconds: float,
    messages: int = 0,
    receives: int = 0,
    sns_publishes: int = 0,
    eventbridge_events: int = 0,
    s3_puts: int = 0,
    free_tier: bool = False,
) -> dict:
    """Cost of a storm by line item, plus ``total_usd``, in US dollars.

    ``receives`` is the number of SQS batches; ``s3_puts`` the uploads that raised the events
    (the storm's own trigger, billed by S3 whichever way the events reach Lambda).
    """
    out = lambda_cost(invocations, gb_seconds, free_tier)
    if mode == "sqs":
        req = sqs_requests(messages, receives)
        out["sqs_usd"] = max(0, req - (P.SQS_FREE_REQUESTS if free_tier else 0)) * P.SQS_PER_REQUEST_USD
    if sns_publishes:
        out["sns_usd"] = max(0, sns_publishes - (P.SNS_FREE_PUBLISHES if free_tier else 0)) * P.SNS_PER_PUBLISH_USD
    if eventbridge_events:
        out["eventbridge_usd"] = eventbridge_events * P.EVENTBRIDGE_PER_EVENT_USD
    if s3_puts:
        out["s3_puts_usd"] = s3_puts * P.S3_PER_PUT_USD
    out["total_usd"] = sum(out.values())
    return out


def cost_table(summaries: dict[str, dict], free_tier: bool = False) -> pd.DataFrame:
    """One row per scenario, one column per line item (US dollars).

    Each value of ``summaries`` needs ``mode``, ``invocations``, ``gb_seconds`` and, for SQS,
    ``events`` and ``receives``; extra keys ``sns_publishes`` / ``eventbridge_events`` /
    ``s3_puts`` add those services.
    """
    import pandas as pd

    rows = {}
    for name, s in summaries.items():
        rows[name] = storm_cost(
            s["mode"],
            int(s["invocations"]),
            float(s["gb_seconds"]),
            messages=int(s.get("events", 0)),
            receives=int(s.get("receives", 0)),
            sns_publishes=int(s.get("sns_publishes", 0)),
            eventbridge_events=int(s.get("eventbridge_events", 0)),
            s3_puts=int(s.get("s3_puts", 0)),
            free_tier=free_tier,
        )
    df = pd.DataFrame.from_dict(rows, orient="index").fillna(0.0)
    return df[[c for c in df.columns if c != "total_usd"] + ["total_usd"]]
