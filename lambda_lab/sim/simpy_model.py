"""A SimPy model of the asynchronous storm, event by event, for benchmarks and cross-checks.

SimPy is a development dependency only: this module imports it inside the function, so
``lambda_lab.sim`` imports without it. The rules are those of :mod:`lambda_lab.sim.storm`
(concurrency limit, 1,000-environment token bucket refilled at 1,000 per 10 s, cold starts,
throttle retries with backoff until the maximum event age), in continuous time: one SimPy
process per event.
"""

from __future__ import annotations

import random

import numpy as np
from dataclasses import replace

from . import params as P
from ._rng import make_rng
from .storm import StormConfig, arrivals


def simpy_async_storm(config: StormConfig | None = None, **overrides) -> dict:
    """Run the async storm of ``config`` in SimPy; return the same summary keys as the numpy model."""
    import simpy

    cfg = replace(config or StormConfig(), **overrides)
    cfg.validate()
    if cfg.mode != "async":
        raise ValueError("the SimPy model covers mode='async' only")
    rng = make_rng(cfg.seed)
    t_arr = arrivals(cfg.events, cfg.arrival, cfg.rate_per_s, cfg.trace_path, rng).tolist()
    r = random.Random(cfg.seed)
    env = simpy.Environment()
    ends: list[float] = []
    limit = cfg.effective_limit()
    dur = cfg.duration_ms / 1000
    cold_s = cfg.cold_start_ms / 1000
    refill_per_s = P.SCALING_ENVS / P.SCALING_WINDOW_S
    base, cap, max_age = cfg.retry_base_s, cfg.retry_cap_s, cfg.max_event_age_s
    jitter = cfg.jitter
    st = {"running": 0, "envs": 0, "tokens": float(P.SCALING_ENVS), "t_tok": 0.0, "peak": 0,
          "invocations": 0, "throttles": 0, "dropped": 0, "cold": 0, "last": 0.0}

    def try_start(now: float) -> float | None:
        """Start an invocation now if a slot and an environment are free; return its run time."""
        if cfg.scaling == "current":
            st["tokens"] = min(float(P.SCALING_ENVS), st["tokens"] + refill_per_s * (now - st["t_tok"]))
            st["t_tok"] = now
            new_ok = int(st["tokens"])
        else:
            new_ok = max(0, int(P.LEGACY_BURST_US_EAST_1 + P.LEGACY_BURST_PER_MIN / 60 * now) - st["envs"])
        if st["running"] >= limit:
            return None
        if st["envs"] > st["running"]:
            run = dur
        elif new_ok >= 1:
            st["envs"] += 1
            st["cold"] += 1
            if cfg.scaling == "current":
                st["tokens"] -= 1
            run = dur + cold_s
        else:
            return None
        st["running"] += 1
        st["invocations"] += 1
        st["peak"] = max(st["peak"], st["running"])
        return run

    def delay(k: int, prev: float) -> float:
        ceil = min(cap, base * 2.0**k)
        if jitter == "exponential":
            return ceil
        if jitter == "full_jitter":
            return r.random() * ceil
        if jitter == "equal_jitter":
            return ceil * (0.5 + 0.5 * r.random())
        return min(cap, base + r.random() * (3 * prev - base))

    def event(arrive: float):
        if arrive > env.now:
            yield env.timeout(arrive - env.now)
        k, prev = 0, base
        while True:
            run = try_start(env.now)
            if run is not None:
                yield env.timeout(run)
                st["running"] -= 1
                st["last"] = env.now
                ends.append(env.now)
                return
            st["throttles"] += 1
            d = delay(k, prev)
            prev = max(d, base)
            k += 1
            if env.now + d - arrive > max_age:
                st["dropped"] += 1
                return
            yield env.timeout(d)

    def source():
        for t in t_arr:
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(event(t))

    env.process(source())
    env.run()
    return {
        "completion_s": st["last"],
        "completion_p99_s": float(np.quantile(np.asarray(ends), 0.99)) if ends else 0.0,
        "invocations": st["invocations"],
        "throttles": st["throttles"],
        "dropped": st["dropped"],
        "max_concurrency": st["peak"],
        "cold_starts": st["cold"],
    }
