"""The events feed: stored events in log order, decoded, with their chain hashes."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from fastapi.encoders import jsonable_encoder

from ledger.application import LedgerApp
from ledger.chain import split
from ledger.domain.registry import Community
from ledger.privacy.fields import EVENTS

SCAN_MAX_EVENTS = 5_000
STREAMS_CACHED = 100_000
HIDDEN = {"originator_id", "originator_version", "timestamp", "actor_id", "actor_role"}
# Secrets' hashes kept in events but never served: an API key's token hash (an offline guess
# of a token could be checked against it). The event's `hash` stays as stored, so the chain
# is still checked from the stored rows (`linli verify`, the SQL of docs/audit.md).
WITHHELD = ("token_hash",)  # and the personal fields of the events that have them


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
    withheld: list[str]


class _StreamCommunities:
    """Which community a stream belongs to, from its first event (cached: it never changes)."""

    def __init__(self, app: LedgerApp) -> None:
        self.app = app
        self.known: OrderedDict[UUID, UUID | None] = OrderedDict()
        self.lock = threading.Lock()

    def learn(self, notification: Any) -> None:
        """Note the community of a stream from its first event, read in passing (no query)."""
        stream_id = _uuid(notification.originator_id)
        if notification.originator_version != 1 or stream_id in self.known:
            return
        if notification.topic.endswith(":Community.Registered"):
            community: UUID | None = stream_id
        else:
            try:
                found = orjson.loads(split(notification.state)[1]).get("community_id")
                community = None if found is None else UUID(str(
                    found.get("_data_") if isinstance(found, dict) else found))
            except (ValueError, AttributeError):
                return  # left to `of`, which decodes the event as the library does
        with self.lock:
            self.known[stream_id] = community
            while len(self.known) > STREAMS_CACHED:
                self.known.popitem(last=False)

    def of(self, stream_id: UUID) -> UUID | None:
        with self.lock:
            if stream_id in self.known:
                return self.known[stream_id]
        try:
            first: Any = next(iter(self.app.events.get(stream_id, lte=1)), None)
        except Exception:  # an undecodable first event: the stream is shown to no community
            first = None
        community = getattr(first, "community_id", None)
        if isinstance(first, Community.Registered):  # type: ignore[attr-defined]
            community = stream_id
        with self.lock:
            self.known[stream_id] = community
            while len(self.known) > STREAMS_CACHED:
                self.known.popitem(last=False)
        return community


_communities: weakref.WeakKeyDictionary[LedgerApp, _StreamCommunities] = (
    weakref.WeakKeyDictionary())


def _cache(app: LedgerApp) -> _StreamCommunities:
    cache = _communities.get(app)
    if cache is None:
        cache = _communities.setdefault(app, _StreamCommunities(app))
    return cache


def stream_community(app: LedgerApp, stream_id: UUID) -> UUID | None:
    """The community of a stream: the `community_id` of its first event, a community's own id
    for a community, None for what belongs to no community (keys of no community, idempotency
    records, the directory, the audit log). Remembered (it never changes): a stream's first
    event seen in the log in passing costs nothing; another is read once, by its key."""
    return _cache(app).of(stream_id)


def read_events(app: LedgerApp, after: int, limit: int,
                community_id: UUID | Collection[UUID] | None = None
                ) -> tuple[list[FeedItem], int]:
    """Up to `limit` events after log position `after`, oldest first, and the position to
    continue from. With `community_id` (or a district's communities), only those communities'
    streams, looking at most `SCAN_MAX_EVENTS` events on (so a page may be short, or empty,
    before the log's end)."""
    scope = (None if community_id is None else {community_id}
             if isinstance(community_id, UUID) else set(community_id))
    items: list[FeedItem] = []
    position = after
    scanned = 0
    while len(items) < limit and scanned < SCAN_MAX_EVENTS:
        wanted = limit if scope is None else min(1_000, SCAN_MAX_EVENTS - scanned)
        batch = app.recorder.select_notifications(position, wanted, inclusive_of_start=False)
        if not batch:
            break
        for notification in batch:
            if len(items) >= limit:
                break
            position = notification.id
            scanned += 1
            if scope is not None:
                _cache(app).learn(notification)
            if scope is not None and stream_community(
                    app, _uuid(notification.originator_id)) not in scope:
                continue
            items.append(_item(app, notification))
        if scope is None:
            break
    return items, position


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _item(app: LedgerApp, notification: Any) -> FeedItem:
    header, _ = split(notification.state)
    event = None
    try:
        event = app.mapper.to_domain_event(notification)
        state = dict(vars(event))
    except Exception as error:  # a damaged row is shown as it is: verify names what is wrong
        state = {"undecodable": f"{type(error).__name__}: {error}"}
    recorded_at = state.get("timestamp")
    actor = ({"id": state["actor_id"], "role": state["actor_role"]}
             if "actor_id" in state else None)
    personal = EVENTS.get(type(event)) if event is not None else None
    withheld = [name for name in WITHHELD if name in state] + (
        [name for name in personal.fields if name in state] if personal else [])
    return FeedItem(
        position=notification.id,
        stream_id=str(notification.originator_id),
        version=notification.originator_version,
        type=notification.topic.rpartition(":")[2],
        topic=notification.topic,
        occurred_at=state.get("occurred_at") or recorded_at,
        recorded_at=recorded_at,
        actor=actor,
        data=jsonable_encoder({k: v for k, v in state.items()
                               if k not in HIDDEN and k not in withheld}),
        hash=header.hash.hex() if header else None,
        prev_hash=header.prev_hash.hex() if header else None,
        withheld=withheld,
    )
