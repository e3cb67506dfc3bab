"""Concurrency under event storms: synchronous, asynchronous and SQS-polled invocation.

The model runs on a tick grid (``tick_ms``, by default a tenth of the invocation duration).
Events that fall in one tick are served in order at its start; an invocation admitted at
tick t holds one unit of concurrency until tick t + duration. That is exact for arrivals
floored to the grid and close to continuous time when the tick is small.

Rules, all from reference/aws-facts.md (see :mod:`lambda_lab.sim.params` for the citations):

- Concurrency: the function may run ``min(account limit, reserved)`` invocations at once.
- Scaling: a new execution environment costs a token from a bucket of 1,000 refilled at
  1,000 per 10 s (the rule since 2023-11-27), or, with ``scaling="pre2023"``, concurrency is
  capped by an account burst of 3,000 growing by 500 per minute. A new environment adds a
  cold start to its first invocation; environments stay warm for the rest of the storm.
- ``sync``: a call that finds no free concurrency fails with 429 (the caller is not retried).
- ``async``: Lambda's internal queue retries a throttled event with exponential backoff from
  1 s to 5 min (jitter as chosen) until the event is older than ``max_event_age_s``, then
  drops it.
- ``sqs``: pollers start at 5 concurrent batches and add up to 300 per minute, to at most
  1,000 or ``max_concurrency``. A batch of up to ``batch_size`` messages takes
  ``batch_size * duration_ms``. A throttled batch keeps its poller, which retries it
  ``retry_base_s`` doubling (jittered as chosen) until the next retry would come after the
  visibility timeout; then its messages become visible when the timeout ends. A batch still
  running when the timeout ends is received again. After ``max_receive_count`` receives a
  message goes to the dead-letter queue. With ``jitter="exponential"`` this is the lab's SQS
  mapping, count for count (tests/test_sim_vs_lab.py).

Completion is the end of the last invocation, a maximum, and so fragile: in an async storm
near its limit, a retry wave that just touches the limit leaves a few events a 16-32 s retry
away, and completion jumps from 31 s to 55 s while the 99th percentile does not move
(``completion_p99_s``). Continuous time does it too, more rarely: ticks of duration / 10 make
the waves slightly sharper (tests/test_sim_storm.py, test_async_completion_is_a_knife_edge...).
"""

from __future__ import annotations

import functools
import heapq
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from . import cost as _cost
from . import params as P
from . import theory
from ._rng import Seed, make_rng
from .config import ARRIVALS, JITTERS, MODES, StormConfig  # noqa: F401 (re-exported: defined here before)

if TYPE_CHECKING:  # pandas is imported where a DataFrame is built: the command line never needs it
    import pandas as pd


DEFAULT_TRACE = Path(__file__).resolve().parents[2] / "data" / "storm_trace.csv"


@dataclass
class StormSummary:
    """Totals of one storm. Times in seconds; cost in US dollars."""

    mode: str
    events: int
    completion_s: float
    invocations: int
    throttles: int
    dropped: int
    duplicates: int
    dlq: int
    max_concurrency: int
    cold_starts: int
    gb_seconds: float
    cost_usd: float
    drain_lower_bound_s: float
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = asdict(self)
        d.update(d.pop("extra"))
        return d


@dataclass
class StormResult:
    """A storm's time series (one row per bin) and its summary.

    ``timeline`` may be given as a dict of equal-length numpy columns; it becomes a DataFrame
    on first read, so a caller that only wants the summary (the command line) never imports pandas.
    """

    timeline: pd.DataFrame
    summary: StormSummary
    config: StormConfig


def _get_timeline(self: StormResult) -> pd.DataFrame:
    if isinstance(self._timeline, dict):
        import pandas as pd

        self._timeline = pd.DataFrame(self._timeline)
    return self._timeline


def _set_timeline(self: StormResult, value) -> None:
    self._timeline = value


# Set after @dataclass so the generated __init__, repr and eq go through it; a property in
# the class body would become the field's default.
StormResult.timeline = property(_get_timeline, _set_timeline, doc="The time series, one row per bin (DataFrame).")


# --- arrivals --------------------------------------------------------------------------------

def arrivals(
    events: int,
    kind: str = "burst",
    rate_per_s: float = 1_000.0,
    trace_path: str | Path | None = None,
    seed: Seed = 0,
) -> np.ndarray:
    """Sorted arrival times in seconds: all at 0 (``burst``), a Poisson stream, or a trace.

    A trace is a CSV with columns ``second`` and ``events`` (events in that second); it is
    scaled to ``events`` in total and spread uniformly within each second.
    """
    rng = make_rng(seed)
    if kind == "burst":
        return np.zeros(events)
    if kind == "poisson":
        return np.cumsum(rng.exponential(1.0 / rate_per_s, size=events))
    if kind == "trace":
        import pandas as pd

        df = pd.read_csv(trace_path or DEFAULT_TRACE)
        weights = df["events"].to_numpy(dtype=float)
        counts = rng.multinomial(events, weights / weights.sum())
        sec = np.repeat(df["second"].to_numpy(dtype=float), counts)
        return np.sort(sec + rng.random(events))
    raise ValueError(f"arrival must be one of {', '.join(ARRIVALS)}, got {kind!r}")


# --- the shared concurrency gate ---------------------------------------------------------------

class _Grow:
    """int64 arrays indexed by tick that grow on demand."""

    def __init__(self, n: int):
        self.a = np.zeros(max(16, n), dtype=np.int64)

    def ensure(self, n: int) -> None:
        if n > self.a.size:
            self.a = np.concatenate([self.a, np.zeros(max(n, 2 * self.a.size) - self.a.size, dtype=np.int64)])


class _Gate:
    """Concurrency, execution environments and the scaling rule, advanced tick by tick.

    Completions per tick are a Python list, not a numpy array: the loops read and write one
    tick at a time, and a list item is several times cheaper to touch than a numpy scalar.
    """

    def __init__(self, cfg: StormConfig, dt: float, horizon: int, spread: bool = True):
        self.limit = cfg.effective_limit()
        # spread: what a tick admits arrived anywhere inside it (Poisson, trace, jittered
        # retries), not at its start (a burst, SQS pollers on the grid). Only spread work
        # ends inside the tick after its duration, so only spread work frees half its slots late.
        self.spread = spread
        self.cold_s = cfg.cold_start_ms / 1000
        self.last_end_s = 0.0  # exact end of the latest invocation admitted on the grid, seconds
        self.dt = dt
        self.pre2023 = cfg.scaling == "pre2023"
        self.tokens = float(P.SCALING_ENVS)
        self.refill = P.SCALING_ENVS / P.SCALING_WINDOW_S * dt  # tokens per tick
        self.envs = 0
        self.running = 0
        self.cold = 0
        self.peak = 0
        self.last = 0
        self.flip = 0
        self.done = [0] * max(16, horizon)  # completions per tick
        self.cold_ticks = int(round(cfg.cold_start_ms / 1000 / dt))

    def advance(self, t: int) -> None:
        if t > self.last:
            self.running -= sum(self.done[self.last + 1 : t + 1])
            if not self.pre2023:
                self.tokens = min(float(P.SCALING_ENVS), self.tokens + self.refill * (t - self.last))
            self.last = t

    def admit(self, t: int, n: int, dur_ticks: int, dur_s: float | None = None) -> int:
        """Start up to ``n`` invocations at tick ``t``; return how many started.

        ``dur_s`` is the exact run time in seconds (default ``dur_ticks`` ticks); with the
        cold start it gives ``last_end_s`` without rounding either to the grid.
        """
        idle = self.envs - self.running
        if self.pre2023:
            ceiling = P.LEGACY_BURST_US_EAST_1 + P.LEGACY_BURST_PER_MIN / 60.0 * t * self.dt
            new_ok = max(0, int(ceiling) - self.envs)
        else:
            new_ok = int(self.tokens)
        a = min(n, self.limit - self.running, idle + new_ok)
        if a <= 0:
            return 0
        new = a - idle if a > idle else 0
        if new:
            self.envs += new
            self.cold += new
            if not self.pre2023:
                self.tokens -= new
        end = t + dur_ticks
        done = self.done
        if end + self.cold_ticks + 3 > len(done):
            done.extend([0] * (max(end + self.cold_ticks + 3, 2 * len(done)) - len(done)))
        warm = a - new
        if self.spread:
            # An event that arrives inside tick t really ends inside tick t + dur; half the time a
            # later arrival in that tick still finds it running. Free half the slots one tick later.
            late = (warm + self.flip) >> 1
            self.flip ^= warm & 1
            done[end] += warm - late
            done[end + 1] += late
            if new:
                late = (new + self.flip) >> 1
                self.flip ^= new & 1
                done[end + self.cold_ticks] += new - late
                done[end + self.cold_ticks + 1] += late
        else:
            done[end] += warm
            done[end + self.cold_ticks] += new
        ends = t * self.dt + (dur_ticks * self.dt if dur_s is None else dur_s) + (self.cold_s if new else 0.0)
        if ends > self.last_end_s:
            self.last_end_s = ends
        self.running += a
        if self.running > self.peak:
            self.peak = self.running
        return a

    def completions(self, ticks: int | None = None) -> np.ndarray:
        """Invocations that ended in each tick (the first ``ticks`` ticks), int64."""
        return np.array(self.done[:ticks], dtype=np.int64)


def _tick_s(cfg: StormConfig) -> float:
    if cfg.tick_ms is not None:
        return cfg.tick_ms / 1000
    unit = cfg.duration_ms * (cfg.batch_size if cfg.mode == "sqs" else 1)
    return unit / 10 / 1000


# --- the three modes ------------------------------------------------------------------------

def _sync(cfg: StormConfig, t_arr: np.ndarray, dt: float, progress) -> dict:
    ticks = np.floor(t_arr / dt).astype(np.int64)
    uniq, first, counts = np.unique(ticks, return_index=True, return_counts=True)
    dur = max(1, int(round(cfg.duration_ms / 1000 / dt)))
    horizon = int(ticks[-1]) + dur + 2 if ticks.size else 2
    gate = _Gate(cfg, dt, horizon, spread=cfg.arrival != "burst")
    started = _Grow(horizon)
    throttled = _Grow(horizon)
    admitted, cold = [], []
    for i, (t, n) in enumerate(zip(uniq.tolist(), counts.tolist())):
        gate.advance(t)
        cold0 = gate.cold
        a = gate.admit(t, n, dur)
        started.a[t] = a
        throttled.a[t] = n - a
        admitted.append(a)
        cold.append(gate.cold - cold0)
        if progress is not None and i % 5000 == 0:
            progress(i / len(uniq))
    return {"gate": gate, "arrived": ticks, "started": started.a, "throttled": throttled.a,
            "dropped": np.zeros(1, np.int64), "completions": gate.completions(),
            "processings": int(started.a.sum()), "dlq": 0,
            "last_end_s": _sync_last_end_s(cfg, t_arr, first, np.array(admitted), np.array(cold))}


def _sync_last_end_s(cfg: StormConfig, t_arr: np.ndarray, first: np.ndarray, admitted: np.ndarray,
                     cold: np.ndarray) -> float:
    """When the last admitted call ends, in seconds, from the calls' own arrival times.

    A tick admits its first ``admitted`` calls in arrival order, warm environments first, so
    its latest end is its last admitted call: arrival + duration (+ cold start if the tick made
    new environments). Reading the arrival rather than the tick keeps the end off the grid,
    which for a short storm is a tenth of the duration (issue 11).
    """
    ok = admitted > 0
    if not ok.any():
        return 0.0
    last = t_arr[first[ok] + admitted[ok] - 1]
    return float((last + cfg.duration_ms / 1000 + np.where(cold[ok] > 0, cfg.cold_start_ms / 1000, 0.0)).max())


@functools.lru_cache(maxsize=16)
def _ceilings(base_s: float, cap_s: float) -> np.ndarray:
    """Exponential ceilings min(cap, base * 2**k) for k = 0..63, float32."""
    return np.minimum(cap_s, base_s * np.exp2(np.arange(64))).astype(np.float32)


def _retry_ticks(cfg: StormConfig, k: np.ndarray, prev: np.ndarray | None, dt: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """Delay in ticks before retry number ``k`` (0-based) of each throttled event, and (for
    decorrelated jitter, which needs it next time) the delay in seconds.

    The float32 operations and their order are part of the model: a different rounding would
    move some retries by one tick and change every result for a given seed.
    """
    if cfg.jitter == "decorrelated_jitter":
        d = np.minimum(cfg.retry_cap_s, cfg.retry_base_s + rng.random(k.size) * (3 * prev - cfg.retry_base_s))
        return np.maximum(1, np.rint(d / np.float32(dt))).astype(np.int32), d.astype(np.float32)
    ceil = _ceilings(cfg.retry_base_s, cfg.retry_cap_s)[np.minimum(k, 63)]
    if cfg.jitter == "exponential":
        d = ceil
    elif cfg.jitter == "full_jitter":
        d = rng.random(k.size, dtype=np.float32)
        d *= ceil
    else:  # equal jitter: ceil * (0.5 + 0.5 * u), in place to spare the copies
        d = rng.random(k.size, dtype=np.float32)
        d *= np.float32(0.5)
        d += np.float32(0.5)
        d *= ceil
    d /= np.float32(dt)
    np.rint(d, out=d)
    np.maximum(d, 1, out=d)
    return d.astype(np.int32), None


def _min_retry_s(cfg: StormConfig) -> float:
    return {"full_jitter": 0.0, "exponential": cfg.retry_base_s,
            "equal_jitter": cfg.retry_base_s / 2, "decorrelated_jitter": cfg.retry_base_s}[cfg.jitter]


def _stable_order(key: np.ndarray, span: int) -> np.ndarray:
    """The order that sorts ``key`` (integers 0..span), ties kept in place.

    Narrowed to 8 or 16 bits when the span allows, numpy's stable argsort is a radix sort.
    """
    return np.argsort(key.astype(np.uint8 if span < 256 else np.uint16 if span < 65_536 else np.int64), kind="stable")


# A batch of waiting events is a dict of equal-length columns: "due" (tick of the next attempt,
# int32), "tries" (throttles so far, int16) and, only when they vary, "arr" (arrival tick,
# int32) and "prev" (last delay in seconds, decorrelated jitter). Carrying the state with the
# events, rather than indexing per-event arrays by id, keeps every access sequential.
Events = dict[str, np.ndarray]


def _select(ev: Events, index) -> Events:
    return {name: col[index] for name, col in ev.items()}


def _group(ev: Events, size: int) -> list[tuple[int, Events]]:
    """Split events into buckets of ``size`` ticks, keeping their order within each bucket."""
    due = ev["due"]
    lo, hi = int(due.min()) // size, int(due.max()) // size
    if lo == hi:
        return [(lo, ev)]
    key = due // size
    key -= lo
    order = _stable_order(key, hi - lo)
    ev = {name: col.take(order) for name, col in ev.items()}
    counts = np.bincount(key, minlength=hi - lo + 1)
    nz = np.flatnonzero(counts)
    bounds = [0] + np.cumsum(counts[nz]).tolist()
    return [(lo + k, _select(ev, slice(b0, b1))) for k, b0, b1 in zip(nz.tolist(), bounds[:-1], bounds[1:])]


def _cat(chunks: list[Events]) -> Events:
    if len(chunks) == 1:
        return chunks[0]
    return {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}


class _Calendar:
    """Events waiting for their tick, first come first served within a tick.

    Two levels: events are kept per block of 64 epochs ("far") until their block comes up,
    then split per epoch ("near"). An epoch is no longer than the shortest retry delay, so
    nothing throttled in an epoch comes back inside it. Each bucket is a list of chunks in the
    order they were scheduled, which is the order events wait in line within a tick.
    """

    def __init__(self, epoch: int):
        self.epoch = epoch
        self.block = 64 * epoch
        self.block_end = 0  # first tick after the block being worked through
        self.near: dict[int, list[Events]] = {}
        self.near_keys: list[int] = []
        self.far: dict[int, list[Events]] = {}
        self.far_keys: list[int] = []
        self.later: list[Events] = []  # due after this block

    @staticmethod
    def _push(table: dict[int, list[Events]], heap: list[int], ev: Events, size: int) -> None:
        for k, chunk in _group(ev, size):
            if k not in table:
                table[k] = []
                heapq.heappush(heap, k)
            table[k].append(chunk)

    def start(self, ev: Events) -> None:
        """The first attempts, before anything else is scheduled."""
        if ev["due"].size:
            self._push(self.far, self.far_keys, ev, self.block)

    def schedule(self, ev: Events, lo: int, hi: int) -> None:
        """Retries due from tick ``lo`` to ``hi``, all after the epoch being worked on."""
        if hi < self.block_end:
            self._push(self.near, self.near_keys, ev, self.epoch)
        elif lo >= self.block_end:
            self.later.append(ev)
        else:
            here = ev["due"] < self.block_end
            self._push(self.near, self.near_keys, _select(ev, here), self.epoch)
            self.later.append(_select(ev, ~here))

    def next_epoch(self) -> tuple[int, Events] | None:
        """The next epoch with events and its events in line order; None when nothing waits."""
        while not self.near_keys:
            if self.later:
                self._push(self.far, self.far_keys, _cat(self.later), self.block)
                self.later = []
            if not self.far_keys:
                return None
            b = heapq.heappop(self.far_keys)
            self.block_end = (b + 1) * self.block
            self._push(self.near, self.near_keys, _cat(self.far.pop(b)), self.epoch)
        e = heapq.heappop(self.near_keys)
        return e, _cat(self.near.pop(e))


def _by_tick(ev: Events, base: int, epoch: int) -> tuple[Events, list[int], list[int]]:
    """One epoch's events (from tick ``base``) sorted by tick, ties in line order, without
    "due"; the ticks that have events, and how many each has."""
    due = ev["due"]
    rest = {name: col for name, col in ev.items() if name != "due"}
    lo, hi = int(due.min()), int(due.max())
    if lo == hi:
        return rest, [lo], [due.size]
    key = due - base
    order = _stable_order(key, epoch - 1)
    cnt = np.bincount(key, minlength=epoch)
    nzt = np.flatnonzero(cnt)
    return {name: col.take(order) for name, col in rest.items()}, (nzt + base).tolist(), cnt[nzt].tolist()


def _turned_away(ev: Events, ticks: list[int], counts: list[int], admitted: list[int]) -> Events:
    """The events of each tick after the first ``admitted`` in line, in order, with "due" set to
    the tick they were turned away at."""
    if any(admitted):
        keep, start = [], 0
        for n, a in zip(counts, admitted):
            if a < n:
                keep.append(slice(start + a, start + n))
            start += n
        ev = {name: np.concatenate([col[s] for s in keep]) for name, col in ev.items()}
    ev["due"] = np.repeat(np.array(ticks, dtype=np.int32), np.subtract(counts, admitted))
    return ev


def _retry(cfg: StormConfig, ev: Events, dt: float, rng: np.random.Generator) -> Events:
    """The turned-away events with their next attempt: "due" moves on by the retry delay."""
    k = ev["tries"]
    dticks, dsec = _retry_ticks(cfg, k, ev.get("prev"), dt, rng)
    out = dict(ev, due=ev["due"] + dticks, tries=k + 1)
    if dsec is not None:
        out["prev"] = np.maximum(dsec, cfg.retry_base_s)
    return out


def _too_old(ev: Events, first_arrival: int, max_age: int) -> np.ndarray | None:
    """Which events' next attempt ("due") falls after their maximum age (ticks); None if none do."""
    if int(ev["due"].max()) - first_arrival <= max_age:  # nobody can be: skip the per-event check
        return None
    old = ev["due"] - ev.get("arr", first_arrival) > max_age
    return old if old.any() else None


def _async(cfg: StormConfig, t_arr: np.ndarray, dt: float, rng, progress) -> dict:
    n_ev = t_arr.size
    arr_tick = np.floor(t_arr / dt).astype(np.int64)
    first_arrival = int(arr_tick.min()) if n_ev else 0
    dur = max(1, int(round(cfg.duration_ms / 1000 / dt)))
    max_age = int(cfg.max_event_age_s / dt)
    epoch = max(1, int(_min_retry_s(cfg) / dt))
    # every event has started or been dropped by its arrival + the maximum age (+ one retry)
    horizon = ((int(arr_tick[-1]) if n_ev else 0) + max_age + int(cfg.retry_cap_s / dt) + dur
               + int(cfg.cold_start_ms / 1000 / dt) + 8)
    gate = _Gate(cfg, dt, horizon)
    started, throttled, dropped = _Grow(horizon), _Grow(horizon), _Grow(horizon)
    first: Events = {"due": arr_tick.astype(np.int32), "tries": np.zeros(n_ev, dtype=np.int16)}
    if n_ev and int(arr_tick.max()) != first_arrival:  # else every age counts from first_arrival
        first["arr"] = first["due"].copy()
    if cfg.jitter == "decorrelated_jitter":
        first["prev"] = np.full(n_ev, cfg.retry_base_s, dtype=np.float32)
    calendar = _Calendar(epoch)
    calendar.start(first)
    finished = 0
    n_epochs = 0
    while (nxt := calendar.next_epoch()) is not None:
        e, ev = nxt
        ev, ticks, counts = _by_tick(ev, e * epoch, epoch)
        admitted = []
        for t, n in zip(ticks, counts):
            gate.advance(t)
            admitted.append(gate.admit(t, n, dur))
        started.a[ticks] += admitted
        throttled.a[ticks] += np.subtract(counts, admitted)
        finished += sum(admitted)
        if sum(admitted) < sum(counts):
            away = _turned_away(ev, ticks, counts, admitted)
            ev = _retry(cfg, away, dt, rng)
            old = _too_old(ev, first_arrival, max_age)
            if old is not None:  # dropped at the tick of their last, throttled, attempt
                dropped.ensure(int(away["due"].max()) + 2)
                np.add.at(dropped.a, away["due"][old], 1)
                finished += int(old.sum())
                ev = _select(ev, ~old)
            if ev["due"].size:
                lo, hi = int(ev["due"].min()), int(ev["due"].max())
                started.ensure(hi + 2)
                throttled.ensure(hi + 2)
                calendar.schedule(ev, lo, hi)
        n_epochs += 1
        if progress is not None and n_epochs % 200 == 0:
            progress(finished / max(1, n_ev))
    # trim the preallocated horizon to the last tick anything can have happened on
    end = min(started.a.size, gate.last + dur + gate.cold_ticks + 3)
    return {"gate": gate, "arrived": arr_tick, "started": started.a[:end], "throttled": throttled.a[:end],
            "dropped": dropped.a[:end], "completions": gate.completions(max(end, 1)),
            "processings": int(started.a.sum()), "dlq": 0}


def _take(fresh: list[int], seen: list[int], n: int) -> tuple[list[int], list[int]]:
    """Take ``n`` visible messages, highest receive count (oldest) first."""
    tf = [0] * len(fresh)
    ts = [0] * len(seen)
    for k in range(len(fresh) - 1, -1, -1):
        if n <= 0:
            break
        for src, dst in ((seen, ts), (fresh, tf)):
            x = min(src[k], n)
            if x:
                dst[k] += x
                src[k] -= x
                n -= x
    return tf, ts


class _Queue:
    """The source queue, counted by receive count: visible messages never processed (``fresh``)
    or processed before (``seen``, so a new processing is a duplicate), and messages hidden
    by a receive until a later tick (``hidden``)."""

    def __init__(self, max_receive_count: int):
        self.m = max_receive_count
        self.fresh = [0] * (max_receive_count + 1)
        self.seen = [0] * (max_receive_count + 1)
        self.hidden: dict[int, tuple[list[int], list[int]]] = {}

    def hide(self, until: int, tf: list[int], ts: list[int]) -> None:
        """Received messages, visible again at tick ``until`` with one receive more."""
        rf, rs = self.hidden.setdefault(until, ([0] * (self.m + 1), [0] * (self.m + 1)))
        for k in range(self.m):
            rf[k + 1] += tf[k]
            rs[k + 1] += ts[k]

    def reveal(self, t: int) -> None:
        """Messages whose visibility timeout ends at tick ``t`` become visible."""
        if t in self.hidden:
            rf, rs = self.hidden.pop(t)
            for k in range(self.m + 1):
                self.fresh[k] += rf[k]
                self.seen[k] += rs[k]

    def redrive(self) -> int:
        """Move messages received ``maxReceiveCount`` times to the DLQ; return how many moved.

        SQS moves them on the receive that finds them visible again; the simulation moves
        them as soon as they are, which changes when, never how many.
        """
        moved = self.fresh[self.m] + self.seen[self.m]
        self.fresh[self.m] = self.seen[self.m] = 0
        return moved

    def visible(self) -> int:
        return sum(self.fresh) + sum(self.seen)

    def empty(self) -> bool:
        return not self.hidden and self.visible() == 0


# A batch a poller holds: [messages by receive count never processed, the same processed
# before, size, tick it was received, throttles so far (int), last retry delay (s)]
Batch = list


class _Pollers:
    """The event source mapping's pollers: they receive batches, invoke the function and, when
    it is throttled, keep retrying the same batch until its visibility timeout would end
    (services-sqs-errorhandling: "Lambda continues to retry the message until the message's
    timestamp exceeds your queue's visibility timeout"), holding their slot meanwhile.

    Retries wait ``retry_base_s`` doubling to ``retry_cap_s`` (1, 2, 4 ... s, as the lab's
    mapping does; AWS does not publish this schedule), jittered like async retries.
    """

    def __init__(self, cfg: StormConfig, dt: float, gate: _Gate, queue: _Queue, rng: np.random.Generator):
        self.cfg, self.dt, self.gate, self.queue, self.rng = cfg, dt, gate, queue, rng
        self.vis = max(1, int(round(cfg.visibility_s() / dt)))
        self.per_msg_s = cfg.duration_ms / 1000
        self.retries: dict[int, list[Batch]] = {}  # tick -> batches to retry then, in order
        self.held = 0  # batches waiting for a retry: each keeps its poller busy
        self.done: dict[int, int] = {}  # tick -> messages deleted after a successful batch
        self.receives = self.receive_calls = self.started = self.throttled = 0
        self.processings = self.dup_processings = 0

    def invoke(self, t: int, b: Batch) -> bool:
        """Invoke the function with batch ``b`` at tick ``t``; False if throttled."""
        if self.gate.running >= self.gate.limit:  # the common case in a throttling storm: no work
            self.throttled += 1
            return False
        s = b[2]
        d_s = s * self.per_msg_s
        cold0 = self.gate.cold
        if not self.gate.admit(t, 1, max(1, int(round(d_s / self.dt))), d_s):
            self.throttled += 1
            return False
        self.started += 1
        self.processings += s
        self.dup_processings += sum(b[1])
        end = t + max(1, int(round((d_s + (self.gate.cold_s if self.gate.cold > cold0 else 0.0)) / self.dt)))
        expires = b[3] + self.vis
        if end > expires:
            # still running when the visibility timeout ends: received again, now as processed
            self.queue.hide(expires, [0] * (self.queue.m + 1), [x + y for x, y in zip(b[0], b[1])])
        else:
            self.done[end] = self.done.get(end, 0) + s
        return True

    def receive(self, t: int, n: int) -> list[Batch]:
        """Receive up to ``n`` batches of visible messages at tick ``t``."""
        q, size = self.queue, self.cfg.batch_size
        out = []
        for _ in range(n):
            left = q.visible()
            if not left:
                break
            s = min(size, left)
            tf, ts = _take(q.fresh, q.seen, s)
            out.append([tf, ts, s, t, 0, self.cfg.retry_base_s])
            self.receives += s
            self.receive_calls += 1
        return out

    def back_off(self, t: int, throttled: list[Batch]) -> None:
        """Schedule the next try of each throttled batch, or give it up: a retry that would
        come at or after the end of its visibility timeout is not made, the poller is free
        now and the messages come back when the timeout ends."""
        if not throttled:
            return
        k = np.fromiter((b[4] for b in throttled), np.int64, len(throttled))
        prev = np.fromiter((b[5] for b in throttled), np.float32, len(throttled))
        delay, dsec = _retry_ticks(self.cfg, k, prev, self.dt, self.rng)
        for i, (b, d) in enumerate(zip(throttled, delay.tolist())):
            b[4] += 1
            if dsec is not None:
                b[5] = max(float(dsec[i]), self.cfg.retry_base_s)
            if t + d >= b[3] + self.vis:
                self.queue.hide(b[3] + self.vis, b[0], b[1])
            else:
                self.retries.setdefault(t + d, []).append(b)
                self.held += 1

    def retry(self, t: int) -> None:
        """Retry the throttled batches due at tick ``t``."""
        due = self.retries.pop(t, [])
        self.held -= len(due)
        self.back_off(t, [b for b in due if not self.invoke(t, b)])

    def poll(self, t: int, pollers: int) -> None:
        """Fill the free pollers with new batches; one given up at once frees its poller again."""
        while True:
            free = pollers - self.gate.running - self.held
            batches = self.receive(t, free) if free > 0 else []
            if not batches:
                return
            self.back_off(t, [b for b in batches if not self.invoke(t, b)])

    def busy(self) -> bool:
        return bool(self.retries or self.done)


def _sqs(cfg: StormConfig, t_arr: np.ndarray, dt: float, rng: np.random.Generator, progress) -> dict:
    arr_tick = np.floor(t_arr / dt).astype(np.int64)
    arr_counts = np.bincount(arr_tick).tolist() if arr_tick.size else [0]
    ceiling = min(P.SQS_MAX_BATCHES, cfg.max_concurrency or P.SQS_MAX_BATCHES)
    per_tick_scale = P.SQS_SCALE_PER_MIN / 60.0 * dt
    horizon = len(arr_counts) + 2
    # pollers start batches on the grid, so no slot is freed half a tick late
    gate = _Gate(cfg, dt, horizon, spread=False)
    queue = _Queue(cfg.max_receive_count)
    pollers = _Pollers(cfg, dt, gate, queue, rng)
    started, throttled = _Grow(horizon), _Grow(horizon)
    deleted, dlq_t = _Grow(horizon), _Grow(horizon)
    dlq = 0
    t0 = int(arr_tick[0]) if arr_tick.size else 0
    last_arrival = len(arr_counts) - 1
    t = t0
    while True:
        if t <= last_arrival:
            queue.fresh[0] += arr_counts[t]
        if t in pollers.done:
            deleted.ensure(t + 1)
            deleted.a[t] += pollers.done.pop(t)
        gate.advance(t)
        s0, th0 = pollers.started, pollers.throttled
        pollers.retry(t)
        n_pollers = min(ceiling, int(P.SQS_INITIAL_BATCHES + per_tick_scale * (t - t0)))
        pollers.poll(t, n_pollers)
        if t in queue.hidden:
            # a message is visible only after its visibility timeout: what the pollers could
            # take at this instant went first, and messages coming back fill what is left
            queue.reveal(t)
            moved = queue.redrive()
            if moved:
                dlq += moved
                dlq_t.ensure(t + 1)
                dlq_t.a[t] += moved
            pollers.poll(t, n_pollers)
        if pollers.started > s0 or pollers.throttled > th0:
            started.ensure(t + 1)
            throttled.ensure(t + 1)
            started.a[t] += pollers.started - s0
            throttled.a[t] += pollers.throttled - th0
        t += 1
        if t > last_arrival and not pollers.busy() and queue.empty():
            break
        if progress is not None and t % 5000 == 0:
            progress(min(1.0, (t - t0) / max(1, last_arrival + 1)))
    return {"gate": gate, "arrived": arr_tick, "started": started.a, "throttled": throttled.a,
            "dropped": np.zeros(1, np.int64), "completions": gate.completions(),
            "processings": pollers.processings, "dlq": dlq, "dup_processings": pollers.dup_processings,
            "deleted": deleted.a, "dlq_t": dlq_t.a, "last_end_s": gate.last_end_s,
            "receives": pollers.receive_calls, "messages_received": pollers.receives}


# --- driver -------------------------------------------------------------------------------------

def _pad(a: np.ndarray, n: int) -> np.ndarray:
    return a[:n] if a.size >= n else np.concatenate([a, np.zeros(n - a.size, dtype=a.dtype)])


def simulate_storm(
    config: StormConfig | None = None,
    progress: Callable[[float], None] | None = None,
    bin_s: float | None = None,
    **overrides,
) -> StormResult:
    """Run one storm; ``overrides`` replace fields of ``config`` (e.g. ``mode="sqs"``).

    Returns a :class:`StormResult` with a timeline DataFrame (``time_s``, ``concurrency``
    mean and ``concurrency_max`` per bin, ``started``, ``throttles``, ``completions``,
    ``dropped``, ``backlog`` at the end of the bin) and a :class:`StormSummary`.
    """
    cfg = replace(config or StormConfig(), **overrides)
    cfg.validate()
    rng = make_rng(cfg.seed)
    t_arr = arrivals(cfg.events, cfg.arrival, cfg.rate_per_s, cfg.trace_path, rng)
    extra_copies = 0
    if cfg.duplicate_rate > 0:
        from .delivery import at_least_once

        copies = at_least_once(cfg.events, cfg.duplicate_rate, rng)
        extra_copies = int(copies.sum() - cfg.events)
        t_arr = np.repeat(t_arr, copies)
    dt = _tick_s(cfg)
    if cfg.mode == "sync":
        out = _sync(cfg, t_arr, dt, progress)
    elif cfg.mode == "async":
        out = _async(cfg, t_arr, dt, rng, progress)
    else:
        out = _sqs(cfg, t_arr, dt, rng, progress)
    gate: _Gate = out["gate"]
    done = out["completions"]
    last_done = int(np.flatnonzero(done)[-1]) if done.any() else 0

    def last_nonzero(a: np.ndarray) -> int:
        nz = np.flatnonzero(a)
        return int(nz[-1]) if nz.size else 0

    n = 1 + max(last_done, last_nonzero(out["started"]), last_nonzero(out["throttled"]),
                last_nonzero(out["dropped"]), last_nonzero(out.get("dlq_t", np.zeros(1, np.int64))),
                int(out["arrived"][-1]) if out["arrived"].size else 0)
    started = _pad(out["started"], n)
    throttled = _pad(out["throttled"], n)
    dropped = _pad(out["dropped"], n)
    completions = _pad(done, n)
    arrived = _pad(np.bincount(out["arrived"]) if out["arrived"].size else np.zeros(1, np.int64), n)
    running = np.cumsum(started) - np.cumsum(completions)
    if cfg.mode == "sqs":
        msg_done = _pad(out["deleted"], n) + _pad(out["dlq_t"], n)
        backlog = np.cumsum(arrived) - np.cumsum(msg_done)
    else:
        backlog = np.cumsum(arrived) - np.cumsum(started) - np.cumsum(dropped)
    # bins
    if bin_s is None:
        span = n * dt
        bin_s = max(dt, _nice(span / 400))
    per = max(1, int(round(bin_s / dt)))
    nb = -(-n // per)
    padn = nb * per

    def agg(a: np.ndarray, how: str) -> np.ndarray:
        a = _pad(a.astype(np.float64), padn).reshape(nb, per)
        if how == "sum":
            return a.sum(axis=1)
        if how == "mean":
            return a.mean(axis=1)
        if how == "max":
            return a.max(axis=1)
        return a[:, -1]

    backlog_f = backlog.astype(np.float64)
    if padn > n:
        backlog_f = np.concatenate([backlog_f, np.full(padn - n, backlog_f[-1] if n else 0.0)])
    timeline = {
        "time_s": np.arange(nb) * per * dt,
        # time-average: an invocation starting inside a tick is present for half of it
        "concurrency": agg(running - 0.5 * started, "mean"),
        "concurrency_max": agg(running, "max").astype(np.int64),
        "started": agg(started, "sum").astype(np.int64),
        "throttles": agg(throttled, "sum").astype(np.int64),
        "completions": agg(completions, "sum").astype(np.int64),
        "dropped": agg(dropped, "sum").astype(np.int64),
        "backlog": backlog_f.reshape(nb, per)[:, -1].astype(np.int64),
    }
    invocations = int(started.sum())
    # billed time: every processed event (an SQS batch takes its size x duration_ms), plus
    # the init time of each new environment; throttled attempts are not billed
    gb_s = (out["processings"] * cfg.duration_ms + gate.cold * cfg.cold_start_ms) / 1000 * cfg.memory_mb / 1024
    # duplicates: extra copies the source delivered, plus (SQS) repeated processing of a message
    duplicates = extra_copies + int(out.get("dup_processings", 0))
    price = _cost.storm_cost(
        mode=cfg.mode,
        invocations=invocations,
        gb_seconds=gb_s,
        messages=int(t_arr.size),
        receives=int(out.get("receives", 0)),
        free_tier=cfg.free_tier,
    )
    summary = StormSummary(
        mode=cfg.mode,
        events=int(cfg.events),
        completion_s=_completion_s(out, last_done, dt) if invocations else 0.0,
        invocations=invocations,
        throttles=int(throttled.sum()),
        dropped=int(dropped.sum()),
        duplicates=duplicates,
        dlq=int(out["dlq"]),
        max_concurrency=int(gate.peak),
        cold_starts=int(gate.cold),
        gb_seconds=float(gb_s),
        cost_usd=float(price["total_usd"]),
        drain_lower_bound_s=drain_bound_s(cfg, int(out["processings"])),
        extra={"tick_s": dt, "limit": gate.limit, "processings": int(out["processings"]),
               "completion_p99_s": _quantile_time(completions, 0.99, dt),
               **({"receives": int(out["receives"]), "messages_received": int(out["messages_received"])}
                  if cfg.mode == "sqs" else {})},
    )
    return StormResult(timeline=timeline, summary=summary, config=cfg)


def drain_bound_s(cfg: StormConfig, processed: int) -> float:
    """No storm can have processed ``processed`` items sooner than this, in seconds.

    The bound of :func:`theory.drain_lower_bound_s` with this storm's ceiling and ramp:
    the function's limit behind the scaling rule (1,000 new environments, then 1,000 per
    10 s; or the pre-2023 burst of 3,000 and +500 a minute), or for SQS the pollers (5
    batches, +300 a minute, to ``MaximumConcurrency`` or 1,000) capped by the function's limit.
    Items sent to a DLQ or dropped used no concurrency, so only processed ones count.
    """
    d_s = cfg.duration_ms / 1000
    limit = cfg.effective_limit()
    if cfg.mode == "sqs":
        limit = min(limit, cfg.max_concurrency or P.SQS_MAX_BATCHES)
        return theory.drain_lower_bound_s(processed, d_s, limit, P.SQS_INITIAL_BATCHES, P.SQS_SCALE_PER_MIN / 60)
    if cfg.scaling == "pre2023":
        return theory.drain_lower_bound_s(processed, d_s, limit, P.LEGACY_BURST_US_EAST_1, P.LEGACY_BURST_PER_MIN / 60)
    return theory.drain_lower_bound_s(processed, d_s, limit, P.SCALING_ENVS, P.SCALING_ENVS / P.SCALING_WINDOW_S)


def _completion_s(out: dict, last_done: int, dt: float) -> float:
    """When the last invocation ended, seconds: exact where the mode knows it (sync from
    arrival times, SQS from batches started on the grid), else the tick it ended in."""
    if "last_end_s" in out:
        return float(out["last_end_s"])
    return float(last_done * dt)


def _quantile_time(per_tick: np.ndarray, q: float, dt: float) -> float:
    """Time (s) by which a fraction ``q`` of all completions had happened."""
    total = per_tick.sum()
    if total == 0:
        return 0.0
    return float(np.searchsorted(np.cumsum(per_tick), q * total) * dt)


def downstream(timeline: pd.DataFrame, connections: int) -> dict:
    """What a database with ``connections`` connections sees if each invocation holds one.

    Returns the peak of concurrent invocations, the seconds during which it exceeded the
    connections, and the largest number of invocations left without a connection.
    """
    step = float(timeline["time_s"].iloc[1] - timeline["time_s"].iloc[0]) if len(timeline) > 1 else 0.0
    peak = int(timeline["concurrency_max"].max())
    over = timeline["concurrency_max"] > connections
    return {
        "peak_connections": peak,
        "seconds_over_limit": float(over.sum() * step),
        "refused_at_peak": max(0, peak - connections),
    }


def _nice(x: float) -> float:
    """Round a bin width up to 1, 2 or 5 times a power of ten."""
    if x <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * p >= x:
            return m * p
    return 10 * p


def compare(configs: dict[str, StormConfig | dict], base: StormConfig | None = None) -> pd.DataFrame:
    """Run several storms and return one summary row per name."""
    rows = {}
    for name, c in configs.items():
        cfg = c if isinstance(c, StormConfig) else replace(base or StormConfig(), **c)
        s = simulate_storm(cfg).summary
        rows[name] = {k: v for k, v in s.as_dict().items() if k not in ("tick_s", "limit")}
    import pandas as pd

    return pd.DataFrame(rows).T


#: How the pollers space the retries of a throttled batch, by label: the lab's 1, 2, 4 ... s,
#: and the same with equal jitter (AWS publishes neither).
RETRY_SPACINGS = {"1, 2, 4 s (the lab)": "exponential", "equal jitter": "equal_jitter"}


def visibility_sweep(config: StormConfig, factors=(1, 2, 6), timeout_s: float | None = None,
                     window_s: float = 0.0, spacings: dict[str, str] | None = None, **overrides) -> pd.DataFrame:
    """SQS storms of ``config`` with the visibility timeout at ``factor x timeout + window``.

    ``timeout_s`` is the function timeout (default: one full batch's run time, the shortest a
    timeout can be for this handler) and ``window_s`` the batching window, as in AWS's
    guidance of 6 x timeout + window (services-sqs-configure). One row per factor and retry
    spacing (``RETRY_SPACINGS``): the visibility timeout in seconds, messages sent to the DLQ
    (count and percent), duplicate processings, throttles and completion in seconds.
    """
    import pandas as pd

    config = replace(config, mode="sqs", **overrides)
    timeout = config.batch_size * config.duration_ms / 1000 if timeout_s is None else timeout_s
    rows = []
    for factor in factors:
        vt = factor * timeout + window_s
        for label, jitter in (spacings or RETRY_SPACINGS).items():
            s = simulate_storm(config, visibility_timeout_s=vt, jitter=jitter).summary
            rows.append({"factor": factor, "visibility_s": vt, "retries": label, "dlq": s.dlq,
                         "dlq_percent": 100 * s.dlq / max(1, s.events), "duplicates": s.duplicates,
                         "throttles": s.throttles, "completion_s": s.completion_s})
    return pd.DataFrame(rows)
