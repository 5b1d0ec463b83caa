"""The rulebook (积分细则): versioned rules; a new version affects only later awards. Each
version records the instant it took effect, so a deed is priced by the version in force when
it was done. A rule may be retired (no award under it) and brought back by a new version."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import RuleRetired


class Rule(LedgerAggregate):
    """One rule of a community's rulebook, with every version it ever had."""

    retired: bool = False  # a class default: rules stored before retirement existed are not

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

    def in_force_at(self, when: datetime) -> dict[str, Any]:
        """The version in force at `when`: the last that took effect at or before it (a
        version recorded before effective instants were kept counts from the start); a deed
        done before the rule's first version is priced by that first version."""
        found = self.versions[0]
        for version in self.versions:
            effective_at = version.get("effective_at")
            if effective_at is None or datetime.fromisoformat(effective_at) <= when:
                found = version
            else:
                break
        return found

    def check_open(self) -> None:
        """Refuse an award under a retired rule."""
        if self.retired:
            raise RuleRetired("rule-retired", code=self.code)

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
        effective_at: datetime | None = None,
    ) -> None:
        """Record a new version, in force from `effective_at`; it brings back a retired
        rule."""
        self._revised(
            version=len(self.versions) + 1, name=name, points=points, unit=unit,
            daily_cap=daily_cap, monthly_cap=monthly_cap, requires_approval=requires_approval,
            actor_id=by.id, actor_role=by.role_value,
            effective_at=effective_at.isoformat() if effective_at is not None else None,
        )

    def retire(self, reason: str, by: Actor, effective_at: datetime | None = None) -> None:
        """Stop awards under this rule until a new version brings it back."""
        self.check_open()
        self._retired(version=len(self.versions), reason=reason,
                      effective_at=effective_at.isoformat() if effective_at else None,
                      actor_id=by.id, actor_role=by.role_value)

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
        effective_at: str | None = None,
    ) -> None:
        self.versions.append({
            "version": version, "name": name, "points": points, "unit": unit,
            "daily_cap": daily_cap, "monthly_cap": monthly_cap,
            "requires_approval": requires_approval, "effective_at": effective_at,
        })
        self.retired = False

    @event("Retired")
    def _retired(self, version: int, reason: str, effective_at: str | None, actor_id: str,
                 actor_role: str) -> None:
        self.retired = True
