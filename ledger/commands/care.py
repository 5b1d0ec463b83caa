"""The care roster: staff put a resident in care with an observer and a visit interval; the
observer (from their phone) or staff log visits. A visit earns the observer time-bank minutes
where the community's service catalogue lists the visit service (探访), with points under
that entry's rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.actor import Actor, Role
from ledger.commands import points, timebank
from ledger.commands.batches import triggered
from ledger.commands.teams import catalogue_of
from ledger.domain.care import CareRoster
from ledger.domain.registry import Community, Member
from ledger.errors import DomainError, InvalidRequest, NotAllowed, NotFound
from ledger.write.unit_of_work import UnitOfWork

VISIT_SERVICE = "探访"  # the catalogue's code for a care visit


@dataclass(frozen=True)
class CareState:
    """A resident's care entry as a command left it."""

    member_id: UUID
    community_id: UUID
    entry: dict[str, Any]
    minutes_deposited: int = 0


def roster_of(uow: UnitOfWork, community_id: UUID) -> CareRoster | None:
    return uow.find(CareRoster, CareRoster.create_id(community_id))


def put_care(member_id: UUID, categories: list[str], observer_id: UUID, visit_every_days: int,
             by: Actor, now: datetime) -> Callable[[UnitOfWork], CareState]:
    """Put a resident in care, or change their entry; the observer is a member of the same
    community (another community's is not found), not the resident."""

    def command(uow: UnitOfWork) -> CareState:
        member = uow.get(Member, member_id)
        member.check_not_erased()  # what care notes is personal: an erased member has none
        by.check_community(member.community_id, "member", member_id)
        observer = uow.get(Member, observer_id)
        if observer.community_id != member.community_id:
            raise NotFound("not-found", thing="member")
        if observer_id == member_id:
            raise InvalidRequest("observer-is-resident")
        observer.check_active()
        roster = roster_of(uow, member.community_id)
        if roster is None:
            uow.get(Community, member.community_id)
            roster = CareRoster(community_id=member.community_id, actor_id=by.id,
                                actor_role=by.role_value)
            uow.add(roster)
        roster.put(member_id, sorted(set(categories)), observer_id, visit_every_days, now, by)
        return CareState(member_id, member.community_id, dict(roster.entry(member_id)))

    return command


def _earn(uow: UnitOfWork, community_id: UUID, observer_id: UUID, resident_id: UUID,
          minutes: int | None, occurred_at: datetime, by: Actor, now: datetime) -> int:
    """Deposit the visit's minutes to the observer where the catalogue has the visit
    service; a deposit the ledger refuses (a storage cap) leaves the visit logged alone."""
    catalogue = catalogue_of(uow, community_id)
    entry = catalogue.services.get(VISIT_SERVICE) if catalogue is not None else None
    if entry is None:
        return 0
    earned = minutes or int(entry["default_minutes"])
    before = triggered(uow)
    try:
        timebank.post_service(uow, volunteer_id=observer_id, recipient_id=resident_id,
                              minutes=earned, service_type=VISIT_SERVICE,
                              occurred_at=occurred_at, team=None, service_request_id=None,
                              stars=None, by=by, now=now, rule_code=entry["rule_code"])
    except DomainError:
        if triggered(uow) != before:
            raise
        return 0
    return earned


def log_visit(member_id: UUID, note: str, occurred_at: datetime | None, minutes: int | None,
              by: Actor, now: datetime) -> Callable[[UnitOfWork], CareState]:
    """Log a visit to a resident in care: by their observer's own token or by staff of the
    community (anyone else: 403); not in the future."""

    def command(uow: UnitOfWork) -> CareState:
        member = uow.get(Member, member_id)
        member.check_not_erased()  # what care notes is personal: an erased member has none
        roster = roster_of(uow, member.community_id)
        if by.role is Role.MEMBER:
            entry = roster.entries.get(str(member_id)) if roster is not None else None
            if entry is None or entry["observer_id"] != by.member_id:
                raise NotAllowed("not-the-observer")
        else:
            by.check_community(member.community_id, "member", member_id)
        if roster is None:
            raise NotFound("not-in-care")
        entry = roster.entry(member_id)
        when = points.check_occurred_at(occurred_at, now)
        visitor = by.member_id if by.role is Role.MEMBER else None
        roster.visit(member_id, when, note, visitor, by)
        deposited = _earn(uow, member.community_id, entry["observer_id"], member_id, minutes,
                          when, by, now)
        return CareState(member_id, member.community_id, dict(roster.entry(member_id)),
                         deposited)

    return command
