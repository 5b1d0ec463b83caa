"""Merchants in depth, on SQLite and PostgreSQL: expiry by lots, holds racing their expiry,
settlement, the daily redemption limit. Time is injected: commands take `now`, and the
sweeper reads `linli.clock`."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from api.bootstrap import Linli
from ledger import ids
from ledger.actor import Actor, Role
from ledger.commands import merchants as mer
from ledger.commands import points as pts
from ledger.domain.accounts import Account
from ledger.domain.assets import Asset
from ledger.domain.consent import ConsentPolicy
from ledger.domain.holds import Hold
from ledger.domain.policy import ExpiryKind, PointsPolicy
from ledger.errors import (
    HoldAlreadyCaptured,
    HoldExpired,
    InsufficientBalance,
    NothingToSettle,
    RedemptionLimitReached,
)
from projections.queries import account_balance, statement
from tests.scenario import CommandTown

ADMIN = Actor("admin-merchants", Role.ADMIN)
SHANGHAI_NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


class Shop:
    """A community with a 1-point-each rule, a merchant and its till; acts at given instants."""

    def __init__(self, linli: Linli, policy: PointsPolicy | None = None) -> None:
        self.town = town = CommandTown.found(linli)
        self.linli, self.community_id, self.staff = linli, town.community_id, town.staff
        town.add_rule("GIFT", 1)
        self.merchant_id = town.add_merchant("超市")
        self.till = town.tills[self.merchant_id]
        if policy is not None:
            self.set_policy(policy)

    def set_policy(self, policy: PointsPolicy) -> None:
        """Set `policy`, its tills still naming members by id."""
        by_id = replace(policy, redemption_consent=ConsentPolicy.MEMBER_ID)
        self.linli.writer.execute(mer.set_policy(self.community_id, by_id, self.staff))

    def member(self) -> UUID:
        return self.town.add_member("王秀英")

    def award(self, member_id: UUID, points: int, at: datetime) -> UUID:
        return self.linli.writer.execute(pts.award(
            member_id, "GIFT", quantity=points, minutes=None, occurred_at=at, note="",
            now=at, by=self.staff)).id

    def redeem(self, member_id: UUID, points: int, at: datetime) -> Any:
        return self.linli.writer.execute(pts.redeem(self.merchant_id, member_id, points, "米",
                                                    self.till, now=at))

    def account(self, member_id: UUID) -> Account:
        found = self.linli.app.repository.get(ids.account_id(member_id, Asset.POINTS.value))
        assert isinstance(found, Account)
        return found

    def expire(self, member_id: UUID, at: datetime) -> int:
        return self.linli.writer.execute(mer.expire_points(member_id, at))

    def balance(self, member_id: UUID) -> int:
        self.linli.projections.catch_up()
        return account_balance(self.linli.engine, member_id, Asset.POINTS).balance

    def check_books(self) -> None:
        self.town.settle()


def day(month: int, dom: int, year: int = 2026) -> datetime:
    """Noon in Shanghai on that day."""
    return datetime(year, month, dom, 4, 0, tzinfo=UTC)


class TestExpiry:
    def test_oldest_lots_expire_first_and_the_event_names_them(self, linli):
        shop = Shop(linli, PointsPolicy(ExpiryKind.MONTHS_AFTER_EARNING, 2))
        member = shop.member()
        first = shop.award(member, 10, day(1, 5))
        second = shop.award(member, 20, day(1, 20))
        shop.award(member, 30, day(2, 10))
        shop.redeem(member, 15, day(2, 11))  # takes all of the first lot and 5 of the second

        expired = shop.expire(member, day(3, 21))  # 20 Jan + 2 months has passed; 10 Feb not

        assert expired == 15
        assert shop.balance(member) == 30
        line = shop.linli.app.recorder.select_notifications(
            start=None, limit=10_000, topics=[])[-1]
        event = shop.linli.app.mapper.to_domain_event(line)
        assert event.kind == "expiry" and event.amount == -15
        assert [(lot, delta) for lot, delta, _ in event.lot_changes] == [(str(second), -15)]
        assert str(first) not in [lot[0] for lot in shop.account(member).lots]
        shop.check_books()

    def test_a_redemption_after_a_partial_expiry_takes_the_next_lot(self, linli):
        shop = Shop(linli, PointsPolicy(ExpiryKind.MONTHS_AFTER_EARNING, 1))
        member = shop.member()
        shop.award(member, 10, day(1, 5))
        late = shop.award(member, 25, day(2, 1))
        assert shop.expire(member, day(2, 6)) == 10

        moved = shop.redeem(member, 20, day(2, 7))

        assert moved.balance_after == 5
        assert shop.account(member).lots == [[str(late), 5, shop.account(member).lots[0][2]]]
        with pytest.raises(InsufficientBalance):
            shop.redeem(member, 6, day(2, 8))
        shop.check_books()

    def test_points_expire_at_the_end_of_the_nth_year_on_the_injected_clock(self, linli):
        shop = Shop(linli, PointsPolicy(ExpiryKind.END_OF_NTH_YEAR, 1))
        member = shop.member()
        shop.award(member, 40, day(3, 10, 2025))
        shop.award(member, 7, day(6, 1, 2026))
        shop.linli.projections.catch_up()
        balance = account_balance(shop.linli.engine, member, Asset.POINTS)
        # Midnight of 1 January 2027 in Shanghai is 16:00 UTC on 31 December 2026.
        assert balance.next_expiry_at == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
        assert balance.next_expiry_points == 40

        shop.linli.clock = lambda: datetime(2026, 12, 31, 15, 59, tzinfo=UTC)
        assert shop.linli.sweeper is not None
        assert shop.linli.sweeper.run_once() == (0, 0)
        shop.linli.clock = lambda: datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
        assert shop.linli.sweeper.run_once() == (0, 40)

        assert shop.balance(member) == 7
        shop.check_books()

    def test_a_policy_change_dates_only_later_lots(self, linli):
        shop = Shop(linli, PointsPolicy(ExpiryKind.MONTHS_AFTER_EARNING, 1))
        member = shop.member()
        shop.award(member, 10, day(1, 5))
        shop.set_policy(PointsPolicy(ExpiryKind.NEVER))
        shop.award(member, 20, day(1, 6))

        assert shop.expire(member, day(12, 31)) == 10
        assert shop.expire(member, day(12, 31, 2030)) == 0
        assert shop.balance(member) == 20
        shop.check_books()

    def test_a_refund_returns_points_to_their_lots_and_expired_ones_expire_again(self, linli):
        shop = Shop(linli, PointsPolicy(ExpiryKind.MONTHS_AFTER_EARNING, 1))
        member = shop.member()
        shop.award(member, 10, day(1, 5))  # expires 5 Feb
        shop.award(member, 10, day(1, 25))  # expires 25 Feb
        redemption = shop.redeem(member, 15, day(1, 26))  # 10 from the first, 5 from the second

        moved = shop.linli.writer.execute(pts.refund(redemption.id, 15, shop.till,
                                                     now=day(2, 10)))

        # the 10 from the lot that expired on 5 Feb expire at once; the 5 come back
        assert moved.balance_after == 10
        assert shop.balance(member) == 10
        assert sum(lot[1] for lot in shop.account(member).lots) == 10
        shop.check_books()

    def test_the_balance_shows_what_expires_next(self, linli):
        shop = Shop(linli, PointsPolicy(ExpiryKind.MONTHS_AFTER_EARNING, 3))
        member = shop.member()
        shop.award(member, 10, day(1, 5))
        shop.award(member, 5, day(1, 5))
        shop.award(member, 8, day(2, 1))
        shop.linli.projections.catch_up()

        balance = account_balance(shop.linli.engine, member, Asset.POINTS)

        assert balance.next_expiry_points == 15
        assert balance.next_expiry_at == datetime(2026, 4, 4, 16, 0, tzinfo=UTC)


class TestHolds:
    def test_held_points_are_not_available_and_a_partial_capture_releases_the_rest(self, linli):
        shop = Shop(linli)
        member = shop.member()
        shop.award(member, 50, SHANGHAI_NOON)
        hold = linli.writer.execute(mer.place_hold(shop.merchant_id, member, 30, 600,
                                                   shop.till, now=SHANGHAI_NOON))
        with pytest.raises(InsufficientBalance):
            shop.redeem(member, 21, SHANGHAI_NOON)

        captured = linli.writer.execute(mer.capture_hold(hold.id, 12, shop.till,
                                                         now=SHANGHAI_NOON))

        assert (captured.status, captured.captured, captured.balance_after) == (
            "captured", 12, 38)
        assert shop.account(member).held == 0
        shop.redeem(member, 38, SHANGHAI_NOON)
        shop.check_books()

    def test_an_unused_hold_expires_without_a_request_and_then_cannot_be_captured(self, linli):
        shop = Shop(linli)
        member = shop.member()
        shop.award(member, 10, SHANGHAI_NOON)
        hold = linli.writer.execute(mer.place_hold(shop.merchant_id, member, 10, 60,
                                                   shop.till, now=SHANGHAI_NOON))
        linli.projections.catch_up()
        linli.clock = lambda: SHANGHAI_NOON + timedelta(seconds=61)
        assert linli.sweeper is not None

        assert linli.sweeper.run_once() == (1, 0)

        assert shop.account(member).held == 0
        with pytest.raises(HoldExpired):
            linli.writer.execute(mer.capture_hold(hold.id, None, shop.till,
                                                  now=SHANGHAI_NOON + timedelta(seconds=62)))
        shop.check_books()

    def test_a_thousand_captures_racing_their_expiry_each_resolve_once(self, linli):
        shop = Shop(linli)
        members = [shop.member() for _ in range(40)]
        for member in members:
            shop.award(member, 1_000, SHANGHAI_NOON)
        place = [linli.writer.submit(mer.place_hold(
            shop.merchant_id, members[i % len(members)], 1 + i % 7, 1, shop.till,
            now=SHANGHAI_NOON)) for i in range(1_000)]
        held = [f.result(timeout=60) for f in place]
        linli.projections.catch_up()
        # Time starts now for the tills and the sweeper alike: every hold expires 1 s in.
        started = time.monotonic()
        linli.clock = lambda: SHANGHAI_NOON + timedelta(seconds=time.monotonic() - started)
        assert linli.sweeper is not None
        linli.sweeper.interval_seconds = 0.02
        linli.sweeper.start()
        outcomes: dict[UUID, str] = {}
        lock = threading.Lock()

        def capture(hold_id: UUID) -> None:
            time.sleep(random.uniform(0.5, 1.5))  # around the one-second expiry
            try:
                linli.writer.execute(mer.capture_hold(hold_id, None, shop.till,
                                                      now=linli.clock()))
                result = "captured"
            except HoldExpired:
                result = "expired"
            with lock:
                outcomes[hold_id] = result

        threads = [threading.Thread(target=capture, args=(h.id,)) for h in held]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = {h.id: linli.app.repository.get(h.id).status for h in held}
            if all(s != "held" for s in states.values()):
                break
            time.sleep(0.1)
        linli.sweeper.stop()

        assert len(outcomes) == 1_000
        assert states == outcomes  # each resolved once, and as its till was told
        assert set(states.values()) == {"captured", "expired"}  # the race really happened
        captured = sum(h.points for h in held if states[h.id] == "captured")
        linli.projections.catch_up()
        assert sum(account_balance(linli.engine, m, Asset.POINTS).balance
                   for m in members) == 40_000 - captured
        assert all(shop.account(m).held == 0 for m in members)
        for hold in held:
            assert isinstance(linli.app.repository.get(hold.id), Hold)
        shop.check_books()

    def test_a_second_capture_is_refused_and_names_the_redemption(self, linli):
        shop = Shop(linli)
        member = shop.member()
        shop.award(member, 10, SHANGHAI_NOON)
        hold = linli.writer.execute(mer.place_hold(shop.merchant_id, member, 5, 600,
                                                   shop.till, now=SHANGHAI_NOON))
        first = linli.writer.execute(mer.capture_hold(hold.id, None, shop.till,
                                                      now=SHANGHAI_NOON))
        with pytest.raises(HoldAlreadyCaptured, match=str(first.redemption_id)):
            linli.writer.execute(mer.capture_hold(hold.id, None, shop.till, now=SHANGHAI_NOON))
        assert shop.balance(member) == 5


class TestSettlement:
    def test_settling_twice_settles_once_and_the_statement_adds_up(self, linli):
        shop = Shop(linli)
        member = shop.member()
        shop.award(member, 100, SHANGHAI_NOON)
        first = shop.redeem(member, 40, SHANGHAI_NOON)
        shop.redeem(member, 25, SHANGHAI_NOON)
        linli.writer.execute(pts.refund(first.id, 10, shop.till, now=SHANGHAI_NOON))

        settled = linli.writer.execute(mer.settle(shop.merchant_id, shop.staff))
        with pytest.raises(NothingToSettle):
            linli.writer.execute(mer.settle(shop.merchant_id, shop.staff))

        assert settled.points == 55
        linli.projections.catch_up()
        found = statement(linli.engine, shop.merchant_id, start=None, end=None, limit=50,
                          before=None)
        assert found.totals == {"redeemed": 65, "refunded": 10, "settled": 55, "adjusted": 0,
                                "unsettled": 0}
        by_kind: dict[str, int] = {}
        for line in found.lines:
            by_kind[line["kind"]] = by_kind.get(line["kind"], 0) + line["amount"]
        assert by_kind == {"redemption": 65, "refund": -10, "settlement": -55}
        system = ids.system_account(shop.community_id, "POINTS", "settled")
        balances = {a: b for a, b in _balances(linli).items() if a == system}
        assert balances == {system: 55}
        shop.check_books()

    def test_a_refund_after_settlement_needs_unsettled_points(self, linli):
        shop = Shop(linli)
        member = shop.member()
        shop.award(member, 20, SHANGHAI_NOON)
        redemption = shop.redeem(member, 20, SHANGHAI_NOON)
        linli.writer.execute(mer.settle(shop.merchant_id, shop.staff))

        with pytest.raises(InsufficientBalance):
            linli.writer.execute(pts.refund(redemption.id, 5, shop.till, now=SHANGHAI_NOON))
        shop.check_books()


class TestDailyLimit:
    def test_a_member_may_redeem_up_to_the_limit_per_local_day(self, linli):
        shop = Shop(linli, PointsPolicy(daily_redemption_limit_points=30))
        member = shop.member()
        shop.award(member, 100, SHANGHAI_NOON)
        shop.redeem(member, 20, SHANGHAI_NOON)

        with pytest.raises(RedemptionLimitReached, match="最多兑换30分，还剩10分"):
            shop.redeem(member, 11, SHANGHAI_NOON)
        with pytest.raises(RedemptionLimitReached):
            linli.writer.execute(mer.place_hold(shop.merchant_id, member, 11, 60, shop.till,
                                                now=SHANGHAI_NOON))
        shop.redeem(member, 10, SHANGHAI_NOON)
        # 16:00 UTC is midnight in Shanghai: a new day
        shop.redeem(member, 30, datetime(2026, 3, 10, 16, 0, tzinfo=UTC))
        assert shop.balance(member) == 40


def _balances(linli: Linli) -> dict[str, int]:
    from sqlalchemy import select

    from projections.tables import balances

    with linli.engine.connect() as conn:
        return {r.account_id: r.balance
                for r in conn.execute(select(balances.c.account_id, balances.c.balance))}



