"""Fill a running Linli in process: a community whose members hold points, through the writer."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from api.bootstrap import Linli
from ledger.actor import Actor, Role
from ledger.commands import merchants, points, registry
from ledger.domain.consent import ConsentPolicy
from ledger.domain.policy import PointsPolicy
from ledger.write.writer import Writer

ADMIN = Actor("bench:admin", Role.ADMIN)


def found(writer: Writer, name: str = "bench") -> UUID:
    """A community whose tills name members by id (redemptions by `member_id`)."""
    community: UUID = writer.execute(registry.register_community(name, ADMIN)).id
    writer.execute(merchants.set_policy(
        community, PointsPolicy(redemption_consent=ConsentPolicy.MEMBER_ID), ADMIN))
    return community


def populate(linli: Linli, members: int, points_each: int) -> tuple[object, object, list]:
    """A community with a merchant and `members` members holding `points_each` points."""
    writer = linli.writer
    community = found(writer)
    writer.execute(registry.put_rule(community, "GIFT", name="gift", points=1, unit="each",
                                     daily_cap=None, monthly_cap=None,
                                     requires_approval=False, by=ADMIN))
    merchant = writer.execute(registry.register_merchant(community, "shop", ADMIN)).id
    futures = [writer.submit(registry.register_member(community, f"m{i}", None, None, ADMIN))
               for i in range(members)]
    member_ids = [f.result().id for f in futures]
    now = datetime.now(UTC)
    remaining = points_each
    while remaining > 0:
        step = min(remaining, 1000)
        awards = [writer.submit(points.award(m, "GIFT", quantity=step, minutes=None,
                                             occurred_at=None, note="", now=now, by=ADMIN))
                  for m in member_ids]
        for future in awards:
            future.result()
        remaining -= step
    return community, merchant, member_ids
