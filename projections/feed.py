"""The events feed: stored events in log order, decoded, with their chain hashes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.encoders import jsonable_encoder

from ledger.application import LedgerApp
from ledger.chain import split

HIDDEN = {"originator_id", "originator_version", "timestamp", "actor_id", "actor_role"}


@dataclass(frozen=True)
class FeedItem:
    position: int
    stream_id: str
    version: int
    type: str
    topic: str
    occurred_at: datetime | None
    recorded_at: datetime | None
    actor: dict[str, str] | None
    data: dict[str, Any]
    hash: str | None
    prev_hash: str | None


def read_events(app: LedgerApp, after: int, limit: int) -> list[FeedItem]:
    """Up to `limit` events after log position `after`, oldest first."""
    items = []
    for notification in app.recorder.select_notifications(after, limit,
                                                          inclusive_of_start=False):
        header, _ = split(notification.state)
        event: Any = app.mapper.to_domain_event(notification)
        state = vars(event)
        recorded_at = state.get("timestamp")
        actor = ({"id": state["actor_id"], "role": state["actor_role"]}
                 if "actor_id" in state else None)
        items.append(FeedItem(
            position=notification.id,
            stream_id=str(notification.originator_id),
            version=notification.originator_version,
            type=notification.topic.rpartition(":")[2],
            topic=notification.topic,
            occurred_at=state.get("occurred_at") or recorded_at,
            recorded_at=recorded_at,
            actor=actor,
            data=jsonable_encoder({k: v for k, v in state.items() if k not in HIDDEN}),
            hash=header.hash.hex() if header else None,
            prev_hash=header.prev_hash.hex() if header else None,
        ))
    return items
