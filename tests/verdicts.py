"""What every exercise check's tests ask of a "not yet" verdict."""

from __future__ import annotations


def assert_not_yet(verdict, *hints: str) -> None:
    """``verdict`` is false, says "not yet", gives at least one hint line, and contains each of ``hints``."""
    text = repr(verdict)
    assert not verdict and "not yet" in text and "\n  - " in text, text
    for hint in hints:
        assert hint in text, text
