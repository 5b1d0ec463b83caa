"""Webhooks of a community (its staff) or a merchant (its own key): subscriptions, their
delivery log, redelivery; and the notices kept for residents without a smartphone."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.deps import (
    LinliDep,
    PageCursor,
    PageLimit,
    StaffOfPathCommunity,
    StaffOrMerchant,
    caught_up,
    load,
)
from api.idempotency import WriteDep, nothing
from api.schemas_webhooks import (
    DeliveriesOut,
    DeliveryOut,
    NoticeOut,
    NoticesOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
    WebhooksOut,
)
from ledger import ids
from ledger.actor import Actor, Role
from ledger.commands import webhooks as commands
from ledger.domain.registry import Merchant
from ledger.errors import InvalidRequest, NotFound
from ledger.limits import PAGE_DEFAULT
from ledger.webhook_signing import new_secret
from ledger.webhook_urls import check_webhook_url
from projections import notifiers
from projections import webhook_store as store

router = APIRouter(tags=["webhooks"])


def _checked_url(request: Request, url: str, allow_private: bool) -> str:
    return check_webhook_url(url, allow_private=allow_private,
                             server=request.headers.get("host"))


@router.post("/v1/webhooks", status_code=201, response_model=WebhookCreated)
def subscribe(body: WebhookIn, request: Request, actor: StaffOrMerchant, linli: LinliDep,
              write: WriteDep) -> Response:
    """Send the named kinds of events of a community (staff) or of a merchant (its own key,
    or staff naming `merchant_id`) to `url`, each signed with the secret (`Linli-Signature:
    t=UNIX,v1=HEX`, HMAC-SHA256 of "t.body"). The secret is in this answer only."""
    if body.community_id is not None:
        actor.check_community(body.community_id, "community", body.community_id)
    if body.merchant_id is not None:
        actor.check_merchant(body.merchant_id, "merchant", body.merchant_id)
        merchant = load(linli, Merchant, body.merchant_id)
        actor.check_community(merchant.community_id, "merchant", body.merchant_id)
    if not body.events:
        raise InvalidRequest("webhook-needs-events")
    url = _checked_url(request, body.url, linli.settings.webhook_allow_private)
    subscription_id = ids.new_id()
    secret = body.secret or new_secret()
    store.keep_secret(linli.engine, str(subscription_id), secret)

    def out(made: commands.Subscribed, shown: str = secret) -> WebhookCreated:
        return WebhookCreated(**_state_out(made).model_dump(), secret=shown)

    return write.execute(commands.subscribe(
        url, list(body.events), community_id=body.community_id,
        merchant_id=body.merchant_id, by=actor, subscription_id=subscription_id,
    ), out, body, shown_once=lambda made: out(made, shown=""))


def _state_out(made: commands.Subscribed) -> WebhookOut:
    return WebhookOut(id=made.id, url=made.url, events=made.kinds,
                      community_id=made.community_id, merchant_id=made.merchant_id,
                      status="disabled" if made.disabled_reason else "active",
                      disabled_reason=made.disabled_reason, created_at=made.created_at)


def _webhook_out(row: dict[str, Any]) -> WebhookOut:
    return WebhookOut(id=row["webhook_id"], url=row["url"], events=row["kinds"],
                      community_id=row["community_id"], merchant_id=row["merchant_id"],
                      status="disabled" if row["disabled_reason"] else "active",
                      disabled_reason=row["disabled_reason"], created_at=row["created_at"])


@router.get("/v1/webhooks", response_model=WebhooksOut)
def list_webhooks(actor: StaffOrMerchant, linli: LinliDep, community_id: UUID | None = None
                  ) -> WebhooksOut:
    """The caller's subscriptions: a merchant's own, a community's all (its merchants' too)."""
    caught_up(linli)
    if actor.role is Role.MERCHANT:
        rows = store.list_subscriptions(linli.engine, community_id=None,
                                        merchant_id=str(actor.merchant_id))
    else:
        scope = actor.community_id or community_id
        rows = store.list_subscriptions(linli.engine, community_id=str(scope) if scope else None,
                                        merchant_id=None)
    return WebhooksOut(items=[_webhook_out(r) for r in rows])


def _visible(linli: Any, actor: Actor, webhook_id: UUID) -> dict[str, Any]:
    """The subscription if the caller may see it; 404 otherwise (another merchant's too)."""
    caught_up(linli)
    row = store.subscription(linli.engine, str(webhook_id))
    if row is None or not commands.sees(actor, row["community_id"], row["merchant_id"]):
        raise NotFound("not-found", thing="webhook")
    return row


@router.get("/v1/webhooks/{webhook_id}", response_model=WebhookOut)
def get_webhook(webhook_id: UUID, actor: StaffOrMerchant, linli: LinliDep) -> WebhookOut:
    return _webhook_out(_visible(linli, actor, webhook_id))


@router.delete("/v1/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: UUID, actor: StaffOrMerchant, linli: LinliDep,
                   write: WriteDep) -> Response:
    """End a subscription: nothing more is sent to it."""
    return write.execute(commands.delete(webhook_id, actor), nothing)


@router.patch("/v1/webhooks/{webhook_id}", response_model=WebhookOut)
def change_webhook(webhook_id: UUID, body: WebhookPatch, request: Request,
                   actor: StaffOrMerchant, linli: LinliDep, write: WriteDep) -> Response:
    """A new URL or kinds; `"status": "active"` takes up a subscription that was disabled
    (its pending deliveries are sent again), `"disabled"` pauses it."""
    url = None if body.url is None else _checked_url(request, body.url,
                                                     linli.settings.webhook_allow_private)
    return write.execute(commands.change(
        webhook_id, url=url, kinds=list(body.events) if body.events else None,
        status=body.status, by=actor), _state_out, body)


def _delivery_out(row: dict[str, Any]) -> DeliveryOut:
    return DeliveryOut(id=row["delivery_id"], webhook_id=row["webhook_id"],
                       event_id=json.loads(row["body"])["id"], kind=row["kind"],
                       position=row["position"], status=row["status"],
                       attempts=row["attempts"], response_code=row["response_code"],
                       error=row["error"], created_at=row["created_at"],
                       last_attempt_at=row["last_attempt_at"],
                       next_attempt_at=(row["next_attempt_at"] if row["status"] == "pending"
                                        else None))


@router.get("/v1/webhooks/{webhook_id}/deliveries", response_model=DeliveriesOut)
def list_deliveries(webhook_id: UUID, actor: StaffOrMerchant, linli: LinliDep,
                    limit: PageLimit = PAGE_DEFAULT, cursor: PageCursor = None,
                    status: str | None = None) -> DeliveriesOut:
    """The delivery log, newest first: status, attempts, the receiver's last response code
    or error."""
    _visible(linli, actor, webhook_id)
    rows = store.list_deliveries(linli.engine, str(webhook_id), limit=limit + 1,
                                 before=cursor, status=status)
    page = rows[:limit]
    return DeliveriesOut(items=[_delivery_out(r) for r in page],
                         next_cursor=str(page[-1]["position"]) if len(rows) > limit else None)


@router.post("/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
             status_code=202, response_model=DeliveryOut)
def redeliver(webhook_id: UUID, delivery_id: UUID, actor: StaffOrMerchant, linli: LinliDep,
              write: WriteDep) -> Response:
    """Send a delivery again, soon (a new day of retries if it fails); 409 while the
    subscription is disabled."""
    _visible(linli, actor, webhook_id)
    row = store.delivery(linli.engine, str(webhook_id), str(delivery_id))
    if row is None:
        raise NotFound("not-found", thing="delivery")

    def out(_: Any) -> DeliveryOut:
        again = _delivery_out(row)
        return again.model_copy(update={"status": "pending", "next_attempt_at": None})

    answer = write.execute(commands.redeliver(webhook_id, str(delivery_id), actor), out)
    if linli.webhooks is not None:
        linli.webhooks.wake()
    return answer


@router.get("/v1/communities/{community_id}/notices", response_model=NoticesOut)
def list_notices(community_id: UUID, actor: StaffOfPathCommunity, linli: LinliDep,
                 limit: PageLimit = PAGE_DEFAULT) -> NoticesOut:
    """Reminders for residents kept for staff to print or read out (共享广播), newest first:
    a community whose gateway subscribes to `reminder` gets them there instead."""
    caught_up(linli)
    rows = notifiers.list_notices(linli.engine, str(community_id), limit=limit)
    return NoticesOut(items=[NoticeOut(id=r["notice_id"], member_id=r["member_id"],
                                       kind=r["kind"], text=r["text"],
                                       created_at=r["created_at"]) for r in rows],
                      next_cursor=None)
