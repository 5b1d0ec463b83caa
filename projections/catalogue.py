"""The catalogue of views: every read model the runner keeps, in the order it applies them."""

from __future__ import annotations

from projections.accounts import BalancesView, HoldsView, PassbookView
from projections.api_keys import ApiKeysView
from projections.leaderboards import LeaderboardsView
from projections.merchant_registry import MerchantsView
from projections.pending_awards import PendingAwardsView
from projections.registry_view import RegistryView
from projections.services import ServicesView
from projections.timebank import TimeBankView
from projections.view import View
from projections.webhooks import WebhooksView


def all_views() -> list[View]:
    """A fresh instance of every view. The registry comes before the views that read its
    tables while applying a batch (the passbook's names, leaderboards); `webhooks` comes last
    and reads the balances of settled merchants."""
    return [BalancesView(), RegistryView(), PassbookView(), HoldsView(), MerchantsView(),
            LeaderboardsView(), TimeBankView(), ApiKeysView(), PendingAwardsView(),
            ServicesView(), WebhooksView()]
