"""Activities (活动签到): scheduled by staff, checked into by QR code or by staff, closed
with points and time-bank minutes for the time each attendee stayed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from api.deps import LinliDep, StaffActor, StaffAuditorOrMember, StaffOrMember, load
from api.idempotency import WriteDep
from api.schemas_activities import (
    ActivityCreatedOut,
    ActivityIn,
    ActivityListOut,
    ActivityOut,
    AttendanceIn,
    AttendanceOut,
    AttendeeOut,
    ClosingOut,
)
from ledger.actor import Actor, Role
from ledger.commands import activities
from ledger.domain.activities import Activity, ActivityCalendar
from ledger.domain.registry import Member
from ledger.errors import NotFound

router = APIRouter(prefix="/v1/activities", tags=["activities"])

LIST_MAX = 100  # the latest activities a list shows


def _seen(linli: Any, actor: Actor, activity_id: UUID) -> Activity:
    """The activity, if the caller's community holds it (404 otherwise)."""
    activity = load(linli, Activity, activity_id)
    community = actor.community_id
    if actor.role is Role.MEMBER and actor.member_id is not None:
        community = load(linli, Member, actor.member_id).community_id
    if community is not None and community != activity.community_id:
        raise NotFound("not-found", thing="activity")
    if not actor.in_scope(activity.community_id):
        raise NotFound("not-found", thing="activity")
    return activity


def _out(linli: Any, activity: Activity, actor: Actor) -> ActivityOut:
    staff = actor.role is not Role.MEMBER
    attendees = []
    for member_key, seen in activity.attendance.items():
        if not staff and str(actor.member_id) != member_key:
            continue
        member = load(linli, Member, UUID(member_key))
        attendees.append(AttendeeOut(
            member_id=member.id, name=member.name,
            checked_in_at=datetime.fromisoformat(seen["in"]),
            checked_out_at=datetime.fromisoformat(seen["out"]) if seen["out"] else None,
            minutes=activity.minutes_of(member_key)))
    return ActivityOut(
        id=activity.id, community_id=activity.community_id, title=activity.title,
        place=activity.place, starts_at=activity.starts_at, ends_at=activity.ends_at,
        rule_code=activity.rule_code, timebank=activity.timebank,
        status="closed" if activity.closed else "open",
        check_in_code=activity.check_in_code if actor.role in (Role.STAFF, Role.ADMIN) else None,
        attendees=attendees, outcome=activity.outcome)


@router.post("", status_code=201, response_model=ActivityCreatedOut)
def create_activity(body: ActivityIn, actor: StaffActor, linli: LinliDep, write: WriteDep
                    ) -> Response:
    """Schedule an activity; its `check_in_code` goes in the QR code residents scan."""
    return write.execute(activities.schedule(
        body.community_id, body.title, body.place, body.starts_at, body.ends_at,
        body.rule_code, body.timebank, actor),
        lambda s: ActivityCreatedOut(id=s.id, check_in_code=s.check_in_code), body)


@router.get("", response_model=ActivityListOut)
def list_activities(community_id: UUID, actor: StaffAuditorOrMember,
                    linli: LinliDep) -> ActivityListOut:
    """The community's latest activities, newest first (without attendees)."""
    if actor.role is Role.MEMBER and actor.member_id is not None:
        if load(linli, Member, actor.member_id).community_id != community_id:
            raise NotFound("not-found", thing="community")
    else:
        actor.check_community(community_id, "community", community_id)
    try:
        calendar = load(linli, ActivityCalendar, ActivityCalendar.create_id(community_id))
    except NotFound:
        return ActivityListOut(items=[])
    items = []
    for activity_id in reversed(calendar.activity_ids[-LIST_MAX:]):
        out = _out(linli, load(linli, Activity, activity_id), actor)
        items.append(out.model_copy(update={"attendees": []}))
    return ActivityListOut(items=items)


@router.get("/{activity_id}", response_model=ActivityOut)
def get_activity(activity_id: UUID, actor: StaffAuditorOrMember,
                 linli: LinliDep) -> ActivityOut:
    """The activity and its attendees (a member sees only their own attendance)."""
    return _out(linli, _seen(linli, actor, activity_id), actor)


def _attended(a: activities.Attended) -> AttendanceOut:
    return AttendanceOut(activity_id=a.activity_id, member_id=a.member_id, at=a.at)


@router.post("/{activity_id}/check-ins", status_code=201, response_model=AttendanceOut)
def check_in(activity_id: UUID, body: AttendanceIn, actor: StaffOrMember, linli: LinliDep,
             write: WriteDep) -> Response:
    """Check in: a member with the activity's `code` (the QR code), or staff naming
    `member_id`; from 30 minutes before the start until the end."""
    return write.execute(activities.check_in(
        activity_id, member_id=body.member_id, code=body.code, now=linli.clock(), by=actor),
        _attended, body)


@router.post("/{activity_id}/check-outs", status_code=201, response_model=AttendanceOut)
def check_out(activity_id: UUID, body: AttendanceIn, actor: StaffOrMember, linli: LinliDep,
              write: WriteDep) -> Response:
    """Check out, as a check-in; minutes count until the activity's end at most."""
    return write.execute(activities.check_out(
        activity_id, member_id=body.member_id, code=body.code, now=linli.clock(), by=actor),
        _attended, body)


@router.post("/{activity_id}/close", response_model=ClosingOut)
def close_activity(activity_id: UUID, actor: StaffActor, linli: LinliDep, write: WriteDep
                   ) -> Response:
    """Close the activity: points under its rule and/or time-bank minutes for each attendee
    who checked out; again → 409 `activity-closed`."""
    return write.execute(activities.close(activity_id, now=linli.clock(), by=actor),
                         lambda c: ClosingOut(attendees=c.attendees, awards=c.awards,
                                              points_awarded=c.points_awarded,
                                              minutes_deposited=c.minutes_deposited,
                                              unfinished=c.unfinished))
