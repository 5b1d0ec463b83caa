"""Awards waiting for approval, read from the event log (no read model holds them yet).

The log is read through the recorder filtered by the three award topics, in pages, so the cost
grows with the number of award events, not with every event; a read model would make it
constant (and would need a migration).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from ledger.domain.awards import Award

RECORDED = get_topic(Award.Recorded)  # type: ignore[attr-defined]
SETTLED = (get_topic(Award.Approved), get_topic(Award.Rejected))  # type: ignore[attr-defined]
PAGE = 2000
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


def pending_awards(app: Application[UUID], community_id: UUID) -> list[PendingAward]:
    """The community's awards still pending, oldest first (at most PENDING_MAX)."""
    recorder = app.recorder
    pending: dict[UUID, PendingAward] = {}
    start = 1
    while True:
        page = recorder.select_notifications(start, PAGE,
                                             topics=(RECORDED, *SETTLED))
        for notification in page:
            if notification.topic == RECORDED:
                event: Any = app.mapper.to_domain_event(notification)
                if event.community_id == community_id and event.status == "pending":
                    pending[event.originator_id] = PendingAward(
                        id=event.originator_id, member_id=event.member_id,
                        rule_code=event.rule_code, points=event.points,
                        quantity=event.quantity, minutes=event.minutes,
                        occurred_at=event.occurred_at, note=event.note,
                        recorded_at=event.timestamp)
            else:
                pending.pop(notification.originator_id, None)  # type: ignore[arg-type]
        if len(page) < PAGE:
            break
        start = page[-1].id + 1
    return list(pending.values())[:PENDING_MAX]
