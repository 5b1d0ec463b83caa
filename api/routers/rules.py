"""The rulebook (积分细则)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from api.deps import LinliDep, StaffOfPathCommunity, VisibleCommunity, load
from api.idempotency import WriteDep
from api.schemas import RuleIn, RuleOut, RulesOut
from ledger import ids
from ledger.commands import registry
from ledger.domain.rulebook import Rule
from ledger.limits import TEXT_MAX_CHARS

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
        requires_approval=body.requires_approval, by=actor, now=linli.clock(),
    ), lambda version: RuleOut(**version), body)


@router.delete("/{code}", response_model=RuleOut)
def retire_rule(
    community_id: UUID,
    code: str = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"),
    *,
    actor: StaffOfPathCommunity,
    linli: LinliDep,
    reason: Annotated[str, Query(min_length=1, max_length=TEXT_MAX_CHARS,
                                 description="why the rule is retired")] = "停用",
    write: WriteDep,
) -> Response:
    """Retire a rule: an award under it is refused (409 `rule-retired`) until a `PUT` brings
    it back as a new version. Awards made under it stay as they are."""
    return write.execute(registry.retire_rule(community_id, code, reason, actor,
                                              now=linli.clock()),
                         lambda version: RuleOut(**version))


@router.get("", response_model=RulesOut)
def list_rules(community_id: UUID, community: VisibleCommunity, linli: LinliDep) -> RulesOut:
    rules = [load(linli, Rule, ids.rule_id(community_id, code)) for code in community.rule_codes]
    return RulesOut(items=[RuleOut(code=r.code, **r.current, retired=r.retired) for r in rules])
