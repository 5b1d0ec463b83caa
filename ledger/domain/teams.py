"""Volunteer teams (志愿服务队) and a community's service catalogue (服务目录)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import InvalidRequest, NotFound, ServiceNotInCatalogue


class Team(LedgerAggregate):
    """A community's volunteer team and who is in it; an order dispatched to it is taken by
    the first of its members who accepts."""

    @staticmethod
    def create_id() -> UUID:
        return ids.new_id()

    @event("Formed")
    def __init__(self, community_id: UUID, name: str, actor_id: str, actor_role: str) -> None:
        self.community_id = community_id
        self.name = name
        self.members: list[str] = []

    def has(self, member_id: UUID | None) -> bool:
        return member_id is not None and str(member_id) in self.members

    def add(self, member_id: UUID, by: Actor) -> None:
        if self.has(member_id):
            raise InvalidRequest("already-in-team", team=self.name)
        self._joined(member_id=member_id, actor_id=by.id, actor_role=by.role_value)

    def remove(self, member_id: UUID, by: Actor) -> None:
        if not self.has(member_id):
            raise NotFound("member-not-in-team", team=self.name)
        self._left(member_id=member_id, actor_id=by.id, actor_role=by.role_value)

    @event("MemberJoined")
    def _joined(self, member_id: UUID, actor_id: str, actor_role: str) -> None:
        self.members.append(str(member_id))

    @event("MemberLeft")
    def _left(self, member_id: UUID, actor_id: str, actor_role: str) -> None:
        self.members.remove(str(member_id))


class ServiceCatalogue(LedgerAggregate):
    """The services a community offers (日间照料, 助餐…): each a code, a name, the minutes a
    request takes by default, and the rule that awards points for it, if any. A community
    without one takes any service type."""

    @staticmethod
    def create_id(community_id: UUID) -> UUID:
        return uuid5(ids.LINLI_NAMESPACE, f"service-catalogue:{community_id}")

    @event("Opened")
    def __init__(self, community_id: UUID, actor_id: str, actor_role: str) -> None:
        self.community_id = community_id
        self.services: dict[str, dict[str, Any]] = {}

    def put(self, code: str, name: str, default_minutes: int, rule_code: str | None,
            by: Actor) -> None:
        self._set(code=code, name=name, default_minutes=default_minutes, rule_code=rule_code,
                  actor_id=by.id, actor_role=by.role_value)

    def service(self, code: str) -> dict[str, Any]:
        """The entry of `code`; refused when the catalogue does not list it."""
        if code not in self.services:
            listed = "、".join(sorted(self.services))
            raise ServiceNotInCatalogue("service-not-in-catalogue", code=code, listed=listed)
        return self.services[code]

    @event("ServiceSet")
    def _set(self, code: str, name: str, default_minutes: int, rule_code: str | None,
             actor_id: str, actor_role: str) -> None:
        self.services[code] = {"code": code, "name": name, "default_minutes": default_minutes,
                               "rule_code": rule_code}
