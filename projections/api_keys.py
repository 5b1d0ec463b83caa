"""The API keys as a console lists them (`api_keys`): role, scope, label, when made, until
when, revoked. Never a token or its hash."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Engine, select, update

from ledger.domain.access import ApiKey
from projections import bulk
from projections.tables import api_keys
from projections.view import Positioned

ISSUED = get_topic(ApiKey.Issued)  # type: ignore[attr-defined]
REVOKED = get_topic(ApiKey.Revoked)  # type: ignore[attr-defined]


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


class ApiKeysView:
    """One row per key issued; its revocation marks the row."""

    name = "api_keys"
    tables = (api_keys,)
    topics = (ISSUED, REVOKED)

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        added: dict[str, dict[str, Any]] = {}
        revoked: list[str] = []  # keys issued before this batch
        for item in events:
            e = item.event
            if item.topic == REVOKED:
                if item.originator in added:
                    added[item.originator]["revoked"] = True
                else:
                    revoked.append(item.originator)
                continue
            added[item.originator] = {
                "key_id": item.originator, "role": e.role, "label": e.label,
                "community_id": _text(e.community_id), "merchant_id": _text(e.merchant_id),
                "member_id": _text(e.member_id),
                "sign_in_link": bool(getattr(e, "sign_in_link", False)),
                "created_at": e.timestamp, "expires_at": getattr(e, "expires_at", None),
                "revoked": False, "position": item.position}
        bulk.insert(conn, api_keys, list(added.values()))
        for chunk in bulk.chunks(revoked):
            conn.execute(update(api_keys).where(api_keys.c.key_id.in_(chunk))
                         .values(revoked=True))


def list_keys(engine: Engine, community_id: str | None, *, limit: int, before: int | None
              ) -> tuple[list[dict[str, Any]], int | None]:
    """Keys newest first: a community's (keys of no community, such as admins', when
    `community_id` is None are listed with all others); the cursor for the next page."""
    k = api_keys.c
    query = select(api_keys).order_by(k.position.desc()).limit(limit + 1)
    if community_id is not None:
        query = query.where(k.community_id == community_id)
    if before is not None:
        query = query.where(k.position < before)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    page = rows[:limit]
    return page, (page[-1]["position"] if len(rows) > limit else None)
