"""Subscribing a URL to a community's or a merchant's events, and ending or pausing it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledger.actor import Actor, Role
from ledger.domain.registry import Community, Merchant
from ledger.domain.webhooks import WebhookSubscription
from ledger.errors import InvalidRequest, NotFound, WebhookDisabled
from ledger.write.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Subscribed:
    """A subscription as a command left it."""

    id: UUID
    community_id: UUID
    merchant_id: UUID | None
    url: str
    kinds: list[str]
    disabled_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, subscription: WebhookSubscription) -> Subscribed:
        return cls(subscription.id, subscription.community_id, subscription.merchant_id,
                   subscription.url, list(subscription.kinds), subscription.disabled_reason,
                   subscription.created_on)


def subscribe(url: str, kinds: list[str], *, community_id: UUID | None,
              merchant_id: UUID | None, by: Actor, subscription_id: UUID
              ) -> Callable[[UnitOfWork], Subscribed]:
    """A subscription of a merchant (its own key, or staff of its community) or of a
    community (its staff); `url` was checked before."""

    def command(uow: UnitOfWork) -> Subscribed:
        merchant = by.merchant_id if by.role is Role.MERCHANT else merchant_id
        if merchant is not None:
            community = uow.get(Merchant, merchant).community_id
        elif by.community_id is not None and by.role is Role.STAFF:
            community = community_id or by.community_id
        elif community_id is not None:
            community = community_id
        else:
            raise InvalidRequest("webhook-needs-owner")
        uow.get(Community, community)
        if by.community_id is not None and community != by.community_id:
            raise NotFound("not-found", thing="community")
        subscription = WebhookSubscription._create(
            WebhookSubscription.Created,  # type: ignore[attr-defined]
            id=subscription_id, community_id=community, merchant_id=merchant, url=url,
            kinds=sorted(set(kinds)), actor_id=by.id, actor_role=by.role_value)
        uow.add(subscription)
        return Subscribed.of(subscription)

    return command


def owned(uow: UnitOfWork, subscription_id: UUID, by: Actor) -> WebhookSubscription:
    """The subscription, if `by` may see it (else not found, never another's)."""
    subscription = uow.find(WebhookSubscription, subscription_id)
    if subscription is None or subscription.deleted or not sees(by, subscription.community_id,
                                                                 subscription.merchant_id):
        raise NotFound("not-found", thing="webhook")
    return subscription


def sees(by: Actor, community_id: UUID | str, merchant_id: UUID | str | None) -> bool:
    """Whether `by` may see a subscription of this community and merchant."""
    if by.role is Role.MERCHANT:
        return merchant_id is not None and str(merchant_id) == str(by.merchant_id)
    return by.community_id is None or str(by.community_id) == str(community_id)


def delete(subscription_id: UUID, by: Actor) -> Callable[[UnitOfWork], None]:
    def command(uow: UnitOfWork) -> None:
        owned(uow, subscription_id, by).delete(by.id, by.role_value)

    return command


PAUSED = "由订阅方停用"  # the reason of a subscription its owner disabled


def change(subscription_id: UUID, *, url: str | None, kinds: list[str] | None,
           status: str | None, by: Actor) -> Callable[[UnitOfWork], Subscribed]:
    """A new URL or kinds; status `active` takes it up again, `disabled` pauses it."""

    def command(uow: UnitOfWork) -> Subscribed:
        subscription = owned(uow, subscription_id, by)
        subscription.change(url, kinds, status == "active", by.id, by.role_value)
        if status == "disabled":
            subscription.disable(PAUSED, by.id, by.role_value)
        return Subscribed.of(subscription)

    return command


def redeliver(subscription_id: UUID, delivery_id: str, by: Actor
              ) -> Callable[[UnitOfWork], None]:
    """Ask for a delivery to be sent again (the view puts it back in the outbox)."""

    def command(uow: UnitOfWork) -> None:
        subscription = owned(uow, subscription_id, by)
        if subscription.disabled_reason is not None:
            raise WebhookDisabled("webhook-disabled", reason=subscription.disabled_reason)
        subscription.redeliver(delivery_id, by.id, by.role_value)

    return command


def disable(subscription_id: UUID, reason: str) -> Callable[[UnitOfWork], None]:
    """Disabled by Linli itself, after its deliveries failed for too long."""

    def command(uow: UnitOfWork) -> None:
        subscription = uow.find(WebhookSubscription, subscription_id)
        if subscription is not None:
            system = Actor.system()
            subscription.disable(reason, system.id, system.role_value)

    return command
