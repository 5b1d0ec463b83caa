"""A member's means of consent at the till: their PIN set (payment codes are made in memory,
`ledger.payment_codes`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from ledger.actor import Actor
from ledger.domain.registry import Member
from ledger.write.unit_of_work import UnitOfWork


def _own_or_staffs(uow: UnitOfWork, member_id: UUID, by: Actor) -> Member:
    """The member, for themselves or for staff of their community (else not found)."""
    member = uow.get(Member, member_id)
    by.check_community(member.community_id, "member", member_id)
    by.check_member(member_id, "member", member_id)
    return member


def record_pin_set(member_id: UUID, by: Actor, now: datetime) -> Callable[[UnitOfWork], None]:
    """Record on the member that their PIN was set (when and by whom; never the PIN)."""

    def command(uow: UnitOfWork) -> None:
        _own_or_staffs(uow, member_id, by).pin_set(now.isoformat(), by)

    return command
