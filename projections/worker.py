"""The projection runner in a process of its own (`LINLI_PROJECTION_WORKER=process`, what
`linli serve` runs unless told otherwise).

Applying events to the views is Python work: in the API's process it shares one GIL with the
requests and the writer. In a child process it runs beside them. The child follows the log as
the thread does; the parent wakes it after each commit through a pipe and reads the position
it has reached from shared memory, so `read_your_writes` works the same.

The child also runs the webhook sender (`projections.webhook_sender`): its posting stays off
the server's GIL too. With several servers on one database, each child follows the log (each
event is applied once, by whichever comes first; the other's position moves past it all the
same), but only the child holding the webhooks' lock sends (`ledger.leadership`).

The child is a Python running `projections.worker.main`, started by `subprocess` rather than
`multiprocessing`: it imports what following the log needs and nothing else (not the CLI that
started the server), and no resource tracker runs beside it (together 16 MB of the server's
memory, `python -m bench.http --members 100000`). It inherits two descriptors: the pipe's read
end and a small file mapped by both processes, which holds its flags (`_Shared`); it reads the
settings from its standard input. It runs in a process group of its own, so Ctrl-C in a
terminal reaches only the server, which stops it.

Nothing the parent does can block on the child: the flags are plain shared integers and the
pipe is written without blocking (a lock shared with a child killed while holding it would block
every later wake-up, and with it the writer). The child ends when its parent ends, even by
`kill -9`: Linux is asked to end it, and it ends when the pipe closes.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import mmap
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.application import open_ledger
from ledger.leadership import WEBHOOKS, Leader
from ledger.settings import Settings
from projections.database import create_read_engine
from projections.runner import ProjectionRunner, ReadsWaiting
from projections.webhook_sender import WebhookSender

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
START_SECONDS = 60.0
STOP_SECONDS = 30.0
# The child's program: `projections` found where it is installed, else beside this file.
_CHILD = (f"import sys; sys.path.append({str(Path(__file__).resolve().parents[1])!r}); "
          "from projections.worker import main; main(sys.argv[1:])")


class _Shared:
    """Integers shared by the server and its child: a small file mapped by both."""

    SIZE = 32

    def __init__(self, fd: int) -> None:
        self.fd = fd
        weakref.finalize(self, os.close, fd)
        self._map = mmap.mmap(fd, self.SIZE)
        self.position = ctypes.c_int64.from_buffer(self._map, 0)  # written by the child only
        self.ready = ctypes.c_int64.from_buffer(self._map, 8)  # set by the child
        self.stop = ctypes.c_int64.from_buffer(self._map, 16)  # set by the parent
        self.reads = ctypes.c_int64.from_buffer(self._map, 24)  # reads waiting, in the parent

    @classmethod
    def create(cls) -> _Shared:
        """A new one, zeroed, in a file without a name (gone when both processes are): in
        memory where the system can (Linux), else in the temporary directory."""
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("linli-projections")
        else:
            with tempfile.TemporaryFile() as file:
                fd = os.dup(file.fileno())
        os.ftruncate(fd, cls.SIZE)
        return cls(fd)


class ProjectionProcess:
    """Stands for a `ProjectionRunner` whose thread runs in a child process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._shared = _Shared.create()
        self._reads = ReadsWaiting(self._shared.reads)  # counted by the parent
        self._bell: int | None = None  # the pipe's end the parent writes to
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def position(self) -> int:
        """Every event up to here is in every view."""
        return int(self._shared.position.value)

    @property
    def running(self) -> bool:
        process = self._process
        return process is not None and process.poll() is None

    def start(self) -> None:
        """Start the child and wait until it follows the log (its tracking rows exist)."""
        if self._process is not None:
            return
        self._shared.stop.value = self._shared.ready.value = 0
        listen, bell = os.pipe()
        os.set_blocking(bell, False)
        try:
            # -P: nothing imported from the directory the server was started in. A process
            # group of its own: Ctrl-C in a terminal reaches the server only, which stops
            # this child once its requests are done.
            self._process = subprocess.Popen(
                [sys.executable, "-P", "-c", _CHILD, str(os.getpid()), str(self._shared.fd),
                 str(listen)],
                stdin=subprocess.PIPE, pass_fds=(self._shared.fd, listen), process_group=0)
        except BaseException:
            os.close(bell)
            raise
        finally:
            os.close(listen)
        self._bell = bell
        try:
            assert self._process.stdin is not None
            with contextlib.suppress(BrokenPipeError), self._process.stdin as settings:
                settings.write(self.settings.model_dump_json().encode())
            deadline = time.monotonic() + START_SECONDS
            while not self._shared.ready.value:
                if not self.running or time.monotonic() > deadline:
                    raise RuntimeError("the projection process did not start; see its log")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Tell the child to stop, and wait for it (ended at once if it never got ready)."""
        process, self._process = self._process, None
        if process is not None:
            if self._shared.ready.value:
                self._shared.stop.value = 1
                self.wake()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(STOP_SECONDS)
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
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


def _follow(parent: int, shared: _Shared, listen: int) -> None:
    """The child: follow the log until told to stop, or until the parent is gone."""
    _die_with(parent)
    chosen = Settings(**json.loads(sys.stdin.buffer.read()))
    app = open_ledger(chosen)
    engine = create_read_engine(chosen)
    runner = ProjectionRunner.configured(app, engine, chosen)
    shared.position.value = runner.position
    shared.ready.value = 1

    sender = WebhookSender(engine, chosen, lambda: datetime.now(UTC))
    leader = Leader(chosen, WEBHOOKS, on_lead=sender.wake)
    sender.gated_by(leader.leading)

    def published(reached: int) -> None:
        shared.position.value = reached
        sender.wake()  # the batch may have put deliveries in the outbox

    leader.start()
    sender.start()
    try:
        runner.follow(_Flag(shared.stop), _Bell(listen), published,
                      hurry=ReadsWaiting(shared.reads).any)
    finally:
        sender.stop()
        leader.stop()
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


def main(arguments: list[str]) -> None:
    """The child's program (see `ProjectionProcess.start`): PARENT SHARED_FD BELL_FD."""
    parent, fd, listen = map(int, arguments)
    _follow(parent, _Shared(fd), listen)
