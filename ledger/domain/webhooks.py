"""Webhook subscriptions: a URL told of a community's or a merchant's events.

The secret that signs deliveries is not in the log (every auditor reads the log): it is kept
apart, beside the subscription's id (`projections.webhooks`).
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.domain.base import LedgerAggregate

# Every kind of event a subscription may ask for, in the order the docs list them.
KINDS: tuple[str, ...] = (
    "redemption.created", "redemption.refunded",
    "hold.captured", "hold.voided", "hold.expired",
    "settlement.created",
    "award.posted", "award.reversed",
    "points.expiring",
    "service_request.dispatched", "service_request.completed", "service_request.rated",
    "reminder",  # a word to a resident, for the community's SMS or WeChat gateway
)


class WebhookSubscription(LedgerAggregate):
    """Where to send which kinds of events of one community, or of one merchant."""

    @staticmethod
    def create_id() -> UUID:
        return ids.new_id()

    @event("Created")
    def __init__(self, community_id: UUID, merchant_id: UUID | None, url: str,
                 kinds: list[str], actor_id: str, actor_role: str) -> None:
        self.community_id = community_id
        self.merchant_id = merchant_id
        self.url = url
        self.kinds = kinds
        self.disabled_reason: str | None = None
        self.deleted = False

    def delete(self, actor_id: str, actor_role: str) -> None:
        if not self.deleted:
            self._deleted(actor_id=actor_id, actor_role=actor_role)

    @event("Deleted")
    def _deleted(self, actor_id: str, actor_role: str) -> None:
        self.deleted = True

    def disable(self, reason: str, actor_id: str, actor_role: str) -> None:
        if not self.deleted and self.disabled_reason is None:
            self._disabled(reason=reason, actor_id=actor_id, actor_role=actor_role)

    @event("Disabled")
    def _disabled(self, reason: str, actor_id: str, actor_role: str) -> None:
        self.disabled_reason = reason

    def change(self, url: str | None, kinds: list[str] | None, enable: bool,
               actor_id: str, actor_role: str) -> None:
        """A new URL or kinds; `enable` takes up a subscription Linli disabled."""
        self._changed(url=url or self.url, kinds=sorted(set(kinds)) if kinds else self.kinds,
                      enabled=enable or self.disabled_reason is None,
                      actor_id=actor_id, actor_role=actor_role)

    @event("Changed")
    def _changed(self, url: str, kinds: list[str], enabled: bool, actor_id: str,
                 actor_role: str) -> None:
        self.url, self.kinds = url, kinds
        if enabled:
            self.disabled_reason = None

    def redeliver(self, delivery_id: str, actor_id: str, actor_role: str) -> None:
        self._redelivery_requested(delivery_id=delivery_id, actor_id=actor_id,
                                   actor_role=actor_role)

    @event("RedeliveryRequested")
    def _redelivery_requested(self, delivery_id: str, actor_id: str, actor_role: str) -> None:
        pass
