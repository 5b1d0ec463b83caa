"""Service orders (点单 → 派单 → 接单 → 评单): each step checks who may take it, then records
it; the rating (or a staff or automatic confirmation) deposits the volunteer's minutes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from ledger.actor import Actor, Role
from ledger.commands.teams import catalogue_of
from ledger.commands.timebank import post_service
from ledger.domain.registry import Community, Member
from ledger.domain.service_orders import OrderStatus, ServiceOrder
from ledger.domain.teams import Team
from ledger.errors import InvalidTransition, NotFound, OfAnotherCommunity
from ledger.write.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class OrderState:
    """An order as a step left it (a copy: the aggregate stays with the writer)."""

    id: UUID
    status: str
    community_id: UUID
    requester_id: UUID
    volunteer_id: UUID | None
    service_type: str
    description: str
    minutes_estimate: int | None
    minutes: int | None
    stars: int | None
    history: list[dict[str, Any]]
    team_id: UUID | None = None

    @classmethod
    def of(cls, order: ServiceOrder) -> OrderState:
        return cls(order.id, order.status, order.community_id, order.requester_id,
                   order.volunteer_id, order.service_type, order.description,
                   order.minutes_estimate, order.minutes, order.stars,
                   [dict(step) for step in order.history], order.team_id)


Command = Callable[[UnitOfWork], OrderState]


def _order(uow: UnitOfWork, order_id: UUID, by: Actor, *parties: str) -> ServiceOrder:
    """The order, if `by` may act on it: staff of its community (or an admin), or a member
    token of one of its `parties` ("requester", "volunteer")."""
    order = uow.get(ServiceOrder, order_id)
    if by.role is Role.MEMBER:
        allowed = {order.requester_id if p == "requester" else order.volunteer_id
                   for p in parties}
        if ("team" in parties and order.team_id is not None
                and uow.get(Team, order.team_id).has(by.member_id)):
            allowed.add(by.member_id)
        if by.member_id is None or by.member_id not in allowed:
            raise NotFound("not-found", thing="service request")
    else:
        by.check_community(order.community_id, "service request", order_id)
    return order


def request(
    requester_id: UUID, service_type: str, description: str, minutes_estimate: int | None,
    by: Actor, now: datetime,
) -> Command:
    def command(uow: UnitOfWork) -> OrderState:
        requester = uow.get(Member, requester_id)
        by.check_community(requester.community_id, "member", requester_id)
        by.check_member(requester_id, "member", requester_id)
        estimate = minutes_estimate
        catalogue = catalogue_of(uow, requester.community_id)
        if catalogue is not None:
            service = catalogue.service(service_type)
            estimate = estimate or service["default_minutes"]
        order = ServiceOrder(requester_id=requester_id, community_id=requester.community_id,
                             service_type=service_type, description=description,
                             minutes_estimate=estimate, at=now, actor_id=by.id,
                             actor_role=by.role_value)
        uow.add(order)
        return OrderState.of(order)

    return command


def dispatch(order_id: UUID, volunteer_id: UUID, by: Actor, now: datetime) -> Command:
    """Send the order to a volunteer, of this community or, on one deployment, another's
    (通存通兑); again to another volunteer before it is completed."""

    def command(uow: UnitOfWork) -> OrderState:
        order = _order(uow, order_id, by)
        order.check("dispatch")
        uow.get(Member, volunteer_id)
        order.dispatch(volunteer_id, now, by)
        return OrderState.of(order)

    return command


def dispatch_to_team(order_id: UUID, team_id: UUID, by: Actor, now: datetime) -> Command:
    """Send the order to a team of its community: the first member to accept takes it."""

    def command(uow: UnitOfWork) -> OrderState:
        order = _order(uow, order_id, by)
        order.check("dispatch")
        team = uow.get(Team, team_id)
        if team.community_id != order.community_id:
            raise OfAnotherCommunity("team-of-another-community")
        order.dispatch_to_team(team_id, now, by)
        return OrderState.of(order)

    return command


def accept(order_id: UUID, by: Actor, now: datetime) -> Command:
    """The dispatched volunteer takes the order; of an order dispatched to a team, the first
    member of the team who accepts (with their own token) takes it."""

    def command(uow: UnitOfWork) -> OrderState:
        order = _order(uow, order_id, by, "volunteer", "team")
        if order.team_id is not None and by.role is Role.MEMBER and by.member_id is not None \
                and order.volunteer_id != by.member_id:
            order.accept_for_team(by.member_id, now, by)
        else:
            order.accept(now, by)
        return OrderState.of(order)

    return command

    return command


def complete(order_id: UUID, minutes: int, by: Actor, now: datetime) -> Command:
    def command(uow: UnitOfWork) -> OrderState:
        order = _order(uow, order_id, by, "volunteer")
        order.complete(minutes, now, by)
        return OrderState.of(order)

    return command


def _post(uow: UnitOfWork, order: ServiceOrder, by: Actor, now: datetime) -> None:
    """Deposit the order's minutes to its volunteer (named with the team it was dispatched
    to), with points under the catalogue's rule for the service, if it names one."""
    assert order.volunteer_id is not None and order.minutes is not None
    team = uow.get(Team, order.team_id).name if order.team_id is not None else None
    catalogue = catalogue_of(uow, order.community_id)
    entry = catalogue.services.get(order.service_type) if catalogue is not None else None
    post_service(uow, volunteer_id=order.volunteer_id, recipient_id=order.requester_id,
                 minutes=order.minutes, service_type=order.service_type,
                 occurred_at=order.completed_at or now, team=team,
                 service_request_id=order.id, stars=order.stars, by=by, now=now,
                 rule_code=entry["rule_code"] if entry else None)


def rate(order_id: UUID, stars: int, comment: str, by: Actor, now: datetime) -> Command:
    """The requester's rating: 3–5 stars deposit the minutes, 1–2 send the order to review."""

    def command(uow: UnitOfWork) -> OrderState:
        order = _order(uow, order_id, by, "requester")
        if order.rate(stars, comment, now, by):
            _post(uow, order, by, now)
        return OrderState.of(order)

    return command


def confirm(order_id: UUID, minutes: int | None, by: Actor, now: datetime) -> Command:
    """Staff confirm the service (after completion or review), with the minutes they verify."""

    def command(uow: UnitOfWork) -> OrderState:
        order = _order(uow, order_id, by)
        order.confirm(minutes or order.minutes or 0, now, by)
        _post(uow, order, by, now)
        return OrderState.of(order)

    return command


def dismiss(order_id: UUID, reason: str, by: Actor, now: datetime) -> Command:
    def command(uow: UnitOfWork) -> OrderState:
        order = _order(uow, order_id, by)
        order.dismiss(reason, now, by)
        return OrderState.of(order)

    return command


def cancel(order_id: UUID, reason: str, by: Actor, now: datetime) -> Command:
    def command(uow: UnitOfWork) -> OrderState:
        order = _order(uow, order_id, by, "requester")
        order.cancel(reason, now, by)
        return OrderState.of(order)

    return command


def auto_confirm(order_id: UUID, now: datetime) -> Command:
    """Confirm a completed order its requester left unrated for the community's number of
    days (the sweeper's job); refused when it is not yet due."""

    def command(uow: UnitOfWork) -> OrderState:
        order = uow.get(ServiceOrder, order_id)
        days = uow.get(Community, order.community_id).timebank.auto_confirm_days
        if (order.status != OrderStatus.COMPLETED or days is None or order.completed_at is None
                or now < order.completed_at + timedelta(days=days)):
            raise InvalidTransition("order-not-due")
        by = Actor.system()
        order.confirm(order.minutes or 0, now, by, automatic=True)
        _post(uow, order, by, now)
        return OrderState.of(order)

    return command
