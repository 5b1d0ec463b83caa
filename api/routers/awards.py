"""Awards (积分发放) and their approval, rejection and reversal."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from api.deps import LinliDep, StaffActor
from api.idempotency import WriteDep
from api.schemas import AwardIn, AwardOut, ReasonIn, ReversalIn
from ledger.commands import points
from ledger.commands.points import AwardResult

router = APIRouter(prefix="/v1/awards", tags=["points"])


def _out(result: AwardResult) -> AwardOut:
    return AwardOut(id=result.id, member_id=result.member_id, rule_code=result.rule_code,
                    rule_version=result.rule_version, status=result.status,  # type: ignore[arg-type]
                    points=result.points, occurred_at=result.occurred_at, reason=result.reason,
                    requested_points=result.requested_points, capped=result.capped,
                    reversed_points=result.reversed_points)


@router.post("", status_code=201, response_model=AwardOut)
def create_award(body: AwardIn, actor: StaffActor, linli: LinliDep, write: WriteDep
                 ) -> Response:
    """Award points under a rule, priced by the rule's version in force at `occurred_at`;
    `capped` tells where a cap cut them (`requested_points` is what the rule gave)."""
    return write.execute(points.award(
        body.member_id, body.rule_code, quantity=body.quantity, minutes=body.minutes,
        occurred_at=body.occurred_at, note=body.note, now=linli.clock(), by=actor,
    ), _out, body)


@router.post("/{award_id}/approve", response_model=AwardOut)
def approve_award(award_id: UUID, actor: StaffActor, linli: LinliDep, write: WriteDep
                  ) -> Response:
    """Post a pending award; where the community asks for four eyes, not by the one who
    recorded it (403 `four-eyes-required`)."""
    return write.execute(points.approve_award(award_id, actor), _out)


@router.post("/{award_id}/reject", response_model=AwardOut)
def reject_award(award_id: UUID, body: ReasonIn, actor: StaffActor, linli: LinliDep,
                 write: WriteDep) -> Response:
    return write.execute(points.reject_award(award_id, body.reason, actor), _out, body)


@router.post("/{award_id}/reverse", response_model=AwardOut)
def reverse_award(award_id: UUID, body: ReversalIn, actor: StaffActor, linli: LinliDep,
                  write: WriteDep) -> Response:
    """Take back an award, or `points` of it (parts add up to at most the award: 409
    `reversal-exceeds-award`), lowering what was earned in the award's own period. Points
    already spent: 409 `insufficient-balance`, unless `allow_debt` (the member then owes)."""
    return write.execute(points.reverse_award(
        award_id, body.reason, actor, points=body.points, allow_debt=body.allow_debt), _out,
        body)
