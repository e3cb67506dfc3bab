"""How long a simulated handler runs: fixed, per event, or seeded random (milliseconds)."""

from __future__ import annotations

import math
import numbers
import random
from dataclasses import dataclass
from typing import Any, Callable, Union

from .errors import ConfigurationError


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


def check_duration(name: str, spec: Any) -> None:
    """Refuse a duration spec that would fail later, at the call that sets it (``ConfigurationError``).

    A number must be finite and at least 0 ms (``True`` is not a duration); a ``Uniform`` needs
    0 <= ``low_ms`` <= ``high_ms``, a ``LogNormal`` a median and a ``sigma`` of at least 0.
    A callable is checked each time it answers (``draw_ms``).
    """
    if isinstance(spec, Uniform):
        ok = _ms(spec.low_ms) and _ms(spec.high_ms) and spec.low_ms <= spec.high_ms
    elif isinstance(spec, LogNormal):
        ok = _ms(spec.median_ms) and _ms(spec.sigma)
    else:
        ok = _ms(spec) or callable(spec)
    if not ok:
        raise ConfigurationError(
            f"{name} must be a finite number of milliseconds >= 0, a Uniform(low_ms, high_ms) with "
            f"0 <= low_ms <= high_ms, a LogNormal(median_ms, sigma) or f(event) -> ms, got {spec!r}")


def _ms(value: Any) -> bool:
    """True for a finite real number >= 0 that is not a bool."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)
