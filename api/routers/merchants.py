"""A merchant's statement and its settlement with the community (结算); the points policy."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from api.deps import (
    LinliDep,
    PageCursor,
    PageLimit,
    StaffActor,
    StaffOfPathCommunity,
    VisibleCommunity,
    VisibleMerchant,
    caught_up,
    load,
)
from api.errors import ApiProblem
from api.exports import FORMATS, Format, Sheet, chosen_format, export, word
from api.idempotency import WriteDep
from api.instants import Instant
from api.schemas import (
    PolicyIn,
    PolicyOut,
    SettlementIn,
    SettlementOut,
    StatementLineOut,
    StatementOut,
    StatementTotals,
)
from ledger.commands import merchants
from ledger.domain.consent import ConsentPolicy
from ledger.domain.policy import AwardApproval, ExpiryKind, PointsPolicy
from ledger.domain.registry import Community
from ledger.limits import PAGE_DEFAULT
from projections import queries

router = APIRouter(prefix="/v1", tags=["merchants"])

STATEMENT_FILE_MAX_LINES = 1_000_000
STATEMENT_COLUMNS = ["at", "kind", "points", "balance_after", "reference", "description"]


def _statement_sheet(name: str, found: queries.Statement, time_zone: str) -> Sheet:
    """The statement as a table: the opening balance, every line oldest first, the totals;
    kinds in the reader's words, instants in the community's time zone."""
    sheet = Sheet(f"{name} {word('statement')}", STATEMENT_COLUMNS, time_zone=time_zone,
                  totals=len(found.totals))
    sheet.rows.append([None, word("opening_balance"), found.opening_balance,
                       found.opening_balance, "", ""])
    for line in reversed(found.lines):
        sheet.rows.append([line["at"], word(line["kind"]), line["amount"],
                           line["balance_after"], line["reference"], line["description"]])
    for total, value in found.totals.items():
        sheet.rows.append([None, word(f"total_{total}"), value, None, "", ""])
    return sheet


@router.get("/merchants/{merchant_id}/statement", response_model=StatementOut,
            responses={200: FORMATS})
def get_statement(
    merchant_id: UUID,
    request: Request,
    merchant: VisibleMerchant,
    linli: LinliDep,
    start: Annotated[Instant | None, Query(alias="from")] = None,
    end: Annotated[Instant | None, Query(alias="to")] = None,
    limit: PageLimit = PAGE_DEFAULT,
    cursor: PageCursor = None,
    format: Format | None = None,
) -> StatementOut | Response:
    """Every redemption, refund and settlement in [from, to), newest first, with totals.
    With `format=csv|xlsx` (or such an Accept header), every line of the period as a file,
    oldest first, with the opening balance and the totals in its last rows."""
    if start and end and end <= start:
        raise ApiProblem(422, "validation-error", "to-after-from")
    caught_up(linli)
    chosen = chosen_format(format, request)
    if chosen is not Format.JSON:
        whole = queries.statement(linli.engine, merchant_id, start=start, end=end,
                                  limit=STATEMENT_FILE_MAX_LINES, before=None)
        community = load(linli, Community, merchant.community_id)
        return export(_statement_sheet(merchant.name, whole, community.time_zone), chosen,
                      f"statement-{merchant_id}")
    found = queries.statement(linli.engine, merchant_id, start=start, end=end, limit=limit,
                              before=cursor)
    return StatementOut(
        merchant_id=merchant_id, opening_balance=found.opening_balance,
        items=[StatementLineOut(at=line["at"], kind=line["kind"], points=line["amount"],
                                balance_after=line["balance_after"],
                                reference=line["reference"], description=line["description"],
                                counterparty=line["counterparty"])
               for line in found.lines],
        totals=StatementTotals(**found.totals),
        next_cursor=str(found.next_before) if found.next_before is not None else None,
    )


@router.post("/merchants/{merchant_id}/settlements", status_code=201,
             response_model=SettlementOut)
async def create_settlement(
    merchant_id: UUID, actor: StaffActor, linli: LinliDep, write: WriteDep,
    body: SettlementIn | None = None,
) -> Response:
    """Settle every unsettled point of the merchant with its community. With an
    Idempotency-Key a retry replays the first answer; without one, settling again when
    nothing is left is 409 `nothing-to-settle`."""
    return await write.run(merchants.settle(merchant_id, actor), lambda done: SettlementOut(
        id=done.id, merchant_id=done.merchant_id, points=done.points), body or SettlementIn())


def _policy_out(community_id: UUID, policy: dict[str, object]) -> PolicyOut:
    parsed = PointsPolicy.from_dict(policy)
    return PolicyOut(community_id=community_id, points_expiry=parsed.expiry.value, n=parsed.n,
                     daily_redemption_limit_points=parsed.daily_redemption_limit_points,
                     redemption_consent=parsed.redemption_consent.value,
                     award_approval=parsed.award_approval.value)


@router.put("/communities/{community_id}/policy", response_model=PolicyOut)
def put_policy(community_id: UUID, body: PolicyIn, actor: StaffOfPathCommunity,
               linli: LinliDep, write: WriteDep) -> Response:
    """When points expire, how many a member may redeem a day, what a till needs to take
    them (`redemption_consent`), and who may approve an award (`award_approval`). A new
    policy dates the points earned from now on; points earned before keep their expiry. The
    whole policy is replaced: a field not sent takes its default."""
    policy = PointsPolicy(ExpiryKind(body.points_expiry), body.n,
                          body.daily_redemption_limit_points,
                          ConsentPolicy(body.redemption_consent),
                          AwardApproval(body.award_approval))
    return write.execute(merchants.set_policy(community_id, policy, actor),
                         lambda set_to: _policy_out(community_id, set_to), body)


@router.get("/communities/{community_id}/policy", response_model=PolicyOut)
def get_policy(community_id: UUID, community: VisibleCommunity) -> PolicyOut:
    return _policy_out(community_id, community.points_policy)
