"""Reminders for residents, and the two ways a community sends them.

`Notifier` is what a reminder goes through. `NoticeBoard` keeps it for staff to print or read
out (共享广播, for residents without a smartphone): `GET /v1/communities/{id}/notices`.
`Gateway` hands it to the community's SMS or WeChat gateway: a community subscribes its
gateway's URL to the kind `reminder` (`POST /v1/webhooks`), and each reminder is a signed
delivery of `{"type": "reminder", "data": {"member_id", "text", …}}` through the webhook
outbox, retried as every delivery is. A community without such a subscription uses the board.

A reminder's id derives from what it is about, so one made twice (the expiry scan runs
again) is kept once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, select

from projections import bulk
from projections.tables import notices, webhook_deliveries
from projections.webhook_body import body_of

REMINDER_NAMESPACE = uuid.UUID("0f3c1f8a-5e55-4a7e-9c1d-2f7c9b1e6a10")

TEXTS = {
    "service_request.dispatched":
        "您有一个新的志愿服务派单（编号 {service_request_id}），请及时接单。",
    "points.expiring": "您有 {points} 积分将于 {expires_on} 到期，请尽快使用。",
}


@dataclass(frozen=True)
class Reminder:
    """A word to one resident: what about (`kind`, `key` unique for it) and its parameters."""

    community_id: str
    member_id: str
    kind: str
    key: str
    at: datetime
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(uuid.uuid5(REMINDER_NAMESPACE, f"{self.kind}:{self.member_id}:{self.key}"))

    @property
    def text(self) -> str:
        return TEXTS[self.kind].format(**self.params)


class Notifier(Protocol):
    """Sends reminders, inside the caller's transaction."""

    def send(self, conn: Connection, reminder: Reminder) -> None: ...


class NoticeBoard:
    """Keeps reminders for staff to print or read out."""

    def send(self, conn: Connection, reminder: Reminder) -> None:
        statement = bulk.upsert(conn, notices).values(
            notice_id=reminder.id, community_id=reminder.community_id,
            member_id=reminder.member_id, kind=reminder.kind, text=reminder.text,
            created_at=reminder.at)
        conn.execute(statement.on_conflict_do_nothing(index_elements=[notices.c.notice_id]))


class Gateway:
    """Hands reminders to the community's gateway subscriptions through the outbox."""

    def __init__(self, webhook_ids: list[str], position: int) -> None:
        self.webhook_ids, self.position = webhook_ids, position

    def send(self, conn: Connection, reminder: Reminder) -> None:
        body = body_of("reminder", self.position, reminder.at, reminder.community_id, None,
                       {"member_id": reminder.member_id, "about": reminder.kind,
                        "text": reminder.text, **reminder.params},
                       event_id=f"rem_{reminder.id}")
        for webhook_id in self.webhook_ids:
            statement = bulk.upsert(conn, webhook_deliveries).values(
                delivery_id=str(uuid.uuid5(REMINDER_NAMESPACE, f"{webhook_id}:{reminder.id}")),
                webhook_id=webhook_id, position=self.position, kind="reminder", body=body,
                status="pending", attempts=0, created_at=reminder.at,
                next_attempt_at=reminder.at)
            conn.execute(statement.on_conflict_do_nothing(
                index_elements=[webhook_deliveries.c.delivery_id]))


def notify(conn: Connection, reminder: Reminder, gateways: list[str], position: int) -> None:
    """Send `reminder` to the community's gateways, or to its board when it has none."""
    notifier: Notifier = Gateway(gateways, position) if gateways else NoticeBoard()
    notifier.send(conn, reminder)


def list_notices(engine: Engine, community_id: str, *, limit: int) -> list[dict[str, Any]]:
    """The community's notices, newest first."""
    n = notices.c
    query = (select(notices).where(n.community_id == community_id)
             .order_by(n.created_at.desc(), n.notice_id.desc()).limit(limit))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
