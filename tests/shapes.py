"""What "the same shape as AWS's sample" means in the event tests."""

from __future__ import annotations

from typing import Any


def shape(value: Any) -> Any:
    """Keys and value types, recursively (dicts compare without regard to key order)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__
