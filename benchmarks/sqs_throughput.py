"""Messages per second (wall clock) through the SQS event source mapping vs a bare boto3 loop.

Both drain the same moto queue, refilled with the same messages before each run: the
bare loop does ReceiveMessage(10) + DeleteMessageBatch until the queue is empty; the
mapping does what Lambda's pollers do (receive with all attributes, build the event,
invoke a handler that does nothing, delete at the invocation's end). The ratio is the
price of the mapping's bookkeeping on top of moto. A script that prints, not a test.

    .venv/bin/python benchmarks/sqs_throughput.py [messages] [repeats]
"""

from __future__ import annotations

import statistics
import sys
import time

from lambda_lab import Lab
from lambda_lab.helpers.sqs import queue_counts, send_all


def fill(lab: Lab, url: str, n: int) -> None:
    send_all(lab, url, [f'{{"n": {i}}}' for i in range(n)])


def bare_loop(lab: Lab, url: str) -> int:
    sqs = lab.client("sqs")
    done = 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return done
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        done += len(messages)


def through_mapping(lab: Lab, url: str, batch_size: int, name: str) -> int:
    fn = lab.function(name, lambda event, context: None, timeout_s=3)
    mapping = lab.sqs_trigger(url, fn, batch_size=batch_size)
    lab.run_until_idle()
    mapping.stop()
    return int((lab.outcomes(name)["ending"] == "processed").sum())


def timed(action) -> tuple[float, int]:
    start = time.perf_counter()
    done = action()
    return time.perf_counter() - start, done


def main(n: int = 100, repeats: int = 3) -> None:
    with Lab(seed=0) as lab:
        url = lab.client("sqs").create_queue(QueueName="bench", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        rates: dict[str, list[float]] = {"bare boto3 loop": [], "mapping, batch 10": [], "mapping, batch 1": []}
        for r in range(repeats):
            for label in rates:
                fill(lab, url, n)
                if label == "bare boto3 loop":
                    seconds, done = timed(lambda: bare_loop(lab, url))
                else:
                    size = 10 if label.endswith("10") else 1
                    seconds, done = timed(lambda: through_mapping(lab, url, size, f"f{r}{size}"))
                assert done == n and queue_counts(lab, url)["visible"] == 0, (label, done)
                rates[label].append(done / seconds)
        base = statistics.median(rates["bare boto3 loop"])
        print(f"{n} messages on one moto queue, median of {repeats} runs (wall clock)")
        for label, values in rates.items():
            rate = statistics.median(values)
            print(f"  {label:20s} {rate:8.0f} msg/s   ratio to bare loop {rate / base:5.2f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
