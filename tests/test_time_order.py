"""Nothing due is ever skipped: synchronous calls run what falls due before their end, in time order.

A call from a notebook cell waits on the virtual clock by running the scheduler up to its end;
a nested call (from inside a handler) or a scheduled task's call leaves the clock alone.
"""

from __future__ import annotations

import pytest

from lambda_lab import Lab, TooManyRequestsException
from lambda_lab.clock import Clock, Scheduler


def echo(event, context):
    return event


def starts(lab: Lab, function: str) -> list[float]:
    """Start times (s since the lab started) of ``function``'s invocations."""
    return lab.log.to_frame(function)["start"].tolist()


def test_async_event_due_during_a_long_synchronous_call_runs_on_time(lab):
    lab.function("background", echo).invoke_async({}, delay_s=1.0)
    slow = lab.function("slow", echo, timeout_s=15, duration_ms=10_000, init_duration_ms=180)
    slow.invoke({})
    assert starts(lab, "background") == [1.0]  # not 10.18, the end of the slow call
    assert starts(lab, "slow") == [0.0]
    assert lab.clock.elapsed() == pytest.approx(10.18)


def test_events_due_during_a_burst_run_in_time_order(lab):
    ran = []
    lab.scheduler.after(0.5, lambda: ran.append(("timer", lab.clock.elapsed())))
    lab.function("background", echo).invoke_async({}, delay_s=1.5)
    burst = lab.function("burst", echo, duration_ms=2_000, init_duration_ms=0)
    results = burst.invoke_concurrently([{}] * 3)
    assert all(r.function_error is None for r in results)
    assert ran == [("timer", 0.5)]
    assert starts(lab, "background") == [1.5]
    assert starts(lab, "burst") == [0.0, 0.0, 0.0]
    assert lab.clock.elapsed() == pytest.approx(2.0)


def test_work_due_exactly_at_the_end_runs_and_later_work_waits(lab):
    ran = []
    lab.scheduler.after(1.0, lambda: ran.append("at end"))
    lab.scheduler.after(1.001, lambda: ran.append("after"))
    lab.function("one_second", echo, duration_ms=1_000, init_duration_ms=0).invoke({})
    assert ran == ["at end"] and lab.clock.elapsed() == pytest.approx(1.0)


def test_nested_call_does_not_move_the_clock_or_run_other_work(lab):
    seen = {}
    inner = lab.function("inner", echo, timeout_s=10, duration_ms=5_000, init_duration_ms=0,
                         reserved_concurrency=1)

    def outer_handler(event, context):
        inner.invoke({})
        seen["clock"] = lab.clock.elapsed()
        seen["async rows"] = len(lab.log.to_frame("background"))

    lab.function("background", echo).invoke_async({}, delay_s=1.0)
    lab.function("outer", outer_handler, duration_ms=100, init_duration_ms=0).invoke({})
    assert seen == {"clock": 0.0, "async rows": 0}
    assert lab.clock.elapsed() == pytest.approx(0.1)  # the outer call's end, not the inner one's
    # The inner environment stays busy to 5 s: concurrency counts it and a second call is throttled.
    assert lab.runtime.busy(inner, lab.clock.now()) == 1
    with pytest.raises(TooManyRequestsException):
        inner.invoke({})
    lab.run_until_idle()
    assert starts(lab, "background") == [1.0]


def test_call_from_a_scheduled_task_does_not_re_enter_the_scheduler(lab):
    ran = []
    fn = lab.function("fn", echo, duration_ms=3_000, init_duration_ms=0)
    lab.scheduler.after(1.0, lambda: (fn.invoke({}), ran.append(("task", lab.clock.elapsed()))))
    lab.scheduler.after(2.0, lambda: ran.append(("later", lab.clock.elapsed())))
    lab.run(1.5)
    assert ran == [("task", 1.0)] and lab.clock.elapsed() == pytest.approx(1.5)
    lab.run(1.0)
    assert ran[-1] == ("later", 2.0)


def test_cancel_stops_a_task_and_reports_state():
    scheduler = Scheduler(Clock(patch_process=False))
    ran = []
    keep = scheduler.after(1, lambda: ran.append("keep"))
    drop = scheduler.after(1, lambda: ran.append("drop"))
    assert drop.cancel() is True and drop.cancel() is False
    assert (drop.cancelled, drop.pending, drop.done) == (True, False, False)
    assert len(scheduler) == 1
    scheduler.run_until(scheduler.clock.now() + 2)
    assert ran == ["keep"]
    assert (keep.done, keep.pending, keep.cancel()) == (True, False, False)


def test_heap_stays_bounded_over_many_schedule_cancel_cycles():
    scheduler = Scheduler(Clock(patch_process=False))
    live = [scheduler.after(1_000 + i, lambda: None) for i in range(50)]
    poll = None
    for i in range(10_000):
        # a poller that moves its next poll earlier on every message, as the SQS mapping does
        if poll is not None:
            poll.cancel()
        poll = scheduler.after(500 - i * 0.01, lambda: None)
        assert len(scheduler._heap) <= 2 * (len(live) + 1)
    assert len(scheduler) == len(live) + 1


def test_owner_prunes_its_task_list_with_pending():
    scheduler = Scheduler(Clock(patch_process=False))
    tasks = [scheduler.after(i, lambda: None) for i in range(1, 6)]
    tasks[3].cancel()
    scheduler.run_until(scheduler.clock.now() + 2.5)
    assert [t for t in tasks if t.pending] == [tasks[2], tasks[4]]
