"""Fill a running Linli in process: a community whose members hold points, through the writer."""

from __future__ import annotations

from datetime import UTC, datetime

from api.bootstrap import Linli
from ledger.actor import Actor, Role
from ledger.commands import points, registry

ADMIN = Actor("bench:admin", Role.ADMIN)


def populate(linli: Linli, members: int, points_each: int) -> tuple[object, object, list]:
    """A community with a merchant and `members` members holding `points_each` points."""
    writer = linli.writer
    community = writer.execute(registry.register_community("bench", ADMIN)).id
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
