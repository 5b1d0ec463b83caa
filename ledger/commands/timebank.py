"""Moving minutes (时间银行): deposits for service, withdrawals for care, gifts (转赠),
donations to and allocations from a community's pool, and the time-bank settings.

Every movement is double entry: a member's posting is balanced by another member's, the pool's,
or a community system account (`issued` for deposits, `consumed` for withdrawals).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from ledger import ids
from ledger.actor import Actor
from ledger.commands import districts, points
from ledger.domain.accounts import Account
from ledger.domain.assets import Asset, OwnerKind, PostingKind
from ledger.domain.districts import month_key
from ledger.domain.policy import OverCap, TimeBankPolicy
from ledger.domain.registry import Community, Member
from ledger.domain.service_orders import ServiceOrder
from ledger.domain.timebank import Deposit, Interchange
from ledger.errors import (
    CapReached,
    GiftNotAllowed,
    InsufficientBalance,
    InvalidRequest,
    NotFound,
    RuleRetired,
    StorageCapReached,
)
from ledger.write.unit_of_work import UnitOfWork

MINUTES = Asset.MINUTES.value


@dataclass(frozen=True)
class MinutesMoved:
    """A deposit, withdrawal, gift, donation or allocation, with the balance it left."""

    id: UUID
    member_id: UUID
    minutes: int
    balance_after: int
    donated: int = 0
    points_awarded: int = 0
    to_member_id: UUID | None = None
    to_balance_after: int | None = None
    serving_community_id: UUID | None = None


def minutes_account(uow: UnitOfWork, owner_id: UUID) -> Account:
    return uow.get(Account, ids.account_id(owner_id, MINUTES))


def _system(community_id: UUID, purpose: str) -> str:
    return ids.system_account(community_id, MINUTES, purpose)


def _pool(uow: UnitOfWork, community_id: UUID, by: Actor) -> Account:
    """The community's pool of donated minutes, opened on first use."""
    owner = ids.pool_id(community_id)
    pool = uow.find(Account, ids.account_id(owner, MINUTES))
    if pool is None:
        pool = Account.open(owner, OwnerKind.POOL, community_id, Asset.MINUTES, by)
        uow.add(pool)
    return pool


def _interchange(uow: UnitOfWork, a: UUID, b: UUID, by: Actor) -> Interchange:
    """What two communities owe each other, opened on first use."""
    interchange = uow.find(Interchange, Interchange.create_id(a, b))
    if interchange is None:
        interchange = Interchange.open(a, b, by)
        uow.add(interchange)
    return interchange


def _today(community: Community, now: datetime) -> date:
    return now.astimezone(ZoneInfo(community.time_zone)).date()


POOL_NAME = "时间银行公益池"


def _move(source: Account, target: Account, minutes: int, kind: PostingKind, by: Actor,
          description: str, restricted_delta: int = 0, *, source_name: str = POOL_NAME,
          target_name: str = POOL_NAME) -> UUID:
    """`minutes` from one account to another, both posted in one transaction; each line
    names the other side: the community's pool by name, a member by id (`ids.member_ref`:
    the passbook view shows the name; no personal data in the log)."""
    transaction_id = ids.new_id()
    reference = f"{kind.value}:{transaction_id}"
    source.post(amount=-minutes, kind=kind, transaction_id=transaction_id,
                counter_account=ids.account_ref(target.id), by=by, description=description,
                reference=reference, restricted_delta=restricted_delta,
                counterparty=target_name)
    target.post(amount=minutes, kind=kind, transaction_id=transaction_id,
                counter_account=ids.account_ref(source.id), by=by, description=description,
                reference=reference, counterparty=source_name)
    return transaction_id


def _donate(uow: UnitOfWork, account: Account, community_id: UUID, minutes: int, by: Actor,
            description: str) -> UUID:
    if minutes > account.available:
        raise InsufficientBalance("member-minutes-short", available=account.available,
                                  asked=minutes)
    used_restricted = min(account.restricted, minutes)  # donate-only minutes go first
    return _move(account, _pool(uow, community_id, by), minutes, PostingKind.DONATION, by,
                 description, restricted_delta=-used_restricted,
                 source_name=ids.member_ref(account.owner_id))


def _service_points(uow: UnitOfWork, volunteer: Member, rule_code: str | None, minutes: int,
                    occurred_at: datetime, service_type: str, by: Actor,
                    now: datetime) -> points.AwardResult | None:
    """Points for the service, where the community's rulebook has a rule for it."""
    if rule_code is None:
        return None
    award = points.award(volunteer.id, rule_code, quantity=None, minutes=minutes,
                         occurred_at=occurred_at, note=f"时间银行 {service_type}", now=now,
                         by=Actor(by.id, by.role))  # the deposit is authorised already
    try:
        return award(uow)
    except (CapReached, InvalidRequest, NotFound, RuleRetired):
        return None  # no rule, a retired one, or no room under its caps: minutes only


def post_service(
    uow: UnitOfWork, *, volunteer_id: UUID, recipient_id: UUID | None, minutes: int,
    service_type: str, occurred_at: datetime, team: str | None,
    service_request_id: UUID | None, stars: int | None, by: Actor, now: datetime,
    rule_code: str | None = None,
) -> MinutesMoved:
    """Deposit the minutes of a verified service to its volunteer, within the storage cap of
    the volunteer's community (refused, or the excess donated to its pool). Points go under
    `rule_code` (the service catalogue's rule), else under the policy's service rule."""
    volunteer = uow.get(Member, volunteer_id)
    community = uow.get(Community, volunteer.community_id)
    policy = community.timebank
    account = minutes_account(uow, volunteer_id)
    room = policy.room(account.balance)
    over = 0 if room is None else max(0, minutes - room)
    if over and policy.over_cap is OverCap.REFUSE:
        raise StorageCapReached("storage-cap", balance=account.balance,
                                cap=policy.storage_cap_minutes, room=room)
    awarded = _service_points(uow, volunteer, rule_code or policy.service_rule_code, minutes,
                              occurred_at, service_type, by, now)
    deposit = Deposit(
        volunteer_id=volunteer_id, community_id=volunteer.community_id,
        recipient_id=recipient_id, service_type=service_type, minutes=minutes,
        occurred_at=occurred_at, team=team, service_request_id=service_request_id, stars=stars,
        donated=over, points_award_id=awarded.id if awarded else None, actor_id=by.id,
        actor_role=by.role_value)
    uow.add(deposit)
    restricted = minutes if team and policy.team_minutes_donate_only else 0
    account.post(amount=minutes, kind=PostingKind.DEPOSIT, transaction_id=deposit.id,
                 counter_account=_system(volunteer.community_id, "issued"), by=by,
                 description=service_type, reference=f"deposit:{deposit.id}",
                 restricted_delta=restricted, counterparty=service_type,
                 occurred_at=occurred_at)
    if over:
        _donate(uow, account, volunteer.community_id, over, by, "超出存储上限，捐入公益池")
    return MinutesMoved(deposit.id, volunteer_id, minutes, account.balance, donated=over,
                        points_awarded=awarded.points if awarded and awarded.status == "posted"
                        else 0)


def deposit(
    volunteer_id: UUID, recipient_id: UUID | None, minutes: int, service_type: str,
    occurred_at: datetime | None, team: str | None, by: Actor, now: datetime,
) -> Callable[[UnitOfWork], MinutesMoved]:
    def command(uow: UnitOfWork) -> MinutesMoved:
        volunteer = uow.get(Member, volunteer_id)
        by.check_community(volunteer.community_id, "member", volunteer_id)
        volunteer.check_active()
        if recipient_id is not None:
            if recipient_id == volunteer_id:
                raise InvalidRequest("serve-self")
            uow.get(Member, recipient_id)
        when = points.check_occurred_at(occurred_at, now)
        return post_service(uow, volunteer_id=volunteer_id, recipient_id=recipient_id,
                            minutes=minutes, service_type=service_type, occurred_at=when,
                            team=team, service_request_id=None, stars=None, by=by, now=now)

    return command


def withdraw(
    member_id: UUID, minutes: int, service_type: str, provider_id: UUID | None,
    service_request_id: UUID | None, by: Actor, now: datetime,
    serving_community_id: UUID | None = None,
) -> Callable[[UnitOfWork], MinutesMoved]:
    """Spend minutes on care received. Care given by another community's volunteer, or at
    another community's counter (通兑: `serving_community_id`, by default the caller's own
    community), makes the member's community owe that community, within the credit limit it
    set (and, across districts, within their agreement's). The serving community's staff
    reach only members of its district or of a district with an agreement (404 otherwise)."""

    def command(uow: UnitOfWork) -> MinutesMoved:
        member = uow.get(Member, member_id)
        serving_id = serving_community_id or by.community_id or member.community_id
        community = uow.get(Community, member.community_id)
        agreement = None
        if serving_id == member.community_id:
            by.check_community(member.community_id, "member", member_id)
            serving = community
        else:
            by.check_community(serving_id, "community", serving_id)
            serving = uow.get(Community, serving_id)
            agreement = districts.serving_scope(uow, community, serving)
        member.check_active()
        community.timebank.check_age(member.birth_date, _today(community, now))
        provider = provider_id
        if service_request_id is not None:
            order = uow.get(ServiceOrder, service_request_id)
            if order.requester_id != member_id:
                raise InvalidRequest("order-not-members")
            provider = provider or order.volunteer_id
        account = minutes_account(uow, member_id)
        if minutes > account.spendable:
            raise _short(account, minutes)
        withdrawal_id = ids.new_id()
        creditor = serving.id
        if provider is not None and serving.id == member.community_id:
            creditor = uow.get(Member, provider).community_id
        description = service_type
        if creditor != member.community_id:
            if agreement is not None and serving.district_id is not None:
                assert community.district_id is not None
                agreement.record_care(community.district_id, minutes, withdrawal_id, by)
            _interchange(uow, member.community_id, creditor, by).record_care(
                member.community_id, minutes, withdrawal_id, by, month=month_key(now))
            if creditor == serving.id and serving.id != member.community_id:
                description = f"{service_type}（{serving.name}通兑）"
        account.post(amount=-minutes, kind=PostingKind.WITHDRAWAL, transaction_id=withdrawal_id,
                     counter_account=_system(member.community_id, "consumed"), by=by,
                     description=description, reference=f"withdrawal:{withdrawal_id}",
                     counterparty=service_type)
        return MinutesMoved(withdrawal_id, member_id, minutes, account.balance,
                            serving_community_id=serving.id)

    return command


def _short(account: Account, minutes: int) -> InsufficientBalance:
    """The refusal of `minutes` the account cannot spend."""
    if account.restricted:
        return InsufficientBalance("minutes-short-restricted", available=account.spendable,
                                   asked=minutes, restricted=account.restricted)
    return InsufficientBalance("minutes-short", available=account.spendable, asked=minutes)


def transfer(
    from_member_id: UUID, to_member_id: UUID, minutes: int, by: Actor
) -> Callable[[UnitOfWork], MinutesMoved]:
    """A gift of minutes (转赠), as the giver's community allows."""

    def command(uow: UnitOfWork) -> MinutesMoved:
        giver = uow.get(Member, from_member_id)
        by.check_community(giver.community_id, "member", from_member_id)
        by.check_member(from_member_id, "member", from_member_id)
        if to_member_id == from_member_id:
            raise InvalidRequest("gift-to-self")
        receiver = uow.get(Member, to_member_id)
        if not uow.get(Community, giver.community_id).timebank.allows_gift(giver, receiver):
            raise GiftNotAllowed("gift-relatives-only")
        source = minutes_account(uow, from_member_id)
        if minutes > source.spendable:
            raise _short(source, minutes)
        target = minutes_account(uow, to_member_id)
        room = uow.get(Community, receiver.community_id).timebank.room(target.balance)
        if room is not None and minutes > room:
            raise StorageCapReached("storage-room", room=room)
        gift_id = _move(source, target, minutes, PostingKind.GIFT, by, "转赠",
                        source_name=ids.member_ref(from_member_id),
                        target_name=ids.member_ref(to_member_id))
        return MinutesMoved(gift_id, from_member_id, minutes, source.balance,
                            to_member_id=to_member_id, to_balance_after=target.balance)

    return command


def donate(member_id: UUID, minutes: int, by: Actor) -> Callable[[UnitOfWork], MinutesMoved]:
    """Give minutes to the community's pool (donate-only team minutes go first)."""

    def command(uow: UnitOfWork) -> MinutesMoved:
        member = uow.get(Member, member_id)
        by.check_community(member.community_id, "member", member_id)
        by.check_member(member_id, "member", member_id)
        account = minutes_account(uow, member_id)
        donation_id = _donate(uow, account, member.community_id, minutes, by, "捐入公益池")
        return MinutesMoved(donation_id, member_id, minutes, account.balance)

    return command


def allocate(
    community_id: UUID, member_id: UUID, minutes: int, reason: str, by: Actor
) -> Callable[[UnitOfWork], MinutesMoved]:
    """Staff give minutes from the community's pool to a member in need."""

    def command(uow: UnitOfWork) -> MinutesMoved:
        by.check_community(community_id, "community", community_id)
        community = uow.get(Community, community_id)
        member = uow.get(Member, member_id)
        if member.community_id != community_id:
            raise NotFound("member-not-in-community")
        pool = _pool(uow, community_id, by)
        if minutes > pool.balance:
            raise InsufficientBalance("pool-short", available=pool.balance, asked=minutes)
        target = minutes_account(uow, member_id)
        room = community.timebank.room(target.balance)
        if room is not None and minutes > room:
            raise StorageCapReached("storage-room", room=room)
        allocation_id = _move(pool, target, minutes, PostingKind.ALLOCATION, by, reason,
                              target_name=ids.member_ref(member_id))
        return MinutesMoved(allocation_id, member_id, minutes, target.balance)

    return command


# --- settings -----------------------------------------------------------------------------
def set_policy(
    community_id: UUID, policy: TimeBankPolicy, by: Actor
) -> Callable[[UnitOfWork], TimeBankPolicy]:
    def command(uow: UnitOfWork) -> TimeBankPolicy:
        by.check_community(community_id, "community", community_id)
        community = uow.get(Community, community_id)
        if (policy.service_rule_code is not None
                and policy.service_rule_code not in community.rule_codes):
            raise NotFound("rule-not-in-rulebook", code=policy.service_rule_code)
        community.set_timebank_policy(policy, by)
        return community.timebank

    return command


@dataclass(frozen=True)
class Position:
    """What `community_id` owes `partner_id` (negative: is owed), and the limits set."""

    community_id: UUID
    partner_id: UUID
    owes: int
    partner_allows: int | None  # how much the partner lets us owe it
    we_allow: int | None  # how much we let the partner owe us


def position(interchange: Interchange | None, community_id: UUID, partner_id: UUID) -> Position:
    if interchange is None:
        return Position(community_id, partner_id, 0, None, None)
    return Position(community_id, partner_id, interchange.owed_by(community_id),
                    interchange.limit_for(community_id), interchange.limit_for(partner_id))


def set_partner_limit(
    community_id: UUID, partner_id: UUID, limit: int | None, by: Actor
) -> Callable[[UnitOfWork], Position]:
    """How many minutes `community_id` lets `partner_id` owe it (None: no limit)."""

    def command(uow: UnitOfWork) -> Position:
        by.check_community(community_id, "community", community_id)
        uow.get(Community, community_id)
        uow.get(Community, partner_id)
        if partner_id == community_id:
            raise InvalidRequest("own-partner")
        interchange = _interchange(uow, community_id, partner_id, by)
        interchange.set_limit(community_id, limit, by)
        return position(interchange, community_id, partner_id)

    return command


def add_relative(
    member_id: UUID, relative_id: UUID, relation: str, by: Actor
) -> Callable[[UnitOfWork], None]:
    """Register two members as relatives (both ways)."""

    def command(uow: UnitOfWork) -> None:
        member = uow.get(Member, member_id)
        by.check_community(member.community_id, "member", member_id)
        if relative_id == member_id:
            raise InvalidRequest("own-relative")
        relative = uow.get(Member, relative_id)
        member.add_relative(relative_id, relation, by)
        relative.add_relative(member_id, relation, by)

    return command


def record_birth_date(
    member_id: UUID, birth_date: date, by: Actor, now: datetime
) -> Callable[[UnitOfWork], None]:
    def command(uow: UnitOfWork) -> None:
        member = uow.get(Member, member_id)
        by.check_community(member.community_id, "member", member_id)
        if birth_date > now.date():
            raise InvalidRequest("birth-date-future")
        member.record_birth_date(birth_date, by)

    return command
