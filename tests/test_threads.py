"""A second thread may drive the lab (the API Gateway chapter serves HTTP from a server thread).

Requests from other threads start at the current virtual instant and overlap, so limits apply
as on AWS; each thread has its own chain depth; each invocation captures only its own output.
No sleeps: threads meet at a Barrier and hand over with Events, with timeouts so a bug fails
the test instead of hanging it.
"""

from __future__ import annotations

import logging
import threading

from lambda_lab import Lab, TooManyRequestsException

WAIT_S = 10  # real seconds; only reached if something is broken
CALLERS = 8


def run_threads(targets) -> list[BaseException]:
    """Run each target on its own thread; return what they raised."""
    errors: list[BaseException] = []

    def guarded(target):
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
        assert not thread.is_alive(), "a thread is stuck"
    return errors


def test_callers_on_many_threads_overlap_and_capture_only_their_own_output(lab, capsys):
    url = lab.client("sqs").create_queue(QueueName="seen")["QueueUrl"]
    first_running, main_printed = threading.Event(), threading.Event()
    depths: list[int] = []

    def handler(event, context):
        rid = context.aws_request_id
        if not first_running.is_set():  # the first handler waits while the main thread prints
            first_running.set()
            assert main_printed.wait(WAIT_S)
        print(f"print {rid}")
        logging.getLogger().warning("log %s", rid)
        depths.append(lab.runtime.current_depth())
        lab.client("sqs").send_message(QueueUrl=url, MessageBody=rid)
        return rid

    fn = lab.function("api", handler, reserved_concurrency=3, duration_ms=1_000)
    barrier = threading.Barrier(CALLERS)
    outcomes: list[str] = []

    def caller():
        barrier.wait(WAIT_S)
        try:
            outcomes.append(fn.invoke({}).payload)
        except TooManyRequestsException:
            outcomes.append("throttled")

    def main_prints():
        assert first_running.wait(WAIT_S)
        print("main thread output")
        main_printed.set()

    errors = run_threads([caller] * CALLERS + [main_prints])
    assert errors == []
    frame = lab.log.to_frame()
    assert len(frame) == CALLERS
    assert frame["outcome"].value_counts().to_dict() == {"success": 3, "throttled": 5}
    assert set(frame["start"]) == {0.0}  # all at one virtual instant, overlapping
    assert lab.clock.elapsed() == 0.0  # other threads never move the clock
    assert depths == [1, 1, 1]
    ran = [rec for rec in lab.log if rec.outcome == "success"]
    all_ids = {rec.request_id for rec in ran}
    for rec in ran:
        body = rec.log.splitlines()[1:-2]  # between START and END/REPORT
        assert body[0] == f"print {rec.request_id}"
        assert body[1].endswith(f"\t{rec.request_id}\tlog {rec.request_id}")
        assert len(body) == 2
        assert not any(other in rec.log for other in all_ids - {rec.request_id})
        assert "main thread output" not in rec.log
    assert sorted(o for o in outcomes if o != "throttled") == sorted(all_ids)
    assert "main thread output" in capsys.readouterr().out
    messages = lab.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in messages) == sorted(all_ids)


def test_chain_depth_is_per_thread(lab):
    nested_running, b_checked = threading.Event(), threading.Event()
    seen: dict[str, int] = {}

    def inner(event, context):
        seen["A inner"] = lab.runtime.current_depth()
        nested_running.set()
        assert b_checked.wait(WAIT_S)  # thread B looks while A is two deep

    inner_fn = lab.function("inner", inner)

    def outer(event, context):
        seen["A outer"] = lab.runtime.current_depth()
        inner_fn.invoke({})

    def b_handler(event, context):
        seen["B handler"] = lab.runtime.current_depth()

    outer_fn, b_fn = lab.function("outer", outer), lab.function("b", b_handler)

    def thread_b():
        assert nested_running.wait(WAIT_S)
        seen["B outside"] = lab.runtime.current_depth()
        b_checked.set()
        b_fn.invoke({})  # waits for A to release the lab, then runs at depth 1

    errors = run_threads([lambda: outer_fn.invoke({}), thread_b])
    assert errors == []
    assert seen == {"A outer": 1, "A inner": 2, "B outside": 0, "B handler": 1}
    assert lab.runtime.current_depth() == 0 and lab.clock.elapsed() == 0.0


def test_other_threads_logging_is_not_captured_or_lost(lab, capsys, monkeypatch):
    # With no handler of its own, Python shows a warning through logging.lastResort (stderr);
    # the lab's capture handler on the root logger must not swallow it.
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    handler_running, other_logged = threading.Event(), threading.Event()

    def handler(event, context):
        handler_running.set()
        assert other_logged.wait(WAIT_S)

    fn = lab.function("quiet", handler)

    def other():
        assert handler_running.wait(WAIT_S)
        logging.getLogger("elsewhere").error("not the handler's")
        other_logged.set()

    errors = run_threads([lambda: fn.invoke({}), other])
    assert errors == []
    assert "not the handler's" not in lab.log.records[0].log
    assert "not the handler's" in capsys.readouterr().err


def test_streams_and_root_logger_are_restored(lab):
    import sys

    before = (sys.stdout, sys.stderr, list(logging.getLogger().handlers))
    lab.function("echo", lambda event, context: print("x")).invoke({})
    assert (sys.stdout, sys.stderr, list(logging.getLogger().handlers)) == before


def test_a_new_lab_in_a_thread_is_driven_by_that_thread():
    clocks = []

    def build_and_invoke():
        with Lab(seed=0) as lab:
            lab.function("echo", lambda event, context: None, duration_ms=500, init_duration_ms=0).invoke({})
            clocks.append(lab.clock.elapsed())

    assert run_threads([build_and_invoke]) == []
    assert clocks == [0.5]
