"""The DynamoDB Streams mapping against a bare get_records loop over the same stream.

Each run makes a fresh lab and table, writes N records (batch_write_item, not timed), then times
only the reading: either the bare loop (describe_stream, get_shard_iterator TRIM_HORIZON and
get_records with Limit 1,000 until a short page, as the mapping reads) or the mapping
(lab.stream_trigger from TRIM_HORIZON, batch 100, a handler that does nothing, then
lab.run_until_idle()). The mapping does what Lambda's poller does on top of the reading: the
Lambda record of each stream record, the ledger row, the batch, the invocation and its log row.
Best of 3 for each; the issue's target is a mapping rate at least 0.5 of the bare loop's.
A script that prints, never a pass/fail test.

    .venv/bin/python benchmarks/dynamodb_stream.py [N]      (default: 2000)
"""

from __future__ import annotations

import sys
import time

from lambda_lab import Lab

TABLE = "bench"
BATCH_SIZE = 100
REPEATS = 3
#: The issue's target: records per second through the mapping over those of the bare loop.
TARGET_RATIO = 0.5


def fresh(n: int) -> tuple[Lab, str]:
    """A lab with a streamed table holding ``n`` items (one INSERT record each); returns (lab, stream ARN)."""
    lab = Lab(seed=0)
    ddb = lab.client("dynamodb")
    arn = ddb.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    for start in range(0, n, 25):
        ddb.batch_write_item(RequestItems={TABLE: [
            {"PutRequest": {"Item": {"pk": {"S": f"item-{i:06d}"}, "n": {"N": str(i)}}}}
            for i in range(start, min(start + 25, n))]})
    return lab, arn


def bare_loop(lab: Lab, arn: str) -> int:
    streams = lab.client("dynamodbstreams")
    read = 0
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while True:
            page = streams.get_records(ShardIterator=iterator, Limit=1_000)
            read += len(page["Records"])
            iterator = page["NextShardIterator"]
            if len(page["Records"]) < 1_000:
                break
    return read


def through_mapping(lab: Lab, arn: str) -> int:
    fn = lab.function("noop", lambda event, context: None)
    lab.stream_trigger(arn, fn, starting_position="TRIM_HORIZON", batch_size=BATCH_SIZE)
    lab.run_until_idle()
    return int((lab.outcomes("noop")["ending"] == "processed").sum())


def best_rate(n: int, action) -> float:
    """Records per second (wall clock) of the best of ``REPEATS`` runs, each on a fresh lab."""
    best = 0.0
    for _ in range(REPEATS):
        lab, arn = fresh(n)
        try:
            start = time.perf_counter()
            done = action(lab, arn)
            seconds = time.perf_counter() - start
        finally:
            lab.close()
        if done != n:
            raise RuntimeError(f"{action.__name__} read {done} records, expected {n}")
        best = max(best, n / seconds)
    return best


def main(n: int) -> None:
    print(f"DynamoDB stream of {n:,} records (moto, wall clock, best of {REPEATS}, fresh lab each)")
    bare = best_rate(n, bare_loop)
    print(f"bare get_records loop:        {bare:>10,.0f} records/s", flush=True)
    mapped = best_rate(n, through_mapping)
    print(f"mapping (batch {BATCH_SIZE}, no-op):   {mapped:>10,.0f} records/s", flush=True)
    print(f"ratio mapping / bare:         {mapped / bare:>10.2f}   (target >= {TARGET_RATIO})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000)
