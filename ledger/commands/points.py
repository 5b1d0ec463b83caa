"""Moving points: awards and their approval, rejection and reversal; redemptions, refunds,
adjustments. Each transaction's postings sum to zero."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from ledger import ids
from ledger.actor import Actor
from ledger.domain import lots
from ledger.domain.accounts import Account, cap_keys_for
from ledger.domain.assets import Asset, OwnerKind, PostingKind
from ledger.domain.awards import Award, AwardStatus
from ledger.domain.consent import BY_MEMBER_ID, Consent, ConsentKind
from ledger.domain.policy import AwardApproval
from ledger.domain.redemptions import Redemption
from ledger.domain.registry import Community, Member, Merchant
from ledger.domain.rulebook import Rule
from ledger.errors import (
    FourEyesRequired,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    PaymentCodeInvalid,
)
from ledger.limits import BACKDATE_MAX_DAYS, POINTS_MAX
from ledger.write.unit_of_work import Reading, UnitOfWork

FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class AwardResult:
    id: UUID
    member_id: UUID
    rule_code: str
    rule_version: int
    status: str
    points: int
    occurred_at: datetime
    reason: str | None = None
    requested_points: int | None = None  # before a cap cut it
    capped: bool = False
    reversed_points: int = 0


@dataclass(frozen=True)
class Movement:
    """A redemption, refund or adjustment, with the balance it left."""

    id: UUID
    points: int
    balance_after: int
    member_id: UUID | None = None
    merchant_id: UUID | None = None


def _member_account(uow: UnitOfWork, member_id: UUID, asset: Asset = Asset.POINTS) -> Account:
    return uow.get(Account, ids.account_id(member_id, asset.value))


def _issued(community_id: UUID) -> str:
    return ids.system_account(community_id, Asset.POINTS.value, "issued")


def _expired(community_id: UUID) -> str:
    return ids.system_account(community_id, Asset.POINTS.value, "expired")


def award_lot(community: Community, award_id: UUID, points: int,
              occurred_at: datetime) -> list[lots.Change]:
    """The lot an award's points become, dated by the community's policy of today."""
    expires_at = community.policy.expires_at(occurred_at, community.time_zone)
    return [[str(award_id), points, lots.instant(expires_at)]]


def local_day(community: Community, now: datetime) -> str:
    return now.astimezone(ZoneInfo(community.time_zone)).date().isoformat()


def take_points(
    uow: UnitOfWork, *, member_account: Account, merchant_account: Account, merchant: Merchant,
    redemption_id: UUID, points: int, description: str, now: datetime, by: Actor,
    consent: Consent | None = None,
) -> list[lots.Change]:
    """Move `points` from the member to the merchant for `redemption`, within the member's
    daily limit, consuming the payment code of `consent`; returns the lots they were taken
    from. The member's line names the shop; the merchant's names the member by id (the
    passbook view shows their name, masked, from the registry: no personal data in the log)."""
    community = uow.get(Community, merchant.community_id)
    day = local_day(community, now)
    member_account.check_redemption_limit(points, day,
                                          community.policy.daily_redemption_limit_points)
    reference = f"redemption:{redemption_id}"
    taken = member_account.post(
        amount=-points, kind=PostingKind.REDEMPTION, transaction_id=redemption_id,
        counter_account=ids.account_ref(merchant_account.id), by=by,
        description=description or merchant.name, reference=reference, redeemed_on=day,
        consent=consent, counterparty=merchant.name)
    merchant_account.post(amount=points, kind=PostingKind.REDEMPTION,
                          transaction_id=redemption_id,
                          counter_account=ids.account_ref(member_account.id), by=by,
                          description=description, reference=reference,
                          counterparty=ids.member_ref(member_account.owner_id))
    return taken




def member_at_till(uow: UnitOfWork, merchant: Merchant, member_id: UUID, consent: Consent,
                   by: Actor) -> Member:
    """The member a till names, if the merchant's community takes that consent: a merchant
    naming a member where the community asks for a code is refused; a code or PIN of
    another community's member is not valid here."""
    community = uow.get(Community, merchant.community_id)
    community.check_consent(consent.kind, by.role)
    member = uow.get(Member, member_id)
    if member.community_id != merchant.community_id:
        if consent.kind is ConsentKind.PAYMENT_CODE:
            raise PaymentCodeInvalid("payment-code-elsewhere")
        raise NotFound("not-found", thing="member")
    member.check_active()
    return member


def _result(award: Award) -> AwardResult:
    return AwardResult(award.id, award.member_id, award.rule_code, award.rule_version,
                       award.status, award.points, award.occurred_at, award.reason,
                       award.requested_points, award.capped, award.reversed_points)


def award(
    member_id: UUID,
    rule_code: str,
    *,
    quantity: int | None,
    minutes: int | None,
    occurred_at: datetime | None,
    note: str,
    now: datetime,
    by: Actor,
) -> Callable[[UnitOfWork], AwardResult]:
    def command(uow: UnitOfWork) -> AwardResult:
        member = uow.get(Member, member_id)
        by.check_community(member.community_id, "member", member_id)
        member.check_active()
        community = uow.get(Community, member.community_id)
        rule = uow.find(Rule, ids.rule_id(member.community_id, rule_code))
        if rule is None or not rule.versions:
            raise NotFound("rule-not-in-rulebook", code=rule_code)
        rule.check_open()
        when = check_occurred_at(occurred_at, now)
        version = rule.in_force_at(when)
        requested = points = _points_for(version, quantity, minutes)
        day = when.astimezone(ZoneInfo(community.time_zone)).date()
        daily_key, monthly_key = cap_keys_for(rule_code, day)
        caps = [(k, c) for k, c in ((daily_key, version["daily_cap"]),
                                    (monthly_key, version["monthly_cap"])) if c is not None]
        account = _member_account(uow, member_id)
        room = account.cap_room(caps)
        if room is not None:
            points = min(points, room)
        cap_keys = [k for k, _ in caps]
        pending = bool(version["requires_approval"])
        new = Award(
            member_id=member_id, community_id=member.community_id, rule_code=rule_code,
            rule_version=version["version"], quantity=quantity, minutes=minutes, points=points,
            status=(AwardStatus.PENDING if pending else AwardStatus.POSTED).value,
            occurred_at=when, cap_keys=cap_keys, note=note, actor_id=by.id,
            actor_role=by.role_value, requested_points=requested,
        )
        if pending:
            account.reserve_cap(award_id=new.id, cap_keys=cap_keys, points=points, by=by)
        else:
            account.post(amount=points, kind=PostingKind.AWARD, transaction_id=new.id,
                         counter_account=_issued(member.community_id), by=by,
                         description=version["name"], reference=f"award:{new.id}",
                         cap_keys=cap_keys,
                         new_lots=award_lot(community, new.id, points, when),
                         counterparty=version["name"], occurred_at=when)
        uow.add(new)
        return _result(new)

    return command


def check_occurred_at(occurred_at: datetime | None, now: datetime) -> datetime:
    """When a deed happened: not in the future, not before the backdating limit."""
    when = occurred_at or now
    if when > now + FUTURE_TOLERANCE:
        raise InvalidRequest("occurred-in-future")
    if when < now - timedelta(days=BACKDATE_MAX_DAYS):
        raise InvalidRequest("occurred-too-long-ago", days=BACKDATE_MAX_DAYS)
    return when


def _points_for(version: dict[str, object], quantity: int | None, minutes: int | None) -> int:
    per_unit = int(version["points"])  # type: ignore[call-overload]
    if version["unit"] == "hour":
        if minutes is None or quantity is not None:
            raise InvalidRequest("rule-per-hour")
        points = per_unit * minutes // 60
    else:
        if minutes is not None:
            raise InvalidRequest("rule-per-time")
        points = per_unit * (quantity if quantity is not None else 1)
    if points < 1:
        raise InvalidRequest("under-one-point")
    if points > POINTS_MAX:
        raise InvalidRequest("award-too-big", max=POINTS_MAX)
    return points


def _load_award(uow: UnitOfWork, award_id: UUID, by: Actor) -> Award:
    found = uow.get(Award, award_id)
    by.check_community(found.community_id, "award", award_id)
    return found


def approve_award(award_id: UUID, by: Actor) -> Callable[[UnitOfWork], AwardResult]:
    def command(uow: UnitOfWork) -> AwardResult:
        pending = _load_award(uow, award_id, by)
        if pending.status != AwardStatus.PENDING:
            raise InvalidTransition("award-state", step="approve", status=pending.status)
        rule = uow.get(Rule, ids.rule_id(pending.community_id, pending.rule_code))
        name = rule.versions[pending.rule_version - 1]["name"]
        community = uow.get(Community, pending.community_id)
        if (community.policy.award_approval is AwardApproval.ANOTHER_STAFF
                and pending.recorded_by == by.id):
            raise FourEyesRequired("four-eyes")
        _member_account(uow, pending.member_id).post(
            amount=pending.points, kind=PostingKind.AWARD, transaction_id=pending.id,
            counter_account=_issued(pending.community_id), by=by, description=name,
            reference=f"award:{pending.id}", cap_keys=pending.cap_keys,
            cap_already_reserved=True,
            new_lots=award_lot(community, pending.id, pending.points, pending.occurred_at),
            counterparty=name, occurred_at=pending.occurred_at,
        )
        pending.approve(by)
        return _result(pending)

    return command


def reject_award(award_id: UUID, reason: str, by: Actor) -> Callable[[UnitOfWork], AwardResult]:
    def command(uow: UnitOfWork) -> AwardResult:
        pending = _load_award(uow, award_id, by)
        pending.reject(reason, by)
        _member_account(uow, pending.member_id).release_cap(
            award_id=pending.id, cap_keys=pending.cap_keys, points=pending.points, by=by
        )
        return _result(pending)

    return command


def reverse_award(award_id: UUID, reason: str, by: Actor, points: int | None = None,
                  allow_debt: bool = False) -> Callable[[UnitOfWork], AwardResult]:
    """Take back `points` of a posted award (all that is left by default), lowering what the
    member earned in the award's own period. Points already spent are taken back only with
    `allow_debt`: the member's balance goes below zero and later earnings repay it first. A
    part that leaves something of the award is an `award_part_reversal`; the one that takes
    the last point, an `award_reversal`."""
    def command(uow: UnitOfWork) -> AwardResult:
        posted = _load_award(uow, award_id, by)
        amount = posted.check_reversal(points)
        kind = (PostingKind.AWARD_REVERSAL if amount == posted.points_left
                else PostingKind.AWARD_PART_REVERSAL)
        rule = uow.find(Rule, ids.rule_id(posted.community_id, posted.rule_code))
        name = (rule.versions[posted.rule_version - 1]["name"]
                if rule is not None and len(rule.versions) >= posted.rule_version else "")
        _member_account(uow, posted.member_id).post(
            amount=-amount, kind=kind, transaction_id=posted.id,
            counter_account=_issued(posted.community_id), by=by, description=reason,
            reference=f"award:{posted.id}", cap_keys=posted.cap_keys,
            take_first=str(posted.id), allow_negative=allow_debt, counterparty=name,
            occurred_at=posted.occurred_at,
        )
        posted.reverse(reason, by, amount)
        return _result(posted)

    return command


def redeem(
    merchant_id: UUID, member_id: UUID, points: int, description: str, by: Actor,
    now: datetime, consent: Consent = BY_MEMBER_ID,
) -> Callable[[UnitOfWork], Movement]:
    """Take a member's points at a merchant's till, with the consent the community asks for."""
    member_account_id = ids.account_id(member_id, Asset.POINTS.value)
    merchant_account_id = ids.account_id(merchant_id, Asset.POINTS.value)

    def command(uow: UnitOfWork) -> Movement:
        by.check_merchant(merchant_id, "merchant", merchant_id)
        merchant = uow.get(Merchant, merchant_id)
        by.check_community(merchant.community_id, "merchant", merchant_id)
        merchant.check_open()
        member_at_till(uow, merchant, member_id, consent, by)
        member_account = uow.get(Account, member_account_id)
        merchant_account = uow.get(Account, merchant_account_id)
        redemption = Redemption.make(merchant_id=merchant_id, member_id=member_id,
                                     community_id=merchant.community_id, points=points,
                                     description=description, actor_id=by.id,
                                     actor_role=by.role_value,
                                     lots_taken=lots.take(member_account.lots, points))
        taken = take_points(uow, member_account=member_account,
                            merchant_account=merchant_account, merchant=merchant,
                            redemption_id=redemption.id, points=points,
                            description=description, now=now, by=by, consent=consent)
        assert [[i, -d, at] for i, d, at in taken] == redemption.lots_taken
        uow.add(redemption, cache=False)  # read again only by a refund
        return Movement(redemption.id, points, member_account.balance, member_id, merchant_id)

    return Reading(command, (merchant_id, member_id, member_account_id, merchant_account_id))


def refund(
    redemption_id: UUID, points: int, by: Actor, now: datetime
) -> Callable[[UnitOfWork], Movement]:
    """Give points back. They return to the lots they were taken from (the last taken first);
    a part whose lot has expired since expires again at once, in the same transaction."""

    def command(uow: UnitOfWork) -> Movement:
        redemption = uow.get(Redemption, redemption_id)
        by.check_merchant(redemption.merchant_id, "redemption", redemption_id)
        by.check_community(redemption.community_id, "redemption", redemption_id)
        refund_id = ids.new_id()
        merchant_account = uow.get(
            Account, ids.account_id(redemption.merchant_id, Asset.POINTS.value)
        )
        member_account = _member_account(uow, redemption.member_id)
        redemption.check_refund(points)
        returned = redemption.lots_to_return(points)
        reference = f"refund:{refund_id}"
        merchant = uow.get(Merchant, redemption.merchant_id)
        merchant_account.post(amount=-points, kind=PostingKind.REFUND, transaction_id=refund_id,
                              counter_account=ids.account_ref(member_account.id), by=by,
                              description=redemption.description, reference=reference,
                              counterparty=ids.member_ref(redemption.member_id))
        member_account.post(amount=points, kind=PostingKind.REFUND, transaction_id=refund_id,
                            counter_account=ids.account_ref(merchant_account.id), by=by,
                            description=redemption.description or merchant.name,
                            reference=reference, new_lots=returned,
                            counterparty=merchant.name)
        member_account.expire(now, counter_account=_expired(redemption.community_id), by=by)
        redemption.refund(refund_id, points, returned, by)
        return Movement(refund_id, points, member_account.balance, redemption.member_id,
                        redemption.merchant_id)

    return command


def adjust(
    owner_id: UUID, owner_kind: OwnerKind, asset: Asset, amount: int, reason: str, by: Actor
) -> Callable[[UnitOfWork], Movement]:
    """An auditor's explicit adjustment: the one posting that may leave a balance below zero."""

    def command(uow: UnitOfWork) -> Movement:
        owner: Member | Merchant = (
            uow.get(Member, owner_id) if owner_kind is OwnerKind.MEMBER
            else uow.get(Merchant, owner_id)
        )
        by.check_community(owner.community_id, owner_kind.value, owner_id)
        account = uow.find(Account, ids.account_id(owner_id, asset.value))
        if account is None:
            raise NotFound("no-account")
        adjustment_id = ids.new_id()
        account.post(amount=amount, kind=PostingKind.ADJUSTMENT, transaction_id=adjustment_id,
                     counter_account=ids.system_account(owner.community_id, asset.value,
                                                        "adjustments"),
                     by=by, description=reason, reference=f"adjustment:{adjustment_id}",
                     allow_negative=True)
        member_id = owner_id if owner_kind is OwnerKind.MEMBER else None
        merchant_id = owner_id if owner_kind is OwnerKind.MERCHANT else None
        return Movement(adjustment_id, amount, account.balance, member_id, merchant_id)

    return command

