"""The registry read model: communities (with their time zones), grids, households, members
(with whether they opted out of public display) and rule names.

Other views may read these tables while applying a batch, provided they come after this view
in `catalogue.all_views()`: the runner applies a batch to the views in that order, so this view then
already holds every event the later view is about to apply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Engine, Table, delete, select, update

from ledger.domain.registry import (
    DEFAULT_TIME_ZONE,
    ERASED_ADDRESS,
    ERASED_NAME,
    Community,
    Household,
    Member,
)
from ledger.domain.rulebook import Rule
from projections import bulk, periods
from projections.natural import natural_key
from projections.tables import (
    member_pins,
    monthly_members,
    personal_keys,
    registry_communities,
    registry_grids,
    registry_households,
    registry_members,
    registry_rules,
)
from projections.view import Positioned

COMMUNITY_REGISTERED = get_topic(Community.Registered)  # type: ignore[attr-defined]
GRID_ADDED = get_topic(Community.GridAdded)  # type: ignore[attr-defined]
HOUSEHOLD_REGISTERED = get_topic(Household.Registered)  # type: ignore[attr-defined]
MEMBER_REGISTERED = get_topic(Member.Registered)  # type: ignore[attr-defined]
MEMBER_OPTED_OUT = get_topic(Member.OptedOut)  # type: ignore[attr-defined]
MEMBER_OPTED_IN = get_topic(Member.OptedIn)  # type: ignore[attr-defined]
GRID_RENAMED = get_topic(Community.GridRenamed)  # type: ignore[attr-defined]
GRID_ORDERED = get_topic(Community.GridOrdered)  # type: ignore[attr-defined]
HOUSEHOLD_ADDRESS_CHANGED = get_topic(Household.AddressChanged)  # type: ignore[attr-defined]
HOUSEHOLD_GRID_CHANGED = get_topic(Household.GridChanged)  # type: ignore[attr-defined]
HOUSEHOLD_BUILDING_CHANGED = get_topic(Household.BuildingChanged)  # type: ignore[attr-defined]
MEMBER_RENAMED = get_topic(Member.Renamed)  # type: ignore[attr-defined]
MEMBER_MOVED = get_topic(Member.Moved)  # type: ignore[attr-defined]
MEMBER_STATUS_CHANGED = get_topic(Member.StatusChanged)  # type: ignore[attr-defined]
MEMBER_ERASED = get_topic(Member.Erased)  # type: ignore[attr-defined]
HOUSEHOLD_ERASED = get_topic(Household.Erased)  # type: ignore[attr-defined]
RULE_CREATED = get_topic(Rule.Created)  # type: ignore[attr-defined]
RULE_REVISED = get_topic(Rule.Revised)  # type: ignore[attr-defined]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class RegistryView:
    """Who is who: names, households, grids, time zones, opt-outs, rule names; and how many
    residents each community registered each month."""

    name = "registry"
    tables = (registry_communities, registry_grids, registry_households, registry_members,
              registry_rules, monthly_members)
    topics = (COMMUNITY_REGISTERED, GRID_ADDED, HOUSEHOLD_REGISTERED, MEMBER_REGISTERED,
              MEMBER_OPTED_OUT, MEMBER_OPTED_IN, RULE_CREATED, RULE_REVISED, GRID_RENAMED,
              GRID_ORDERED, HOUSEHOLD_ADDRESS_CHANGED, HOUSEHOLD_GRID_CHANGED, MEMBER_RENAMED,
              MEMBER_MOVED, MEMBER_STATUS_CHANGED, HOUSEHOLD_BUILDING_CHANGED, MEMBER_ERASED,
              HOUSEHOLD_ERASED)

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        communities: list[dict[str, Any]] = []
        grids: dict[str, dict[str, Any]] = {}
        households: dict[str, dict[str, Any]] = {}
        members: dict[str, dict[str, Any]] = {}
        opted: dict[str, bool] = {}  # members registered before this batch
        # Changes to rows registered before this batch: (table, key) -> {column: value}
        changed: dict[tuple[str, str], dict[str, Any]] = {}

        def change(table: str, key: str, new: dict[str, dict[str, Any]],
                   **values: Any) -> None:
            (new.get(key) or changed.setdefault((table, key), {})).update(values)

        rules: dict[str, dict[str, Any]] = {}
        revised: dict[str, dict[str, Any]] = {}  # rules created before this batch
        erased: dict[str, datetime] = {}  # members and households erased, and when
        for item in events:
            e = item.event
            topic = item.topic
            key = item.originator
            if topic == COMMUNITY_REGISTERED:
                communities.append({"community_id": key, "name": e.name,
                                    "time_zone": e.time_zone, "registered_at": e.timestamp})
            elif topic == GRID_ADDED:
                grids[str(e.grid_id)] = {"grid_id": str(e.grid_id), "community_id": key,
                                         "name": e.name, "sort_order": 0}
            elif topic == GRID_RENAMED:
                change("grid", str(e.grid_id), grids, name=e.name)
            elif topic == GRID_ORDERED:
                change("grid", str(e.grid_id), grids, sort_order=e.sort_order)
            elif topic == HOUSEHOLD_REGISTERED:
                households[key] = {"household_id": key, "community_id": str(e.community_id),
                                   "grid_id": _text(e.grid_id), "address": e.address,
                                   "registered_at": e.timestamp, "building_id": None}
            elif topic == HOUSEHOLD_ADDRESS_CHANGED:
                change("household", key, households, address=e.address)
            elif topic == HOUSEHOLD_GRID_CHANGED:
                change("household", key, households, grid_id=_text(e.grid_id))
            elif topic == HOUSEHOLD_BUILDING_CHANGED:
                change("household", key, households, building_id=_text(e.building_id))
            elif topic == MEMBER_RENAMED:
                change("member", key, members, name=e.name)
            elif topic == MEMBER_MOVED:
                change("member", key, members, household_id=_text(e.household_id),
                       grid_id=_text(e.grid_id))
            elif topic == MEMBER_STATUS_CHANGED:
                change("member", key, members, status=e.status)
            elif topic == MEMBER_ERASED:
                change("member", key, members, name=ERASED_NAME)
                erased[key] = e.timestamp
            elif topic == HOUSEHOLD_ERASED:
                change("household", key, households, address=ERASED_ADDRESS)
                erased[key] = e.timestamp
            elif topic == MEMBER_REGISTERED:
                members[key] = {
                    "member_id": key, "community_id": str(e.community_id), "name": e.name,
                    "household_id": _text(e.household_id), "grid_id": _text(e.grid_id),
                    "passbook_no": e.passbook_no, "opted_out": False, "status": "active",
                    "registered_at": e.timestamp, "position": item.position,
                }
            elif topic in (MEMBER_OPTED_OUT, MEMBER_OPTED_IN):
                choice = topic == MEMBER_OPTED_OUT
                if key in members:
                    members[key]["opted_out"] = choice
                else:
                    opted[key] = choice
            elif topic == RULE_CREATED:
                rules[key] = {"rule_id": key, "community_id": str(e.community_id),
                              "code": e.code, "name": "", "version": 0}
            elif topic == RULE_REVISED:
                target = rules.get(key) or revised.setdefault(key, {"rule_id": key})
                target.update(name=e.name, version=e.version)
        for table, rows in ((registry_communities, communities),
                            (registry_grids, list(grids.values())),
                            (registry_households, list(households.values())),
                            (registry_members, list(members.values())),
                            (registry_rules, list(rules.values()))):
            bulk.insert(conn, table, rows)
        _count_joined(conn, communities, list(members.values()))
        bulk.update(conn, registry_members, "member_id",
                    [{"member_id": k, "opted_out": v} for k, v in opted.items()])
        bulk.update(conn, registry_rules, "rule_id", list(revised.values()))
        for (kind, key), values in changed.items():
            table, column = CHANGED_TABLES[kind]
            bulk.update(conn, table, column, [{column: key, **values}])
        for subject, at in erased.items():
            forget(conn, subject, at)


def forget(conn: Connection, subject: str, at: datetime) -> None:
    """What is kept of an erased person beside the log goes with them: their key (if the
    erasure's own request did not destroy it before it ended) and their PIN."""
    keys = personal_keys.c
    conn.execute(update(personal_keys)
                 .where(keys.subject_id == subject, keys.wrapped_key.is_not(None))
                 .values(wrapped_key=None, erased_at=at))
    conn.execute(delete(member_pins).where(member_pins.c.member_id == subject))


def _count_joined(conn: Connection, communities: list[dict[str, Any]],
                  members: list[dict[str, Any]]) -> None:
    """Add the batch's registrations to `monthly_members`, each in the month it falls in in
    its community's time zone (a member never changes community, nor when it registered)."""
    if not members:
        return
    zones = {c["community_id"]: c["time_zone"] for c in communities}
    unknown = sorted({m["community_id"] for m in members} - zones.keys())
    c = registry_communities.c
    for chunk in bulk.chunks(unknown):
        zones.update(conn.execute(select(c.community_id, c.time_zone)
                                  .where(c.community_id.in_(chunk))).all())
    joined: dict[tuple[str, str], int] = {}
    for member in members:
        community_id = member["community_id"]
        month = periods.month_of(member["registered_at"],
                                 periods.zone(zones.get(community_id, DEFAULT_TIME_ZONE)))
        joined[community_id, month] = joined.get((community_id, month), 0) + 1
    bulk.merge(conn, monthly_members, ("community_id", "month"), _add_joined, [
        {"community_id": k[0], "month": k[1], "joined": v} for k, v in sorted(joined.items())])


def _add_joined(table: Table, excluded: Any) -> dict[str, Any]:
    return {"joined": table.c.joined + excluded.joined}


CHANGED_TABLES = {"grid": (registry_grids, "grid_id"),
                  "household": (registry_households, "household_id"),
                  "member": (registry_members, "member_id")}


# --- reads ----------------------------------------------------------------------------------
def community(engine: Engine, community_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(registry_communities)
                           .where(registry_communities.c.community_id == community_id)).first()
    return dict(row._mapping) if row else None


def grid_names(engine: Engine, community_id: str) -> dict[str, str]:
    """A community's grids by id, in their sort order, then by name in natural order."""
    g = registry_grids.c
    with engine.connect() as conn:
        rows = conn.execute(select(g.grid_id, g.name, g.sort_order)
                            .where(g.community_id == community_id)).all()
    ordered = sorted(rows, key=lambda r: (r.sort_order, natural_key(r.name), r.grid_id))
    return {row.grid_id: row.name for row in ordered}


def household(engine: Engine, household_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(registry_households)
                           .where(registry_households.c.household_id == household_id)).first()
    return dict(row._mapping) if row else None


def household_members(engine: Engine, household_id: str) -> list[dict[str, Any]]:
    """Members of a household, in the order they were registered."""
    m = registry_members.c
    with engine.connect() as conn:
        rows = conn.execute(select(m.member_id, m.name, m.passbook_no, m.opted_out)
                            .where(m.household_id == household_id)
                            .order_by(m.position)).all()
    return [dict(row._mapping) for row in rows]


def rule_names(engine: Engine, community_id: str) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(registry_rules.c.code, registry_rules.c.name)
                            .where(registry_rules.c.community_id == community_id)).all()
    return {row.code: row.name for row in rows}
