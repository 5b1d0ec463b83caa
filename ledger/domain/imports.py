"""Imports (导入): a file of members, awards or opening balances taken in row by row, each row
posted once however often the file is sent or the run is retried."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate

PROBLEMS_KEPT = 1_000  # problems an import's answer lists (their count is always whole)


class Import(LedgerAggregate):
    """One file imported into one community: started, posted in chunks of rows (each chunk
    with the rows it posted, atomically), then finished with the answer it gives."""

    @staticmethod
    def create_id(community_id: UUID, kind: str, digest: str) -> UUID:
        return ids.import_id(community_id, kind, digest)

    @event("Started")
    def __init__(self, community_id: UUID, kind: str, digest: str, rows: int, file_name: str,
                 actor_id: str, actor_role: str) -> None:
        self.community_id = community_id
        self.kind = kind
        self.digest = digest
        self.rows = rows
        self.file_name = file_name
        self.posted_through = 0  # the last row number a chunk covered
        self.accepted = 0
        self.rejected = 0
        self.problems: list[dict[str, Any]] = []
        self.answer: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.answer is not None

    def chunk_posted(self, through_row: int, accepted: int, problems: list[dict[str, Any]],
                     by: Actor) -> None:
        """Record that the rows up to `through_row` are posted, `accepted` of them, the others
        refused with `problems`."""
        self._chunk_posted(through_row=through_row, accepted=accepted, problems=problems,
                           actor_id=by.id, actor_role=by.role_value)

    def finish(self, answer: dict[str, Any], by: Actor) -> None:
        self._finished(answer=answer, actor_id=by.id, actor_role=by.role_value)

    @event("ChunkPosted")
    def _chunk_posted(self, through_row: int, accepted: int, problems: list[dict[str, Any]],
                      actor_id: str, actor_role: str) -> None:
        self.posted_through = through_row
        self.accepted += accepted
        rejected = {p["row"] for p in problems}
        self.rejected += len(rejected)
        room = PROBLEMS_KEPT - len(self.problems)
        if room > 0:
            self.problems.extend(problems[:room])

    @event("Finished")
    def _finished(self, answer: dict[str, Any], actor_id: str, actor_role: str) -> None:
        self.answer = answer
