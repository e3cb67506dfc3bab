"""Exercise checks: one module per chapter, each function prints a clear verdict.

A check never raises on a wrong answer: it prints what is wrong so the learner can
fix it, and returns False. The chapter's solution cell makes every check pass, so
nbval guards the checks too.
"""

from __future__ import annotations


def report(exercise: str, problems: list[str]) -> bool:
    """Print ``✓ <exercise>`` when ``problems`` is empty, else each problem; return the verdict."""
    if not problems:
        print(f"✓ {exercise}: correct")
        return True
    print(f"✗ {exercise}: not yet")
    for problem in problems:
        print(f"  - {problem}")
    return False
