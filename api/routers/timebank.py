"""The time bank (时间银行): deposits, withdrawals, gifts (◆), donations and allocations;
each community's policy, pool and positions with partners (通存通兑); relatives and birth
dates; a volunteer's service record (志愿服务记录)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.bootstrap import Linli
from api.deps import (
    CaughtUp,
    IdempotencyKey,
    LinliDep,
    PageCursor,
    PageLimit,
    StaffActor,
    StaffAuditorOrMemberCommunity,
    StaffOfPathCommunity,
    StaffOrAuditorCommunity,
    StaffOrMember,
    VisibleMember,
    caught_up,
)
from api.idempotency import Keyed, WriteDep, run_keyed
from api.idempotency import nothing as _nothing
from api.schemas_timebank import (
    AllocationIn,
    BirthDateIn,
    DepositIn,
    DepositOut,
    DonationIn,
    MovementOut,
    PartnerLimitIn,
    PositionOut,
    RelativeIn,
    ServiceRecordLine,
    ServiceRecordOut,
    TimeBankOut,
    TimeBankPolicyIn,
    TimeBankPolicyOut,
    TransferIn,
    TransferOut,
    WithdrawalIn,
    WithdrawalOut,
)
from ledger.commands import timebank
from ledger.commands.timebank import MinutesMoved
from ledger.domain.policy import GiftRecipients, OverCap, TimeBankPolicy
from ledger.errors import NotFound
from ledger.limits import PAGE_DEFAULT
from projections import lookups, timebank_queries

router = APIRouter(prefix="/v1", tags=["time bank"])

PROBLEM = {"description": "Problem", "content": {"application/problem+json": {}}}


def _movement(m: MinutesMoved) -> MovementOut:
    return MovementOut(id=m.id, member_id=m.member_id, minutes=m.minutes,
                       balance_after=m.balance_after)


@router.post("/timebank/deposits", status_code=201, response_model=DepositOut,
             responses={409: PROBLEM})
def create_deposit(body: DepositIn, actor: StaffActor, linli: LinliDep, write: WriteDep
                   ) -> Response:
    """Minutes for a verified service, to the volunteer (staff confirm the service)."""
    return write.execute(timebank.deposit(
        body.volunteer_id, body.recipient_id, body.minutes, body.service_type, body.occurred_at,
        body.team, actor, now=linli.clock()), _deposit_out, body)


def _deposit_out(m: MinutesMoved) -> DepositOut:
    return DepositOut(id=m.id, volunteer_id=m.member_id, minutes=m.minutes,
                      balance_after=m.balance_after, donated=m.donated,
                      points_awarded=m.points_awarded)


@router.post("/timebank/withdrawals", status_code=201, response_model=WithdrawalOut,
             responses={409: PROBLEM})
def create_withdrawal(body: WithdrawalIn, actor: StaffActor, linli: LinliDep,
                      write: WriteDep) -> Response:
    """Minutes spent on care the member received (named by id or passbook number); care from
    another community's volunteer, or at another community's counter within the district or
    an agreed district (通兑), counts in what the member's community owes that community."""
    member_id = body.member_id or _passbook_holder(linli, body.passbook_no or "")
    return write.execute(timebank.withdraw(
        member_id, body.minutes, body.service_type, body.provider_id,
        body.service_request_id, actor, now=linli.clock(),
        serving_community_id=body.serving_community_id),
        lambda m: WithdrawalOut(id=m.id, member_id=m.member_id, minutes=m.minutes,
                                balance_after=m.balance_after,
                                serving_community_id=m.serving_community_id), body)


def _passbook_holder(linli: Linli, passbook_no: str) -> UUID:
    """The member holding a passbook, in any community (the command checks the scope)."""
    caught_up(linli)
    found = lookups.member_by_passbook(linli.engine, passbook_no.strip(), None)
    if found is None:
        raise NotFound("passbook-not-found")
    return UUID(found["member_id"])


@router.post("/timebank/transfers", status_code=201, response_model=TransferOut,
             responses={409: PROBLEM, 400: PROBLEM})
async def create_transfer(body: TransferIn, request: Request, actor: StaffOrMember,
                          linli: LinliDep, key: IdempotencyKey = None) -> Response:
    """A gift of minutes to another member (转赠) (◆ Idempotency-Key)."""
    return await run_keyed(
        linli, actor, key, method="POST", path=request.url.path, body=body,
        keyed=Keyed(timebank.transfer(body.from_member_id, body.to_member_id, body.minutes,
                                      actor),
                    lambda m: TransferOut(id=m.id, from_member_id=m.member_id,
                                          to_member_id=m.to_member_id, minutes=m.minutes,
                                          balance_after=m.balance_after)),
    )


@router.post("/timebank/donations", status_code=201, response_model=MovementOut,
             responses={409: PROBLEM})
def create_donation(body: DonationIn, actor: StaffOrMember, linli: LinliDep, write: WriteDep
                    ) -> Response:
    """Minutes given to the community's pool, for elders in need."""
    return write.execute(timebank.donate(body.member_id, body.minutes, actor), _movement, body)


@router.post("/timebank/allocations", status_code=201, response_model=MovementOut,
             responses={409: PROBLEM})
def create_allocation(body: AllocationIn, actor: StaffActor, linli: LinliDep, write: WriteDep
                      ) -> Response:
    """Minutes from the community's pool to a member in need."""
    return write.execute(timebank.allocate(
        body.community_id, body.member_id, body.minutes, body.reason, actor), _movement, body)


# --- a community's time bank ----------------------------------------------------------------
def _policy_out(community_id: UUID, policy: TimeBankPolicy) -> TimeBankPolicyOut:
    return TimeBankPolicyOut(community_id=community_id, **policy.as_dict())


@router.get("/communities/{community_id}/timebank/policy", response_model=TimeBankPolicyOut)
def get_policy(community_id: UUID, community: StaffAuditorOrMemberCommunity
               ) -> TimeBankPolicyOut:
    return _policy_out(community_id, community.timebank)


@router.put("/communities/{community_id}/timebank/policy", response_model=TimeBankPolicyOut)
def put_policy(community_id: UUID, body: TimeBankPolicyIn, actor: StaffOfPathCommunity,
               linli: LinliDep, write: WriteDep) -> Response:
    """The community's time-bank rules, from now on."""
    policy = TimeBankPolicy(
        storage_cap_minutes=body.storage_cap_minutes, over_cap=OverCap(body.over_cap),
        gift_recipients=GiftRecipients(body.gift_recipients),
        withdraw_min_age=body.withdraw_min_age,
        team_minutes_donate_only=body.team_minutes_donate_only,
        auto_confirm_days=body.auto_confirm_days, service_rule_code=body.service_rule_code)
    return write.execute(timebank.set_policy(community_id, policy, actor),
                         lambda set_to: _policy_out(community_id, set_to), body)


@router.get("/communities/{community_id}/timebank", response_model=TimeBankOut)
def get_timebank(community_id: UUID, community: StaffOrAuditorCommunity,
                 linli: CaughtUp) -> TimeBankOut:
    """The pool, and what the community owes and is owed by each partner (通存通兑)."""
    positions = []
    for row in timebank_queries.interchange_rows(linli.engine, community_id):
        first = row["first_id"] == str(community_id)
        positions.append(PositionOut(
            partner_id=UUID(row["second_id"] if first else row["first_id"]),
            owes=row["due"] if first else -row["due"],
            partner_allows=row["second_limit"] if first else row["first_limit"],
            we_allow=row["first_limit"] if first else row["second_limit"]))
    return TimeBankOut(community_id=community_id,
                       pool_minutes=timebank_queries.pool_minutes(linli.engine, community_id),
                       positions=positions)


@router.put("/communities/{community_id}/timebank/partners/{partner_id}",
            response_model=PositionOut)
def put_partner_limit(community_id: UUID, partner_id: UUID, body: PartnerLimitIn,
                      actor: StaffOfPathCommunity, linli: LinliDep, write: WriteDep
                      ) -> Response:
    """How many minutes the partner community's members may owe us (credit limit)."""
    return write.execute(timebank.set_partner_limit(
        community_id, partner_id, body.credit_limit_minutes, actor),
        lambda p: PositionOut(partner_id=p.partner_id, owes=p.owes,
                              partner_allows=p.partner_allows, we_allow=p.we_allow), body)


# --- members ----------------------------------------------------------------------------------
@router.post("/members/{member_id}/relatives", status_code=204, response_class=Response)
def add_relative(member_id: UUID, body: RelativeIn, actor: StaffActor,
                 linli: LinliDep, write: WriteDep) -> Response:
    """Register two members as relatives (亲属), e.g. for gifts of minutes."""
    return write.execute(timebank.add_relative(member_id, body.relative_id, body.relation,
                                               actor), _nothing, body)


@router.put("/members/{member_id}/birth-date", status_code=204, response_class=Response)
def put_birth_date(member_id: UUID, body: BirthDateIn, actor: StaffActor,
                   linli: LinliDep, write: WriteDep) -> Response:
    """A member's birth date, for the community's minimum age to withdraw minutes."""
    return write.execute(timebank.record_birth_date(member_id, body.birth_date, actor,
                                                    now=linli.clock()), _nothing, body)


@router.get("/members/{member_id}/service-record", response_model=ServiceRecordOut)
def get_service_record(member_id: UUID, member: VisibleMember, linli: CaughtUp,
                       limit: PageLimit = PAGE_DEFAULT,
                       cursor: PageCursor = None) -> ServiceRecordOut:
    """Every service the volunteer gave (志愿服务记录): recipient, type, minutes, rating."""
    record = timebank_queries.service_record(linli.engine, member_id, limit=limit,
                                             before=cursor)
    return ServiceRecordOut(
        member_id=member_id, name=member.name, services=record.services,
        minutes=record.minutes,
        items=[ServiceRecordLine(id=line["deposit_id"], **{
            k: v for k, v in line.items() if k in ServiceRecordLine.model_fields})
            for line in record.lines],
        next_cursor=str(record.next_before) if record.next_before is not None else None)

