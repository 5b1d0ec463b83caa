"""What the views say is due for the sweeper: expired holds, points due to expire, and services
waiting for a rating."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, select

from ledger.domain.assets import Asset, OwnerKind
from ledger.domain.holds import HoldStatus
from projections import timebank_queries
from projections.tables import balances, holds


class DueInViews:
    """Reads what is due from the views on `engine` (the sweeper's `Due`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def expiries(self, now: datetime, most: int) -> tuple[Sequence[str], Sequence[str]]:
        """Up to `most` ids of held holds expired by `now`, and up to `most` ids of members
        with points due to expire by `now` and not all held."""
        with self.engine.connect() as conn:
            hold_ids = conn.execute(
                select(holds.c.hold_id)
                .where(holds.c.status == HoldStatus.HELD.value, holds.c.expires_at <= now)
                .limit(most)).scalars().all()
            owners = conn.execute(
                select(balances.c.owner_id).where(and_(
                    balances.c.owner_kind == OwnerKind.MEMBER.value,
                    balances.c.asset == Asset.POINTS.value,
                    balances.c.next_expiry_at <= now,
                    balances.c.balance - balances.c.held > 0,
                )).limit(most)).scalars().all()
        return hold_ids, owners

    def services_awaiting_rating(self) -> Sequence[Mapping[str, Any]]:
        """Completed service orders still unrated, the earliest completed first."""
        return timebank_queries.due_for_confirmation(self.engine)
