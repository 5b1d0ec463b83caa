"""Points about to expire: each member whose next points expire within the configured days
is told once per expiry date, through the community's notifier and to the subscriptions
that asked for `points.expiring`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from ledger.periodic import Periodic
from projections import bulk
from projections.notifiers import Reminder, notify
from projections.tables import balances, tracking, webhook_deliveries, webhooks
from projections.webhook_body import body_of
from projections.webhooks import delivery_id

KIND = "points.expiring"
BATCH = 1_000


def remind_expiring(engine: Engine, now: datetime, days: int) -> int:
    """Remind of the expiries within `days` of `now` not reminded of before; returns how many
    members were due (a second pass finds the same and adds nothing)."""
    b = balances.c
    query = (select(b.account_id, b.owner_id, b.community_id, b.next_expiry_at,
                    b.next_expiry_points, b.position)
             .where(b.owner_kind == "member", b.asset == "POINTS", b.next_expiry_points > 0,
                    b.next_expiry_at > now, b.next_expiry_at <= now + timedelta(days=days))
             .limit(BATCH))
    with engine.begin() as conn:
        due = conn.execute(query).all()
        if not due:
            return 0
        # After everything the outbox holds so far, before what the log adds next.
        position = conn.execute(select(tracking.c.position)
                                .where(tracking.c.name == "webhooks")).scalar() or 0
        wanting: dict[str, list[str]] = {}
        gateways: dict[str, list[str]] = {}
        for sub in conn.execute(select(webhooks.c.webhook_id, webhooks.c.community_id,
                                       webhooks.c.kinds)
                                .where(webhooks.c.deleted.is_(False),
                                       webhooks.c.merchant_id.is_(None),
                                       webhooks.c.disabled_reason.is_(None))):
            kinds = json.loads(sub.kinds)
            if KIND in kinds:
                wanting.setdefault(sub.community_id, []).append(sub.webhook_id)
            if "reminder" in kinds:
                gateways.setdefault(sub.community_id, []).append(sub.webhook_id)
        for row in due:
            expires_on = row.next_expiry_at.date().isoformat()
            notify(conn, Reminder(
                community_id=row.community_id, member_id=row.owner_id, kind=KIND,
                key=row.next_expiry_at.isoformat(), at=now,
                params={"points": row.next_expiry_points, "expires_on": expires_on}),
                gateways.get(row.community_id, []), position)
            body = body_of(KIND, position, now, row.community_id, None, {
                "member_id": row.owner_id, "points": row.next_expiry_points,
                "expires_at": row.next_expiry_at.isoformat()}, event_id=_event_id(row))
            for webhook_id in wanting.get(row.community_id, []):
                statement = bulk.upsert(conn, webhook_deliveries).values(
                    delivery_id=delivery_id(webhook_id, row.position,
                                            f"{KIND}:{row.next_expiry_at.isoformat()}"),
                    webhook_id=webhook_id, position=position, kind=KIND, body=body,
                    status="pending", attempts=0, created_at=now, next_attempt_at=now)
                conn.execute(statement.on_conflict_do_nothing(
                    index_elements=[webhook_deliveries.c.delivery_id]))
    return len(due)


def _event_id(row: Any) -> str:
    account_id, expiry = row.account_id, row.next_expiry_at
    return "exp_" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{account_id}:{expiry.isoformat()}"))


class ExpiryReminders(Periodic):
    """Runs `remind_expiring` every `interval_seconds`."""

    thread_name = "linli-reminders"

    def __init__(self, engine: Engine, clock: Callable[[], datetime], days: int,
                 interval_seconds: float) -> None:
        super().__init__(interval_seconds)
        self.engine, self.clock, self.days = engine, clock, days

    def tick(self) -> None:
        remind_expiring(self.engine, self.clock(), self.days)
