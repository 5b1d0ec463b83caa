"""The care roster (关爱对象): staff put residents in care with an observer (专属观察员) and a
visit interval; the observer or staff log visits; staff read who is overdue.

Care categories are sensitive personal data: only staff of the community (and admins) and
the resident's own observer read an entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from api.access_log import PersonalReadsDep
from api.bootstrap import Linli
from api.deps import LinliDep, StaffActor, StaffOrMember, load, readable_community
from api.idempotency import WriteDep
from api.schemas_voice import CareIn, CareListOut, CareOut, LoggedVisitOut, VisitIn, VisitOut
from ledger.actor import Actor, Role
from ledger.commands import care as commands
from ledger.commands.care import CareState
from ledger.domain.care import CareRoster
from ledger.domain.registry import Member
from ledger.errors import NotFound

CARE_READ = "照护信息（类别、探访记录）"

router = APIRouter(prefix="/v1", tags=["care roster"])
DAY_SECONDS = 86_400


Names = Callable[[UUID], str]


def _names(linli: Linli) -> Names:
    """Members' names by id, each loaded once per request."""
    cache: dict[UUID, str] = {}

    def name(member_id: UUID) -> str:
        if member_id not in cache:
            cache[member_id] = load(linli, Member, member_id).name
        return cache[member_id]

    return name


def care_out(entry: dict[str, Any], now: datetime, name: Names) -> CareOut:
    due = CareRoster.due_at(entry)
    overdue = max(0, int((now - due).total_seconds()) // DAY_SECONDS) if now > due else 0
    return CareOut(
        member_id=entry["member_id"], name=name(entry["member_id"]),
        categories=entry["categories"], observer_member_id=entry["observer_id"],
        observer_name=name(entry["observer_id"]), visit_every_days=entry["visit_every_days"],
        since=entry["since"], last_visit_at=entry["last_visit_at"], due_at=due,
        overdue_days=overdue,
        visits=[VisitOut(occurred_at=v["occurred_at"], note=v["note"],
                         visitor_member_id=v["visitor_id"], actor=v["actor"], role=v["role"])
                for v in reversed(entry["visits"])])


def _roster(linli: Linli, community_id: UUID) -> CareRoster | None:
    try:
        return load(linli, CareRoster, CareRoster.create_id(community_id))
    except NotFound:
        return None


def staff_of_member(member_id: UUID, actor: StaffActor, linli: LinliDep) -> Actor:
    """The caller, if it is staff of the path member's community (or an admin); 404 for
    another community's staff, before the body is read."""
    member = load(linli, Member, member_id)
    actor.check_community(member.community_id, "member", member_id)
    return actor


@router.put("/members/{member_id}/care", response_model=CareOut)
def put_care(member_id: UUID, body: CareIn,
             actor: Annotated[Actor, Depends(staff_of_member)], linli: LinliDep,
             write: WriteDep) -> Response:
    """Put a resident in care (独居, 高龄, 残疾, 困难) with an observer and a visit interval, or
    change their entry (staff)."""
    now = linli.clock()
    name = _names(linli)
    return write.execute(
        commands.put_care(member_id, list(body.categories), body.observer_member_id,
                          body.visit_every_days, actor, now),
        lambda state: care_out(state.entry, now, name), body)


def _visible_entry(linli: Linli, member_id: UUID, actor: Actor) -> dict[str, Any]:
    member = load(linli, Member, member_id)
    if actor.role is not Role.MEMBER:
        actor.check_community(member.community_id, "member", member_id)
    roster = _roster(linli, member.community_id)
    entry = roster.entries.get(str(member_id)) if roster is not None else None
    if entry is None or (actor.role is Role.MEMBER and entry["observer_id"] != actor.member_id):
        raise NotFound("not-in-care")
    return entry


@router.get("/members/{member_id}/care", response_model=CareOut)
def get_care(member_id: UUID, actor: StaffOrMember, linli: LinliDep,
             reads: PersonalReadsDep) -> CareOut:
    """A resident's care entry and latest visits: staff of the community, or the observer."""
    entry = _visible_entry(linli, member_id, actor)
    reads.record(CARE_READ, [member_id])
    return care_out(entry, linli.clock(), _names(linli))


@router.post("/members/{member_id}/visits", status_code=201, response_model=LoggedVisitOut)
def log_visit(member_id: UUID, body: VisitIn, actor: StaffOrMember, linli: LinliDep,
              write: WriteDep) -> Response:
    """Log a visit to a resident in care: the observer's own token, or staff. Where the
    community's service catalogue lists 探访, the observer earns its minutes (and points under
    its rule)."""
    now = linli.clock()
    name = _names(linli)

    def render(state: CareState) -> LoggedVisitOut:
        out = care_out(state.entry, now, name)
        return LoggedVisitOut(**out.model_dump(), minutes_deposited=state.minutes_deposited)

    return write.execute(commands.log_visit(member_id, body.note, body.occurred_at,
                                            body.minutes, actor, now), render, body)


def _entries(linli: Linli, actor: Actor, community_id: UUID | None) -> list[dict[str, Any]]:
    if actor.role is Role.MEMBER:
        assert actor.member_id is not None
        community_id = load(linli, Member, actor.member_id).community_id
        roster = _roster(linli, community_id)
        entries = list(roster.entries.values()) if roster is not None else []
        return [e for e in entries if e["observer_id"] == actor.member_id]
    community = readable_community(linli, actor, community_id)
    roster = _roster(linli, UUID(community["community_id"]))
    return list(roster.entries.values()) if roster is not None else []


@router.get("/care/roster", response_model=CareListOut)
def roster(actor: StaffOrMember, linli: LinliDep, reads: PersonalReadsDep,
           community_id: UUID | None = None) -> CareListOut:
    """Residents in care, the next visit due first: staff see the community's, an observer
    (a member's token) those they look after."""
    now, name = linli.clock(), _names(linli)
    items = [care_out(e, now, name) for e in _entries(linli, actor, community_id)]
    reads.record(CARE_READ, [i.member_id for i in items])
    return CareListOut(items=sorted(items, key=lambda i: (i.due_at, str(i.member_id))))


@router.get("/care/overdue", response_model=CareListOut)
def overdue(actor: StaffActor, linli: LinliDep, reads: PersonalReadsDep,
            community_id: UUID | None = None) -> CareListOut:
    """Residents whose last visit is older than their interval, the most overdue first."""
    now, name = linli.clock(), _names(linli)
    items = [care_out(e, now, name) for e in _entries(linli, actor, community_id)
             if CareRoster.due_at(e) < now]
    reads.record(CARE_READ, [i.member_id for i in items])
    return CareListOut(items=sorted(items, key=lambda i: (i.due_at, str(i.member_id))))
