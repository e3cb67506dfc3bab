"""Checks for the exercises of chapter 00_start_here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from . import Verdict, is_whole_number, report

if TYPE_CHECKING:
    from ..lab import Lab


def ex1(answer: Any, *, calls: int = 10, reserved: int = 3) -> Verdict:
    """Exercise 1: how many of ``calls`` simultaneous synchronous calls succeed?

    With reserved concurrency ``reserved`` and calls that all arrive at once, each
    success holds an environment, so only ``min(calls, reserved)`` can run.
    """
    problems = []
    expected = min(calls, reserved)
    if answer is None:
        problems.append("set `answer` to the number of calls that succeeded")
    elif not is_whole_number(answer):
        problems.append(f"`answer` should be a whole number, got {answer!r}")
    elif answer != expected:
        problems.append(
            f"{answer} is not what the lab reports; count the results that are not "
            "TooManyRequestsException (each success holds one environment)"
        )
    return report("Exercise 1", problems)


def ex2(lab: "Lab", handler: Callable[[dict, Any], Any]) -> Verdict:
    """Exercise 2: a handler that greets by name and survives an event without one.

    The check registers ``handler`` in ``lab`` as ``exercise-2`` and invokes it three times:
    two names (so a greeting written out for the example fails) and an event without one.
    """
    if not callable(handler):
        return report("Exercise 2", ["define `safe_handler(event, context)` first"])
    problems = []
    fn = lab.function("exercise-2", handler)
    for event, greeting in [({"name": "Ada"}, "Hello, Ada"), ({"name": "Grace"}, "Hello, Grace"),
                            ({}, "Hello, stranger")]:
        response = fn.invoke(event)
        if response.function_error:
            payload = response.payload
            problems.append(f"event {event} raised {payload['errorType']}: {payload['errorMessage']}")
        elif not isinstance(response.payload, dict) or response.payload.get("greeting") != greeting:
            problems.append(f"event {event} should return {{'greeting': '{greeting}'}}, got {response.payload!r}")
    return report("Exercise 2", problems)
