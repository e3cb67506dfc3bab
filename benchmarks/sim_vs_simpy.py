"""Speed of the numpy storm model against a SimPy model of the same storm.

    .venv/bin/python benchmarks/sim_vs_simpy.py            # SimPy at 10^6 extrapolated
    .venv/bin/python benchmarks/sim_vs_simpy.py --full     # SimPy at 10^6 really run (minutes, ~GBs)

Both models run an asynchronous storm (all events at t = 0, 200 ms each, account limit
1,000, equal-jitter throttle retries 1 s .. 5 min) with the same inputs and seed, each in
a fresh child process so peak memory (max RSS) is the model's own. The script checks that
the summaries agree (throttles within 3 %, completion time and its 99th percentile within
5 %) and prints a table of times, speed ratios and peak memory. It prints; it never fails.

Without ``--full``, SimPy's time at 10^6 is extrapolated from 10^5 in proportion to the
work (invocations + throttled attempts, counted by the numpy model), because one SimPy
process per event takes minutes and several GB at that size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10_000, 100_000, 1_000_000)
SEED = 1


def child(model: str, events: int) -> None:
    """Run one model once in this process; print its summary, time and memory as JSON."""
    sys.path.insert(0, str(ROOT))
    from lambda_lab.sim import StormConfig, simulate_storm
    from lambda_lab.sim.simpy_model import simpy_async_storm

    cfg = StormConfig(mode="async", events=events, duration_ms=200, limit=1000, jitter="equal_jitter", seed=SEED)
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    if model == "numpy":
        s = simulate_storm(cfg).summary
        out = {"completion_s": s.completion_s, "completion_p99_s": s.extra["completion_p99_s"],
               "throttles": s.throttles, "invocations": s.invocations, "dropped": s.dropped}
    else:
        out = simpy_async_storm(cfg)
    out["seconds"] = time.perf_counter() - t0
    out["peak_mb"] = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_kb) / 1024
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run(model: str, events: int, repeat: int = 1) -> dict:
    best = None
    for _ in range(repeat):
        r = subprocess.run([sys.executable, __file__, "--child", model, str(events)],
                           capture_output=True, text=True, check=True)
        out = json.loads(r.stdout)
        if best is None or out["seconds"] < best["seconds"]:
            best = out
    return best


def agree(a: dict, b: dict) -> str:
    checks = [
        abs(a["throttles"] - b["throttles"]) <= 0.03 * b["throttles"],
        abs(a["completion_s"] - b["completion_s"]) <= 0.05 * b["completion_s"],
        abs(a["completion_p99_s"] - b["completion_p99_s"]) <= 0.05 * b["completion_p99_s"],
        a["invocations"] == b["invocations"],
    ]
    return "yes" if all(checks) else "NO"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="run SimPy at 10^6 too instead of extrapolating")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "EVENTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    print("async storm: N events at t=0, 200 ms each, limit 1,000, equal-jitter retries, seed 1\n")
    header = (f"{'events':>9} | {'numpy s':>8} {'SimPy s':>9} {'ratio':>7} | {'numpy MB':>8} {'SimPy MB':>8} | "
              f"{'completion s (np/SimPy)':>24} {'p99 s (np/SimPy)':>18} {'throttles (np/SimPy)':>22} | agree")
    print(header)
    print("-" * len(header))
    simpy_rate = None
    for n in SIZES:
        np_res = run("numpy", n, repeat=3 if n < 1_000_000 else 2)
        work = np_res["invocations"] + np_res["throttles"]
        if n < 1_000_000 or args.full:
            sp = run("simpy", n)
            simpy_rate = sp["seconds"] / (sp["invocations"] + sp["throttles"])
            sp_s, sp_mb, ok = f"{sp['seconds']:9.2f}", f"{sp['peak_mb']:8.0f}", agree(np_res, sp)
            cmp_ = (f"{np_res['completion_s']:>11.1f} / {sp['completion_s']:<10.1f} "
                    f"{np_res['completion_p99_s']:>8.1f} / {sp['completion_p99_s']:<7.1f} "
                    f"{np_res['throttles']:>10,} / {sp['throttles']:<10,}")
            ratio = sp["seconds"] / np_res["seconds"]
        else:
            est = simpy_rate * work
            sp_s, sp_mb, ok = f"~{est:8.0f}", f"{'n/a':>8}", "n/a"
            cmp_ = (f"{np_res['completion_s']:>11.1f} / {'n/a':<10} {np_res['completion_p99_s']:>8.1f} / {'n/a':<7} "
                    f"{np_res['throttles']:>10,} / {'n/a':<10}")
            ratio = est / np_res["seconds"]
        print(f"{n:>9,} | {np_res['seconds']:8.2f} {sp_s} {ratio:6.0f}x | {np_res['peak_mb']:8.0f} {sp_mb} | {cmp_} | {ok}")
    if not args.full:
        print("\n~ SimPy at 10^6 extrapolated from 10^5 by work (invocations + throttled attempts); run with --full to measure.")
    print("MB: peak resident memory of the child process above its size after imports (ru_maxrss).")


if __name__ == "__main__":
    main()
