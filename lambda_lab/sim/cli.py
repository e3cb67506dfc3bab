"""Command line: ``python -m lambda_lab.sim storm --events 100000 --mode async --json``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Callable, Optional, Sequence

from . import params as P
from .config import ARRIVALS, JITTERS, MODES, StormConfig

_D = StormConfig()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lambda_lab.sim",
        description="Simulate AWS Lambda under an event storm (numbers from reference/aws-facts.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser(
        "storm",
        help="N events hit one function: sync, async or through an SQS queue",
        description="Simulate one event storm and print its summary.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    s.add_argument("--events", type=int, default=_D.events, help="number of events in the storm")
    s.add_argument("--mode", choices=MODES, default=_D.mode,
                   help="sync: throttled calls fail with 429; async: Lambda's queue retries throttles; "
                        "sqs: an event source mapping polls a queue")
    s.add_argument("--duration-ms", type=float, default=_D.duration_ms,
                   help="time to handle one event, ms (an SQS batch takes batch-size times this)")
    s.add_argument("--limit", type=int, default=_D.limit,
                   help=f"account concurrency; AWS default {P.ACCOUNT_CONCURRENCY:,} per Region")
    s.add_argument("--reserved", type=int, default=None,
                   help=f"reserved concurrency of the function; AWS default: none (must leave "
                        f"{P.UNRESERVED_FLOOR} unreserved)")
    s.add_argument("--arrival", choices=ARRIVALS, default=_D.arrival,
                   help="burst: all at t=0; poisson: at --rate-per-s; trace: data/storm_trace.csv")
    s.add_argument("--rate-per-s", type=float, default=_D.rate_per_s, help="Poisson arrival rate, events per second")
    s.add_argument("--trace", dest="trace_path", default=None, help="CSV with columns second,events (default data/storm_trace.csv)")
    s.add_argument("--jitter", choices=JITTERS, default=_D.jitter,
                   help="jitter of async throttle retries (AWS does not publish its jitter)")
    s.add_argument("--retry-base-s", type=float, default=_D.retry_base_s,
                   help=f"first async throttle retry interval, s; AWS: {P.ASYNC_THROTTLE_BASE_S:g} s")
    s.add_argument("--retry-cap-s", type=float, default=_D.retry_cap_s,
                   help=f"longest async throttle retry interval, s; AWS: {P.ASYNC_THROTTLE_CAP_S:g} s (5 min)")
    s.add_argument("--max-event-age-s", type=float, default=_D.max_event_age_s,
                   help=f"MaximumEventAgeInSeconds, {P.ASYNC_MIN_EVENT_AGE_S}-{P.ASYNC_MAX_EVENT_AGE_S}; AWS default {P.ASYNC_MAX_EVENT_AGE_S:,.0f} (6 h)")
    s.add_argument("--scaling", choices=("current", "pre2023"), default=_D.scaling,
                   help=f"current: {P.SCALING_ENVS:,} environments per {P.SCALING_WINDOW_S:g} s per function (since "
                        f"2023-11-27); pre2023: burst {P.LEGACY_BURST_US_EAST_1:,} then +{P.LEGACY_BURST_PER_MIN} per minute")
    s.add_argument("--cold-start-ms", type=float, default=_D.cold_start_ms,
                   help="init time of a new execution environment, ms; AWS: under 100 ms to over 1 s")
    s.add_argument("--batch-size", type=int, default=_D.batch_size,
                   help=f"SQS BatchSize; AWS default {P.SQS_BATCH_SIZE}, standard queues up to {P.SQS_BATCH_SIZE_MAX:,}")
    s.add_argument("--max-concurrency", type=int, default=None,
                   help=f"SQS ScalingConfig.MaximumConcurrency, {P.SQS_MAX_CONCURRENCY_MIN}-{P.SQS_MAX_CONCURRENCY_MAX}; "
                        f"AWS default: none (pollers scale to {P.SQS_MAX_BATCHES:,})")
    s.add_argument("--visibility-timeout-s", type=float, default=None,
                   help=f"SQS visibility timeout, s; default {P.SQS_VISIBILITY_FACTOR}x a batch's duration "
                        "(AWS guidance: at least 6x the function timeout)")
    s.add_argument("--max-receive-count", type=int, default=_D.max_receive_count,
                   help=f"redrive maxReceiveCount before the DLQ; AWS recommends at least {P.SQS_MAX_RECEIVE_COUNT}")
    s.add_argument("--duplicate-rate", type=float, default=_D.duplicate_rate,
                   help="fraction of events the source delivers more than once (AWS publishes no rate)")
    s.add_argument("--memory-mb", type=int, default=_D.memory_mb, help="function memory for GB-seconds, MB")
    s.add_argument("--free-tier", action="store_true", help="subtract the monthly free tier from the cost")
    s.add_argument("--tick-ms", type=float, default=None, help="simulation time step, ms (default: a tenth of an invocation)")
    s.add_argument("--seed", type=int, default=_D.seed, help="random seed: same seed, same output")
    s.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    s.add_argument("--no-progress", action="store_true", help="never show the progress bar")
    sub.add_parser("trace", help="print the synthetic upload trace (data/storm_trace.csv) as CSV")
    return parser


def _show_progress() -> bool:
    """A progress bar only on an interactive terminal: not in a notebook, not under CI."""
    if os.environ.get("CI") or "ipykernel" in sys.modules:
        return False
    return sys.stdout.isatty() and sys.stderr.isatty()


def _bar(stream=sys.stderr) -> Callable[[float], None]:
    def show(frac: float) -> None:
        n = int(30 * min(1.0, max(0.0, frac)))
        stream.write(f"\r[{'#' * n}{'.' * (30 - n)}] {100 * frac:5.1f}%")
        stream.flush()

    return show


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "trace":
        from .trace import main as trace_main

        trace_main()
        return 0
    fields = {k: v for k, v in vars(args).items() if k not in ("command", "json", "no_progress")}
    try:
        cfg = StormConfig(**fields)
        cfg.validate()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from .storm import simulate_storm  # numpy: not needed for --help or a refused config

    progress = _bar() if (_show_progress() and not args.no_progress) else None
    result = simulate_storm(cfg, progress=progress)
    if progress is not None:
        progress(1.0)
        sys.stderr.write("\n")
    summary = result.summary.as_dict()
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        width = max(len(k) for k in summary)
        for k, v in summary.items():
            print(f"{k:<{width}}  {v:,.4g}" if isinstance(v, float) else f"{k:<{width}}  {v}")
    return 0
