"""Pure domain tests: aggregates built and driven in memory, no database, no writer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger import ids
from ledger.actor import Actor, Role
from ledger.domain.accounts import Account, cap_keys_for
from ledger.domain.assets import Asset, OwnerKind, PostingKind
from ledger.domain.awards import Award, AwardStatus
from ledger.domain.redemptions import Redemption
from ledger.domain.registry import Community
from ledger.domain.rulebook import Rule
from ledger.errors import (
    AwardAlreadyReversed,
    CapReached,
    InsufficientBalance,
    InvalidTransition,
    NotFound,
    RefundExceedsRedemption,
    ReversalExceedsAward,
    RuleRetired,
)
from ledger.limits import BACKDATE_MAX_DAYS, CAP_HISTORY_DAYS

STAFF = Actor(id="staff-domain", role=Role.STAFF)
AUDITOR = Actor(id="auditor-domain", role=Role.AUDITOR)
MERCHANT = Actor(id="till-domain", role=Role.MERCHANT)


# --- builders -------------------------------------------------------------------------------
def new_account(asset: Asset = Asset.POINTS, kind: OwnerKind = OwnerKind.MEMBER) -> Account:
    return Account.open(uuid4(), kind, uuid4(), asset, STAFF)


def credit(account: Account, amount: int, *, kind: PostingKind = PostingKind.AWARD,
           cap_keys: list[str] | None = None, cap_already_reserved: bool = False) -> UUID:
    transaction_id = uuid4()
    account.post(amount=amount, kind=kind, transaction_id=transaction_id,
                 counter_account=ids.system_account(account.community_id, account.asset,
                                                    "issued"),
                 by=STAFF, cap_keys=cap_keys, cap_already_reserved=cap_already_reserved)
    return transaction_id


def debit(account: Account, amount: int, *, kind: PostingKind = PostingKind.REDEMPTION,
          allow_negative: bool = False, cap_keys: list[str] | None = None) -> None:
    account.post(amount=-amount, kind=kind, transaction_id=uuid4(),
                 counter_account=f"account:{uuid4()}", by=AUDITOR if allow_negative else STAFF,
                 allow_negative=allow_negative, cap_keys=cap_keys)


def funded_account(balance: int) -> Account:
    account = new_account()
    credit(account, balance)
    return account


def daily_key(rule_code: str, day: date) -> str:
    return cap_keys_for(rule_code, day)[0]


def new_award(points: int = 10, status: AwardStatus = AwardStatus.PENDING) -> Award:
    return Award(
        member_id=uuid4(), community_id=uuid4(), rule_code="VOLUNTEER", rule_version=1,
        quantity=1, minutes=None, points=points, status=status.value,
        occurred_at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC), cap_keys=[], note="",
        actor_id=STAFF.id, actor_role=STAFF.role.value,
    )


def new_redemption(points: int) -> Redemption:
    return Redemption(merchant_id=uuid4(), member_id=uuid4(), community_id=uuid4(),
                      points=points, description="大米 5kg", actor_id=MERCHANT.id,
                      actor_role=MERCHANT.role.value)


def replay(events: list[Any]) -> Account:
    aggregate = None
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    assert isinstance(aggregate, Account)
    return aggregate


# --- accounts -------------------------------------------------------------------------------
class TestOpeningAnAccount:
    def test_a_new_account_is_empty_and_records_who_opened_it(self):
        owner, community = uuid4(), uuid4()

        account = Account.open(owner, OwnerKind.MEMBER, community, Asset.MINUTES, STAFF)

        assert account.id == ids.account_id(owner, "MINUTES")
        assert (account.balance, account.held, account.earned, account.available) == (0, 0, 0, 0)
        assert account.cap_usage == {}
        [opened] = account.pending_events
        assert (opened.actor_id, opened.actor_role) == (STAFF.id, "staff")

    def test_the_account_id_is_derived_from_owner_and_asset(self):
        owner = uuid4()

        points = Account.open(owner, OwnerKind.MEMBER, uuid4(), Asset.POINTS, STAFF)
        minutes = Account.open(owner, OwnerKind.MEMBER, uuid4(), Asset.MINUTES, STAFF)

        assert points.id != minutes.id
        assert points.id == Account.create_id(owner, "POINTS")


class TestPostingToAnAccount:
    def test_a_credit_raises_balance_and_records_balance_after(self):
        account = new_account()

        credit(account, 30)
        debit(account, 12)

        assert account.balance == 18
        posted = account.pending_events[1:]
        assert [(e.amount, e.balance_after) for e in posted] == [(30, 30), (-12, 18)]

    def test_a_debit_of_the_whole_balance_leaves_zero(self):
        account = funded_account(25)

        debit(account, 25)

        assert account.balance == 0

    def test_a_debit_beyond_available_raises_and_triggers_no_event(self):
        account = funded_account(40)
        events_before = list(account.pending_events)
        version_before = account.version

        with pytest.raises(InsufficientBalance):
            debit(account, 41)

        assert account.pending_events == events_before
        assert account.version == version_before
        assert account.balance == 40

    def test_an_empty_account_refuses_any_debit(self):
        account = new_account(kind=OwnerKind.MERCHANT)

        with pytest.raises(InsufficientBalance):
            debit(account, 1, kind=PostingKind.REFUND)

        assert len(account.pending_events) == 1

    def test_replaying_the_events_gives_the_same_state(self):
        account = funded_account(50)
        debit(account, 20)
        credit(account, 5, cap_keys=[daily_key("R", date(2026, 11, 23))])

        copy = replay(list(account.pending_events))

        assert (copy.balance, copy.earned, copy.cap_usage, copy.version) == (
            account.balance, account.earned, account.cap_usage, account.version)


class TestEarnedPoints:
    def test_awards_count_as_earned_and_spending_does_not_lower_it(self):
        account = new_account()

        credit(account, 30)
        debit(account, 20)
        credit(account, 4, kind=PostingKind.REFUND)

        assert (account.balance, account.earned) == (14, 30)

    def test_a_reversal_takes_back_what_was_earned(self):
        account = funded_account(30)

        debit(account, 30, kind=PostingKind.AWARD_REVERSAL)

        assert (account.balance, account.earned) == (0, 0)


class TestAdjustments:
    def test_an_adjustment_may_take_the_balance_below_zero(self):
        account = funded_account(10)

        debit(account, 35, kind=PostingKind.ADJUSTMENT, allow_negative=True)

        assert account.balance == -25
        assert account.available == -25
        assert account.pending_events[-1].kind == "adjustment"

    def test_below_zero_an_ordinary_debit_is_still_refused(self):
        account = funded_account(10)
        debit(account, 15, kind=PostingKind.ADJUSTMENT, allow_negative=True)
        events = len(account.pending_events)

        with pytest.raises(InsufficientBalance):
            debit(account, 1)

        assert len(account.pending_events) == events

    def test_a_credit_may_leave_an_adjusted_account_still_below_zero(self):
        account = new_account()
        debit(account, 15, kind=PostingKind.ADJUSTMENT, allow_negative=True)

        credit(account, 10)

        assert account.balance == -5

    def test_a_credit_brings_an_adjusted_account_back(self):
        account = new_account()
        debit(account, 5, kind=PostingKind.ADJUSTMENT, allow_negative=True)

        credit(account, 8)

        assert account.balance == 3


# --- caps -----------------------------------------------------------------------------------
class TestCapKeys:
    def test_keys_name_the_rule_the_day_and_the_month(self):
        assert cap_keys_for("PATROL", date(2026, 3, 7)) == (
            "PATROL|D|2026-03-07", "PATROL|M|2026-03")


class TestCapRoom:
    def test_nothing_caps_an_account_without_caps(self):
        account = new_account()

        assert account.cap_room([]) is None

    def test_room_is_the_cap_when_nothing_was_awarded(self):
        daily, monthly = cap_keys_for("R", date(2026, 11, 23))

        assert new_account().cap_room([(daily, 20), (monthly, 100)]) == 20

    def test_room_is_the_smallest_left_under_every_cap(self):
        account = new_account()
        daily, monthly = cap_keys_for("R", date(2026, 11, 23))
        credit(account, 15, cap_keys=[daily, monthly])

        assert account.cap_room([(daily, 20)]) == 5
        assert account.cap_room([(monthly, 100)]) == 85
        assert account.cap_room([(daily, 20), (monthly, 100)]) == 5
        assert account.cap_room([(daily, 100), (monthly, 18)]) == 3

    def test_a_reached_cap_raises(self):
        account = new_account()
        daily, monthly = cap_keys_for("R", date(2026, 11, 23))
        credit(account, 20, cap_keys=[daily, monthly])

        with pytest.raises(CapReached):
            account.cap_room([(daily, 20), (monthly, 100)])

    def test_usage_is_kept_per_rule_and_per_day(self):
        account = new_account()
        credit(account, 20, cap_keys=list(cap_keys_for("R", date(2026, 11, 23))))

        assert account.cap_room([(daily_key("R", date(2026, 11, 24)), 20)]) == 20
        assert account.cap_room([(daily_key("OTHER", date(2026, 11, 23)), 20)]) == 20

    def test_spending_does_not_give_back_cap_room(self):
        account = new_account()
        key = daily_key("R", date(2026, 11, 23))
        credit(account, 10, cap_keys=[key])

        debit(account, 10, cap_keys=[key])

        assert account.cap_usage[key] == 10

    def test_a_reversal_gives_back_cap_room(self):
        account = new_account()
        key = daily_key("R", date(2026, 11, 23))
        credit(account, 10, cap_keys=[key])

        debit(account, 10, kind=PostingKind.AWARD_REVERSAL, cap_keys=[key])

        assert account.cap_room([(key, 10)]) == 10


class TestCapReservations:
    def test_a_reservation_counts_against_the_cap(self):
        account = new_account()
        key = daily_key("R", date(2026, 11, 23))

        account.reserve_cap(award_id=uuid4(), cap_keys=[key], points=7, by=STAFF)

        assert account.cap_room([(key, 10)]) == 3
        assert account.balance == 0

    def test_a_release_gives_the_room_back(self):
        account = new_account()
        key, award_id = daily_key("R", date(2026, 11, 23)), uuid4()
        account.reserve_cap(award_id=award_id, cap_keys=[key], points=7, by=STAFF)

        account.release_cap(award_id=award_id, cap_keys=[key], points=7, by=STAFF)

        assert account.cap_room([(key, 10)]) == 10

    def test_posting_a_reserved_award_does_not_count_it_twice(self):
        account = new_account()
        key = daily_key("R", date(2026, 11, 23))
        account.reserve_cap(award_id=uuid4(), cap_keys=[key], points=7, by=STAFF)

        credit(account, 7, cap_keys=[key], cap_already_reserved=True)

        assert account.cap_usage[key] == 7
        assert (account.balance, account.earned) == (7, 7)


class TestCapHistory:
    def test_usage_older_than_the_history_is_forgotten(self):
        account = new_account()
        old_day = date(2026, 1, 10)
        old = daily_key("R", old_day)
        credit(account, 5, cap_keys=[old])

        credit(account, 5, cap_keys=[daily_key("R", old_day + timedelta(CAP_HISTORY_DAYS + 1))])

        assert old not in account.cap_usage
        assert len(account.cap_usage) == 1

    def test_usage_exactly_at_the_horizon_is_kept(self):
        account = new_account()
        old_day = date(2026, 1, 10)
        old = daily_key("R", old_day)
        credit(account, 5, cap_keys=[old])

        credit(account, 5, cap_keys=[daily_key("R", old_day + timedelta(CAP_HISTORY_DAYS))])

        assert account.cap_usage[old] == 5

    def test_forgetting_applies_to_every_rule(self):
        account = new_account()
        old = daily_key("OTHER", date(2026, 1, 10))
        credit(account, 5, cap_keys=[old])

        credit(account, 5, cap_keys=[daily_key("R", date(2026, 6, 30))])

        assert old not in account.cap_usage

    def test_recent_usage_stays_in_a_replay(self):
        account = new_account()
        recent = daily_key("R", date(2026, 6, 1))
        credit(account, 5, cap_keys=[recent])
        credit(account, 5, cap_keys=[daily_key("R", date(2026, 6, 2))])

        copy = replay(list(account.pending_events))

        assert copy.cap_usage == {recent: 5, daily_key("R", date(2026, 6, 2)): 5}

    def test_usage_of_a_day_still_open_to_backdating_is_kept(self):
        account = new_account()
        today = date(2026, 11, 2)
        backdated = today - timedelta(days=BACKDATE_MAX_DAYS - 2)
        credit(account, 10, cap_keys=list(cap_keys_for("R", backdated)))

        credit(account, 1, cap_keys=list(cap_keys_for("R", today)))

        assert account.cap_usage.get(daily_key("R", backdated)) == 10


# --- awards ---------------------------------------------------------------------------------
class TestApprovingAnAward:
    def test_a_pending_award_is_posted(self):
        award = new_award()

        award.approve(STAFF)

        assert award.status == AwardStatus.POSTED
        assert award.pending_events[-1].actor_id == STAFF.id

    @pytest.mark.parametrize("status", [AwardStatus.POSTED, AwardStatus.REJECTED,
                                        AwardStatus.REVERSED])
    def test_only_a_pending_award_can_be_approved(self, status):
        award = new_award(status=status)
        events = len(award.pending_events)

        with pytest.raises(InvalidTransition):
            award.approve(STAFF)

        assert (award.status, len(award.pending_events)) == (status, events)

    def test_an_award_cannot_be_approved_twice(self):
        award = new_award()
        award.approve(STAFF)

        with pytest.raises(InvalidTransition):
            award.approve(STAFF)


class TestRejectingAnAward:
    def test_a_pending_award_is_rejected_with_its_reason(self):
        award = new_award()

        award.reject("照片不清楚", STAFF)

        assert (award.status, award.reason) == (AwardStatus.REJECTED, "照片不清楚")

    def test_a_posted_award_cannot_be_rejected(self):
        award = new_award(status=AwardStatus.POSTED)

        with pytest.raises(InvalidTransition):
            award.reject("too late", STAFF)

        assert award.reason is None


class TestReversingAnAward:
    def test_a_posted_award_is_reversed_with_its_reason(self):
        award = new_award(status=AwardStatus.POSTED)

        award.reverse("recorded twice", STAFF)

        assert (award.status, award.reason) == (AwardStatus.REVERSED, "recorded twice")

    def test_an_approved_award_can_be_reversed(self):
        award = new_award()
        award.approve(STAFF)

        award.reverse("wrong member", STAFF)

        assert award.status == AwardStatus.REVERSED

    @pytest.mark.parametrize("status", [AwardStatus.PENDING, AwardStatus.REJECTED,
                                        AwardStatus.REVERSED])
    def test_only_a_posted_award_can_be_reversed(self, status):
        award = new_award(status=status)
        events = len(award.pending_events)

        with pytest.raises(InvalidTransition):
            award.reverse("no", STAFF)

        assert (award.status, len(award.pending_events)) == (status, events)

    def test_parts_add_up_to_at_most_the_award(self):
        award = new_award(status=AwardStatus.POSTED)
        whole = award.points

        assert award.reverse("part", STAFF, 1) == 1
        assert (award.status, award.reversed_points, award.points_left) == (
            AwardStatus.POSTED, 1, whole - 1)
        with pytest.raises(ReversalExceedsAward):
            award.reverse("too much", STAFF, whole)
        assert award.reverse("the rest", STAFF) == whole - 1
        assert (award.status, award.reversed_points) == (AwardStatus.REVERSED, whole)
        with pytest.raises(AwardAlreadyReversed):
            award.reverse("again", STAFF, 1)


# --- redemptions ----------------------------------------------------------------------------
class TestRefundingARedemption:
    def test_a_partial_refund_leaves_the_rest_refundable(self):
        redemption = new_redemption(30)

        redemption.refund(uuid4(), 12, redemption.lots_to_return(12), MERCHANT)

        assert (redemption.refunded, redemption.refundable) == (12, 18)

    def test_partial_refunds_may_add_up_to_the_whole(self):
        redemption = new_redemption(30)

        redemption.refund(uuid4(), 12, redemption.lots_to_return(12), MERCHANT)
        redemption.refund(uuid4(), 18, redemption.lots_to_return(18), MERCHANT)

        assert redemption.refundable == 0

    def test_a_refund_beyond_what_is_left_raises_and_triggers_no_event(self):
        redemption = new_redemption(30)
        redemption.refund(uuid4(), 25, redemption.lots_to_return(25), MERCHANT)
        events = list(redemption.pending_events)

        with pytest.raises(RefundExceedsRedemption):
            redemption.refund(uuid4(), 6, redemption.lots_to_return(6), MERCHANT)

        assert redemption.pending_events == events
        assert redemption.refundable == 5

    def test_a_refund_larger_than_the_redemption_raises(self):
        redemption = new_redemption(10)

        with pytest.raises(RefundExceedsRedemption):
            redemption.refund(uuid4(), 11, redemption.lots_to_return(11), MERCHANT)

        assert redemption.refunded == 0


# --- rulebook -------------------------------------------------------------------------------
class TestRuleVersions:
    def revise(self, rule: Rule, points: int, **changes) -> None:  # type: ignore[no-untyped-def]
        fields = {"name": "志愿服务", "points": points, "unit": "each", "daily_cap": None,
                  "monthly_cap": None, "requires_approval": False, **changes}
        rule.revise(by=STAFF, **fields)

    def test_a_new_rule_has_no_version(self):
        community_id = uuid4()

        rule = Rule.create(community_id, "VOLUNTEER", STAFF)

        assert rule.versions == []
        assert rule.id == ids.rule_id(community_id, "VOLUNTEER")

    def test_the_first_revision_is_version_1(self):
        rule = Rule.create(uuid4(), "VOLUNTEER", STAFF)

        self.revise(rule, 10)

        assert rule.current["version"] == 1
        assert rule.current["points"] == 10

    def test_versions_accumulate_and_keep_the_old_ones(self):
        rule = Rule.create(uuid4(), "VOLUNTEER", STAFF)
        self.revise(rule, 10)

        self.revise(rule, 15, daily_cap=30, requires_approval=True)

        assert [v["version"] for v in rule.versions] == [1, 2]
        assert rule.versions[0]["points"] == 10
        assert rule.current == {
            "version": 2, "name": "志愿服务", "points": 15, "unit": "each", "daily_cap": 30,
            "monthly_cap": None, "requires_approval": True, "effective_at": None,
        }

    def test_a_deed_is_priced_by_the_version_in_force_when_it_was_done(self):
        rule = Rule.create(uuid4(), "VOLUNTEER", STAFF)
        october, december = (datetime(2026, 10, 1, tzinfo=UTC),
                             datetime(2026, 12, 1, tzinfo=UTC))
        self.revise(rule, 10, effective_at=october)
        self.revise(rule, 20, effective_at=december)

        assert rule.in_force_at(datetime(2026, 11, 30, tzinfo=UTC))["points"] == 10
        assert rule.in_force_at(december)["points"] == 20
        assert rule.in_force_at(datetime(2026, 9, 1, tzinfo=UTC))["points"] == 10  # the first

    def test_a_retired_rule_refuses_awards_until_a_new_version(self):
        rule = Rule.create(uuid4(), "VOLUNTEER", STAFF)
        self.revise(rule, 10)
        rule.retire("不再开展", STAFF)

        with pytest.raises(RuleRetired):
            rule.check_open()
        with pytest.raises(RuleRetired):
            rule.retire("again", STAFF)
        self.revise(rule, 12)
        rule.check_open()
        assert (rule.retired, rule.current["version"]) == (False, 2)


# --- registry -------------------------------------------------------------------------------
class TestPassbookNumbers:
    def test_numbers_are_sequential_with_the_community_code(self):
        community = Community.register("116社区", 1, STAFF)

        numbers = [community.issue_passbook_number(uuid4(), STAFF) for _ in range(3)]

        assert community.code == "0001"
        assert numbers == ["0001-000001", "0001-000002", "0001-000003"]

    def test_the_next_number_is_only_issued_once_recorded(self):
        community = Community.register("湖滨社区", 2, STAFF)

        first = community.next_passbook_number()
        again = community.next_passbook_number()

        assert first == again == f"{community.code}-000001"
        assert community.passbooks_issued == 0

    def test_each_community_counts_on_its_own(self):
        one = Community.register("一社区", 3, STAFF)
        two = Community.register("二社区", 4, STAFF)
        one.issue_passbook_number(uuid4(), STAFF)

        number = two.issue_passbook_number(uuid4(), STAFF)

        assert number == f"{two.code}-000001"


class TestCommunityRegistry:
    def test_the_default_time_zone_is_shanghai(self):
        assert Community.register("116社区", 1, STAFF).time_zone == "Asia/Shanghai"

    def test_a_grid_that_was_added_is_known(self):
        community = Community.register("116社区", 1, STAFF)

        grid_id = community.add_grid("第一网格", STAFF)

        community.check_grid(grid_id)
        community.check_grid(None)
        assert community.grids == {str(grid_id): "第一网格"}

    def test_an_unknown_grid_is_not_found(self):
        community = Community.register("116社区", 1, STAFF)

        with pytest.raises(NotFound):
            community.check_grid(uuid4())

    def test_a_rule_code_is_listed_once(self):
        community = Community.register("116社区", 1, STAFF)

        community.add_rule_code("PATROL", STAFF)
        community.add_rule_code("PATROL", STAFF)

        assert community.rule_codes == ["PATROL"]
