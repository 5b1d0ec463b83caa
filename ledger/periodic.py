"""A background task run every few seconds on its own daemon thread (sweeper, sealer), or
sooner when woken; a job that one process of several runs at a time is gated on a leader
(`ledger.leadership`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Calls `tick()` every `interval_seconds` until stopped, or as soon as `wake()` is
    called; a failing pass is logged and the next one comes after the interval, woken or
    not (a task woken at every commit would otherwise fail at every commit). While `gate()`
    is false (another process leads), each pass is `idle()` instead."""

    thread_name = "linli-periodic"

    def __init__(self, interval_seconds: float) -> None:
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()
        self._woken = threading.Event()
        self._thread: threading.Thread | None = None
        self.gate: Callable[[], bool] = lambda: True

    def tick(self) -> None:
        raise NotImplementedError

    def idle(self) -> None:
        """A pass while another process runs this job: nothing, unless said otherwise."""

    def gated_by(self, leading: Callable[[], bool]) -> None:
        """Run the passes only while `leading()` says this process leads."""
        self.gate = leading

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._woken.clear()
            self._thread = threading.Thread(target=self._loop, name=self.thread_name,
                                            daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Run the next pass now (or, if one is running, as soon as it ends)."""
        self._woken.set()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._woken.set()
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        failing = False  # the pass before failed too: one line, not another traceback
        while True:
            self._woken.wait(self.interval_seconds)
            self._woken.clear()
            if self._stop.is_set():
                return
            try:
                if self.gate():
                    self.tick()
                else:
                    self.idle()
                failing = False
            except Exception as error:
                if failing:
                    log.warning("%s: a pass failed again; trying again later: %s",
                                self.thread_name, str(error).split("\n", 1)[0])
                else:
                    log.warning("%s: a pass failed; trying again later", self.thread_name,
                                exc_info=True)
                failing = True
                if self._stop.wait(self.interval_seconds):
                    return
