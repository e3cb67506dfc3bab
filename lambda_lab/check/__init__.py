"""Exercise checks: one module per chapter, each function prints a clear verdict.

A check never raises on a wrong answer: its value shows what is wrong so the learner
can fix it, and is false. The chapter's solution cell makes every check pass, so
nbval guards the checks too.
"""

from __future__ import annotations

import itertools
import numbers
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from ..lab import Lab


class Verdict:
    """A check's result: true when correct; shows as ``✓ …`` or ``✗ …`` plus what is wrong."""

    def __init__(self, exercise: str, problems: list[str]):
        self.exercise = exercise
        self.problems = list(problems)

    def __bool__(self) -> bool:
        return not self.problems

    def __repr__(self) -> str:
        if not self.problems:
            return f"✓ {self.exercise}: correct"
        return "\n".join([f"✗ {self.exercise}: not yet", *(f"  - {p}" for p in self.problems)])


def report(exercise: str, problems: list[str]) -> Verdict:
    """The verdict for ``exercise``: correct when ``problems`` is empty (shown as the cell's value)."""
    return Verdict(exercise, problems)


def is_whole_number(value: Any) -> bool:
    """An int, numpy's included (a count from ``.sum()`` is one), but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real_number(value: Any) -> bool:
    """A float or an int, numpy's included, but not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def short(value: Any, limit: int = 70) -> str:
    """``repr(value)``, cut to ``limit`` characters with "...", for a hint that quotes a learner's value."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


_RUNS = itertools.count(1)


def fresh_name(lab: "Lab", prefix: str, taken: Iterable[str] = ()) -> str:
    """``<prefix>-<n>``: a name no function of this lab (nor any of ``taken``) has yet, for a check's own scenario."""
    taken = set(taken)
    while True:
        name = f"{prefix}-{next(_RUNS)}"
        if name not in lab.runtime.functions and name not in taken:
            return name


class Problems:
    """Hints in the order found, each said once, with where it was seen.

    ``key`` names a kind of mistake whose text varies with a check's random values: the first
    text stands for all. ``lines()`` puts the places first, after ``prefix`` ("behind " for APIs).
    """

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.found: dict[str, tuple[str, list[str]]] = {}

    def add(self, hint: str, where: str | None = None, key: str | None = None) -> None:
        _, places = self.found.setdefault(key or hint, (hint, []))
        if where and where not in places:
            places.append(where)

    def lines(self) -> list[str]:
        return [f"{self.prefix}{' and '.join(places)}: {hint}" if places else hint
                for hint, places in self.found.values()]
