"""The care roster (关爱对象): residents in care, each with categories (独居, 高龄, 残疾, 困难),
an observer (专属观察员) who visits them, a visit interval, and the visits logged.

One roster per community. Care categories are sensitive personal data: the routes show them
only to the community's staff and to the resident's observer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import NotFound

CATEGORIES = ("独居", "高龄", "残疾", "困难")
VISITS_KEPT = 20  # the latest visits a roster keeps per resident (the log keeps every one)


class CareRoster(LedgerAggregate):
    """A community's residents in care: for each, categories, observer, interval, when they
    were put in care and their latest visits (newest last)."""

    @staticmethod
    def create_id(community_id: UUID) -> UUID:
        return uuid5(ids.LINLI_NAMESPACE, f"care-roster:{community_id}")

    @event("Opened")
    def __init__(self, community_id: UUID, actor_id: str, actor_role: str) -> None:
        self.community_id = community_id
        self.entries: dict[str, dict[str, Any]] = {}

    def entry(self, member_id: UUID) -> dict[str, Any]:
        """The resident's entry; refused when the resident is not in care."""
        found = self.entries.get(str(member_id))
        if found is None:
            raise NotFound("not-in-care")
        return found

    def put(self, member_id: UUID, categories: list[str], observer_id: UUID,
            visit_every_days: int, at: datetime, by: Actor) -> None:
        self._set(member_id=member_id, categories=categories, observer_id=observer_id,
                  visit_every_days=visit_every_days, at=at, actor_id=by.id,
                  actor_role=by.role_value)

    def visit(self, member_id: UUID, occurred_at: datetime, note: str, visitor_id: UUID | None,
              by: Actor) -> None:
        self.entry(member_id)
        self._visited(member_id=member_id, occurred_at=occurred_at, note=note,
                      visitor_id=visitor_id, actor_id=by.id, actor_role=by.role_value)

    def forget(self, member_id: UUID, reason: str, by: Actor) -> None:
        """Take an erased resident off the roster, with what was noted of their visits;
        nothing happens when they are not on it."""
        if str(member_id) in self.entries:
            self._forgotten(member_id=member_id, reason=reason, actor_id=by.id,
                            actor_role=by.role_value)

    @event("Forgotten")
    def _forgotten(self, member_id: UUID, reason: str, actor_id: str, actor_role: str) -> None:
        del self.entries[str(member_id)]

    @staticmethod
    def due_at(entry: dict[str, Any]) -> datetime:
        """When the resident's next visit is due: the interval after the last visit (or after
        they were put in care)."""
        since: datetime = entry["last_visit_at"] or entry["since"]
        return since + timedelta(days=entry["visit_every_days"])

    @event("Set")
    def _set(self, member_id: UUID, categories: list[str], observer_id: UUID,
             visit_every_days: int, at: datetime, actor_id: str, actor_role: str) -> None:
        before = self.entries.get(str(member_id), {})
        self.entries[str(member_id)] = {
            "member_id": member_id, "categories": list(categories), "observer_id": observer_id,
            "visit_every_days": visit_every_days, "since": before.get("since", at),
            "last_visit_at": before.get("last_visit_at"), "visits": before.get("visits", [])}

    @event("VisitLogged")
    def _visited(self, member_id: UUID, occurred_at: datetime, note: str,
                 visitor_id: UUID | None, actor_id: str, actor_role: str) -> None:
        entry = self.entries[str(member_id)]
        visits = [*entry["visits"], {"occurred_at": occurred_at, "note": note,
                                     "visitor_id": visitor_id, "actor": actor_id,
                                     "role": actor_role}]
        visits.sort(key=lambda v: v["occurred_at"])
        entry["visits"] = visits[-VISITS_KEPT:]
        last = entry["last_visit_at"]
        entry["last_visit_at"] = occurred_at if last is None else max(last, occurred_at)
