"""The time bank's read models: service orders, the service record (志愿服务记录), and what
communities owe each other (通存通兑)."""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, select

from ledger.domain.service_orders import ServiceOrder
from ledger.domain.timebank import Deposit, Interchange
from projections import bulk
from projections.tables import service_deposits, service_orders, timebank_interchange
from projections.view import Positioned

REQUESTED = get_topic(ServiceOrder.Requested)  # type: ignore[attr-defined]
ORDER_STEPS = {
    get_topic(getattr(ServiceOrder, name)): name
    for name in ("Dispatched", "Accepted", "Completed", "Rated", "Confirmed", "Dismissed",
                 "Cancelled", "DispatchedToTeam", "TeamMemberAccepted")
}
DEPOSIT_RECORDED = get_topic(Deposit.Recorded)  # type: ignore[attr-defined]
INTERCHANGE_OPENED = get_topic(Interchange.Opened)  # type: ignore[attr-defined]
INTERCHANGE_CHANGED = (get_topic(Interchange.CareRecorded),  # type: ignore[attr-defined]
                       get_topic(Interchange.LimitSet),  # type: ignore[attr-defined]
                       get_topic(Interchange.Settled))  # type: ignore[attr-defined]


class TimeBankView:
    """One row per service order and per deposit; one per pair of communities."""

    name = "timebank"
    tables = (service_orders, service_deposits, timebank_interchange)
    topics = (REQUESTED, *ORDER_STEPS, DEPOSIT_RECORDED, INTERCHANGE_OPENED,
              *INTERCHANGE_CHANGED)

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        orders: dict[str, dict[str, Any]] = {}
        steps: dict[str, dict[str, Any]] = {}  # orders requested before this batch
        deposits: list[dict[str, Any]] = []
        opened: dict[str, dict[str, Any]] = {}
        changed: dict[str, dict[str, Any]] = {}  # interchanges opened before this batch
        firsts: dict[str, str] = {}  # each interchange's first community
        for item in events:
            e = item.event
            key = item.originator
            if item.topic == REQUESTED:
                orders[key] = {
                    "service_request_id": key, "community_id": str(e.community_id),
                    "requester_id": str(e.requester_id), "volunteer_id": None,
                    "service_type": e.service_type, "description": e.description,
                    "status": "requested", "minutes_estimate": e.minutes_estimate,
                    "minutes": None, "stars": None, "requested_at": e.at, "completed_at": None,
                    "updated_at": e.at, "position": item.position,
                    "requested_position": item.position}
            elif item.topic in ORDER_STEPS:
                row = orders.get(key) or steps.setdefault(key, {"service_request_id": key})
                row.update(_step(item, ORDER_STEPS[item.topic]))
            elif item.topic == DEPOSIT_RECORDED:
                deposits.append({
                    "deposit_id": key, "volunteer_id": str(e.volunteer_id),
                    "community_id": str(e.community_id),
                    "recipient_id": str(e.recipient_id) if e.recipient_id else None,
                    "service_type": e.service_type, "minutes": e.minutes,
                    "donated": e.donated, "stars": e.stars, "team": e.team,
                    "service_request_id": (str(e.service_request_id) if e.service_request_id
                                           else None),
                    "occurred_at": e.occurred_at, "recorded_at": e.timestamp,
                    "position": item.position})
            elif item.topic == INTERCHANGE_OPENED:
                opened[key] = {"interchange_id": key, "first_id": str(e.first),
                               "second_id": str(e.second), "due": 0, "first_limit": None,
                               "second_limit": None, "position": item.position}
                firsts[key] = str(e.first)
            else:
                row = opened.get(key) or changed.setdefault(key, {"interchange_id": key})
                row.update(_interchange(conn, item, firsts))
        bulk.insert(conn, service_orders, list(orders.values()))
        bulk.update(conn, service_orders, "service_request_id", list(steps.values()))
        bulk.insert(conn, service_deposits, deposits)
        bulk.insert(conn, timebank_interchange, list(opened.values()))
        bulk.update(conn, timebank_interchange, "interchange_id", list(changed.values()))


def _step(item: Positioned, name: str) -> dict[str, Any]:
    """What a step of a service order changes in its row."""
    e = item.event
    values: dict[str, Any] = {"updated_at": e.at, "position": item.position}
    if name == "Dispatched":
        values.update(status="dispatched", volunteer_id=str(e.volunteer_id))
    elif name == "DispatchedToTeam":
        values.update(status="dispatched", volunteer_id=None)
    elif name == "TeamMemberAccepted":
        values.update(status="accepted", volunteer_id=str(e.volunteer_id))
    elif name == "Completed":
        values.update(status="completed", minutes=e.minutes, completed_at=e.at)
    elif name == "Rated":
        values.update(status="under_review" if e.stars <= 2 else "rated", stars=e.stars)
    elif name == "Confirmed":
        values.update(status="confirmed", minutes=e.minutes)
    else:
        values.update(status=name.lower())
    return values


def _interchange(conn: Connection, item: Positioned, firsts: dict[str, str]) -> dict[str, Any]:
    """What a change of an interchange changes in its row: what is due, or a side's limit."""
    e = item.event
    values: dict[str, Any] = {"position": item.position}
    if hasattr(e, "due_after"):
        values["due"] = e.due_after
        return values
    key = item.originator
    if key not in firsts:
        table = timebank_interchange
        firsts[key] = conn.execute(select(table.c.first_id)
                                   .where(table.c.interchange_id == key)).scalar_one()
    values["first_limit" if str(e.creditor) == firsts[key] else "second_limit"] = e.limit
    return values
