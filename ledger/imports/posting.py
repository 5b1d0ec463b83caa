"""Posting one lane of an import: its checked rows, in chunks through a writer (group commit),
each chunk recorded on the lane's record with the rows it covered."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.actor import Actor
from ledger.domain.imports import Import, ImportLane, lane_of
from ledger.errors import Conflict
from ledger.imports.check import AwardRow, Checked, OpeningRow, Problem
from ledger.imports.post import GAP, personal_subjects, post_chunk
from ledger.write.writer import Writer

CHUNK_ROWS = 500  # rows a command posts
Progress = Callable[[str, int, int | None], None]  # told (phase, rows done, rows in all)
CHECKING, POSTING = "检查", "导入"

Row = Checked | list[Problem]


@dataclass(frozen=True)
class Lane:
    """Where one lane of an import stands: its number of `lanes`, the last row number its
    chunks covered, and the file's rows in all."""

    import_id: UUID
    community_id: UUID
    number: int
    lanes: int
    posted_through: int
    rows: int

    def takes(self, row: Row) -> bool:
        """Whether `row` is posted in this lane: an award's or an opening balance's by its
        member; anything else (a resident to register, a row's problems) in lane 0."""
        if isinstance(row, (AwardRow, OpeningRow)):
            return lane_of(row.member_id, self.lanes) == self.number
        return self.number == 0

    def rows_of(self, rows: Iterable[Row]) -> Iterator[Row]:
        """The rows of `rows` this lane posts."""
        if self.lanes == 1:
            yield from rows
        else:
            yield from (row for row in rows if self.takes(row))


def lanes_of(record: Import, lane_records: list[ImportLane]) -> list[Lane]:
    """Where each lane of the import stands, by its records."""
    return [Lane(record.id, record.community_id, number, record.lanes, progress.posted_through,
                 record.rows)
            for number, progress in enumerate([record, *lane_records])]


def _number(item: Row) -> int:
    return item[0]["row"] if isinstance(item, list) else item.row


def post_lane(writer: Writer, keyring: Any, rows: Iterable[Row], lane: Lane, by: Actor,
              progress: Progress | None, in_flight: int) -> bool:
    """Posts the lane's `rows` after where it stands, in chunks, with at most `in_flight`
    chunks queued for `writer`; `keyring` (if any) makes the keys of the residents a chunk
    registers first. Tells whether every chunk was posted."""
    waiting: list[Future[int]] = []
    chunk: list[Row] = []
    done_before = lane.posted_through
    sent_through = done_before
    failed = False

    def settle(future: Future[int]) -> None:
        nonlocal failed
        try:
            failed = future.result() == GAP or failed
        except Conflict:
            failed = True

    def send(through: int) -> None:
        nonlocal sent_through
        if keyring is not None:
            keyring.prepare(personal_subjects(lane.import_id, chunk))
        waiting.append(writer.submit(post_chunk(
            lane.import_id, lane.community_id, list(chunk), sent_through, through, by,
            lane.number)))
        sent_through = through
        chunk.clear()
        while len(waiting) >= in_flight:
            settle(waiting.pop(0))
        if progress is not None:
            progress(POSTING, through - 1, lane.rows)

    number = 0
    for item in rows:
        number = _number(item)
        if number <= done_before:
            continue
        chunk.append(item)
        if len(chunk) >= CHUNK_ROWS:
            send(number)
            if failed:
                break
    if chunk and not failed:
        send(number)
    for future in waiting:
        settle(future)
    return not failed
