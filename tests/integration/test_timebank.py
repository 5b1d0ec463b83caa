"""The time bank against the invariants: minutes conserved across communities, every
balance equal to its passbook and a replay, and a rebuild equal to the live views."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.actor import Actor, Role
from ledger.commands import registry, service_orders, timebank
from ledger.domain.assets import Asset
from ledger.domain.policy import GiftRecipients, OverCap, TimeBankPolicy
from ledger.errors import DomainError
from projections import queries
from projections.verify import verify
from tests.integration.test_properties import table_rows

ADMIN = Actor("admin:test", Role.ADMIN)


def test_a_busy_time_bank_keeps_the_books(linli):
    run = linli.writer.execute
    now = linli.clock()
    a = run(registry.register_community("116社区", ADMIN)).id
    b = run(registry.register_community("湖滨社区", ADMIN)).id
    run(timebank.set_policy(a, TimeBankPolicy(storage_cap_minutes=300, over_cap=OverCap.DONATE,
                                              team_minutes_donate_only=True), ADMIN))
    run(timebank.set_policy(b, TimeBankPolicy(gift_recipients=GiftRecipients.RELATIVES),
                            ADMIN))
    people = [run(registry.register_member(c, f"居民{i}", None, None, ADMIN)).id
              for i, c in enumerate([a, a, a, b, b, b])]
    run(timebank.set_partner_limit(b, a, 500, ADMIN))
    refused = 0
    for i in range(60):
        volunteer, other = people[i % 6], people[(i + 1) % 6]
        steps = [
            timebank.deposit(volunteer, other, 30 + i, "陪护", None,
                             "红马甲" if i % 4 == 0 else None, ADMIN, now),
            timebank.withdraw(other, 20, "助浴", volunteer, None, ADMIN, now),
            timebank.transfer(volunteer, other, 10, ADMIN),
            timebank.donate(other, 5, ADMIN),
            timebank.allocate(a, people[i % 3], 7, "困难老人", ADMIN),
        ]
        for step in steps:
            try:
                run(step)
            except DomainError:
                refused += 1
        order = run(service_orders.request(other, "助餐", "", None, ADMIN, now)).id
        run(service_orders.dispatch(order, volunteer, ADMIN, now))
        run(service_orders.accept(order, ADMIN, now))
        run(service_orders.complete(order, 45, ADMIN, now))
        try:
            run(service_orders.rate(order, 1 + i % 5, "", ADMIN, now + timedelta(minutes=1)))
        except DomainError:
            refused += 1
    assert 0 < refused < 200  # some gifts and withdrawals were refused, most went through
    linli.read_your_writes()

    report = verify(linli.app, linli.engine)
    assert report.ok, report.problems
    assert queries.asset_totals(linli.engine)["MINUTES"] == 0
    live = table_rows(linli)
    assert live["service_deposits"] and live["timebank_interchange"]
    linli.projections.rebuild()
    assert table_rows(linli) == live


@pytest.mark.parametrize("stars", [1, 5])
def test_an_order_posts_its_minutes_once(linli, stars):
    run = linli.writer.execute
    now = linli.clock()
    community = run(registry.register_community("116社区", ADMIN)).id
    elder, volunteer = (run(registry.register_member(community, n, None, None, ADMIN)).id
                        for n in ("老王", "小李"))
    order = run(service_orders.request(elder, "助餐", "", None, ADMIN, now)).id
    for step in (service_orders.dispatch(order, volunteer, ADMIN, now),
                 service_orders.accept(order, ADMIN, now),
                 service_orders.complete(order, 60, ADMIN, now),
                 service_orders.rate(order, stars, "", ADMIN, now)):
        run(step)
    if stars == 1:
        run(service_orders.confirm(order, None, ADMIN, now))
    for again in (service_orders.confirm(order, None, ADMIN, now),
                  service_orders.rate(order, 5, "", ADMIN, now)):
        with pytest.raises(DomainError):
            run(again)
    linli.read_your_writes()
    assert queries.account_balance(linli.engine, volunteer, Asset.MINUTES).balance == 60
