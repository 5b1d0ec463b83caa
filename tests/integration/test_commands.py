"""Use cases: commands through the writer, on SQLite and PostgreSQL, read back from the views.

The writer's own behaviour (group commit, its retry plan, the cache, snapshots) is tested in
`test_writer.py`.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

from api.bootstrap import Linli
from ledger import ids
from ledger.actor import Actor, Role
from ledger.chain import Committed
from ledger.domain.assets import Asset, OwnerKind
from ledger.domain.audit import AUDIT_LOG_ID, GENESIS_HEX
from ledger.domain.awards import Award
from ledger.errors import (
    CapReached,
    InsufficientBalance,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    RefundExceedsRedemption,
)
from ledger.limits import BACKDATE_MAX_DAYS
from projections.queries import AccountBalance, passbook
from projections.verify import verify
from tests.scenario import NOW, CommandTown, funded


def _sealed_through(town: CommandTown) -> int:
    """The position the audit log's last checkpoint seals through."""
    audit_log: Any = town.linli.app.repository.get(AUDIT_LOG_ID)
    return int(audit_log.through_position)


# --- awards ---------------------------------------------------------------------------------
class TestAwardingPoints:
    def test_each_time_points_are_rule_points_times_quantity(self, town):
        town.add_rule("GARDEN", 5, name="最美花园")
        member_id = town.add_member()

        first = town.award(member_id, "GARDEN", quantity=3)
        second = town.award(member_id, "GARDEN")  # no quantity: once

        assert (first.points, first.status, first.rule_version) == (15, "posted", 1)
        assert second.points == 5
        town.settle()
        assert town.points(member_id) == AccountBalance(balance=20, held=0, earned=20)
        assert town.system_balance("issued") == -20
        lines, _ = passbook(town.linli.engine, member_id, Asset.POINTS, limit=10, before=None)
        assert [(x["kind"], x["amount"], x["balance_after"], x["description"])
                for x in lines] == [("award", 5, 20, "最美花园"), ("award", 15, 15, "最美花园")]

    def test_per_hour_points_are_rounded_down_from_points_times_minutes_over_60(self, town):
        # (points per hour, minutes, expected points)
        cases = [(30, 90, 45), (7, 100, 11), (10, 59, 9), (12, 5, 1), (60, 1, 1), (4, 45, 3)]
        members = []
        for n, (per_hour, _, _) in enumerate(cases):
            town.add_rule(f"PATROL{n}", per_hour, unit="hour", name="巡逻")
            members.append(town.add_member(f"志愿者{n}"))

        results = [town.award(member_id, f"PATROL{n}", minutes=minutes).points
                   for n, (member_id, (_, minutes, _)) in enumerate(zip(members, cases,
                                                                         strict=True))]

        expected = [points for _, _, points in cases]
        assert results == expected
        town.settle()
        assert [town.balance(member_id) for member_id in members] == expected

    def test_awards_that_do_not_fit_the_rule_are_refused_and_move_nothing(self, town):
        town.add_rule("GARDEN", 5)
        town.add_rule("PATROL", 7, unit="hour")
        member_id = town.add_member()
        attempts: list[tuple[type[Exception], dict[str, Any]]] = [
            (InvalidRequest, {"code": "GARDEN", "minutes": 60}),
            (InvalidRequest, {"code": "PATROL", "quantity": 2}),
            (InvalidRequest, {"code": "PATROL", "minutes": 8}),  # 56/60 of a point
            (InvalidRequest, {"code": "GARDEN", "occurred_at": NOW + timedelta(hours=1)}),
            (InvalidRequest, {"code": "GARDEN", "occurred_at": NOW - timedelta(
                days=BACKDATE_MAX_DAYS, seconds=1)}),
            (NotFound, {"code": "NO-SUCH-RULE", "quantity": 1}),
        ]

        for error, attempt in attempts:
            with pytest.raises(error):
                town.award(member_id, **attempt)

        town.settle()
        assert town.points(member_id) == AccountBalance()

    def test_an_award_may_be_backdated_within_the_limit(self, town):
        town.add_rule("GIFT", 1)
        member_id = town.add_member()
        when = NOW - timedelta(days=BACKDATE_MAX_DAYS - 1)

        result = town.award(member_id, "GIFT", quantity=4, occurred_at=when)

        assert (result.occurred_at, result.points) == (when, 4)


# --- caps -----------------------------------------------------------------------------------
class TestDailyCapsInTheCommunitysTimeZone:
    def test_awards_either_side_of_local_midnight_count_on_different_days(self, town):
        town.add_rule("MEDIATE", 10, daily_cap=10, name="纠纷调解")
        member_id = town.add_member()

        evening = town.award(member_id, "MEDIATE",  # 23:00 on the 23rd in Shanghai
                             occurred_at=datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
        night = town.award(member_id, "MEDIATE",  # 01:00 on the 24th in Shanghai
                           occurred_at=datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
        with pytest.raises(CapReached):  # 23:59 on the 23rd
            town.award(member_id, "MEDIATE",
                       occurred_at=datetime(2026, 11, 23, 15, 59, tzinfo=UTC))
        with pytest.raises(CapReached):  # 00:00 on the 24th
            town.award(member_id, "MEDIATE",
                       occurred_at=datetime(2026, 11, 23, 16, 0, tzinfo=UTC))

        assert (evening.points, night.points) == (10, 10)
        town.settle()
        assert town.balance(member_id) == 20

    def test_in_a_utc_community_the_same_two_instants_share_a_day(self, linli):
        town = CommandTown.found(linli, time_zone="UTC")
        town.add_rule("MEDIATE", 10, daily_cap=10)
        member_id = town.add_member()
        town.award(member_id, "MEDIATE", occurred_at=datetime(2026, 11, 23, 15, 0, tzinfo=UTC))

        with pytest.raises(CapReached):
            town.award(member_id, "MEDIATE",
                       occurred_at=datetime(2026, 11, 23, 17, 0, tzinfo=UTC))

        town.settle()
        assert town.balance(member_id) == 10

    def test_an_award_is_cut_to_the_room_left_and_caps_count_per_member(self, town):
        town.add_rule("SORT", 10, daily_cap=25, name="垃圾分类")
        member_id, neighbour_id = town.add_member("张三"), town.add_member("李四")

        awarded = [town.award(member_id, "SORT").points for _ in range(3)]
        with pytest.raises(CapReached):
            town.award(member_id, "SORT")
        neighbour = town.award(neighbour_id, "SORT")

        assert awarded == [10, 10, 5]
        assert neighbour.points == 10
        town.settle()
        assert town.points(member_id) == AccountBalance(balance=25, held=0, earned=25)
        assert town.balance(neighbour_id) == 10

    def test_a_monthly_cap_follows_the_local_month(self, town):
        town.add_rule("ADVICE", 10, monthly_cap=25, name="建言献策")
        member_id = town.add_member()
        town.award(member_id, "ADVICE", occurred_at=datetime(2026, 11, 5, 2, tzinfo=UTC))
        town.award(member_id, "ADVICE", occurred_at=datetime(2026, 11, 20, 2, tzinfo=UTC))

        cut = town.award(member_id, "ADVICE", occurred_at=datetime(2026, 11, 22, 2, tzinfo=UTC))
        with pytest.raises(CapReached):  # 00:30 on 1 November in Shanghai
            town.award(member_id, "ADVICE",
                       occurred_at=datetime(2026, 10, 31, 16, 30, tzinfo=UTC))
        october = town.award(member_id, "ADVICE",  # 23:30 on 31 October in Shanghai
                             occurred_at=datetime(2026, 10, 31, 15, 30, tzinfo=UTC))

        assert (cut.points, october.points) == (5, 10)
        town.settle()
        assert town.balance(member_id) == 35

    def test_a_daily_cap_holds_for_a_backdated_day(self, town):
        now = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)
        backdated = now - timedelta(days=BACKDATE_MAX_DAYS - 2)
        town.add_rule("SORT", 10, daily_cap=10, monthly_cap=1_000)
        member_id = town.add_member()
        town.award(member_id, "SORT", occurred_at=backdated, now=now)
        town.award(member_id, "SORT", occurred_at=now, now=now)

        with pytest.raises(CapReached):
            town.award(member_id, "SORT", occurred_at=backdated + timedelta(hours=1), now=now)


# --- approval -------------------------------------------------------------------------------
class TestAwardsNeedingApproval:
    def test_a_pending_award_moves_no_points_until_approved(self, town):
        town.add_rule("SHOW", 20, requires_approval=True, name="文化展演")
        member_id = town.add_member()
        pending = town.award(member_id, "SHOW")
        town.settle()
        assert (pending.status, pending.points) == ("pending", 20)
        assert town.points(member_id) == AccountBalance()

        approved = town.approve(pending.id)

        assert approved.status == "posted"
        town.settle()
        assert town.points(member_id) == AccountBalance(balance=20, held=0, earned=20)
        assert town.system_balance("issued") == -20

    def test_a_rejected_award_moves_no_points_and_keeps_its_reason(self, town):
        town.add_rule("SHOW", 20, requires_approval=True)
        member_id = town.add_member()
        pending = town.award(member_id, "SHOW")

        rejected = town.reject(pending.id, "未到场")

        assert (rejected.status, rejected.reason) == ("rejected", "未到场")
        town.settle()
        assert town.balance(member_id) == 0

    def test_only_a_pending_award_can_be_approved_or_rejected(self, town):
        town.add_rule("SHOW", 20, requires_approval=True)
        town.add_rule("GIFT", 5)
        member_id = town.add_member()
        approved = town.award(member_id, "SHOW")
        town.approve(approved.id)
        rejected = town.award(member_id, "SHOW")
        town.reject(rejected.id)
        posted = town.award(member_id, "GIFT")

        refused = []
        for step, award_id in [(town.approve, approved.id), (town.approve, rejected.id),
                               (town.reject, approved.id), (town.reject, posted.id)]:
            with pytest.raises(InvalidTransition):
                step(award_id)
            refused.append(award_id)

        assert len(refused) == 4
        town.settle()
        assert town.balance(member_id) == 25

    def test_a_pending_award_holds_its_place_under_the_cap_until_rejected(self, town):
        town.add_rule("SHOW", 10, daily_cap=10, requires_approval=True)
        member_id = town.add_member()
        first = town.award(member_id, "SHOW")
        with pytest.raises(CapReached):
            town.award(member_id, "SHOW")

        town.reject(first.id)
        second = town.award(member_id, "SHOW")
        town.approve(second.id)

        assert second.points == 10
        town.settle()
        assert town.balance(member_id) == 10

    def test_approval_keeps_the_award_counted_once_under_the_cap(self, town):
        town.add_rule("SHOW", 10, daily_cap=15, requires_approval=True)
        member_id = town.add_member()
        first = town.award(member_id, "SHOW")
        town.approve(first.id)

        second = town.award(member_id, "SHOW")

        assert second.points == 5


# --- reversal -------------------------------------------------------------------------------
class TestReversingAnAward:
    def test_a_reversal_takes_the_points_back_and_frees_the_cap(self, town):
        town.add_rule("GIFT", 10, daily_cap=30)
        member_id = town.add_member()
        posted = town.award(member_id, "GIFT", quantity=3)

        reversed_ = town.reverse(posted.id, "记错人了")
        again = town.award(member_id, "GIFT", quantity=1)

        assert (reversed_.status, reversed_.reason) == ("reversed", "记错人了")
        assert again.points == 10
        town.settle()
        assert town.points(member_id) == AccountBalance(balance=10, held=0, earned=10)
        assert town.system_balance("issued") == -10
        lines, _ = passbook(town.linli.engine, member_id, Asset.POINTS, limit=10, before=None)
        assert [(x["kind"], x["amount"]) for x in lines] == [
            ("award", 10), ("award_reversal", -30), ("award", 30)]

    def test_only_a_posted_award_can_be_reversed(self, town):
        town.add_rule("GIFT", 10)
        town.add_rule("SHOW", 10, requires_approval=True)
        member_id = town.add_member()
        reversed_ = town.award(member_id, "GIFT")
        town.reverse(reversed_.id)
        pending = town.award(member_id, "SHOW")

        with pytest.raises(InvalidTransition):
            town.reverse(reversed_.id)
        with pytest.raises(InvalidTransition):
            town.reverse(pending.id)

        town.settle()
        assert town.balance(member_id) == 0

    def test_points_already_spent_cannot_be_reversed(self, town):
        town.add_rule("GIFT", 10)
        member_id, merchant_id = town.add_member(), town.add_merchant()
        posted = town.award(member_id, "GIFT", quantity=2)
        town.redeem(merchant_id, member_id, 15)

        with pytest.raises(InsufficientBalance):
            town.reverse(posted.id)

        town.settle()
        assert town.balance(member_id) == 5
        assert town.linli.app.repository.get(posted.id).status == "posted"


# --- redemptions and refunds ----------------------------------------------------------------
class TestRedeemingPoints:
    def test_a_redemption_moves_points_from_member_to_merchant(self, town):
        member_id, merchant_id = funded(town, 100), town.add_merchant()

        first = town.redeem(merchant_id, member_id, 30)
        rest = town.redeem(merchant_id, member_id, 70)

        assert (first.points, first.balance_after, rest.balance_after) == (30, 70, 0)
        town.settle()
        assert town.points(member_id) == AccountBalance(balance=0, held=0, earned=100)
        assert town.balance(merchant_id) == 100

    def test_a_redemption_beyond_the_balance_is_refused_and_moves_nothing(self, town):
        member_id, merchant_id = funded(town, 20), town.add_merchant()

        with pytest.raises(InsufficientBalance):
            town.redeem(merchant_id, member_id, 21)

        town.settle()
        assert (town.balance(member_id), town.balance(merchant_id)) == (20, 0)

    def test_a_member_of_another_community_is_not_found(self, town, linli):
        stranger = funded(CommandTown.found(linli), 50)
        merchant_id = town.add_merchant()

        with pytest.raises(NotFound):
            town.redeem(merchant_id, stranger, 10)

        town.settle()
        assert (town.balance(stranger), town.balance(merchant_id)) == (50, 0)


class TestRefunds:
    def test_partial_refunds_move_points_back_up_to_the_whole(self, town):
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        redemption = town.redeem(merchant_id, member_id, 30)

        first = town.refund(merchant_id, redemption.id, 10)
        town.linli.projections.catch_up()
        halfway = (town.balance(member_id), town.balance(merchant_id))
        second = town.refund(merchant_id, redemption.id, 20)

        assert (first.balance_after, second.balance_after) == (80, 100)
        assert halfway == (80, 20)
        town.settle()
        assert town.points(member_id) == AccountBalance(balance=100, held=0, earned=100)
        assert town.balance(merchant_id) == 0

    def test_a_refund_beyond_what_is_left_is_refused(self, town):
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        redemption = town.redeem(merchant_id, member_id, 30)
        town.refund(merchant_id, redemption.id, 10)

        with pytest.raises(RefundExceedsRedemption):
            town.refund(merchant_id, redemption.id, 21)

        town.settle()
        assert (town.balance(member_id), town.balance(merchant_id)) == (80, 20)

    def test_a_till_cannot_refund_without_the_points_or_for_another_merchant(self, town):
        member_id = funded(town, 100)
        merchant_id, other_id = town.add_merchant(), town.add_merchant()
        redemption = town.redeem(merchant_id, member_id, 30)
        town.adjust(merchant_id, OwnerKind.MERCHANT, -25)

        with pytest.raises(InsufficientBalance):
            town.refund(merchant_id, redemption.id, 10)
        with pytest.raises(NotFound):
            town.refund(other_id, redemption.id, 5)

        town.settle()
        assert (town.balance(member_id), town.balance(merchant_id)) == (70, 5)


class TestAuditorAdjustments:
    def test_an_adjustment_may_leave_a_member_below_zero_who_then_cannot_redeem(self, town):
        member_id, merchant_id = funded(town, 10), town.add_merchant()

        moved = town.adjust(member_id, OwnerKind.MEMBER, -25)
        with pytest.raises(InsufficientBalance):
            town.redeem(merchant_id, member_id, 1)

        assert moved.balance_after == -15
        town.settle()  # verify accepts it: an adjustment put it there
        assert town.balance(member_id) == -15
        assert town.system_balance("adjustments") == 25

    def test_a_member_below_zero_can_still_earn_points(self, town):
        member_id = funded(town, 10)
        town.adjust(member_id, OwnerKind.MEMBER, -25)

        result = town.award(member_id, "GIFT", quantity=10)

        assert result.points == 10
        town.settle()
        assert town.balance(member_id) == -5

    def test_a_credit_that_brings_the_balance_back_above_zero_is_taken(self, town):
        member_id = funded(town, 10)
        town.adjust(member_id, OwnerKind.MEMBER, -15)

        town.award(member_id, "GIFT", quantity=8)

        town.settle()
        assert town.balance(member_id) == 3


# --- the rulebook ---------------------------------------------------------------------------
class TestRuleRevisions:
    def test_a_revision_affects_only_later_awards(self, town):
        town.add_rule("PATROL", 10, name="巡逻")
        member_id = town.add_member()
        before = town.award(member_id, "PATROL")

        revised = town.add_rule("PATROL", 25, name="夜间巡逻")
        after = town.award(member_id, "PATROL")

        assert revised["version"] == 2
        assert (before.rule_version, before.points) == (1, 10)
        assert (after.rule_version, after.points) == (2, 25)
        stored = town.linli.app.repository.get(before.id)
        assert isinstance(stored, Award)
        assert (stored.rule_version, stored.points) == (1, 10)
        town.settle()
        assert town.balance(member_id) == 35

    def test_a_pending_award_is_approved_at_the_version_it_was_made_under(self, town):
        town.add_rule("SHOW", 10, requires_approval=True, name="文化展演")
        member_id = town.add_member()
        pending = town.award(member_id, "SHOW")
        town.add_rule("SHOW", 40, requires_approval=True, name="大型文化展演")

        approved = town.approve(pending.id)

        assert (approved.rule_version, approved.points) == (1, 10)
        town.settle()
        assert town.balance(member_id) == 10
        lines, _ = passbook(town.linli.engine, member_id, Asset.POINTS, limit=10, before=None)
        assert [x["description"] for x in lines] == ["文化展演"]


class TestTwoProcessesOnOneDatabase:
    """A second Linli on the same database (`other`) stands for a second API process."""

    def test_the_sealer_reads_the_log_for_what_another_process_wrote(self, town, other):
        """Positions this process did not commit (another's events between its own) are a gap
        in what it remembers: the sealer reads the log's headers, and one pass seals through
        the head (what this process committed taken from memory)."""
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        elsewhere = replace(town, linli=other)
        town.redeem(merchant_id, member_id, 1)
        elsewhere.redeem(merchant_id, member_id, 2)
        town.redeem(merchant_id, member_id, 3)
        sealer = town.linli.sealer
        assert sealer is not None

        sealed = [sealer.seal(), sealer.seal()]

        head = town.linli.app.recorder.max_notification_id()
        # After it only the audit log's own events (its opening and this checkpoint).
        assert sealed[0] is not None and head - sealed[0] == 2
        assert sealed[1] is None
        town.settle()  # every checkpoint recomputed from the log

    def test_a_rule_revised_in_another_process_applies_to_later_awards_here(self, town, other):
        town.add_rule("PATROL", 10)
        member_id = town.add_member()
        town.award(member_id, "PATROL")  # this process now holds the rule at version 1
        elsewhere = replace(town, linli=other)

        elsewhere.add_rule("PATROL", 25)
        later = town.award(member_id, "PATROL")

        assert (later.rule_version, later.points) == (2, 25)


# --- the audit trail ------------------------------------------------------------------------
def tamper(linli: Linli, aggregate_id: UUID, version: int, old: bytes, new: bytes) -> None:
    """Edit one stored event in place, as someone with database access could."""
    table = linli.app.recorder.events_table_name  # type: ignore[attr-defined]
    where = "originator_id = :id AND originator_version = :version"
    stored_id = str(aggregate_id) if linli.settings.is_postgres else aggregate_id.hex
    key = {"id": stored_id, "version": version}
    with linli.engine.begin() as conn:
        state = bytes(conn.execute(text(f"SELECT state FROM {table} WHERE {where}"),
                                   key).scalar_one())
        assert old in state
        conn.execute(text(f"UPDATE {table} SET state = :state WHERE {where}"),
                     {**key, "state": state.replace(old, new)})


class TestAuditTrail:
    def test_verify_finds_an_edited_event(self, town):
        member_id = funded(town, 10)
        honest = replace(town, auditor=Actor("auditor-honest", Role.AUDITOR,
                                             community_id=town.community_id))
        honest.adjust(member_id, OwnerKind.MEMBER, -3)
        town.settle()
        account_id = ids.account_id(member_id, Asset.POINTS.value)
        last = list(town.linli.app.events.get(account_id))[-1]

        tamper(town.linli, account_id, last.originator_version, b"auditor-honest",
               b"auditor-forged")

        edited = list(town.linli.app.events.get(account_id))[-1]
        assert edited.actor_id == "auditor-forged"
        assert not verify(town.linli.app, town.linli.engine).ok


class TestSealing:
    def test_a_checkpoint_of_what_this_process_committed_needs_no_read_of_the_log(
        self, town, monkeypatch
    ):
        """The sealer takes the positions and hashes this process committed from memory: the
        same checkpoint as the log's headers give, and the log is not read for it."""
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        for points in (5, 7, 9):
            town.redeem(merchant_id, member_id, points)
        sealer = town.linli.sealer
        assert sealer is not None
        remembered = sealer._span_after(0, GENESIS_HEX)
        monkeypatch.setattr(sealer, "committed", Committed())  # nothing remembered
        read = sealer._span_after(0, GENESIS_HEX)
        assert remembered is not None and remembered == read
        assert remembered.missing == [] and remembered.events == remembered.through > 3
        monkeypatch.undo()

        def unread(*_: Any) -> None:
            raise AssertionError("the log was read")

        monkeypatch.setattr("ledger.sealer.notification_headers", unread)
        assert sealer.seal() == remembered.through
        assert sealer.seal() is None  # only the checkpoint itself is new
        town.settle()  # verify recomputes the checkpoint from the log

    def test_a_busy_writer_wakes_the_sealer_before_what_it_remembers_overflows(
        self, town, monkeypatch
    ):
        """Past half of what it remembers, the writer wakes the sealer, however long its
        interval: the checkpoint comes from memory, and the log is never read back."""
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        sealer = town.linli.sealer
        assert sealer is not None
        small = Committed(most=60, filling=sealer.wake)
        monkeypatch.setattr(sealer, "committed", small)
        monkeypatch.setattr(town.linli.app.events, "committed", small)
        assert sealer.seal() is not None  # all before, read from the log
        reads: list[Any] = []
        monkeypatch.setattr("ledger.sealer.notification_headers",
                            lambda *args: reads.append(args) or [])
        sealer.interval_seconds = 3_600
        sealer.start()
        try:
            for redeemed in range(1, 41):  # 3 events each: the bound of 60 passed twice
                town.redeem(merchant_id, member_id, 1)
                if redeemed == 25:
                    wanted = town.linli.writer.last_position
            deadline = time.monotonic() + 30
            while (through := _sealed_through(town)) < wanted:
                assert time.monotonic() < deadline, (through, wanted)
                time.sleep(0.05)
        finally:
            sealer.stop()
        assert reads == []
        town.settle()  # verify recomputes every checkpoint from the log
