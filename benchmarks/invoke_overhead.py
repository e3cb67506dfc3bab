"""Per-invocation overhead of ``fn.invoke`` against calling the handler directly.

Prints times per call and their ratio. A measurement, not a test: it never fails.
"""

from __future__ import annotations

import time

from lambda_lab import Lab

CALLS = 20_000


def handler(event, context):
    return {"n": event["n"] + 1}


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 3_000


def per_call_us(call, calls: int = CALLS) -> float:
    """Median-of-5 microseconds per call of ``call(i)``."""
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for i in range(calls):
            call(i)
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return sorted(samples)[2]


def main() -> None:
    context = _Context()
    direct = per_call_us(lambda i: handler({"n": i}, context))
    with Lab(seed=0) as lab:
        fn = lab.function("bench", handler)
        via_lab = per_call_us(lambda i: fn.invoke({"n": i}))
    print(f"direct handler call : {direct:8.2f} µs/call")
    print(f"fn.invoke (lab)     : {via_lab:8.2f} µs/call")
    print(f"overhead ratio      : {via_lab / direct:8.1f}x  ({CALLS} calls, median of 5)")


if __name__ == "__main__":
    main()
