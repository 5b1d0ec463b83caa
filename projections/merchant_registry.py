"""The merchants' register as a read model: each merchant's community, name and status (open
or closed), for the lists of merchants."""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection

from ledger.domain.registry import Merchant
from projections import bulk
from projections.tables import registry_merchants
from projections.view import Positioned

MERCHANT_REGISTERED = get_topic(Merchant.Registered)  # type: ignore[attr-defined]
MERCHANT_RENAMED = get_topic(Merchant.Renamed)  # type: ignore[attr-defined]
MERCHANT_STATUS_CHANGED = get_topic(Merchant.StatusChanged)  # type: ignore[attr-defined]


class MerchantsView:
    """Who takes points where: merchants, their names and whether they are open."""

    name = "merchants"
    tables = (registry_merchants,)
    topics = (MERCHANT_REGISTERED, MERCHANT_RENAMED, MERCHANT_STATUS_CHANGED)

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        new: dict[str, dict[str, Any]] = {}
        changed: dict[str, dict[str, Any]] = {}  # merchants registered before this batch
        for item in events:
            e, key = item.event, item.originator
            if item.topic == MERCHANT_REGISTERED:
                new[key] = {"merchant_id": key, "community_id": str(e.community_id),
                            "name": e.name, "status": "active"}
                continue
            values = {"name": e.name} if item.topic == MERCHANT_RENAMED else {"status": e.status}
            (new.get(key) or changed.setdefault(key, {"merchant_id": key})).update(values)
        bulk.insert(conn, registry_merchants, list(new.values()))
        bulk.update(conn, registry_merchants, "merchant_id", list(changed.values()))
