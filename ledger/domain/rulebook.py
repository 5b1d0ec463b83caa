"""The rulebook (积分细则): versioned rules; a new version affects only later awards."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate


class Rule(LedgerAggregate):
    """One rule of a community's rulebook, with every version it ever had."""

    @staticmethod
    def create_id(community_id: UUID, code: str) -> UUID:
        return ids.rule_id(community_id, code)

    @event("Created")
    def __init__(self, community_id: UUID, code: str, actor_id: str, actor_role: str) -> None:
        self.community_id = community_id
        self.code = code
        self.versions: list[dict[str, Any]] = []

    @classmethod
    def create(cls, community_id: UUID, code: str, by: Actor) -> Rule:
        return cls(community_id=community_id, code=code, actor_id=by.id,
                   actor_role=by.role_value)

    @property
    def current(self) -> dict[str, Any]:
        return self.versions[-1]

    def revise(
        self,
        *,
        name: str,
        points: int,
        unit: str,
        daily_cap: int | None,
        monthly_cap: int | None,
        requires_approval: bool,
        by: Actor,
    ) -> None:
        self._revised(
            version=len(self.versions) + 1, name=name, points=points, unit=unit,
            daily_cap=daily_cap, monthly_cap=monthly_cap, requires_approval=requires_approval,
            actor_id=by.id, actor_role=by.role_value,
        )

    @event("Revised")
    def _revised(
        self,
        version: int,
        name: str,
        points: int,
        unit: str,
        daily_cap: int | None,
        monthly_cap: int | None,
        requires_approval: bool,
        actor_id: str,
        actor_role: str,
    ) -> None:
        self.versions.append({
            "version": version, "name": name, "points": points, "unit": unit,
            "daily_cap": daily_cap, "monthly_cap": monthly_cap,
            "requires_approval": requires_approval,
        })
