"""Holds at the till: authorise (◆), capture some or all, void; unused ones expire."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.deps import (
    ActorDep,
    HoldingMerchant,
    IdempotencyKey,
    LinliDep,
    StaffAuditorOrMerchant,
    load,
)
from api.schemas import CaptureIn, CaptureOut, HoldIn, HoldOut
from api.till import hold, hold_out, till_request
from ledger.commands import merchants
from ledger.domain.holds import Hold

router = APIRouter(prefix="/v1/holds", tags=["holds"])

PROBLEM = {"description": "Problem", "content": {"application/problem+json": {}}}


@router.post("", status_code=201, response_model=HoldOut, responses={409: PROBLEM})
async def place_hold(
    body: HoldIn, request: Request, actor: ActorDep, linli: LinliDep,
    key: IdempotencyKey = None,
) -> Response:
    """Reserve points for this till (◆ Idempotency-Key); held points are not available. The
    member is named as for a redemption."""
    return await till_request(linli, actor, key, request.url.path, body, hold,
                              request.app.state.wrong_pins)


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
    return hold_out(linli.writer.execute(merchants.void_hold(hold_id, actor, now=linli.clock())))
