"""Chapter 00's exercise checks: the starter and plausible wrong answers fail with a reason, the
solutions pass. The starters and solutions here are the notebook's cells, word for word."""

from __future__ import annotations

import numpy as np
import pytest

from lambda_lab import TooManyRequestsException
from lambda_lab.check import start_here as check


def handler(event, context):  # the chapter's handler
    print(f"greeting {event['name']}")
    return {"greeting": f"Hello, {event['name']}"}


# --- Exercise 1 ---------------------------------------------------------------------------------

def starter_burst(lab, calls, reserved):
    ...  # your code here


def solution_burst(lab, calls, reserved):
    fn = lab.function("burst", handler, reserved_concurrency=reserved, duration_ms=500)
    outcomes = fn.invoke_concurrently([{"name": str(i)} for i in range(calls)])
    return sum(1 for r in outcomes if not isinstance(r, Exception))


def _numpy_count(lab, calls, reserved):  # a count from numpy is a whole number too
    fn = lab.function("burst", handler, reserved_concurrency=reserved)
    outcomes = fn.invoke_concurrently([{"name": str(i)} for i in range(calls)])
    return np.sum([not isinstance(r, TooManyRequestsException) for r in outcomes])


def _from_the_log(lab, calls, reserved):  # counting the log's rows instead of the results
    lab.function("burst-from-log", handler, reserved_concurrency=reserved).invoke_concurrently(
        [{"name": "x"}] * calls)
    frame = lab.log.to_frame("burst-from-log").tail(calls)  # this burst's rows
    return int((frame["outcome"] == "success").sum())


@pytest.mark.parametrize("burst", [solution_burst, _numpy_count, _from_the_log],
                         ids=["solution", "numpy-count", "counted-from-the-log"])
def test_exercise_1_passes_the_experiment(lab, burst):
    verdict = check.ex1(lab, burst)
    assert verdict, repr(verdict)
    rows = lab.log.to_frame()
    assert len(rows) == sum(calls for calls, _ in check.BURSTS)  # the calls really happened
    assert (rows["outcome"] == "throttled").sum() == sum(c - min(c, r) for c, r in check.BURSTS)


def test_exercise_1_starter_says_what_to_do(lab):
    verdict = check.ex1(lab, starter_burst)
    assert not verdict
    text = repr(verdict)
    assert "not yet" in text and "returned None but invoked nothing" in text
    assert "reserved_concurrency=reserved" in text and "invoke_concurrently" in text
    assert len(lab.log) == 0


def _hard_coded_3(lab, calls, reserved):
    lab.function("burst", handler, reserved_concurrency=reserved).invoke_concurrently(
        [{"name": str(i)} for i in range(calls)])
    return 3


def _formula_without_experiment(lab, calls, reserved):
    return min(calls, reserved)


def _counts_throttles(lab, calls, reserved):
    outcomes = lab.function("burst", handler, reserved_concurrency=reserved).invoke_concurrently(
        [{"name": str(i)} for i in range(calls)])
    return sum(1 for r in outcomes if isinstance(r, TooManyRequestsException))


def _counts_every_result(lab, calls, reserved):
    outcomes = lab.function("burst", handler, reserved_concurrency=reserved).invoke_concurrently(
        [{"name": str(i)} for i in range(calls)])
    return len(outcomes)


def _forgets_the_reservation(lab, calls, reserved):
    outcomes = lab.function("burst", handler).invoke_concurrently([{"name": str(i)} for i in range(calls)])
    return sum(1 for r in outcomes if not isinstance(r, Exception))


def _one_call_after_another(lab, calls, reserved):
    fn = lab.function("burst", handler, reserved_concurrency=reserved)
    succeeded = 0
    for i in range(calls):
        try:
            fn.invoke({"name": str(i)})
            succeeded += 1
        except TooManyRequestsException:
            pass
    return succeeded


def _handler_fails_on_its_events(lab, calls, reserved):  # the chapter's handler wants a name
    outcomes = lab.function("burst", handler, reserved_concurrency=reserved).invoke_concurrently([{}] * calls)
    return sum(1 for r in outcomes if not isinstance(r, Exception))


def _same_reservation_every_time(lab, calls, reserved):
    outcomes = lab.function("burst", handler, reserved_concurrency=3).invoke_concurrently(
        [{"name": str(i)} for i in range(calls)])
    return sum(1 for r in outcomes if not isinstance(r, Exception))


def _one_function_per_call(lab, calls, reserved):
    succeeded = 0
    for i in range(calls):
        fn = lab.function(f"burst-{i}", handler)
        succeeded += not isinstance(fn.invoke_concurrently([{"name": str(i)}])[0], Exception)
    return succeeded


def _returns_a_list(lab, calls, reserved):
    outcomes = lab.function("burst", handler, reserved_concurrency=reserved).invoke_concurrently(
        [{"name": str(i)} for i in range(calls)])
    return [r for r in outcomes if not isinstance(r, Exception)]


@pytest.mark.parametrize("burst, reason", [
    (_hard_coded_3, "returned 3, but the log shows 4 successes"),
    (_formula_without_experiment, "returned 3 but invoked nothing"),
    (_counts_throttles, "that is the number throttled"),
    (_counts_every_result, "that counts every call"),
    (_forgets_the_reservation, "none of the 10 calls was throttled"),
    (_one_call_after_another, "none of the 10 calls was throttled"),
    (_handler_fails_on_its_events, "3 of the 10 calls failed with KeyError"),
    (_same_reservation_every_time, "only 3 of the 4 calls succeeded"),
    (_one_function_per_call, "invoked 10 functions"),
    (_returns_a_list, "should return a whole number"),
    (None, "define `burst(lab, calls, reserved)` first"),
], ids=["hard-coded-3", "formula-without-experiment", "counts-throttles", "counts-every-result",
        "forgets-the-reservation", "one-call-after-another", "handler-fails-on-its-events",
        "same-reservation-every-time", "one-function-per-call", "returns-a-list", "not-a-function"])
def test_exercise_1_refuses_wrong_answers(lab, burst, reason):
    verdict = check.ex1(lab, burst)
    assert not verdict and reason in repr(verdict), repr(verdict)


def test_exercise_1_reports_an_exception_without_raising(lab):
    def broken(lab, calls, reserved):
        return lab.function("burst", handler, reserved_concurrency=-1)

    verdict = check.ex1(lab, broken)
    assert not verdict and "burst(lab, calls=10, reserved=3) raised ConfigurationError" in repr(verdict)


# --- Exercise 2 ---------------------------------------------------------------------------------

def starter_safe_handler(event, context):
    ...  # your code here


def safe_handler(event, context):
    return {"greeting": f"Hello, {event.get('name', 'stranger')}"}


def test_exercise_2_passes_the_solution(lab):
    assert check.ex2(lab, safe_handler)
    assert lab.log.to_frame("exercise-2")["outcome"].tolist() == ["success"] * len(check.GREETINGS)


def test_exercise_2_starter_says_what_to_do(lab):
    verdict = check.ex2(lab, starter_safe_handler)
    assert not verdict
    text = repr(verdict)
    assert "not yet" in text and "`safe_handler` returns None: return a dict" in text
    assert text.count("\n  - ") == 1  # one hint, not one line per event


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


def _tests_for_an_empty_event(event, context):
    if not event:
        return {"greeting": "Hello, stranger"}
    return {"greeting": f"Hello, {event['name']}"}


@pytest.mark.parametrize("handler, reason", [
    (_chapter_handler, "event {} raised KeyError"),
    (_no_default, "got {'greeting': 'Hello, None'}"),
    (_text_not_dict, "got 'Hello, stranger'"),
    (_swallows_the_error, "should return {'greeting': 'Hello, stranger'}, got None"),
    (_written_out_for_the_example, "should return {'greeting': 'Hello, Grace'}"),
    (_tests_for_an_empty_event, "event {'nme': 'typo'} raised KeyError"),
    (None, "define `safe_handler"),
], ids=["chapter-handler", "no-default", "text-not-dict", "swallows-the-error", "written-out-for-the-example",
        "tests-for-an-empty-event", "not-a-function"])
def test_exercise_2_refuses_wrong_handlers(lab, handler, reason):
    verdict = check.ex2(lab, handler)
    assert not verdict and reason in repr(verdict), repr(verdict)
