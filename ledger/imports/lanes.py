"""Lanes of an import posted by processes of their own, beside the lane the importing process
posts: each forked process opens the application and a writer of its own on the same
database, posts its lane's rows (`ledger.imports.posting.post_lane`) and says how far it got.

One process's writer is bound by its interpreter (one core); a large file of awards posted in
two lanes uses the machine's second core. The lanes' rows are different members' accounts and
each lane records its chunks on its own record, so the processes never write the same
aggregate. A lane whose process fails or dies posted whole chunks only: the run goes on from
where each lane stands (`ledger.imports.run`)."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
from collections.abc import Callable, Iterable
from multiprocessing import connection
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from ledger.actor import Actor
from ledger.application import open_ledger
from ledger.imports.posting import POSTING, Lane, Progress, Row, post_lane
from ledger.settings import Settings, is_postgres_url
from ledger.write.writer import Writer

log = logging.getLogger(__name__)

LANES = 2  # lanes a large file of awards or opening balances is posted in
DONE, FAILED = "done", "failed"
POLL_SECONDS = 0.2  # how often the progress is told while waiting for the other lanes


def may_post_apart(settings: Settings) -> bool:
    """Whether lanes may be posted by processes of their own: on PostgreSQL (an embedded
    database takes one writer at a time), where processes can be forked."""
    return (is_postgres_url(settings.database_url)
            and "fork" in multiprocessing.get_all_start_methods())


class LanesApart:
    """The other lanes of an import, each posted by a forked process; a context manager that
    kills those still running when it exits after an error here."""

    def __init__(self, settings: Settings, lanes: list[Lane],
                 rows_of: Callable[[Lane], Iterable[Row]], by: Actor, in_flight: int) -> None:
        context = multiprocessing.get_context("fork")
        self.rows = lanes[0].rows
        self.reached = {lane.number: lane.posted_through for lane in lanes}
        self.posted: dict[int, bool] = {}
        self._pipes: dict[int, Connection] = {}
        self._processes: list[Any] = []
        for lane in lanes:
            if lane.number == 0:
                continue
            here, there = context.Pipe(duplex=False)
            process = context.Process(
                target=_post_apart, name=f"linli-import-lane-{lane.number}", daemon=True,
                args=(there, settings, lane, rows_of, by, in_flight))
            process.start()
            there.close()
            self._pipes[lane.number] = here
            self._processes.append(process)

    def __enter__(self) -> LanesApart:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for process in self._processes:
            process.join(timeout=10 if error is None else 0)  # its last word said: ending
            if process.is_alive():
                process.kill()
                process.join()
        for pipe in self._pipes.values():
            pipe.close()

    def told(self, progress: Progress | None) -> Progress | None:
        """`progress` for this process's lane, told the rows every lane has reached."""
        if progress is None:
            return None

        def tell(phase: str, done: int, total: int | None) -> None:
            self.reached[0] = done
            self._read()
            progress(phase, min(self.reached.values()), total)

        return tell

    def wait(self, progress: Progress | None) -> bool:
        """Once this process's lane is posted: waits for the others, telling `progress`;
        tells whether every one of them was posted."""
        self.reached[0] = self.rows
        while True:
            if progress is not None:
                progress(POSTING, min(self.reached.values()), self.rows)
            if len(self.posted) == len(self._pipes):
                return all(self.posted.values())
            self._read(POLL_SECONDS)

    def _read(self, timeout: float = 0) -> None:
        """Takes in what the lanes' processes said (waiting up to `timeout` for a word)."""
        waiting = {pipe: n for n, pipe in self._pipes.items() if n not in self.posted}
        for pipe in connection.wait(list(waiting), timeout):
            assert isinstance(pipe, Connection)
            while waiting[pipe] not in self.posted and pipe.poll():
                self._take(waiting[pipe], pipe)

    def _take(self, number: int, pipe: Connection) -> None:
        """One word of lane `number`'s process: how far it got, or how it ended."""
        try:
            what, value = pipe.recv()
        except EOFError:
            what, value = FAILED, "ended without a word"
        if what == POSTING:
            self.reached[number] = value
        elif what == DONE and value:
            self.reached[number] = self.rows
            self.posted[number] = True
        else:
            log.warning("lane %d of the import was not posted whole: %s", number, value)
            self.posted[number] = False


def as_forked_child() -> None:
    """Settles a process forked from the importing one: it leaves what it inherited alone (no
    collection of cycles, whose finalizers might close the importing process's connections; a
    forked process ends by `os._exit`, running none), and SIGTERM and SIGINT end it (the
    server's handlers it inherited would wait for a server loop that does not run here)."""
    gc.disable()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _post_apart(there: Connection, settings: Settings, lane: Lane,
                rows_of: Callable[[Lane], Iterable[Row]], by: Actor, in_flight: int) -> None:
    """A lane's process: its own application and writer, its lane posted, its word sent."""
    as_forked_child()
    try:
        app = open_ledger(settings)
        try:
            # The lane's members' accounts only: its share of the accounts kept.
            writer = Writer.configured(app, settings.model_copy(update={
                "cache_max_aggregates": settings.cache_max_aggregates // lane.lanes}))
            writer.start()
            try:
                def tell(_phase: str, done: int, _total: int | None) -> None:
                    there.send((POSTING, done))

                posted = post_lane(writer, getattr(app, "keyring", None), rows_of(lane), lane,
                                   by, tell, in_flight)
            finally:
                writer.stop()
        finally:
            app.close()
        there.send((DONE, posted))
    except Exception as error:
        there.send((FAILED, repr(error)))
    finally:
        there.close()
