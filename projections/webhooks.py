"""The view `webhooks`: subscriptions as the log has them, and the outbox of deliveries.

Each event of a kind some subscription asks for becomes one row of `webhook_deliveries` per
subscription, written in the runner's transaction that moves this view's tracking position:
an event is put in the outbox exactly once, in log order, and a restart resumes after the last
position stored. A subscription receives the events recorded after its own creation, since
both are in one log. The sender (`projections.webhook_sender`) delivers the rows; a rebuild remakes
the subscriptions and subjects but never the outbox (it would send everything again).

Reminders for residents (a task dispatched to a volunteer) go to the community's notifier
(`projections.notifiers`) in the same transaction, so they too are made once.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, select, update

from ledger.domain.awards import Award
from ledger.domain.holds import Hold
from ledger.domain.redemptions import Redemption
from ledger.domain.service_orders import ServiceOrder
from ledger.domain.webhooks import WebhookSubscription
from projections import bulk
from projections.notifiers import Reminder, notify
from projections.tables import balances, webhook_deliveries, webhook_subjects, webhooks
from projections.view import POSTED, Positioned
from projections.webhook_body import body_of

CREATED = get_topic(WebhookSubscription.Created)  # type: ignore[attr-defined]
DELETED = get_topic(WebhookSubscription.Deleted)  # type: ignore[attr-defined]
DISABLED = get_topic(WebhookSubscription.Disabled)  # type: ignore[attr-defined]
CHANGED = get_topic(WebhookSubscription.Changed)  # type: ignore[attr-defined]
REDELIVERY = get_topic(WebhookSubscription.RedeliveryRequested)  # type: ignore[attr-defined]
MADE = get_topic(Redemption.Made)  # type: ignore[attr-defined]
REFUNDED = get_topic(Redemption.Refunded)  # type: ignore[attr-defined]
PLACED = get_topic(Hold.Placed)  # type: ignore[attr-defined]
CAPTURED = get_topic(Hold.Captured)  # type: ignore[attr-defined]
VOIDED = get_topic(Hold.Voided)  # type: ignore[attr-defined]
EXPIRED = get_topic(Hold.Expired)  # type: ignore[attr-defined]
RECORDED = get_topic(Award.Recorded)  # type: ignore[attr-defined]
APPROVED = get_topic(Award.Approved)  # type: ignore[attr-defined]
REVERSED = get_topic(Award.Reversed)  # type: ignore[attr-defined]
REQUESTED = get_topic(ServiceOrder.Requested)  # type: ignore[attr-defined]
DISPATCHED = get_topic(ServiceOrder.Dispatched)  # type: ignore[attr-defined]
TEAM_DISPATCHED = get_topic(ServiceOrder.DispatchedToTeam)  # type: ignore[attr-defined]
COMPLETED = get_topic(ServiceOrder.Completed)  # type: ignore[attr-defined]
RATED = get_topic(ServiceOrder.Rated)  # type: ignore[attr-defined]

SUBSCRIPTION_TOPICS = (CREATED, DELETED, DISABLED, CHANGED, REDELIVERY)
SUBJECT_TOPICS = (MADE, PLACED, RECORDED, REQUESTED)
# The kind an event is (None: it depends on the event, see `_kind`).
KIND_OF: dict[str, str | None] = {
    MADE: "redemption.created", REFUNDED: "redemption.refunded",
    CAPTURED: "hold.captured", VOIDED: "hold.voided", EXPIRED: "hold.expired",
    POSTED: None, RECORDED: None, APPROVED: "award.posted", REVERSED: "award.reversed",
    DISPATCHED: "service_request.dispatched", TEAM_DISPATCHED: "service_request.dispatched",
    COMPLETED: "service_request.completed", RATED: "service_request.rated",
}
DELIVERY_NAMESPACE = uuid.UUID("5b0c0f6e-4f7a-4d59-9a43-0c1f1d6b7a21")
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# Event attributes that are not the event's news.
_SKIPPED = {"originator_id", "originator_version", "timestamp", "lots_taken", "returned",
            "lot_changes", "cap_keys", "actor_id", "actor_role"}


def delivery_id(webhook_id: str, position: int, kind: str) -> str:
    """The id of the delivery of the event at `position` to a subscription."""
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{webhook_id}:{position}:{kind}"))


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def event_data(event: Any) -> dict[str, Any]:
    """The event's own fields, as JSON values."""
    return {k: _plain(v) for k, v in vars(event).items() if k not in _SKIPPED}


class _Subscription:
    __slots__ = ("id", "community_id", "merchant_id", "kinds", "active")

    def __init__(self, row: dict[str, Any]) -> None:
        self.id: str = row["webhook_id"]
        self.community_id: str = row["community_id"]
        self.merchant_id: str | None = row["merchant_id"]
        self.kinds = set(json.loads(row["kinds"]))
        self.active = not row["deleted"] and row["disabled_reason"] is None

    def wants(self, kind: str, community_id: str, merchant_id: str | None) -> bool:
        if not self.active or kind not in self.kinds or community_id != self.community_id:
            return False
        return self.merchant_id is None or self.merchant_id == merchant_id


class WebhooksView:
    """Subscriptions, the subjects events are routed by, and the outbox."""

    name = "webhooks"
    tables = (webhooks, webhook_subjects)
    topics = tuple(sorted({*SUBSCRIPTION_TOPICS, *SUBJECT_TOPICS, *KIND_OF}))

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        _Batch(conn, events, deliver=True).run()

    def replay(self) -> _Replay:
        return _Replay()


class _Replay:
    """A rebuild: subscriptions and subjects again, and not one delivery."""

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        _Batch(conn, events, deliver=False).run()

    def finish(self, conn: Connection) -> None:
        pass


class _Batch:
    """One batch of events applied to the view."""

    def __init__(self, conn: Connection, events: list[Positioned], *, deliver: bool) -> None:
        self.conn, self.events, self.deliver = conn, events, deliver
        self.subjects: dict[str, dict[str, Any]] = {}
        self.new_subjects: list[dict[str, Any]] = []
        self.subscriptions: dict[str, _Subscription] = {}
        self.deliveries: list[dict[str, Any]] = []

    def run(self) -> None:
        self._load()
        for item in self.events:
            topic, e = item.topic, item.event
            if topic in SUBSCRIPTION_TOPICS:
                self._subscription(item)
                continue
            if topic in SUBJECT_TOPICS:
                subject = {"subject_id": item.originator, "community_id": str(e.community_id),
                           "merchant_id": _text(getattr(e, "merchant_id", None)),
                           "member_id": _text(getattr(e, "member_id", None)
                                              or getattr(e, "requester_id", None))}
                self.subjects[item.originator] = subject
                self.new_subjects.append(subject)
            if self.deliver and self.subscriptions and topic in KIND_OF:
                self._route(item)
        bulk.insert(self.conn, webhook_subjects, self.new_subjects)
        if self.deliveries:
            bulk.insert(self.conn, webhook_deliveries, self.deliveries)

    def _load(self) -> None:
        """The live subscriptions, and the subjects of this batch's later events."""
        rows = self.conn.execute(select(webhooks).where(webhooks.c.deleted.is_(False))).all()
        self.subscriptions = {r.webhook_id: _Subscription(dict(r._mapping)) for r in rows}
        if not self.deliver:
            return
        created = {i.originator for i in self.events if i.topic in SUBJECT_TOPICS}
        wanted = {i.originator for i in self.events
                  if i.topic in KIND_OF and i.topic not in SUBJECT_TOPICS
                  and i.topic != POSTED} - created
        for chunk in bulk.chunks(sorted(wanted)):
            for row in self.conn.execute(select(webhook_subjects)
                                         .where(webhook_subjects.c.subject_id.in_(chunk))):
                self.subjects[row.subject_id] = dict(row._mapping)

    def _subscription(self, item: Positioned) -> None:
        e, key = item.event, item.originator
        if item.topic == CREATED:
            row = {"webhook_id": key, "community_id": str(e.community_id),
                   "merchant_id": _text(e.merchant_id), "url": e.url,
                   "kinds": json.dumps(list(e.kinds)), "created_at": e.timestamp,
                   "disabled_reason": None, "deleted": False, "position": item.position}
            self.conn.execute(webhooks.insert().values(**row))
            self.subscriptions[key] = _Subscription(row)
            return
        subscription = self.subscriptions.get(key)
        if item.topic == REDELIVERY:
            if self.deliver:
                d = webhook_deliveries.c
                self.conn.execute(update(webhook_deliveries)
                                  .where(d.webhook_id == key, d.delivery_id == e.delivery_id)
                                  .values(status=PENDING, next_attempt_at=e.timestamp,
                                          first_attempt_at=None))
            return
        changes: dict[str, Any]
        if item.topic == DELETED:
            changes = {"deleted": True}
            if self.deliver:  # what waited for it is sent nowhere now
                d = webhook_deliveries.c
                self.conn.execute(update(webhook_deliveries)
                                  .where(d.webhook_id == key, d.status == PENDING)
                                  .values(status=FAILED, error="订阅已删除"))
        elif item.topic == DISABLED:
            changes = {"disabled_reason": e.reason}
        else:
            changes = {"url": e.url, "kinds": json.dumps(list(e.kinds))}
            if e.enabled:
                changes["disabled_reason"] = None
        self.conn.execute(update(webhooks).where(webhooks.c.webhook_id == key)
                          .values(**changes))
        if subscription is not None:
            if item.topic == CHANGED:
                subscription.kinds = set(e.kinds)
                subscription.active = subscription.active or e.enabled
            else:
                subscription.active = False

    def _route(self, item: Positioned) -> None:
        routed = self._kind(item)
        if routed is None:
            return
        kind, community_id, merchant_id, data = routed
        wanting = [s for s in self.subscriptions.values()
                   if s.wants(kind, community_id, merchant_id)]
        if kind == "service_request.dispatched" and "volunteer_id" in data and self.deliver:
            gateways = [s.id for s in self.subscriptions.values()
                        if s.wants("reminder", community_id, None)]
            notify(self.conn, Reminder(
                community_id=community_id, member_id=data["volunteer_id"],
                kind=kind, key=f"{item.position}", at=item.event.timestamp,
                params={"service_request_id": data["service_request_id"]}),
                gateways, item.position)
        if not wanting:
            return
        body = body_of(kind, item.position, item.event.timestamp, community_id, merchant_id,
                       data)
        for subscription in wanting:
            self.deliveries.append({
                "delivery_id": delivery_id(subscription.id, item.position, kind),
                "webhook_id": subscription.id, "position": item.position, "kind": kind,
                "body": body, "status": PENDING, "attempts": 0,
                "created_at": item.event.timestamp, "first_attempt_at": None,
                "last_attempt_at": None, "next_attempt_at": item.event.timestamp,
                "response_code": None, "error": None})

    def _kind(self, item: Positioned) -> tuple[str, str, str | None, dict[str, Any]] | None:
        """The event's kind, community, merchant and data (None: not a webhook's event)."""
        topic, e = item.topic, item.event
        data = event_data(e)
        if topic == POSTED:
            if e.kind != "settlement":
                return None
            row = self.conn.execute(select(balances.c.owner_id, balances.c.community_id)
                                    .where(balances.c.account_id == item.originator)).first()
            if row is None:
                return None
            data = {"settlement_id": str(e.transaction_id), "points": -int(e.amount),
                    "merchant_id": row.owner_id}
            return "settlement.created", row.community_id, row.owner_id, data
        if topic == RECORDED and e.status != "posted":
            return None
        subject = self.subjects.get(item.originator)
        if subject is None:
            return None
        kind = KIND_OF[topic] or "award.posted"
        for name, field in (("redemption.", "redemption_id"), ("hold.", "hold_id"),
                            ("award.", "award_id"), ("service_request.", "service_request_id")):
            if kind.startswith(name):
                data[field] = item.originator
        if subject["member_id"] is not None and "member_id" not in data:
            data["member_id"] = subject["member_id"]
        if subject["merchant_id"] is not None:
            data["merchant_id"] = subject["merchant_id"]
        return kind, subject["community_id"], subject["merchant_id"], data


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
