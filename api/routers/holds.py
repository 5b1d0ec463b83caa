"""Holds at the till: authorise (◆), capture some or all, void; unused ones expire."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.bootstrap import Linli
from api.deps import (
    ActorDep,
    HoldingMerchant,
    IdempotencyKey,
    LinliDep,
    StaffAuditorOrMerchant,
    load,
    merchant_of_key,
)
from api.idempotency import Keyed, run_keyed
from api.schemas import CaptureIn, CaptureOut, HoldIn, HoldOut
from ledger.actor import Actor
from ledger.commands import merchants
from ledger.commands.merchants import HoldResult
from ledger.domain.holds import Hold

router = APIRouter(prefix="/v1/holds", tags=["holds"])

PROBLEM = {"description": "Problem", "content": {"application/problem+json": {}}}


def _out(result: HoldResult) -> HoldOut:
    return HoldOut(id=result.id, status=result.status,  # type: ignore[arg-type]
                   member_id=result.member_id, merchant_id=result.merchant_id,
                   points=result.points, expires_at=result.expires_at,
                   redemption_id=result.redemption_id, captured=result.captured)


def hold(linli: Linli, actor: Actor, body: HoldIn) -> Keyed:
    """What placing a hold runs and how its answer is rendered (the route and
    `TillFastPath`)."""
    merchant_id = merchant_of_key(actor, "hold points")
    return Keyed(merchants.place_hold(merchant_id, body.member_id, body.points,
                                      body.expires_in_seconds, actor, now=linli.clock()), _out)


@router.post("", status_code=201, response_model=HoldOut, responses={409: PROBLEM})
async def place_hold(
    body: HoldIn, request: Request, actor: ActorDep, linli: LinliDep,
    key: IdempotencyKey = None,
) -> Response:
    """Reserve points for this till (◆ Idempotency-Key); held points are not available."""
    return await run_keyed(linli, actor, key, method="POST", path=request.url.path, body=body,
                           keyed=hold(linli, actor, body))


@router.get("/{hold_id}", response_model=HoldOut)
def get_hold(hold_id: UUID, actor: StaffAuditorOrMerchant, linli: LinliDep) -> HoldOut:
    hold = load(linli, Hold, hold_id)
    actor.check_merchant(hold.merchant_id, "hold", hold_id)
    actor.check_community(hold.community_id, "hold", hold_id)
    return HoldOut(id=hold.id, status=hold.status,  # type: ignore[arg-type]
                   member_id=hold.member_id, merchant_id=hold.merchant_id, points=hold.points,
                   expires_at=hold.expires_at, redemption_id=hold.redemption_id,
                   captured=hold.captured)


@router.post("/{hold_id}/capture", response_model=CaptureOut, responses={409: PROBLEM})
def capture_hold(
    hold_id: UUID, actor: HoldingMerchant, linli: LinliDep, body: CaptureIn | None = None
) -> CaptureOut:
    """Redeem the held points (or fewer: the rest is released)."""
    result = linli.writer.execute(merchants.capture_hold(
        hold_id, body.points if body else None, actor, now=linli.clock()))
    assert result.redemption_id is not None and result.balance_after is not None
    return CaptureOut(id=result.id, status="captured", redemption_id=result.redemption_id,
                      points=result.captured, balance_after=result.balance_after)


@router.post("/{hold_id}/void", response_model=HoldOut, responses={409: PROBLEM})
def void_hold(hold_id: UUID, actor: HoldingMerchant, linli: LinliDep) -> HoldOut:
    """Release the held points. Voiding a voided hold again changes nothing."""
    return _out(linli.writer.execute(merchants.void_hold(hold_id, actor, now=linli.clock())))
