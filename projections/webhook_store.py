"""Reading and recording webhooks: subscriptions, secrets, deliveries and their outcomes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select, update

from projections import bulk
from projections.tables import (
    webhook_deliveries,
    webhook_give_ups,
    webhook_secrets,
    webhooks,
)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class Target:
    """Where one subscription's deliveries go, and whether they may go now."""

    webhook_id: str
    url: str
    secret: str
    active: bool


def keep_secret(engine: Engine, webhook_id: str, secret: str) -> None:
    with engine.begin() as conn:
        conn.execute(webhook_secrets.insert().values(webhook_id=webhook_id, secret=secret))


def subscription(engine: Engine, webhook_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(webhooks).where(webhooks.c.webhook_id == webhook_id,
                                                  webhooks.c.deleted.is_(False))).first()
    return None if row is None else _subscription_row(dict(row._mapping))


def _subscription_row(row: dict[str, Any]) -> dict[str, Any]:
    row["kinds"] = json.loads(row["kinds"])
    return row


def list_subscriptions(engine: Engine, *, community_id: str | None, merchant_id: str | None
                       ) -> list[dict[str, Any]]:
    """The live subscriptions of a community (all of it) or a merchant, oldest first."""
    w = webhooks.c
    query = select(webhooks).where(w.deleted.is_(False)).order_by(w.position)
    if community_id is not None:
        query = query.where(w.community_id == community_id)
    if merchant_id is not None:
        query = query.where(w.merchant_id == merchant_id)
    with engine.connect() as conn:
        return [_subscription_row(dict(r._mapping)) for r in conn.execute(query)]


def list_deliveries(engine: Engine, webhook_id: str, *, limit: int, before: int | None,
                    status: str | None = None) -> list[dict[str, Any]]:
    """A subscription's deliveries, newest first."""
    d = webhook_deliveries.c
    query = (select(webhook_deliveries).where(d.webhook_id == webhook_id)
             .order_by(d.position.desc(), d.delivery_id).limit(limit))
    if before is not None:
        query = query.where(d.position < before)
    if status is not None:
        query = query.where(d.status == status)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


# --- what the sender reads and writes ------------------------------------------------------
def due_webhooks(engine: Engine, now: datetime, most: int) -> list[str]:
    """Subscriptions whose oldest pending delivery is due by `now`."""
    d = webhook_deliveries.c
    heads = (select(d.webhook_id, func.min(d.position).label("head"))
             .where(d.status == PENDING).group_by(d.webhook_id).subquery())
    query = (select(d.webhook_id).distinct()
             .join(heads, (d.webhook_id == heads.c.webhook_id) & (d.position == heads.c.head))
             .where(d.status == PENDING, d.next_attempt_at <= now).limit(most))
    with engine.connect() as conn:
        return [r.webhook_id for r in conn.execute(query)]


def target(engine: Engine, webhook_id: str) -> Target | None:
    """Where a subscription's deliveries go."""
    with engine.connect() as conn:
        found = conn.execute(
            select(webhooks.c.url, webhooks.c.deleted, webhooks.c.disabled_reason,
                   webhook_secrets.c.secret)
            .join(webhook_secrets, webhook_secrets.c.webhook_id == webhooks.c.webhook_id)
            .where(webhooks.c.webhook_id == webhook_id)).first()
    if found is None:
        return None
    return Target(webhook_id, found.url, found.secret,
                  not found.deleted and found.disabled_reason is None)


def delivery(engine: Engine, webhook_id: str, delivery_id: str) -> dict[str, Any] | None:
    d = webhook_deliveries.c
    with engine.connect() as conn:
        row = conn.execute(select(webhook_deliveries).where(
            d.webhook_id == webhook_id, d.delivery_id == delivery_id)).first()
    return None if row is None else dict(row._mapping)


def pending(engine: Engine, webhook_id: str, most: int) -> list[dict[str, Any]]:
    """A subscription's pending deliveries, oldest first."""
    d = webhook_deliveries.c
    query = (select(d.delivery_id, d.position, d.body, d.attempts, d.first_attempt_at,
                    d.next_attempt_at)
             .where(d.webhook_id == webhook_id, d.status == PENDING)
             .order_by(d.position, d.delivery_id).limit(most))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def record_delivered(engine: Engine, acknowledged: list[tuple[str, int]], at: datetime
                     ) -> None:
    """Mark deliveries delivered (each with the 2xx its receiver answered), in one
    transaction."""
    d = webhook_deliveries.c
    by_code: dict[int, list[str]] = {}
    for delivery_id, code in acknowledged:
        by_code.setdefault(code, []).append(delivery_id)
    with engine.begin() as conn:
        for code, delivery_ids in by_code.items():
            conn.execute(update(webhook_deliveries).where(d.delivery_id.in_(delivery_ids))
                         .values(status=DELIVERED, attempts=d.attempts + 1,
                                 first_attempt_at=func.coalesce(d.first_attempt_at, at),
                                 last_attempt_at=at, response_code=code, error=None))


def record(engine: Engine, delivery_id: str, **outcome: Any) -> None:
    """What an attempt came to: status, attempts, instants, response code, error."""
    with engine.begin() as conn:
        conn.execute(update(webhook_deliveries)
                     .where(webhook_deliveries.c.delivery_id == delivery_id).values(**outcome))


def give_up(engine: Engine, webhook_id: str, reason: str, at: datetime) -> None:
    """Ask for the subscription to be disabled, with the reason (kept until done)."""
    with engine.begin() as conn:
        statement = bulk.upsert(conn, webhook_give_ups).values(
            webhook_id=webhook_id, reason=reason, at=at)
        conn.execute(statement.on_conflict_do_nothing(
            index_elements=[webhook_give_ups.c.webhook_id]))


def given_up(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(r.webhook_id, r.reason) for r in conn.execute(select(webhook_give_ups))]


def giving_up(engine: Engine, webhook_id: str) -> bool:
    """Whether a give-up of the subscription is not done yet (not shown by the views)."""
    with engine.connect() as conn:
        return conn.execute(select(webhook_give_ups.c.webhook_id).where(
            webhook_give_ups.c.webhook_id == webhook_id)).first() is not None


def forget_give_up(engine: Engine, webhook_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(webhook_give_ups).where(webhook_give_ups.c.webhook_id == webhook_id))
