"""Awards (积分发放) and their approval, rejection and reversal."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.deps import IdempotencyKey, LinliDep, StaffActor
from api.errors import domain_problem
from api.idempotency import Keyed, WriteDep, run_keyed
from api.schemas import AwardIn, AwardOut, ReasonIn, ReversalIn
from api.schemas_activities import (
    ApprovalBatchIn,
    ApprovalBatchItemOut,
    ApprovalBatchOut,
    AwardBatchIn,
    AwardBatchItemOut,
    AwardBatchOut,
)
from ledger.commands import batches, points
from ledger.commands.batches import ApprovalItem, BatchItem
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


def _outcome(item: BatchItem | ApprovalItem, done: int) -> dict[str, Any]:
    """One item of a batch's answer: status `done` and the award, or the problem's status and
    the problem."""
    if item.error is not None:
        status, problem = domain_problem(item.error)
        return {"status": status, "problem": problem}
    assert item.award is not None
    return {"status": done, "award": _out(item.award)}


def _items(items: list[BatchItem]) -> AwardBatchOut:
    return AwardBatchOut(items=[AwardBatchItemOut(member_id=item.member_id,
                                                  **_outcome(item, 201)) for item in items])


@router.post("/batch", status_code=201, response_model=AwardBatchOut)
async def create_award_batch(body: AwardBatchIn, request: Request, actor: StaffActor,
                             linli: LinliDep, key: IdempotencyKey = None) -> Response:
    """Award many members under one rule (◆ Idempotency-Key): each member's award stands
    alone, its `status` 201 or the status of the `problem` that refused it; the answer as a
    whole is what a retry gets."""
    return await run_keyed(
        linli, actor, key, method="POST", path=request.url.path, body=body,
        keyed=Keyed(batches.award_each(
            body.member_ids, body.rule_code, quantity=body.quantity, minutes=body.minutes,
            occurred_at=body.occurred_at, note=body.note, now=linli.clock(), by=actor), _items))


def _approvals(items: list[ApprovalItem]) -> ApprovalBatchOut:
    return ApprovalBatchOut(items=[ApprovalBatchItemOut(award_id=item.award_id,
                                                        **_outcome(item, 200)) for item in items])


@router.post("/approvals", response_model=ApprovalBatchOut)
async def approve_award_batch(body: ApprovalBatchIn, request: Request, actor: StaffActor,
                              linli: LinliDep, key: IdempotencyKey = None) -> Response:
    """Approve many pending awards at once (◆ Idempotency-Key): each stands alone, its
    `status` 200 or the status of the `problem` that refused it (another's community, no
    longer pending, four eyes); the answer as a whole is what a retry gets."""
    return await run_keyed(
        linli, actor, key, method="POST", path=request.url.path, body=body,
        keyed=Keyed(batches.approve_each(body.award_ids, actor), _approvals), status_code=200)
