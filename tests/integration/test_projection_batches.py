"""Views write a batch in bulk: several postings of one account, a hold placed and captured,
an order requested and completed, awards approved and rejected, all in one batch, must give
the rows that one event a batch gives. Followed live, rebuilt, in batches of every size: the
tables are the same. And the bulk statements store every value exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Table, select, update

from api.bootstrap import Linli
from ledger.actor import Actor, Role
from ledger.commands import merchants, registry, service_orders, timebank
from ledger.commands import points as pts
from ledger.domain.consent import Consent
from ledger.payment_codes import PaymentCodeBook
from projections import accounts, bulk, leaderboards
from projections.runner import ProjectionRunner
from projections.tables import pending_awards, registry_members, tracking
from tests.integration.test_properties import table_rows

ADMIN = Actor("admin:test", Role.ADMIN)


def busy_history(linli: Linli) -> None:
    """Members of two communities earn, spend, hold, refund, opt out, serve each other."""
    run = linli.writer.execute
    now = linli.clock()
    a = run(registry.register_community("116社区", ADMIN)).id
    b = run(registry.register_community("湖滨社区", ADMIN)).id
    run(registry.put_rule(a, "GIFT", name="志愿服务", points=1, unit="each", daily_cap=None,
                          monthly_cap=None, requires_approval=False, by=ADMIN))
    grid = run(registry.add_grid(a, "一网格", ADMIN)).id
    home = run(registry.register_household(a, grid, "1栋101", ADMIN)).id
    people = [run(registry.register_member(a, f"居民{i}", home if i < 2 else None, None,
                                           ADMIN)).id for i in range(3)]
    elder = run(registry.register_member(b, "老王", None, None, ADMIN)).id
    shop = run(registry.register_merchant(a, "文明积分超市", ADMIN)).id
    till = Actor("till", Role.MERCHANT, merchant_id=shop)  # type: ignore[arg-type]
    codes = PaymentCodeBook(timedelta(minutes=1))

    def shown(member: UUID) -> Consent:
        """The consent of a payment code the member's phone shows the till."""
        return codes.make(member, a, now, till.id).consent

    run(timebank.set_partner_limit(b, a, 500, ADMIN))
    for i in range(4):
        for member in people:
            run(pts.award(member, "GIFT", quantity=10 + i, minutes=None, occurred_at=None,
                          note="", now=now, by=ADMIN))
            run(pts.redeem(shop, member, 3, "大米", till, now, consent=shown(member)))
    sold = run(pts.redeem(shop, people[0], 5, "食用油", till, now, consent=shown(people[0])))
    run(pts.refund(sold.id, 2, till, now))
    captured = run(merchants.place_hold(shop, people[1], 4, 600, till, now,
                                        consent=shown(people[1]))).id
    run(merchants.capture_hold(captured, 3, till, now))
    voided = run(merchants.place_hold(shop, people[2], 2, 600, till, now,
                                      consent=shown(people[2]))).id
    run(merchants.void_hold(voided, till, now))
    expired = run(merchants.place_hold(shop, people[0], 1, 60, till, now,
                                       consent=shown(people[0]))).id
    run(merchants.expire_hold(expired, now + timedelta(minutes=2)))
    run(merchants.place_hold(shop, people[0], 1, 600, till, now, consent=shown(people[0])))
    run(registry.set_public_display(people[2], True, ADMIN))
    run(pts.award(people[2], "GIFT", quantity=1, minutes=None, occurred_at=None, note="",
                  now=now, by=ADMIN))
    run(registry.put_rule(a, "GIFT", name="志愿服务(新)", points=2, unit="each",
                          daily_cap=None, monthly_cap=None, requires_approval=False, by=ADMIN))
    run(registry.put_rule(a, "CARE", name="照护", points=5, unit="each", daily_cap=None,
                          monthly_cap=None, requires_approval=True, by=ADMIN))
    waiting = [run(pts.award(member, "CARE", quantity=1, minutes=None, occurred_at=None,
                             note="待审核", now=now, by=ADMIN)).id for member in people]
    run(pts.approve_award(waiting[0], ADMIN))
    run(pts.reject_award(waiting[1], "重复", ADMIN))  # the third still waits
    run(timebank.deposit(elder, people[0], 90, "陪护", None, None, ADMIN, now))
    run(timebank.withdraw(elder, 30, "助浴", people[0], None, ADMIN, now))
    order = run(service_orders.request(elder, "助餐", "", None, ADMIN, now)).id
    run(service_orders.dispatch(order, people[1], ADMIN, now))
    run(service_orders.accept(order, ADMIN, now))
    run(service_orders.complete(order, 45, ADMIN, now))
    run(service_orders.rate(order, 5, "", ADMIN, now + timedelta(minutes=1)))
    linli.read_your_writes()


def emptied(linli: Linli) -> None:
    """Every view's rows deleted, every position back to 0."""
    with linli.engine.begin() as conn:
        for view in linli.projections.views:
            for table in view.tables:
                conn.execute(table.delete())
        conn.execute(update(tracking).values(position=0))


def followed(linli: Linli, batch_events: int) -> dict[str, list[tuple[Any, ...]]]:
    """The views emptied, then followed from the start in batches of `batch_events`."""
    emptied(linli)
    runner = ProjectionRunner(linli.app, linli.engine, batch_events=batch_events)
    runner.catch_up()
    return table_rows(linli)


def test_batches_of_any_size_give_the_same_rows(linli, monkeypatch):
    busy_history(linli)
    live = table_rows(linli)
    assert all(live[name] for name in ("balances", "holds", "passbook_lines", "service_orders",
                                       "timebank_interchange", "leaderboard_totals",
                                       "pending_awards"))
    assert len(live["pending_awards"]) == 1
    linli.projections.stop()

    assert followed(linli, 1) == live  # one event a transaction: the reference
    assert followed(linli, 10_000) == live  # the whole history in one batch
    assert followed(linli, 7) == live
    for batch_events in (1, 10_000):
        ProjectionRunner(linli.app, linli.engine,
                         rebuild_batch_events=batch_events).rebuild()
        assert table_rows(linli) == live
    # a rebuild that writes the balances and the boards' sums every batch, not once at its end
    monkeypatch.setattr(leaderboards, "SUMS_HELD", 0)
    monkeypatch.setattr(accounts, "ROWS_HELD", 0)
    ProjectionRunner(linli.app, linli.engine, rebuild_batch_events=7).rebuild()
    assert table_rows(linli) == live


def test_a_view_added_later_catches_up_from_the_log(linli):
    """As a migration leaves a new view (pending_awards, 0005): its table empty, its position
    0. The runner brings it up to the others, which apply nothing twice."""
    busy_history(linli)
    live = table_rows(linli)
    linli.projections.stop()
    with linli.engine.begin() as conn:
        conn.execute(pending_awards.delete())
        conn.execute(update(tracking).where(tracking.c.name == "pending_awards")
                     .values(position=0))

    ProjectionRunner(linli.app, linli.engine, batch_events=7).catch_up()

    assert table_rows(linli) == live


def test_bulk_statements_keep_every_value_as_it_was(linli):
    """Quotes, backslashes, line breaks, NULL and "NULL", Chinese, aware instants, booleans."""
    at = datetime(2098, 11, 23, 18, 0, 0, 123456, tzinfo=UTC)
    names = ['王"秀英"', "back\\slash", "two\nlines\ttab", "NULL", "", "{a,b}", " x "]
    rows = [{"member_id": f"m{i}", "community_id": "c", "name": name,
             "household_id": None if i % 2 else f"h{i}", "grid_id": None,
             "passbook_no": str(i), "opted_out": bool(i % 3), "registered_at": at,
             "position": i} for i, name in enumerate(names)]
    m = registry_members
    with linli.engine.begin() as conn:
        bulk.insert(conn, m, rows)
        bulk.update(conn, m, "member_id", [{"member_id": "m1", "opted_out": True,
                                            "household_id": 'h"1'}])
        bulk.merge(conn, m, ("member_id",), _rename, [
            {**rows[2], "name": "新\\名"}, {**rows[0], "member_id": "m9", "name": "9"}])
    rows[1].update(opted_out=True, household_id='h"1')
    rows[2]["name"] = "新\\名"
    rows.append({**rows[0], "member_id": "m9", "name": "9"})
    with linli.engine.connect() as conn:
        found = [dict(r._mapping) for r in conn.execute(
            select(m).where(m.c.community_id == "c").order_by(m.c.member_id))]
    assert found == sorted(rows, key=lambda row: row["member_id"])


def _rename(table: Table, excluded: Any) -> dict[str, Any]:
    return {"name": excluded.name}


def test_two_runners_on_one_database_apply_each_event_once(linli):
    busy_history(linli)
    live = table_rows(linli)
    linli.projections.stop()
    emptied(linli)
    first, second = (ProjectionRunner(linli.app, linli.engine, batch_events=5)
                     for _ in range(2))
    while first.run_once() + second.run_once() > 0:  # each finds the other moved on
        pass
    assert table_rows(linli) == live



def more_history(linli: Linli) -> None:
    run = linli.writer.execute
    c = run(registry.register_community("后来的社区", ADMIN)).id
    run(registry.put_rule(c, "GIFT", name="志愿服务", points=1, unit="each", daily_cap=None,
                          monthly_cap=None, requires_approval=False, by=ADMIN))
    member = run(registry.register_member(c, "新居民", None, None, ADMIN)).id
    run(pts.award(member, "GIFT", quantity=3, minutes=None, occurred_at=None, note="",
                  now=linli.clock(), by=ADMIN))


def test_a_batch_never_moves_a_view_back_when_another_thread_moved_it_on(linli, monkeypatch):
    """One runner, two threads (the follower, and a reader catching up): a batch that began
    before the other thread applied a longer one must not move the views back to its own end,
    from where they would apply the events between again (a passbook line twice)."""
    busy_history(linli)
    linli.projections.stop()
    emptied(linli)
    runner = ProjectionRunner(linli.app, linli.engine, batch_events=10_000)
    read = runner._read
    calls: list[int] = []

    def read_while_the_other_thread_applies_more(*args: Any) -> Any:
        events = read(*args)
        calls.append(1)
        if len(calls) == 1:  # the other thread: more is written, and it applies all of it
            more_history(linli)
            assert runner.run_once() > 0
        return events

    monkeypatch.setattr(runner, "_read", read_while_the_other_thread_applies_more)
    runner.run_once()  # began before the other thread's batch, and ends before its end
    runner.catch_up()
    head = linli.app.recorder.max_notification_id()
    assert runner.position == head
    with linli.engine.connect() as conn:
        assert set(conn.execute(select(tracking.c.position))) == {(head,)}
    now = table_rows(linli)
    assert followed(linli, 10_000) == now  # every event applied once
