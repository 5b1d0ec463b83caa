"""Activities (活动签到): scheduling, check-in and check-out by QR code or by staff, and the
closing that awards points and deposits minutes for the time each attendee stayed."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from ledger import ids
from ledger.actor import Actor, Role
from ledger.commands import points, timebank
from ledger.commands.batches import triggered
from ledger.domain.activities import Activity, ActivityCalendar
from ledger.domain.registry import Community, Member
from ledger.domain.rulebook import Rule
from ledger.errors import DomainError, InvalidRequest, NotFound
from ledger.limits import ACTIVITY_MAX_HOURS
from ledger.write.unit_of_work import UnitOfWork

CODE_BYTES = 12  # a check-in code: 16 URL-safe characters


@dataclass(frozen=True)
class Scheduled:
    id: UUID
    check_in_code: str


@dataclass(frozen=True)
class Attended:
    activity_id: UUID
    member_id: UUID
    at: datetime


@dataclass(frozen=True)
class Closing:
    attendees: int
    awards: int
    points_awarded: int
    minutes_deposited: int
    unfinished: list[UUID]


def schedule(community_id: UUID, title: str, place: str, starts_at: datetime,
             ends_at: datetime, rule_code: str | None, timebank_minutes: bool, by: Actor
             ) -> Callable[[UnitOfWork], Scheduled]:
    """Schedule an activity of the community with a fresh check-in code."""

    def command(uow: UnitOfWork) -> Scheduled:
        by.check_community(community_id, "community", community_id)
        uow.get(Community, community_id)
        if ends_at <= starts_at:
            raise InvalidRequest("activity-ends-before-start")
        if ends_at - starts_at > timedelta(hours=ACTIVITY_MAX_HOURS):
            raise InvalidRequest("activity-too-long", hours=ACTIVITY_MAX_HOURS)
        if rule_code is not None:
            rule = uow.find(Rule, ids.rule_id(community_id, rule_code))
            if rule is None or not rule.versions:
                raise NotFound("rule-not-in-rulebook", code=rule_code)
            rule.check_open()
            if rule.versions[-1]["unit"] != "hour":
                raise InvalidRequest("activity-rule-hourly")
        activity = Activity(
            community_id=community_id, title=title, place=place, starts_at=starts_at,
            ends_at=ends_at, rule_code=rule_code, timebank=timebank_minutes,
            check_in_code=secrets.token_urlsafe(CODE_BYTES), actor_id=by.id,
            actor_role=by.role_value)
        calendar = uow.find(ActivityCalendar, ActivityCalendar.create_id(community_id))
        if calendar is None:
            calendar = ActivityCalendar(community_id=community_id)
            uow.add(calendar)
        calendar.add(activity.id)
        uow.add(activity)
        return Scheduled(activity.id, activity.check_in_code)

    return command


def _attendee(uow: UnitOfWork, activity: Activity, member_id: UUID | None, code: str | None,
              by: Actor) -> UUID:
    """Who checks in or out: the member holding the token, with the activity's code; or the
    member staff name. A member of another community is not found."""
    if by.role is Role.MEMBER:
        if code is None or by.member_id is None:
            raise InvalidRequest("check-in-needs-code")
        member = uow.get(Member, by.member_id)
        if member.community_id != activity.community_id:
            raise NotFound("not-found", thing="activity")
        activity.check_code(code)
    else:
        by.check_community(activity.community_id, "activity", activity.id)
        if member_id is None:
            raise InvalidRequest("check-in-needs-member")
        found = uow.find(Member, member_id)
        if found is None or found.community_id != activity.community_id:
            raise NotFound("not-found", thing="member")
        member = found
        if code is not None:
            activity.check_code(code)
    member.check_active()
    return member.id


def _activity(uow: UnitOfWork, activity_id: UUID, by: Actor) -> Activity:
    activity = uow.get(Activity, activity_id)
    if by.role is not Role.MEMBER:
        by.check_community(activity.community_id, "activity", activity_id)
    return activity


def check_in(activity_id: UUID, *, member_id: UUID | None, code: str | None, now: datetime,
             by: Actor) -> Callable[[UnitOfWork], Attended]:
    def command(uow: UnitOfWork) -> Attended:
        activity = _activity(uow, activity_id, by)
        member = _attendee(uow, activity, member_id, code, by)
        activity.check_in(member, now, by)
        return Attended(activity_id, member, now)

    return command


def check_out(activity_id: UUID, *, member_id: UUID | None, code: str | None, now: datetime,
              by: Actor) -> Callable[[UnitOfWork], Attended]:
    def command(uow: UnitOfWork) -> Attended:
        activity = _activity(uow, activity_id, by)
        member = _attendee(uow, activity, member_id, code, by)
        activity.check_out(member, now, by)
        return Attended(activity_id, member, now)

    return command


def _alone(uow: UnitOfWork, command: Callable[[UnitOfWork], object]) -> object | None:
    """Runs a part of the closing for one attendee; a refusal that changed nothing skips it."""
    before = triggered(uow)
    try:
        return command(uow)
    except DomainError:
        if triggered(uow) != before:
            raise
        return None


def _deposit(activity: Activity, member_id: UUID, minutes: int, occurred: datetime,
             now: datetime, by: Actor) -> Callable[[UnitOfWork], object]:
    """The time-bank deposit of an attendee's minutes, as a verified service."""

    def command(uow: UnitOfWork) -> object:
        return timebank.post_service(
            uow, volunteer_id=member_id, recipient_id=None, minutes=minutes,
            service_type=activity.title, occurred_at=occurred, team=None,
            service_request_id=None, stars=None, by=by, now=now)

    return command


def close(activity_id: UUID, *, now: datetime, by: Actor) -> Callable[[UnitOfWork], Closing]:
    """Close the activity: each attendee who checked out earns the rule's points for the
    minutes within the window and/or has them deposited as time-bank minutes. An award or
    deposit the ledger refuses (a cap, a moved-out member) is skipped, the others stand."""

    def command(uow: UnitOfWork) -> Closing:
        activity = _activity(uow, activity_id, by)
        activity.check_open()
        awards = points_awarded = deposited = 0
        unfinished: list[UUID] = []
        for member_key in activity.attendance:
            minutes = activity.minutes_of(member_key)
            member_id = UUID(member_key)
            if minutes is None:
                unfinished.append(member_id)
                continue
            if minutes < 1:
                continue
            occurred = min(activity.ends_at, now)
            if activity.rule_code is not None:
                made = _alone(uow, points.award(
                    member_id, activity.rule_code, quantity=None, minutes=minutes,
                    occurred_at=occurred, note=f"活动：{activity.title}", now=now, by=by))
                if isinstance(made, points.AwardResult):
                    awards += 1
                    points_awarded += made.points
            if activity.timebank:
                moved = _alone(uow, _deposit(activity, member_id, minutes, occurred, now, by))
                if moved is not None:
                    deposited += minutes
        result = Closing(len(activity.attendance), awards, points_awarded, deposited,
                         unfinished)
        activity.close({"attendees": result.attendees, "awards": awards,
                        "points_awarded": points_awarded, "minutes_deposited": deposited,
                        "unfinished": [str(m) for m in unfinished]}, now, by)
        return result

    return command
