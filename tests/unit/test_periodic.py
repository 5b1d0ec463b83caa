"""Background passes (`ledger.periodic`): on their interval, or at once when woken."""

from __future__ import annotations

import threading

from ledger.periodic import Periodic


class Counting(Periodic):
    def __init__(self, interval_seconds: float) -> None:
        super().__init__(interval_seconds)
        self.passes = 0
        self.passed = threading.Event()

    def tick(self) -> None:
        self.passes += 1
        self.passed.set()


def test_a_woken_task_runs_its_pass_without_waiting_for_its_interval() -> None:
    task = Counting(interval_seconds=3_600)
    task.start()
    try:
        assert not task.passed.wait(0.2)
        task.wake()
        assert task.passed.wait(10)
    finally:
        task.stop()
    assert task.passes == 1


def test_a_stopped_task_runs_no_further_pass() -> None:
    task = Counting(interval_seconds=3_600)
    task.start()
    task.stop()
    task.wake()
    assert not task.passed.wait(0.2)
    assert task.passes == 0


class Failing(Counting):
    def tick(self) -> None:
        super().tick()
        raise RuntimeError("the database is away")


def test_a_failed_pass_waits_its_interval_however_often_the_task_is_woken() -> None:
    task = Failing(interval_seconds=3_600)
    task.start()
    try:
        task.wake()
        assert task.passed.wait(10)
        for _ in range(20):
            task.wake()
        assert not _another_pass(task)
    finally:
        task.stop()
    assert task.passes == 1


def _another_pass(task: Counting) -> bool:
    task.passed.clear()
    return task.passed.wait(0.3)
