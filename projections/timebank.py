"""The time bank's read models: service orders, the service record (志愿服务记录), and what
communities owe each other (通存通兑)."""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, update

from ledger.domain.service_orders import ServiceOrder
from ledger.domain.timebank import Deposit, Interchange
from projections.tables import service_deposits, service_orders, timebank_interchange
from projections.views import Positioned

REQUESTED = get_topic(ServiceOrder.Requested)  # type: ignore[attr-defined]
ORDER_STEPS = {
    get_topic(getattr(ServiceOrder, name)): name
    for name in ("Dispatched", "Accepted", "Completed", "Rated", "Confirmed", "Dismissed",
                 "Cancelled")
}
DEPOSIT_RECORDED = get_topic(Deposit.Recorded)  # type: ignore[attr-defined]
INTERCHANGE_OPENED = get_topic(Interchange.Opened)  # type: ignore[attr-defined]
INTERCHANGE_CHANGED = (get_topic(Interchange.CareRecorded),  # type: ignore[attr-defined]
                       get_topic(Interchange.LimitSet))  # type: ignore[attr-defined]


class TimeBankView:
    """One row per service order and per deposit; one per pair of communities."""

    name = "timebank"
    tables = (service_orders, service_deposits, timebank_interchange)
    topics = (REQUESTED, *ORDER_STEPS, DEPOSIT_RECORDED, INTERCHANGE_OPENED,
              *INTERCHANGE_CHANGED)

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        for item in events:
            e = item.event
            if item.topic == REQUESTED:
                conn.execute(service_orders.insert().values(
                    service_request_id=str(e.originator_id), community_id=str(e.community_id),
                    requester_id=str(e.requester_id), volunteer_id=None,
                    service_type=e.service_type, description=e.description,
                    status="requested", minutes_estimate=e.minutes_estimate, minutes=None,
                    stars=None, requested_at=e.at, completed_at=None, updated_at=e.at,
                    position=item.position, requested_position=item.position))
            elif item.topic in ORDER_STEPS:
                self._step(conn, item, ORDER_STEPS[item.topic])
            elif item.topic == DEPOSIT_RECORDED:
                conn.execute(service_deposits.insert().values(
                    deposit_id=str(e.originator_id), volunteer_id=str(e.volunteer_id),
                    community_id=str(e.community_id),
                    recipient_id=str(e.recipient_id) if e.recipient_id else None,
                    service_type=e.service_type, minutes=e.minutes, donated=e.donated,
                    stars=e.stars, team=e.team,
                    service_request_id=(str(e.service_request_id) if e.service_request_id
                                        else None),
                    occurred_at=e.occurred_at, recorded_at=e.timestamp,
                    position=item.position))
            elif item.topic == INTERCHANGE_OPENED:
                conn.execute(timebank_interchange.insert().values(
                    interchange_id=str(e.originator_id), first_id=str(e.first),
                    second_id=str(e.second), due=0, first_limit=None, second_limit=None,
                    position=item.position))
            else:
                self._interchange(conn, item)

    @staticmethod
    def _step(conn: Connection, item: Positioned, name: str) -> None:
        e = item.event
        values: dict[str, Any] = {"updated_at": e.at, "position": item.position}
        if name == "Dispatched":
            values.update(status="dispatched", volunteer_id=str(e.volunteer_id))
        elif name == "Completed":
            values.update(status="completed", minutes=e.minutes, completed_at=e.at)
        elif name == "Rated":
            values.update(status="under_review" if e.stars <= 2 else "rated", stars=e.stars)
        elif name == "Confirmed":
            values.update(status="confirmed", minutes=e.minutes)
        else:
            values.update(status=name.lower())
        table = service_orders
        conn.execute(update(table)
                     .where(table.c.service_request_id == str(e.originator_id))
                     .values(**values))

    @staticmethod
    def _interchange(conn: Connection, item: Positioned) -> None:
        e = item.event
        table = timebank_interchange
        row = conn.execute(table.select()
                           .where(table.c.interchange_id == str(e.originator_id))).one()
        values: dict[str, Any] = {"position": item.position}
        if hasattr(e, "due_after"):
            values["due"] = e.due_after
        else:
            side = "first_limit" if str(e.creditor) == row.first_id else "second_limit"
            values[side] = e.limit
        conn.execute(update(table).where(table.c.interchange_id == str(e.originator_id))
                     .values(**values))
