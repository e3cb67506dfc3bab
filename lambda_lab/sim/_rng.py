"""One way to turn a seed into a generator, so every function accepts either."""

from __future__ import annotations

from typing import Union

import numpy as np

Seed = Union[int, np.random.Generator]


def make_rng(seed: Seed) -> np.random.Generator:
    """Return ``seed`` if it is a Generator, else a fresh PCG64 generator seeded with it."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise ValueError("a seed is required: same seed, same output")
    return np.random.default_rng(int(seed))
