"""Imports (导入): a file of members, awards or opening balances taken in row by row, each row
posted once however often the file is sent or the run is retried.

A large file of awards or opening balances may be posted in several lanes at once, the rows
shared out by member (each member's rows in one lane, in the file's order): lane 0 records its
chunks on the `Import`, each other lane on an `ImportLane` of its own, so that processes posting
different lanes never write the same record."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate

PROBLEMS_KEPT = 1_000  # problems an import's answer lists (their count is always whole)


def lane_of(member_id: UUID, lanes: int) -> int:
    """The lane a member's rows are posted in, of `lanes`."""
    return member_id.int % lanes


class Progress(LedgerAggregate):
    """What a lane has posted: the last row number a chunk covered, the rows accepted and
    rejected, the first problems."""

    def _start_counting(self) -> None:
        self.posted_through = 0  # the last row number a chunk covered
        self.accepted = 0
        self.rejected = 0
        self.problems: list[dict[str, Any]] = []

    def chunk_posted(self, through_row: int, accepted: int, problems: list[dict[str, Any]],
                     by: Actor) -> None:
        """Record that the rows up to `through_row` are posted, `accepted` of them, the others
        refused with `problems`."""
        self._chunk_posted(through_row=through_row, accepted=accepted, problems=problems,
                           actor_id=by.id, actor_role=by.role_value)

    def _chunk_posted(self, through_row: int, accepted: int, problems: list[dict[str, Any]],
                      actor_id: str, actor_role: str) -> None:
        raise NotImplementedError

    def _count(self, through_row: int, accepted: int, problems: list[dict[str, Any]]) -> None:
        self.posted_through = through_row
        self.accepted += accepted
        rejected = {p["row"] for p in problems}
        self.rejected += len(rejected)
        room = PROBLEMS_KEPT - len(self.problems)
        if room > 0:
            self.problems.extend(problems[:room])


class Import(Progress):
    """One file imported into one community: started, posted in chunks of rows (each chunk
    with the rows it posted, atomically), then finished with the answer it gives."""

    @staticmethod
    def create_id(community_id: UUID, kind: str, digest: str) -> UUID:
        return ids.import_id(community_id, kind, digest)

    @event("Started")
    def __init__(self, community_id: UUID, kind: str, digest: str, rows: int, file_name: str,
                 actor_id: str, actor_role: str, lanes: int = 1) -> None:
        self.community_id = community_id
        self.kind = kind
        self.digest = digest
        self.rows = rows
        self.file_name = file_name
        self.lanes = lanes  # lane 0 is recorded here, the others on their `ImportLane`
        self._start_counting()
        self.answer: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.answer is not None

    def lane_ids(self) -> list[UUID]:
        """The ids of its other lanes' records."""
        return [ImportLane.create_id(self.id, lane) for lane in range(1, self.lanes)]

    def finish(self, answer: dict[str, Any], by: Actor) -> None:
        self._finished(answer=answer, actor_id=by.id, actor_role=by.role_value)

    @event("ChunkPosted")
    def _chunk_posted(self, through_row: int, accepted: int, problems: list[dict[str, Any]],
                      actor_id: str, actor_role: str) -> None:
        self._count(through_row, accepted, problems)

    @event("Finished")
    def _finished(self, answer: dict[str, Any], actor_id: str, actor_role: str) -> None:
        self.answer = answer


class ImportLane(Progress):
    """The chunks one lane (after the first) of an import has posted."""

    @staticmethod
    def create_id(import_id: UUID, lane: int) -> UUID:
        return ids.import_lane_id(import_id, lane)

    @event("Started")
    def __init__(self, import_id: UUID, lane: int, actor_id: str, actor_role: str) -> None:
        self.import_id = import_id
        self.lane = lane
        self._start_counting()

    @event("ChunkPosted")
    def _chunk_posted(self, through_row: int, accepted: int, problems: list[dict[str, Any]],
                      actor_id: str, actor_role: str) -> None:
        self._count(through_row, accepted, problems)


def answer_of(record: Import, lanes: list[ImportLane]) -> dict[str, Any]:
    """The import's answer: its rows, and what its lanes together accepted and rejected, with
    their first problems in the file's order."""
    parts: list[Progress] = [record, *lanes]
    problems = sorted((p for part in parts for p in part.problems), key=lambda p: p["row"])
    return {"id": str(record.id), "rows": record.rows,
            "accepted": sum(part.accepted for part in parts),
            "rejected": sum(part.rejected for part in parts),
            "problems": problems[:PROBLEMS_KEPT]}
