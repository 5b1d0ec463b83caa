"""Small reads the pages need: who a token is, a member by passbook number, a member search,
and the awards waiting for approval."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.access_log import PersonalReadsDep, RevealQuery
from api.deps import (
    ActorDep,
    CaughtUp,
    LinliDep,
    PageCursor,
    PageLimit,
    StaffAuditorOrMerchant,
    StaffOrAuditor,
    VisibleMember,
    load,
    readable_community,
)
from api.listing import ListCursor, StaffOrAuditorListing
from ledger.actor import Role
from ledger.domain.awards import Award
from ledger.domain.consent import ConsentPolicy
from ledger.domain.registry import Community
from ledger.errors import InvalidRequest, NotFound
from ledger.limits import PAGE_DEFAULT
from projections import lookups, registry_lists, registry_view
from projections.pending_awards import list_pending

router = APIRouter(prefix="/v1", tags=["lookups"])


class MeOut(BaseModel):
    role: str
    community_id: UUID | None
    merchant_id: UUID | None
    member_id: UUID | None
    district_id: UUID | None = None
    communities: list[UUID] | None = Field(None, description=(
        "a district's staff or auditor: the communities it may switch between"))


class FoundMemberOut(BaseModel):
    member_id: UUID | None = Field(description=(
        "null for a merchant's till where the community asks for the member's payment code"))
    community_id: UUID
    name: str
    passbook_no: str


class MemberRowOut(BaseModel):
    member_id: UUID
    name: str
    passbook_no: str
    household_id: UUID | None
    grid_id: UUID | None
    status: Literal["active", "moved_out", "deceased"]


class MemberListOut(BaseModel):
    items: list[MemberRowOut]
    next_cursor: str | None


class PendingAwardOut(BaseModel):
    id: UUID
    member_id: UUID
    member_name: str
    rule_code: str
    rule_name: str
    points: int
    quantity: int | None
    minutes: int | None
    occurred_at: datetime
    note: str


class PendingAwardListOut(BaseModel):
    items: list[PendingAwardOut]
    next_cursor: str | None = None


class AwardDetailOut(BaseModel):
    id: UUID
    rule_code: str
    quantity: int | None
    minutes: int | None
    points: int
    status: str
    occurred_at: datetime
    reversed_points: int = Field(0, description="points taken back so far")
    requested_points: int | None = Field(None, description="before a cap cut them")


class AwardDetailListOut(BaseModel):
    items: list[AwardDetailOut]


AWARD_IDS_MAX = 50


@router.get("/me", response_model=MeOut)
def who_am_i(actor: ActorDep) -> MeOut:
    """The role and scope of the bearer token (what the pages show and allow)."""
    return MeOut(role=actor.role_value, community_id=actor.community_id,
                 merchant_id=actor.merchant_id, member_id=actor.member_id,
                 district_id=actor.district_id,
                 communities=(sorted(actor.communities, key=str)
                              if actor.communities is not None else None))


@router.get("/passbooks/{passbook_no}", response_model=FoundMemberOut)
def find_by_passbook(passbook_no: Annotated[str, Path(max_length=32)],
                     actor: StaffAuditorOrMerchant, linli: CaughtUp,
                     reads: PersonalReadsDep, reveal: RevealQuery = False) -> FoundMemberOut:
    """The member holding a passbook (积分存折) number, for a till or a staff desk. A merchant
    sees the name masked (张*明), enough to check it is the right person; where the community
    asks for the member's payment code, a merchant gets no member id either."""
    scope = str(actor.community_id) if actor.community_id else None
    found = lookups.member_by_passbook(linli.engine, passbook_no.strip(), scope)
    if found is None or not actor.in_scope(UUID(found["community_id"])):
        raise NotFound("passbook-not-found")
    merchant = actor.role is Role.MERCHANT
    name = reads.name(found["name"], reveal)
    reads.record(reads.what("姓名", reveal), [found["member_id"]], found["community_id"])
    community = load(linli, Community, UUID(found["community_id"])) if merchant else None
    hidden = (community is not None
              and community.policy.redemption_consent is ConsentPolicy.PAYMENT_CODE)
    return FoundMemberOut(member_id=None if hidden else UUID(found["member_id"]),
                          community_id=UUID(found["community_id"]), name=name,
                          passbook_no=found["passbook_no"])


@router.get("/members", response_model=MemberListOut)
def search_members(
    listing: StaffOrAuditorListing,
    linli: LinliDep,
    reads: PersonalReadsDep,
    q: Annotated[str, Query(max_length=50, description=(
        "the start of a name, or of a passbook number (digits and dashes)"))] = "",
    status: Literal["active", "moved_out", "deceased"] | None = None,
    limit: PageLimit = PAGE_DEFAULT,
    cursor: ListCursor = None,
    reveal: RevealQuery = False,
) -> MemberListOut:
    """Members of a community, a page at a time. Without `q`, the latest registered first;
    a `q` of digits (and dashes) finds passbook numbers starting with it, in their order; any
    other `q` finds names starting with it, in name order."""
    page = registry_lists.members(linli.engine, listing.community["community_id"], q.strip(),
                                  status,
                                  cursor, limit)
    reads.record(reads.what("姓名", reveal), [r["member_id"] for r in page.items],
                 listing.community["community_id"])
    return MemberListOut(items=[MemberRowOut(
        member_id=UUID(r["member_id"]), name=reads.name(r["name"], reveal),
        passbook_no=r["passbook_no"],
        household_id=UUID(r["household_id"]) if r["household_id"] else None,
        grid_id=UUID(r["grid_id"]) if r["grid_id"] else None, status=r["status"])
        for r in page.items], next_cursor=page.next_cursor)


@router.get("/awards", response_model=PendingAwardListOut)
def list_pending_awards(
    actor: StaffOrAuditor,
    linli: LinliDep,
    community_id: UUID | None = None,
    status: Annotated[str, Query(pattern="^pending$")] = "pending",
    rule_code: Annotated[str | None, Query(min_length=1, max_length=64,
                                           pattern=r"^[A-Za-z0-9_.-]+$")] = None,
    limit: PageLimit = PAGE_DEFAULT,
    cursor: PageCursor = None,
) -> PendingAwardListOut:
    """Awards waiting for a staff member's approval (status=pending), oldest first, under
    one rule if `rule_code` is given; a page of `limit` and the `next_cursor`."""
    community = readable_community(linli, actor, community_id)
    found, next_after = list_pending(linli.engine, community["community_id"],
                                     rule_code=rule_code, limit=limit, after=cursor)
    rules = registry_view.rule_names(linli.engine, community["community_id"])
    names = lookups.member_names(linli.engine, [str(a.member_id) for a in found])
    return PendingAwardListOut(items=[PendingAwardOut(
        id=a.id, member_id=a.member_id, member_name=names.get(str(a.member_id), ""),
        rule_code=a.rule_code, rule_name=rules.get(a.rule_code, a.rule_code), points=a.points,
        quantity=a.quantity, minutes=a.minutes, occurred_at=a.occurred_at, note=a.note,
    ) for a in found], next_cursor=str(next_after) if next_after is not None else None)


@router.get("/members/{member_id}/awards", response_model=AwardDetailListOut)
def member_awards(
    member_id: UUID,
    member: VisibleMember,
    linli: LinliDep,
    ids: Annotated[str, Query(max_length=AWARD_IDS_MAX * 37,
                              description="award ids, comma-separated (the passbook lines' "
                              "award:<id> references)")],
) -> AwardDetailListOut:
    """What lies behind a member's award lines: the rule, the quantity or minutes (for
    "志愿服务 2小时 +20"). Ids that are not this member's awards are left out."""
    try:
        wanted = [UUID(part) for part in ids.split(",") if part.strip()]
    except ValueError:
        raise InvalidRequest("award-ids") from None
    if len(wanted) > AWARD_IDS_MAX:
        raise InvalidRequest("award-ids-max", max=AWARD_IDS_MAX)
    found: list[AwardDetailOut] = []
    for award_id in dict.fromkeys(wanted):
        try:
            award: object = linli.app.repository.get(award_id)
        except AggregateNotFoundError:
            continue
        if isinstance(award, Award) and award.member_id == member_id:
            found.append(AwardDetailOut(
                id=award.id, rule_code=award.rule_code, quantity=award.quantity,
                minutes=award.minutes, points=award.points, status=award.status,
                occurred_at=award.occurred_at, reversed_points=award.reversed_points,
                requested_points=award.requested_points))
    return AwardDetailListOut(items=found)
