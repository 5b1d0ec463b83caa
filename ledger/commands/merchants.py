"""At the till and after it: holds, settlement, expiry, and the community's points policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from ledger import ids
from ledger.actor import Actor
from ledger.commands.points import local_day, member_at_till, take_points
from ledger.domain import lots
from ledger.domain.accounts import Account
from ledger.domain.assets import Asset, PostingKind
from ledger.domain.consent import BY_MEMBER_ID, Consent
from ledger.domain.holds import Hold
from ledger.domain.policy import PointsPolicy
from ledger.domain.redemptions import Redemption
from ledger.domain.registry import Community, Member, Merchant
from ledger.errors import NothingToSettle
from ledger.write.unit_of_work import UnitOfWork


def _points_account(uow: UnitOfWork, owner_id: UUID) -> Account:
    return uow.get(Account, ids.account_id(owner_id, Asset.POINTS.value))


def set_policy(
    community_id: UUID, policy: PointsPolicy, by: Actor
) -> Callable[[UnitOfWork], dict[str, Any]]:
    def command(uow: UnitOfWork) -> dict[str, Any]:
        by.check_community(community_id, "community", community_id)
        community = uow.get(Community, community_id)
        community.set_policy(policy, by)
        return community.policy.as_dict()

    return command


@dataclass(frozen=True)
class HoldResult:
    id: UUID
    status: str
    member_id: UUID
    merchant_id: UUID
    points: int
    expires_at: datetime
    redemption_id: UUID | None = None
    captured: int = 0
    balance_after: int | None = None


def _hold_result(hold: Hold, balance_after: int | None = None) -> HoldResult:
    return HoldResult(hold.id, hold.status, hold.member_id, hold.merchant_id, hold.points,
                      hold.expires_at, hold.redemption_id, hold.captured, balance_after)


def place_hold(
    merchant_id: UUID, member_id: UUID, points: int, expires_in_seconds: int, by: Actor,
    now: datetime, consent: Consent = BY_MEMBER_ID, description: str = "",
) -> Callable[[UnitOfWork], HoldResult]:
    """Hold a member's points for a merchant's till, with the consent the community asks
    for; `description` goes on the redemption its capture makes."""

    def command(uow: UnitOfWork) -> HoldResult:
        by.check_merchant(merchant_id, "merchant", merchant_id)
        merchant = uow.get(Merchant, merchant_id)
        merchant.check_open()
        member_at_till(uow, merchant, member_id, consent, by)
        community = uow.get(Community, merchant.community_id)
        account = _points_account(uow, member_id)
        account.check_redemption_limit(points, local_day(community, now),
                                       community.policy.daily_redemption_limit_points)
        hold = Hold(merchant_id=merchant_id, member_id=member_id,
                    community_id=merchant.community_id, points=points,
                    expires_at=now + timedelta(seconds=expires_in_seconds), actor_id=by.id,
                    actor_role=by.role_value, description=description)
        account.place_hold(hold.id, points, by, consent)
        uow.add(hold)
        return _hold_result(hold, account.balance)

    return command


def _load_hold(uow: UnitOfWork, hold_id: UUID, by: Actor) -> Hold:
    hold = uow.get(Hold, hold_id)
    by.check_merchant(hold.merchant_id, "hold", hold_id)
    by.check_community(hold.community_id, "hold", hold_id)
    return hold


def capture_hold(
    hold_id: UUID, points: int | None, by: Actor, now: datetime
) -> Callable[[UnitOfWork], HoldResult]:
    """Redeem `points` (all, by default) of a hold; the rest is released."""

    def command(uow: UnitOfWork) -> HoldResult:
        hold = _load_hold(uow, hold_id, by)
        amount = hold.points if points is None else points
        hold.check_capture(amount, now)
        merchant = uow.get(Merchant, hold.merchant_id)
        merchant.check_open()
        uow.get(Member, hold.member_id).check_active()
        community = uow.get(Community, hold.community_id)
        member_account = _points_account(uow, hold.member_id)
        merchant_account = _points_account(uow, hold.merchant_id)
        member_account.check_redemption_limit(amount, local_day(community, now),
                                              community.policy.daily_redemption_limit_points)
        member_account.release_hold(hold.id, "captured", by)
        redemption = Redemption.make(merchant_id=hold.merchant_id, member_id=hold.member_id,
                                     community_id=hold.community_id, points=amount,
                                     description=hold.description, actor_id=by.id,
                                     actor_role=by.role_value,
                                     lots_taken=lots.take(member_account.lots, amount),
                                     hold_id=hold.id)
        take_points(uow, member_account=member_account, merchant_account=merchant_account,
                    merchant=merchant, redemption_id=redemption.id, points=amount,
                    description=hold.description, now=now, by=by)
        hold.capture(redemption.id, amount, now, by)
        uow.add(redemption, cache=False)  # read again only by a refund
        return _hold_result(hold, member_account.balance)

    return command


def void_hold(hold_id: UUID, by: Actor, now: datetime) -> Callable[[UnitOfWork], HoldResult]:
    def command(uow: UnitOfWork) -> HoldResult:
        hold = _load_hold(uow, hold_id, by)
        account = _points_account(uow, hold.member_id)
        if hold.void(now, by):
            account.release_hold(hold.id, "voided", by)
        return _hold_result(hold, account.balance)

    return command


def expire_hold(hold_id: UUID, now: datetime) -> Callable[[UnitOfWork], bool]:
    """Release an unused hold whose time has come (the sweeper's command)."""

    def command(uow: UnitOfWork) -> bool:
        hold = uow.get(Hold, hold_id)
        if not hold.is_due(now):
            return False
        by = Actor.system()
        hold.expire(now, by)
        _points_account(uow, hold.member_id).release_hold(hold.id, "expired", by)
        return True

    return command


def expire_points(member_id: UUID, now: datetime) -> Callable[[UnitOfWork], int]:
    """Expire a member's lots whose instant has come; returns how many points expired."""

    def command(uow: UnitOfWork) -> int:
        account = _points_account(uow, member_id)
        return account.expire(
            now, counter_account=ids.system_account(account.community_id, Asset.POINTS.value,
                                                    "expired"),
            by=Actor.system())

    return command


@dataclass(frozen=True)
class Settlement:
    id: UUID
    merchant_id: UUID
    points: int


def settle(merchant_id: UUID, by: Actor) -> Callable[[UnitOfWork], Settlement]:
    """Settle everything the merchant holds with its community (结算)."""

    def command(uow: UnitOfWork) -> Settlement:
        merchant = uow.get(Merchant, merchant_id)
        by.check_community(merchant.community_id, "merchant", merchant_id)
        account = _points_account(uow, merchant_id)
        if account.available <= 0:
            raise NothingToSettle("nothing-to-settle", merchant=merchant.name)
        settlement_id = ids.new_id()
        amount = account.available
        account.post(amount=-amount, kind=PostingKind.SETTLEMENT, transaction_id=settlement_id,
                     counter_account=ids.system_account(merchant.community_id,
                                                        Asset.POINTS.value, "settled"),
                     by=by, description="结算", reference=f"settlement:{settlement_id}")
        return Settlement(settlement_id, merchant_id, amount)

    return command
