"""Chapter 00's exercise checks: plausible wrong answers fail with a reason, the solutions pass."""

from __future__ import annotations

import numpy as np
import pytest

from lambda_lab import TooManyRequestsException
from lambda_lab.check import start_here as check


def _burst(lab):
    """The exercise done in the lab: reserved concurrency 3, ten callers at once."""
    burst = lab.function("burst", lambda event, context: {"ok": True}, reserved_concurrency=3, duration_ms=500)
    return burst.invoke_concurrently([{"name": str(i)} for i in range(10)])


def test_exercise_1_wants_the_successes_the_lab_reports(lab):
    outcomes = _burst(lab)
    succeeded = sum(1 for r in outcomes if not isinstance(r, Exception))
    assert check.ex1(succeeded)
    assert check.ex1(np.int64(succeeded))  # a count from numpy or pandas is a whole number too
    assert sum(isinstance(r, TooManyRequestsException) for r in outcomes) == 7


@pytest.mark.parametrize("wrong, reason", [
    (None, "set `answer`"),
    (10, "is not what the lab reports"),  # every call: forgot the throttles
    (7, "is not what the lab reports"),  # counted the throttles
    (3.0, "whole number"),
    ("3", "whole number"),
    (True, "whole number"),
])
def test_exercise_1_refuses_wrong_answers(wrong, reason):
    verdict = check.ex1(wrong)
    assert not verdict and reason in repr(verdict)


def safe_handler(event, context):
    return {"greeting": f"Hello, {event.get('name', 'stranger')}"}


def test_exercise_2_passes_the_solution(lab):
    assert check.ex2(lab, safe_handler)
    assert lab.log.to_frame("exercise-2")["outcome"].tolist() == ["success"] * 3


def _chapter_handler(event, context):  # the chapter's handler: KeyError without a name
    return {"greeting": f"Hello, {event['name']}"}


def _no_default(event, context):
    return {"greeting": f"Hello, {event.get('name')}"}


def _text_not_dict(event, context):
    return f"Hello, {event.get('name', 'stranger')}"


def _swallows_the_error(event, context):
    try:
        return {"greeting": f"Hello, {event['name']}"}
    except KeyError:
        return None


def _written_out_for_the_example(event, context):
    return {"greeting": "Hello, Ada" if event else "Hello, stranger"}


@pytest.mark.parametrize("handler, reason", [
    (lambda event, context: None, "got None"),  # the starter cell
    (_chapter_handler, "raised KeyError"),
    (_no_default, "got {'greeting': 'Hello, None'}"),
    (_text_not_dict, "got 'Hello, stranger'"),
    (_swallows_the_error, "should return {'greeting': 'Hello, stranger'}, got None"),
    (_written_out_for_the_example, "should return {'greeting': 'Hello, Grace'}"),
    (None, "define `safe_handler"),
])
def test_exercise_2_refuses_wrong_handlers(lab, handler, reason):
    verdict = check.ex2(lab, handler)
    assert not verdict and reason in repr(verdict)
