"""The import use case: check the whole file, answer a dry run, or post every row once.

A real run refuses the whole file, posting nothing, when any row has a problem (the dry run
shows them all); a file whose bytes were imported before answers the first import's answer.
The rows are posted in chunks through the writer (group commit), each chunk recorded on the
import with the rows it covered, so a run interrupted and retried goes on where it stopped. A
large file of awards or opening balances on PostgreSQL is posted in lanes shared out by member,
the other lanes by processes of their own (`ledger.imports.lanes`).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any, BinaryIO, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import Engine

from ledger import ids
from ledger.actor import Actor
from ledger.domain.assets import Asset
from ledger.domain.imports import PROBLEMS_KEPT, Import, ImportLane, lane_of
from ledger.errors import Conflict, ImportFileRefused, ImportHasProblems, ImportRunning
from ledger.imports import columns
from ledger.imports.check import (
    AwardRow,
    Checker,
    OpeningRow,
    Problem,
    Registry,
    Usage,
    account_usage,
    dump_rows,
    reduce_uuid,
)
from ledger.imports.columns import Kind
from ledger.imports.lanes import LANES, LanesApart, as_forked_child, may_post_apart
from ledger.imports.post import finish, start
from ledger.imports.posting import (
    CHECKING,
    CHUNK_ROWS,
    POSTING,
    Lane,
    Progress,
    Row,
    lanes_of,
    post_lane,
)
from ledger.imports.source import Cell, Source
from ledger.settings import Settings
from ledger.write.writer import Writer

__all__ = ["CHECKING", "POSTING", "Answer", "run_import"]

IN_FLIGHT = 16  # chunks queued for the writer at once (a group holds what is queued)
# `run_import`'s `in_flight` where memory counts more than speed (`linli import`): a group's
# events and their encodings weigh about 1 kB a row while the group is stored.
RESUMES = 100  # times a run goes on from where it stands after a chunk failed

# What the checking process of a large file tells (`_check_apart`), beside CHECKING.
SPOOLED, USAGE, DONE, FAILED = "spooled", "usage", "done", "failed"
CHECK_APART_BYTES = 1 << 20  # a file this large is checked in a process of its own
LANES_FROM_BYTES = CHECK_APART_BYTES  # a file this large is posted in lanes, where it may


class Ledger(Protocol):
    """What an import needs of a running Linli."""

    settings: Settings
    app: Any
    writer: Writer
    engine: Engine

    def clock(self) -> datetime: ...


@dataclass(frozen=True)
class Answer:
    """An import's answer: its id, the rows read, accepted and rejected, the problems (the
    first `PROBLEMS_KEPT`), and whether it repeats an earlier import's."""

    id: UUID
    rows: int
    accepted: int
    rejected: int
    problems: list[Problem]
    dry_run: bool = False
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"id": str(self.id), "rows": self.rows, "accepted": self.accepted,
                "rejected": self.rejected, "problems": self.problems}


_running: set[UUID] = set()
_running_lock = threading.Lock()


_deferring = 0  # posting runs that defer the collector's collections
_deferring_lock = threading.Lock()
_collector_was_on = False


@contextmanager
def _collections_deferred() -> Iterator[None]:
    """Turns the cyclic collector's automatic collections off while rows post (in this and
    any other posting run of the process); once the last run ends, freezes what is left (as
    `api.gc_tuning` does after each collection) and turns them back on.

    Each row's checked row, events and award live until its group is stored, so a collection
    of the youngest generation every few thousand allocations (`api.gc_tuning`) scanned each
    of them once, only for reference counting to free them a moment later: a tenth of the
    importing process's CPU. What outlives the posting (an account's new lots, say) is frozen
    unscanned: one collection of all of it would hold the GIL for a second after a million
    rows, and one every few seconds for some tens of milliseconds (the rows in flight). Cyclic
    garbage other threads make meanwhile (a server's periodic jobs: some hundreds of objects
    a second) waits for the next full collection (`api.gc_tuning.FullCollection`)."""
    global _deferring, _collector_was_on
    with _deferring_lock:
        if _deferring == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _deferring += 1
    try:
        yield
    finally:
        with _deferring_lock:
            _deferring -= 1
            if _deferring == 0 and _collector_was_on:
                gc.freeze()
                gc.enable()


@contextmanager
def _one_at_a_time(community_id: UUID) -> Iterator[None]:
    """Refuses a second import into a community while one runs in this process."""
    with _running_lock:
        if community_id in _running:
            raise ImportRunning("import-running")
        _running.add(community_id)
    try:
        yield
    finally:
        with _running_lock:
            _running.discard(community_id)


def run_import(ledger: Ledger, source: Source, kind: Kind, community_id: UUID, *,
               dry_run: bool, by: Actor, progress: Progress | None = None,
               in_flight: int = IN_FLIGHT, lanes: int | None = None) -> Answer:
    """Checks `source` as a file of `kind` for the community; a dry run answers there, a real
    run posts it (see the module's docstring), `in_flight` chunks queued for each lane's
    writer at once, in `lanes` lanes if it may (by default, `LANES` for a large file of
    awards or opening balances)."""
    by.check_community(community_id, "community", community_id)
    import_id = ids.import_id(community_id, kind.value, source.digest)
    with _one_at_a_time(community_id):
        earlier = None if dry_run else _earlier(ledger, import_id)
        if earlier is not None and earlier.answer is not None:
            return _answer(earlier.answer, replayed=True)
        registry = Registry.load(ledger.app, ledger.engine, community_id)
        now = ledger.clock()
        if dry_run:
            return _run(ledger, source, kind, registry, now, import_id, earlier, None,
                        dry_run=True, by=by, progress=progress, in_flight=in_flight)
        with contextlib.ExitStack() as files:
            spools: list[BinaryIO] = [
                files.enter_context(tempfile.TemporaryFile(prefix="linli-import-"))
                for _ in range(_lanes(ledger, kind, source, lanes))]
            return _run(ledger, source, kind, registry, now, import_id, earlier, spools,
                        dry_run=False, by=by, progress=progress, in_flight=in_flight)


def _lanes(ledger: Ledger, kind: Kind, source: Source, asked: int | None) -> int:
    """The lanes a new import of `source` is posted in: those `asked` for, by default `LANES`
    for a large file; one for residents, or where no other process may post."""
    if kind is Kind.MEMBERS or not may_post_apart(ledger.settings):
        return 1
    if asked is not None:
        return max(1, asked)
    return LANES if source.size >= LANES_FROM_BYTES else 1


def _run(ledger: Ledger, source: Source, kind: Kind, registry: Registry, now: datetime,
         import_id: UUID, earlier: Import | None, spools: list[BinaryIO] | None, *,
         dry_run: bool, by: Actor, progress: Progress | None, in_flight: int) -> Answer:
    community_id = registry.community.id
    if earlier is None:  # a run retried after an interruption was checked before
        rows, problems, rejected = _check(source, kind, registry, now,
                                          account_usage(ledger.app), progress, spools,
                                          None if dry_run else _ahead(ledger))
        if dry_run:
            return Answer(import_id, rows, rows - rejected, rejected, problems, dry_run=True)
        if rejected:
            raise ImportHasProblems("import-has-problems", problems, rejected=rejected)
        if not rows:
            raise ImportFileRefused("import-no-rows")
        assert spools is not None
        record = ledger.writer.execute(start(community_id, kind.value, source.digest,
                                             rows, source.name, by, len(spools)))
        if record.lanes != len(spools):  # started meanwhile by another run, in its lanes
            spools = None
    else:
        record, spools = earlier, None
    _post(ledger, source, kind, registry, now, record, by, progress, spools, in_flight)
    answer = ledger.writer.execute(finish(import_id, by))
    return _answer(answer, replayed=False)


def _ahead(ledger: Ledger) -> Callable[[list[UUID]], None]:
    """Loads the points accounts of the members it is given for the writer, up to half
    what its cache keeps: the first rows' accounts, kept until they are posted."""
    room = ledger.writer.cache_max_aggregates // 2

    def load(members: list[UUID]) -> None:
        nonlocal room
        if room > 0:
            room -= len(members)
            ledger.writer.prefetch([ids.account_id(m, Asset.POINTS.value) for m in members])

    return load


def _earlier(ledger: Ledger, import_id: UUID) -> Import | None:
    try:
        found = ledger.app.repository.get(import_id)
    except AggregateNotFoundError:
        return None
    assert isinstance(found, Import)
    return found


def _answer(answer: dict[str, Any], *, replayed: bool) -> Answer:
    return Answer(UUID(answer["id"]), answer["rows"], answer["accepted"], answer["rejected"],
                  answer["problems"], replayed=replayed)


def _rows(source: Source, kind: Kind) -> tuple[columns.Header, Iterator[tuple[int, list[Any]]]]:
    """The header and then the data rows (blank rows left out)."""
    rows = source.rows()
    for _number, cells in rows:
        if not columns.is_blank(cells):
            header = columns.read_header(cells, kind)
            return header, ((n, c) for n, c in rows if not columns.is_blank(c))
    raise ImportFileRefused("import-no-header")


def _check(source: Source, kind: Kind, registry: Registry, now: datetime,
           usage: Usage, progress: Progress | None,
           spools: list[BinaryIO] | None, ahead: Callable[[list[UUID]], None] | None = None
           ) -> tuple[int, list[Problem], int]:
    """Reads every row once: (rows, problems up to `PROBLEMS_KEPT`, rows with problems).
    What each row will post goes to its lane's spool of `spools` (if any) in chunks, for the
    posting to read
    back rather than read and check the file again. A large file is checked in a process of
    its own (see `_check_apart`), `ahead` told the members of its first chunks."""
    if source.size >= CHECK_APART_BYTES and "fork" in multiprocessing.get_all_start_methods():
        return _check_apart(source, kind, registry, now, usage, progress, spools, ahead)

    def tell(what: str, value: Any) -> None:
        if what == CHECKING and progress is not None:
            progress(CHECKING, value, None)

    return _check_rows(source, kind, registry, now, usage, spools, tell)


def _check_rows(source: Source, kind: Kind, registry: Registry, now: datetime,
                usage: Usage | None, spools: list[BinaryIO] | None,
                tell: Callable[[str, Any], None]) -> tuple[int, list[Problem], int]:
    """`_check`'s reading: tells `tell` (CHECKING, rows so far) every 1,000 rows and
    (SPOOLED, the members it names) for each chunk of lane 0 spooled. The rows are read a
    chunk ahead, the cap usage their members need asked for all of them at once."""
    header, rows = _rows(source, kind)
    checker = Checker(kind, header, registry, now, usage)
    count = rejected = 0
    problems: list[Problem] = []
    lanes = len(spools) if spools else 1
    chunks: list[list[Row]] = [[] for _ in range(lanes)]
    for number, cells in _asked_ahead(rows, checker):
        count += 1
        checked = checker.check(number, cells)
        if isinstance(checked, list):
            rejected += 1
            problems.extend(checked[:max(0, PROBLEMS_KEPT - len(problems))])
        elif spools is not None and not rejected:
            lane = (lane_of(checked.member_id, lanes)
                    if lanes > 1 and isinstance(checked, (AwardRow, OpeningRow)) else 0)
            chunk = chunks[lane]
            chunk.append(checked)
            if len(chunk) >= CHUNK_ROWS:
                dump_rows(chunk, spools[lane])
                if lane == 0:
                    tell(SPOOLED, chunk)
                chunk.clear()
        if count % 1000 == 0:
            tell(CHECKING, count)
    for lane, chunk in enumerate(chunks):
        if spools is not None and chunk:
            dump_rows(chunk, spools[lane])
    return count, problems, rejected


def _asked_ahead(rows: Iterator[tuple[int, list[Cell]]], checker: Checker
                 ) -> Iterator[tuple[int, list[Cell]]]:
    """`rows`, read `CHUNK_ROWS` at a time, the checker asked each time for the cap usage
    those rows need (`Checker.ask_usage`)."""
    while block := list(itertools.islice(rows, CHUNK_ROWS)):
        checker.ask_usage(block)
        yield from block


def _check_apart(source: Source, kind: Kind, registry: Registry, now: datetime,
                 usage: Usage, progress: Progress | None,
                 spools: list[BinaryIO] | None, ahead: Callable[[list[UUID]], None] | None
                 ) -> tuple[int, list[Problem], int]:
    """`_check` in a forked process, on the machine's other core: it reads, checks and
    spools the file; this one answers what it asks (a member's cap usage: the store is read
    here only) and meanwhile loads the accounts its first chunks name (`ahead`), which the
    posting then finds in memory. Its error (a file refused) is raised here."""
    context = multiprocessing.get_context("fork")
    here, there = context.Pipe()
    process = context.Process(target=_checker, name="linli-import-check", daemon=True,
                              args=(there, source, kind, registry, now, spools))
    process.start()
    there.close()
    try:
        while True:
            try:
                what, value = here.recv()
            except EOFError:
                raise RuntimeError("the import's checking process ended early") from None
            if what == USAGE:
                try:
                    here.send((True, usage(value)))
                except Exception as error:  # raised there, and so here
                    here.send((False, error))
            elif what == CHECKING:
                if progress is not None:
                    progress(CHECKING, value, None)
            elif what == SPOOLED:
                if ahead is not None:
                    ahead(value)
            elif what == DONE:
                result: tuple[int, list[Problem], int] = value
                return result
            else:
                raise value
    finally:
        here.close()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()


def _checker(there: Connection, source: Source, kind: Kind, registry: Registry,
             now: datetime, spools: list[BinaryIO] | None) -> None:
    """The checking process of `_check_apart` (settled by `as_forked_child`)."""
    as_forked_child()
    ForkingPickler.register(UUID, reduce_uuid)  # the members it tells, pickled the faster

    def usage(member_ids: list[UUID]) -> dict[UUID, dict[str, int]]:
        there.send((USAGE, member_ids))
        ok, value = there.recv()
        if not ok:
            raise value
        result: dict[UUID, dict[str, int]] = value
        return result

    def tell(what: str, value: Any) -> None:
        if what == SPOOLED:  # its members once each, in order (told apart by number)
            value = list({row.member_id.int: row.member_id for row in value
                          if isinstance(row, (AwardRow, OpeningRow))}.values())
        there.send((what, value))

    try:
        result = _check_rows(source, kind, registry, now, usage, spools, tell)
        for spool in spools or ():
            spool.flush()
        there.send((DONE, result))
    except Exception as error:
        try:
            there.send((FAILED, error))
        except Exception:  # an error that does not pickle
            there.send((FAILED, RuntimeError(repr(error))))
    finally:
        there.close()


def _spooled(spool: BinaryIO) -> Iterator[Row]:
    """The rows `_check` spooled to `spool`, in order."""
    spool.seek(0)
    while True:
        try:
            chunk = pickle.load(spool)
        except EOFError:
            return
        yield from chunk


def _checked_again(source: Source, kind: Kind, registry: Registry, now: datetime
                   ) -> Iterator[Row]:
    """The file read and checked again (caps left to the accounts: they already hold the
    rows posted before)."""
    header, rows = _rows(source, kind)
    checker = Checker(kind, header, registry, now, None)
    for number, cells in rows:
        yield checker.check(number, cells)


def _post(ledger: Ledger, source: Source, kind: Kind, registry: Registry, now: datetime,
          record: Import, by: Actor, progress: Progress | None,
          spools: list[BinaryIO] | None, in_flight: int) -> None:
    """Posts each lane's rows after where it stands (from its spool, or the file checked
    again); where a chunk could not be posted (the server kept changing the same accounts,
    a lane's process failed), goes on from where the lanes stand."""
    def rows_of(lane: Lane) -> Iterator[Row]:
        if spools is not None:
            return _spooled(spools[lane.number])
        return lane.rows_of(_checked_again(source, kind, registry, now))

    for _attempt in range(RESUMES):
        lanes = lanes_of(record, [_lane_record(ledger, lane_id)
                                  for lane_id in record.lane_ids()])
        keyring = getattr(ledger.app, "keyring", None)
        with _collections_deferred():
            if len(lanes) == 1:
                posted = post_lane(ledger.writer, keyring, rows_of(lanes[0]), lanes[0], by,
                                   progress, in_flight)
            else:
                with LanesApart(ledger.settings, lanes, rows_of, by, in_flight) as others:
                    posted = post_lane(ledger.writer, keyring, rows_of(lanes[0]), lanes[0],
                                       by, others.told(progress), in_flight)
                    posted = others.wait(progress) and posted
        if posted:
            return
        found = _earlier(ledger, record.id)
        assert found is not None
        record = found
    raise Conflict("import-contended")


def _lane_record(ledger: Ledger, lane_id: UUID) -> ImportLane:
    found = ledger.app.repository.get(lane_id)
    assert isinstance(found, ImportLane)
    return found
