"""Awards in bulk: one rule for many members, each member's award standing alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledger import ids
from ledger.actor import Actor
from ledger.commands import points
from ledger.domain.assets import Asset
from ledger.errors import DomainError
from ledger.write.unit_of_work import Reading, UnitOfWork


@dataclass(frozen=True)
class BatchItem:
    """One member's outcome: the award made, or the problem that refused it."""

    member_id: UUID
    award: points.AwardResult | None = None
    error: DomainError | None = None


def triggered(uow: UnitOfWork) -> int:
    """Counts the events the unit of work holds so far (created aggregates count once)."""
    return sum(len(a._pending_events) - before
               for a, before in zip(uow.loaded.values(), uow.pending_before, strict=True)
               ) + len(uow.created)


def award_each(
    member_ids: Sequence[UUID], rule_code: str, *, quantity: int | None,
    minutes: int | None, occurred_at: datetime | None, note: str, now: datetime, by: Actor,
) -> Reading[list[BatchItem]]:
    """Award each member under `rule_code` as `points.award` would, in one command: a member
    refused (capped, moved out, of another community) is reported and the others are awarded.
    A refusal raised after its award had changed anything fails the whole command."""

    def command(uow: UnitOfWork) -> list[BatchItem]:
        items: list[BatchItem] = []
        for member_id in member_ids:
            before = triggered(uow)
            try:
                result = points.award(member_id, rule_code, quantity=quantity, minutes=minutes,
                                      occurred_at=occurred_at, note=note, now=now, by=by)(uow)
            except DomainError as error:
                if triggered(uow) != before:
                    raise
                items.append(BatchItem(member_id, error=error))
            else:
                items.append(BatchItem(member_id, award=result))
        return items

    reads = tuple(member_ids) + tuple(ids.account_id(m, Asset.POINTS.value) for m in member_ids)
    return Reading(command, reads)


@dataclass(frozen=True)
class ApprovalItem:
    """One pending award's outcome: the award posted, or the problem that refused it."""

    award_id: UUID
    award: points.AwardResult | None = None
    error: DomainError | None = None


def approve_each(award_ids: Sequence[UUID], by: Actor) -> Reading[list[ApprovalItem]]:
    """Approve each pending award as `points.approve_award` would, in one command: an award
    refused (no longer pending, four eyes, another community's) is reported and the others are
    posted. A refusal raised after its approval had changed anything fails the whole command."""

    def command(uow: UnitOfWork) -> list[ApprovalItem]:
        items: list[ApprovalItem] = []
        for award_id in award_ids:
            before = triggered(uow)
            try:
                result = points.approve_award(award_id, by)(uow)
            except DomainError as error:
                if triggered(uow) != before:
                    raise
                items.append(ApprovalItem(award_id, error=error))
            else:
                items.append(ApprovalItem(award_id, award=result))
        return items

    return Reading(command, tuple(award_ids))
