"""The access log of personal data (个人信息查阅记录): every read of a person's personal data
by staff, merchants, auditors, admins and residents reading others' (an observer, a resident
they care for), one row a member read, and one row a bulk export (how many rows it gave). A
resident reading their own data is not logged.

Readers see names masked where their role asks for it (`shown_name`): merchants and public
screens always, auditors unless they ask to see them (`reveal`), which is logged as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request
from sqlalchemy import Engine, insert, select

from api.deps import ActorDep, LinliDep
from ledger.actor import Actor, Role
from ledger.privacy.masking import masked
from projections.tables import personal_data_reads, registry_members

RevealQuery = Annotated[bool, Query(description=(
    "auditors: show full names and addresses (the read is logged as such); without it "
    "they are masked"))]


@dataclass(frozen=True)
class PersonalReads:
    """Records the caller's reads of personal data on this request."""

    engine: Engine
    actor: Actor
    route: str

    def masks(self, reveal: bool) -> bool:
        """Whether this caller sees personal data masked: merchants always, auditors unless
        they ask (`reveal`)."""
        return self.actor.role is Role.MERCHANT or (self.actor.role is Role.AUDITOR
                                                     and not reveal)

    def name(self, name: str, reveal: bool = False) -> str:
        """A name as this caller may see it (张*明 when masked)."""
        return masked(name) if name and self.masks(reveal) else name

    def address(self, address: str, reveal: bool = False) -> str:
        """An address as this caller may see it (its first four characters when masked)."""
        return address[:4] + "****" if self.masks(reveal) and len(address) > 4 else address

    def what(self, fields: str, reveal: bool = False) -> str:
        """The words the log keeps for what was shown."""
        return f"{fields}（已脱敏）" if self.masks(reveal) else fields

    def record(self, what: str, member_ids: Iterable[UUID | str],
               community_id: UUID | str | None = None) -> None:
        """Log that `what` of each of `member_ids` was shown to the caller."""
        if self.actor.role is Role.SYSTEM:
            return
        own = str(self.actor.member_id) if self.actor.member_id else None
        read = [m for m in dict.fromkeys(str(m) for m in member_ids) if m != own]
        if not read:
            return
        communities = ({m: community_id for m in read} if community_id is not None
                       else self._communities(read))
        now = datetime.now(UTC)
        rows = [self._row(now, what, m, communities.get(m), 1) for m in read]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(personal_data_reads), rows)

    def record_export(self, what: str, member_ids: list[str],
                      community_id: UUID | str | None, count: int | None = None) -> None:
        """Log a bulk read: one row for the whole (how many rows it gave: `count`, else one
        a member) and one for each member in it."""
        if self.actor.role is Role.SYSTEM:
            return
        now = datetime.now(UTC)
        total = len(member_ids) if count is None else count
        rows = [self._row(now, what, None, community_id, total)]
        rows += [self._row(now, what, m, community_id, 1) for m in dict.fromkeys(member_ids)]
        with self.engine.begin() as conn:
            conn.execute(insert(personal_data_reads), rows)

    def _communities(self, member_ids: list[str]) -> dict[str, str]:
        """Each member's community, from the registry."""
        m = registry_members.c
        with self.engine.connect() as conn:
            return {row[0]: row[1] for row in conn.execute(
                select(m.member_id, m.community_id).where(m.member_id.in_(member_ids)))}

    def _row(self, now: datetime, what: str, member_id: str | None,
             community_id: UUID | str | None, count: int) -> dict[str, Any]:
        return {"read_at": now, "actor_id": self.actor.id, "actor_role": self.actor.role_value,
                "community_id": str(community_id) if community_id else None,
                "member_id": member_id, "route": self.route, "what": what, "rows": count}


def personal_reads(request: Request, actor: ActorDep, linli: LinliDep) -> PersonalReads:
    """The logger of this request's reads (its path and query as the route)."""
    route = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return PersonalReads(linli.engine, actor, route[:500])


PersonalReadsDep = Annotated[PersonalReads, Depends(personal_reads)]


def reads_of(engine: Engine, *, member_id: str | None, communities: list[str] | None,
             limit: int, before: int | None) -> tuple[list[dict[str, Any]], int | None]:
    """Logged reads, newest first: of one member, within some communities (None: all)."""
    c = personal_data_reads.c
    query = select(personal_data_reads).order_by(c.read_id.desc()).limit(limit + 1)
    if member_id is not None:
        query = query.where(c.member_id == member_id)
    if communities is not None:
        query = query.where(c.community_id.in_(communities))
    if before is not None:
        query = query.where(c.read_id < before)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query).all()]
    page = rows[:limit]
    return page, (page[-1]["read_id"] if len(rows) > limit else None)
