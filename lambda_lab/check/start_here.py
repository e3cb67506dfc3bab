"""Checks for the exercises of chapter 00_start_here.

Each check runs the learner's code in the chapter's lab and reads what it did there (the rows
it added to ``lab.log``, the payloads it returned), with inputs the check chooses, so a number
typed in or a handler written out for one example cannot pass. A check stops at the first input
that goes wrong and says what happened with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from . import Verdict, is_whole_number, report

if TYPE_CHECKING:
    from ..lab import Lab

#: (calls, reserved) for Exercise 1: the chapter's example first, then fewer calls than the
#: reservation (so returning ``reserved`` fails), then a reservation of one (so returning 3 fails).
BURSTS = ((10, 3), (4, 6), (7, 1))

#: Events for Exercise 2 and the greeting each must get: two names (a greeting written out for
#: the example fails), an empty event, and the chapter's typo (an event that is not empty but
#: has no ``name``: testing ``if not event`` instead of the key fails).
GREETINGS = (
    ({"name": "Ada"}, "Hello, Ada"),
    ({"name": "Grace"}, "Hello, Grace"),
    ({}, "Hello, stranger"),
    ({"nme": "typo"}, "Hello, stranger"),
)

HOW_1 = ("register a function with `reserved_concurrency=reserved`, send `calls` events at the same "
         "instant with `invoke_concurrently`, and return how many calls succeeded")


def ex1(lab: "Lab", burst: Any) -> Verdict:
    """Exercise 1: ``burst(lab, calls, reserved)`` runs the experiment and counts the successes.

    For each (calls, reserved) in :data:`BURSTS` the check calls ``burst`` and reads the rows it
    added to ``lab.log``: ``calls`` synchronous invocations of one function, of which
    ``min(calls, reserved)`` succeeded and the rest were throttled; the value returned must be
    that count of successes.
    """
    if not callable(burst):
        return report("Exercise 1", [f"define `burst(lab, calls, reserved)` first: {HOW_1}"])
    for calls, reserved in BURSTS:
        problems = _burst_problems(lab, burst, calls, reserved)
        if problems:
            return report("Exercise 1", problems)
    return report("Exercise 1", [])


def _burst_problems(lab: "Lab", burst: Callable[..., Any], calls: int, reserved: int) -> list[str]:
    call = f"burst(lab, calls={calls}, reserved={reserved})"
    before = len(lab.log)
    try:
        answer = burst(lab, calls, reserved)
    except Exception as err:  # the learner's code: report, never raise
        return [f"{call} raised {type(err).__name__}: {err}"]
    rows = [inv for inv in list(lab.log)[before:] if inv.source == "invoke"]
    if not rows:
        returned = "returned None" if answer is None else f"returned {answer!r}"
        return [f"{call} {returned} but invoked nothing: the number must come from the experiment; {HOW_1}"]
    functions = sorted({inv.function for inv in rows})
    if len(functions) > 1:
        return [f"{call} invoked {len(functions)} functions ({', '.join(functions)}): send every call to one"]
    if len(rows) != calls:
        return [f"{call} made {len(rows)} synchronous invocation(s); it should send {calls} calls, one per event"]
    failed = [inv for inv in rows if inv.outcome not in ("success", "throttled")]
    if failed:
        return [f"{len(failed)} of the {calls} calls failed with {failed[0].error_type}: {failed[0].error_message}; "
                "register a handler that succeeds for the events you send"]
    succeeded = sum(1 for inv in rows if inv.outcome == "success")
    throttled = calls - succeeded
    expected = min(calls, reserved)
    if succeeded > expected and throttled == 0:
        return [f"none of the {calls} calls was throttled, yet reserved concurrency {reserved} lets only "
                f"{reserved} run at once: register the function with `reserved_concurrency=reserved` and "
                "send the calls at the same instant with `invoke_concurrently` (one `invoke` after "
                "another waits for each to end)"]
    if succeeded > expected:
        return [f"{succeeded} of the {calls} calls ran at once, more than reserved concurrency {reserved} "
                "allows: register the function with `reserved_concurrency=reserved`"]
    if succeeded < expected:
        return [f"only {succeeded} of the {calls} calls succeeded and {throttled} were throttled, but reserved "
                f"concurrency {reserved} has room for more: register the function with "
                "`reserved_concurrency=reserved` and send the calls while none of its calls is running"]
    if answer is None:
        return [f"{call} returned None: return the number of calls that succeeded"]
    if not is_whole_number(answer):
        return [f"{call} should return a whole number, got {answer!r}"]
    if answer != succeeded:
        hint = "count the results that are not TooManyRequestsException"
        if answer == throttled:
            hint = "that is the number throttled; " + hint
        elif answer == calls:
            hint = "that counts every call, the throttled ones too; " + hint
        return [f"{call} returned {answer}, but the log shows {succeeded} successes: {hint}"]
    return []


def ex2(lab: "Lab", handler: Any) -> Verdict:
    """Exercise 2: a handler that greets by name and survives an event without one.

    The check registers ``handler`` in ``lab`` as ``exercise-2`` and invokes it with each event
    of :data:`GREETINGS`.
    """
    if not callable(handler):
        return report("Exercise 2", ["define `safe_handler(event, context)` first"])
    fn = lab.function("exercise-2", handler)
    problems, returned_none = [], 0
    for event, greeting in GREETINGS:
        response = fn.invoke(event)
        if response.function_error:
            payload = response.payload
            problems.append(f"event {event} raised {payload['errorType']}: {payload['errorMessage']}")
        elif not isinstance(response.payload, dict) or response.payload.get("greeting") != greeting:
            returned_none += response.payload is None
            problems.append(f"event {event} should return {{'greeting': '{greeting}'}}, got {response.payload!r}")
    if returned_none == len(GREETINGS):  # the starter, whose body is `...`
        problems = ["`safe_handler` returns None: return a dict such as {'greeting': 'Hello, Ada'} for "
                    "{'name': 'Ada'}, and {'greeting': 'Hello, stranger'} for an event without a 'name'"]
    return report("Exercise 2", problems)
