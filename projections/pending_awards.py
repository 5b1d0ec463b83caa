"""Awards waiting for a staff member's approval: the `pending_awards` view and its query.

An award recorded as pending gets a row; its approval or rejection takes the row away. The
list is one indexed query however long the log (it was a scan of every award event).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Engine, delete, select

from ledger.domain.awards import Award, AwardStatus
from projections import bulk
from projections.tables import pending_awards
from projections.view import Positioned

RECORDED = get_topic(Award.Recorded)  # type: ignore[attr-defined]
SETTLED = (get_topic(Award.Approved), get_topic(Award.Rejected))  # type: ignore[attr-defined]
PENDING_MAX = 500


@dataclass(frozen=True)
class PendingAward:
    id: UUID
    member_id: UUID
    rule_code: str
    points: int
    quantity: int | None
    minutes: int | None
    occurred_at: datetime
    note: str
    recorded_at: datetime


class PendingAwardsView:
    """One row per award recorded as pending and not yet approved or rejected."""

    name = "pending_awards"
    tables = (pending_awards,)
    topics = (RECORDED, *SETTLED)

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        added: dict[str, dict[str, Any]] = {}
        settled: list[str] = []  # awards recorded before this batch
        for item in events:
            e = item.event
            if item.topic != RECORDED:
                if added.pop(item.originator, None) is None:
                    settled.append(item.originator)
            elif e.status == AwardStatus.PENDING.value:
                added[item.originator] = {
                    "award_id": item.originator, "community_id": str(e.community_id),
                    "member_id": str(e.member_id), "rule_code": e.rule_code,
                    "points": e.points, "quantity": e.quantity, "minutes": e.minutes,
                    "occurred_at": e.occurred_at, "note": e.note,
                    "recorded_at": e.timestamp, "position": item.position}
        bulk.insert(conn, pending_awards, list(added.values()))
        for chunk in bulk.chunks(settled):
            conn.execute(delete(pending_awards).where(pending_awards.c.award_id.in_(chunk)))


def list_pending(engine: Engine, community_id: str, *, rule_code: str | None = None,
                 limit: int = PENDING_MAX, after: int | None = None,
                 ) -> tuple[list[PendingAward], int | None]:
    """The community's awards still pending (under `rule_code`, if given), oldest first, a
    page of `limit` after position `after`; with the position the next page starts after."""
    p = pending_awards.c
    query = select(pending_awards).where(p.community_id == community_id)
    if rule_code is not None:
        query = query.where(p.rule_code == rule_code)
    if after is not None:
        query = query.where(p.position > after)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(p.position).limit(limit + 1)).all()
    page = rows[:limit]
    found = [PendingAward(id=UUID(r.award_id), member_id=UUID(r.member_id),
                          rule_code=r.rule_code, points=r.points, quantity=r.quantity,
                          minutes=r.minutes, occurred_at=r.occurred_at, note=r.note,
                          recorded_at=r.recorded_at) for r in page]
    return found, (page[-1].position if len(rows) > limit else None)
