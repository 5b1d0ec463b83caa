"""Points at the till: redemptions and refunds (keyed), and auditors' adjustments."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.deps import (
    ActorDep,
    AuditorActor,
    IdempotencyKey,
    LinliDep,
    MerchantActor,
)
from api.errors import ApiProblem
from api.idempotency import Keyed, WriteDep, run_keyed
from api.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    RedemptionIn,
    RedemptionOut,
    RefundIn,
    RefundOut,
)
from api.till import redemption, till_request
from ledger.commands import points
from ledger.domain.assets import OwnerKind

router = APIRouter(prefix="/v1", tags=["points"])

KEYED = {"description": "Problem", "content": {"application/problem+json": {}}}


@router.post("/redemptions", status_code=201, response_model=RedemptionOut,
             responses={409: KEYED, 400: KEYED})
async def create_redemption(
    body: RedemptionIn,
    request: Request,
    actor: ActorDep,
    linli: LinliDep,
    key: IdempotencyKey = None,
) -> Response:
    """Take points from a member at this merchant's till (◆ Idempotency-Key), named by the
    member's payment code, by passbook number and PIN, or (where the community allows it) by
    id."""
    return await till_request(linli, actor, key, request.url.path, body, redemption,
                              request.app.state.wrong_pins)


@router.post("/redemptions/{redemption_id}/refunds", status_code=201, response_model=RefundOut,
             responses={409: KEYED, 400: KEYED})
async def create_refund(
    redemption_id: UUID, body: RefundIn, request: Request, actor: MerchantActor,
    linli: LinliDep, key: IdempotencyKey = None,
) -> Response:
    """Give back some or all of a redemption's points (◆ Idempotency-Key)."""
    return await run_keyed(
        linli, actor, key, method="POST", path=request.url.path, body=body,
        keyed=Keyed(points.refund(redemption_id, body.points, actor, now=linli.clock()),
                    lambda m: RefundOut(id=m.id, redemption_id=redemption_id, points=m.points,
                                        balance_after=m.balance_after)),
    )


@router.post("/adjustments", status_code=201, response_model=AdjustmentOut)
def create_adjustment(body: AdjustmentIn, actor: AuditorActor, linli: LinliDep,
                      write: WriteDep) -> Response:
    """An explicit correction by an auditor: may leave a balance below zero."""
    if (body.member_id is None) == (body.merchant_id is None):
        raise ApiProblem(422, "validation-error", "one-owner")
    if body.amount == 0:
        raise ApiProblem(422, "validation-error", "amount-zero")
    owner_id = body.member_id or body.merchant_id
    assert owner_id is not None
    kind = OwnerKind.MEMBER if body.member_id else OwnerKind.MERCHANT
    return write.execute(
        points.adjust(owner_id, kind, body.asset, body.amount, body.reason, actor),
        lambda moved: AdjustmentOut(
            id=moved.id, member_id=moved.member_id, merchant_id=moved.merchant_id,
            asset=body.asset, amount=body.amount, balance_after=moved.balance_after), body)
