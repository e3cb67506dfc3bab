"""How long a simulated handler runs: fixed, per event, or seeded random (milliseconds)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Union


@dataclass(frozen=True)
class Uniform:
    """Duration drawn uniformly between ``low_ms`` and ``high_ms``."""

    low_ms: float
    high_ms: float

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(self.low_ms, self.high_ms)


@dataclass(frozen=True)
class LogNormal:
    """Right-skewed duration like real latencies: median ``median_ms``, shape ``sigma``."""

    median_ms: float
    sigma: float = 0.5

    def draw(self, rng: random.Random) -> float:
        return rng.lognormvariate(0.0, self.sigma) * self.median_ms


Duration = Union[float, int, Uniform, LogNormal, Callable[[Any], float]]


def draw_ms(spec: Duration, event: Any, rng: random.Random) -> float:
    """Resolve a duration spec for one event, in milliseconds (never negative)."""
    if isinstance(spec, (Uniform, LogNormal)):
        value = spec.draw(rng)
    elif callable(spec):
        value = spec(event)
    else:
        value = spec
    value = float(value)
    if value < 0:
        raise ValueError(f"a duration cannot be negative, got {value} ms")
    return value
