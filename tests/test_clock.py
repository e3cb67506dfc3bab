"""The virtual clock moves moto and the process clock together; the scheduler runs in time order."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from lambda_lab import Lab
from lambda_lab.clock import DEFAULT_START, Clock, Scheduler, iso_utc


def test_clock_starts_at_fixed_moment_and_patches_process_time(lab):
    assert lab.clock.now() == DEFAULT_START.timestamp()
    assert abs(time.time() - DEFAULT_START.timestamp()) < 1e-3
    lab.clock.advance(90)
    assert dt.datetime.now(dt.timezone.utc) == DEFAULT_START + dt.timedelta(seconds=90)
    assert lab.clock.iso() == "2024-01-01T00:01:30.000Z"


def test_time_only_moves_forward(lab):
    with pytest.raises(ValueError, match="forward"):
        lab.clock.advance(-1)
    lab.clock.advance_to(lab.clock.now() - 10)  # the past is ignored, not travelled to
    assert lab.clock.elapsed() == 0


def test_sqs_visibility_timeout_passes_instantly(lab):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="vis", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    assert len(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]) == 1
    real_start = time.perf_counter()
    lab.clock.advance(30)  # moto's check is strict: now > visible_at
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    lab.clock.advance(0.001)
    again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0, AttributeNames=["All"])["Messages"][0]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert time.perf_counter() - real_start < 5  # 30 virtual seconds, no real waiting


def test_closing_the_lab_gives_real_time_back():
    with Lab(seed=0) as lab:
        lab.clock.advance(5)
    assert time.time() > dt.datetime(2025, 1, 1).timestamp()


def test_scheduler_runs_due_tasks_in_time_then_insertion_order():
    clock = Clock(patch_process=False)
    scheduler = Scheduler(clock)
    ran = []
    scheduler.after(2, lambda: ran.append(("b", clock.elapsed())))
    scheduler.after(1, lambda: ran.append(("a", clock.elapsed())))
    scheduler.after(2, lambda: ran.append(("c", clock.elapsed())))
    scheduler.after(5, lambda: ran.append(("late", clock.elapsed())))
    scheduler.run_until(clock.now() + 3)
    assert ran == [("a", 1), ("b", 2), ("c", 2)]
    assert clock.elapsed() == 3
    assert len(scheduler) == 1


def test_cancelled_tasks_never_run():
    clock = Clock(patch_process=False)
    scheduler = Scheduler(clock)
    ran = []
    task = scheduler.after(1, lambda: ran.append("x"))
    task.cancel()
    assert scheduler.run_next() is False
    assert ran == []


class _CountdownSource:
    """A source with ``left`` steps of work, one per second."""

    def __init__(self, lab, left):
        self.lab, self.left = lab, left
        lab.scheduler.after(1, self.step)

    def step(self):
        self.left -= 1
        if self.left:
            self.lab.scheduler.after(1, self.step)

    def pending(self):
        return self.left > 0

    def stop(self):
        self.left = 0


def test_run_until_idle_stops_when_sources_are_idle(lab):
    lab.add_source(_CountdownSource(lab, 4))
    summary = lab.run_until_idle(max_s=100)
    assert summary.idle and summary.ran_s == 4


def test_run_until_idle_gives_up_at_max_s(lab):
    lab.add_source(_CountdownSource(lab, 1_000))
    summary = lab.run_until_idle(max_s=10)
    assert not summary.idle and summary.ran_s == 10


def test_run_advances_exactly(lab):
    source = lab.add_source(_CountdownSource(lab, 100))
    lab.run(for_s=7.5)
    assert lab.clock.elapsed() == 7.5 and source.left == 93


def test_iso_utc_has_milliseconds():
    assert iso_utc(0.1234) == "1970-01-01T00:00:00.123Z"
