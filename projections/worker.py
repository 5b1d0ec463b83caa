"""The projection runner in a process of its own (`LINLI_PROJECTION_WORKER=process`, what
`linli serve` runs unless told otherwise).

Applying events to the views is Python work: in the API's process it shares one GIL with the
requests and the writer. In a child process it runs beside them. The child follows the log as
the thread does; the parent wakes it after each commit through a pipe and reads the position
it has reached from shared memory, so `read_your_writes` works the same.

Nothing the parent does can block on the child: the flags are plain shared integers and the
pipe is written without blocking (a `multiprocessing.Event` is not enough: a child killed while
holding its lock would block every later wake-up, and with it the writer). The child ends when
its parent ends, even by `kill -9`: Linux is asked to end it, and it ends when the pipe closes.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import select
import signal
import time
from typing import Any

from ledger.application import open_ledger
from ledger.settings import Settings
from projections.database import create_read_engine
from projections.runner import ProjectionRunner, ReadsWaiting

log = logging.getLogger(__name__)

_SPAWN = multiprocessing.get_context("spawn")
_PR_SET_PDEATHSIG = 1
START_SECONDS = 60.0
STOP_SECONDS = 30.0


class ProjectionProcess:
    """Stands for a `ProjectionRunner` whose thread runs in a child process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._position: Any = _SPAWN.RawValue("q", 0)  # written by the child only
        self._ready: Any = _SPAWN.RawValue("b", 0)  # set by the child
        self._stop: Any = _SPAWN.RawValue("b", 0)  # set by the parent
        self._reads = ReadsWaiting(_SPAWN.RawValue("i", 0))  # counted by the parent
        self._bell: int | None = None  # the pipe's end the parent writes to
        self._process: Any = None

    @property
    def position(self) -> int:
        """Every event up to here is in every view."""
        return int(self._position.value)

    @property
    def running(self) -> bool:
        return self._process is not None and bool(self._process.is_alive())

    def start(self) -> None:
        """Start the child and wait until it follows the log (its tracking rows exist)."""
        if self._process is not None:
            return
        self._stop.value = self._ready.value = 0
        listen, bell = _SPAWN.Pipe(duplex=False)
        self._process = _SPAWN.Process(
            target=_follow, name="linli-projections", daemon=True,
            args=(self.settings.model_dump(), os.getpid(), self._position, self._ready,
                  self._stop, self._reads.count, listen))
        self._process.start()
        listen.close()
        self._bell = os.dup(bell.fileno())
        bell.close()
        os.set_blocking(self._bell, False)
        deadline = time.monotonic() + START_SECONDS
        while not self._ready.value:
            if not self._process.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the projection process did not start; see its log")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._stop.value = 1
            self.wake()
            self._process.join(STOP_SECONDS)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(STOP_SECONDS)
            self._process = None
        if self._bell is not None:
            os.close(self._bell)
            self._bell = None

    def wake(self, _position: int = 0) -> None:
        """Called by the writer after a commit; never blocks."""
        if self._bell is None:
            return
        # A full pipe holds wake-ups enough already; a broken one means the child is gone.
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self._bell, b"!")

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until every view holds the event at `position` (read your writes)."""
        if self.position >= position:
            return True
        with self._reads.waiting():
            self.wake()
            deadline = time.monotonic() + timeout
            pause = 0.0005
            while self.position < position:
                if time.monotonic() > deadline or not self.running:
                    return self.position >= position
                time.sleep(pause)
                pause = min(pause * 2, 0.01)
            return True


class _Flag:
    """A shared integer set by the parent, seen as an event by the runner."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def is_set(self) -> bool:
        return bool(self._value.value)

    def wait(self, timeout: float | None = None) -> bool:
        return self.is_set()

    def clear(self) -> None:
        pass


class _Bell:
    """The read end of the wake-up pipe; its closing means the parent is gone."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def is_set(self) -> bool:
        return False

    def wait(self, timeout: float | None = None) -> bool:
        readable, _, _ = select.select([self._fd], [], [], timeout)
        if not readable:
            return False
        if not os.read(self._fd, 65536):
            raise SystemExit(0)  # every write end is closed: the parent has ended
        return True

    def clear(self) -> None:
        pass


def _follow(settings: dict[str, Any], parent: int, position: Any, ready: Any, stop: Any,
            reads_waiting: Any, listen: Any) -> None:
    """The child: follow the log until told to stop, or until the parent is gone."""
    _die_with(parent)
    chosen = Settings(**settings)
    app = open_ledger(chosen)
    engine = create_read_engine(chosen)
    runner = ProjectionRunner.configured(app, engine, chosen)
    position.value = runner.position
    ready.value = 1

    def published(reached: int) -> None:
        position.value = reached

    try:
        runner.follow(_Flag(stop), _Bell(listen.fileno()), published,
                      hurry=ReadsWaiting(reads_waiting).any)
    finally:
        app.close()
        engine.dispose()


def _die_with(parent: int) -> None:
    """Ask Linux to end this process when its parent ends (even by kill -9)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # elsewhere the closed pipe still ends it
        log.warning("projections: cannot follow the parent's death on this system")
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)
