"""A member's means of consent at the till: payment codes made for them, and their PIN set."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from ledger.actor import Actor
from ledger.domain.registry import Member
from ledger.payment_codes import PaymentCode, PaymentCodeBook
from ledger.write.unit_of_work import Reading, UnitOfWork


def _own_or_staffs(uow: UnitOfWork, member_id: UUID, by: Actor) -> Member:
    """The member, for themselves or for staff of their community (else not found)."""
    member = uow.get(Member, member_id)
    by.check_community(member.community_id, "member", member_id)
    by.check_member(member_id, "member", member_id)
    return member


def make_payment_code(member_id: UUID, book: PaymentCodeBook, by: Actor,
                      now: datetime) -> Reading[PaymentCode]:
    """A fresh payment code for the member: on their phone, or made by staff at the counter."""

    def command(uow: UnitOfWork) -> PaymentCode:
        member = _own_or_staffs(uow, member_id, by)
        return book.make(member_id, member.community_id, now)

    return Reading(command, (member_id,))


def record_pin_set(member_id: UUID, by: Actor, now: datetime) -> Callable[[UnitOfWork], None]:
    """Record on the member that their PIN was set (when and by whom; never the PIN)."""

    def command(uow: UnitOfWork) -> None:
        _own_or_staffs(uow, member_id, by).pin_set(now.isoformat(), by)

    return command
