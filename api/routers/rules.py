"""The rulebook (积分细则)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Path, Response

from api.deps import LinliDep, StaffOfPathCommunity, VisibleCommunity, load
from api.idempotency import WriteDep
from api.schemas import RuleIn, RuleOut, RulesOut
from ledger import ids
from ledger.commands import registry
from ledger.domain.rulebook import Rule

router = APIRouter(prefix="/v1/communities/{community_id}/rules", tags=["rulebook"])


@router.put("/{code}", response_model=RuleOut)
def put_rule(
    community_id: UUID,
    code: str = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"),
    *,
    body: RuleIn,
    actor: StaffOfPathCommunity,
    linli: LinliDep,
    write: WriteDep,
) -> Response:
    return write.execute(registry.put_rule(
        community_id, code, name=body.name, points=body.points, unit=body.unit,
        daily_cap=body.daily_cap, monthly_cap=body.monthly_cap,
        requires_approval=body.requires_approval, by=actor,
    ), lambda version: RuleOut(**version), body)


@router.get("", response_model=RulesOut)
def list_rules(community_id: UUID, community: VisibleCommunity, linli: LinliDep) -> RulesOut:
    rules = [load(linli, Rule, ids.rule_id(community_id, code)) for code in community.rule_codes]
    return RulesOut(items=[RuleOut(code=r.code, **r.current) for r in rules])
