"""A member's balance (now or as of an instant) and passbook (积分存折)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import CaughtUp, PageCursor, PageLimit, ViewsEngine, VisibleMember
from api.instants import Instant
from api.schemas import BalanceOut, PassbookLineOut, PassbookOut
from ledger.domain.assets import Asset
from ledger.limits import PAGE_DEFAULT
from projections import queries, timebank_queries

router = APIRouter(prefix="/v1/members/{member_id}", tags=["reads"])


@router.get("/balance", response_model=BalanceOut)
def get_balance(
    member_id: UUID,
    member: VisibleMember,
    linli: CaughtUp,
    views: ViewsEngine,
    as_of: Annotated[Instant | None, Query(description="RFC 3339 instant")] = None,
) -> BalanceOut:
    if as_of is None:
        at = linli.clock()
        points = queries.account_balance(views, member_id, Asset.POINTS)
        minutes = queries.account_balance(views, member_id, Asset.MINUTES)
    else:
        at = as_of
        points = queries.account_balance_as_of(views, member_id, Asset.POINTS, as_of)
        minutes = queries.account_balance_as_of(views, member_id, Asset.MINUTES, as_of)
    return BalanceOut(
        member_id=member_id, points=points.balance, points_held=points.held,
        points_available=points.balance - points.held, minutes=minutes.balance,
        points_earned=points.earned, minutes_earned=minutes.earned,
        minutes_pending=(timebank_queries.pending_minutes(views, member_id)
                         if as_of is None else 0),
        points_expiring_next=points.next_expiry_points,
        points_expiring_at=points.next_expiry_at, as_of=at,
    )


@router.get("/passbook", response_model=PassbookOut)
def get_passbook(
    member_id: UUID,
    member: VisibleMember,
    views: ViewsEngine,
    asset: Asset = Asset.POINTS,
    limit: PageLimit = PAGE_DEFAULT,
    cursor: PageCursor = None,
) -> PassbookOut:
    lines, next_before = queries.passbook(views, member_id, asset, limit=limit,
                                          before=cursor)
    return PassbookOut(
        member_id=member_id, asset=asset,
        items=[PassbookLineOut(**{k: v for k, v in line.items()
                                  if k in PassbookLineOut.model_fields}) for line in lines],
        next_cursor=str(next_before) if next_before is not None else None,
    )
