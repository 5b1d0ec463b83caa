"""Random histories of one community, checked against a model and the invariants of docs/model.md.

A hypothesis state machine runs awards (some needing approval), approvals, rejections,
reversals, redemptions (some with an idempotency key, some replayed), full and partial refunds
and auditor adjustments over 2-4 members and 2 merchants, predicting every balance and every
refusal. After each history: the books balance per asset (1), no member or merchant is below
zero unless an auditor adjusted it (2), a key takes effect at most once (3), every balance
equals the model, its passbook and a replay (4), and a rebuild gives identical views (5).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from api.bootstrap import Linli
from ledger import ids
from ledger.actor import Actor, Role
from ledger.commands import merchants
from ledger.commands import points as pts
from ledger.commands import registry as reg
from ledger.domain.assets import Asset, OwnerKind
from ledger.domain.awards import Award
from ledger.domain.consent import ConsentPolicy
from ledger.domain.policy import PointsPolicy
from ledger.domain.redemptions import Redemption
from ledger.errors import (
    CapReached,
    DomainError,
    InsufficientBalance,
    InvalidRequest,
    InvalidTransition,
    RefundExceedsRedemption,
)
from ledger.write.keyed import Idempotency, StoredResponse
from projections.queries import account_balance, asset_totals
from projections.tables import balances, passbook_lines
from projections.verify import verify

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # noon in Shanghai

ADMIN = Actor(id="admin-properties", role=Role.ADMIN)


@dataclass(frozen=True)
class RuleSpec:
    points: int
    unit: str
    daily_cap: int | None
    requires_approval: bool


RULES = {
    "GIFT": RuleSpec(points=1, unit="each", daily_cap=None, requires_approval=False),
    "SORT": RuleSpec(points=10, unit="each", daily_cap=60, requires_approval=False),
    "PATROL": RuleSpec(points=20, unit="hour", daily_cap=None, requires_approval=False),
    "SHOW": RuleSpec(points=15, unit="each", daily_cap=45, requires_approval=True),
}
EARNING_RULES = ["SORT", "PATROL", "SHOW"]


@dataclass
class AwardModel:
    id: UUID
    member: UUID
    code: str
    day: int
    points: int
    status: str


@dataclass
class RedemptionModel:
    id: UUID
    member: UUID
    merchant: UUID
    points: int
    refunded: int = 0


@dataclass(frozen=True)
class KeyedRequest:
    key: str
    member: UUID
    merchant: UUID
    points: int
    response: StoredResponse


def render(outcome: Any) -> StoredResponse:
    if isinstance(outcome, DomainError):
        return StoredResponse(409, f"{outcome.slug}: {outcome.detail}")
    return StoredResponse(201, str(outcome.id))


def table_rows(linli: Linli) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view's tables, in a fixed order (invariant 5 compares them)."""
    tables = [table for view in linli.projections.views for table in view.tables]
    with linli.engine.connect() as conn:
        return {
            table.name: sorted((tuple(r) for r in conn.execute(select(table))), key=repr)
            for table in tables
        }


def ledger_machine(linli: Linli) -> type[RuleBasedStateMachine]:
    """A state machine class bound to one running Linli; each example is a new community."""

    class Ledger(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.community_id: UUID | None = None
            self.members: list[UUID] = []
            self.merchants: list[UUID] = []
            self.balance: dict[UUID, int] = defaultdict(int)
            self.earned: dict[UUID, int] = defaultdict(int)
            self.adjusted: set[UUID] = set()
            self.cap_used: dict[tuple[UUID, str, int], int] = defaultdict(int)
            self.awards: list[AwardModel] = []
            self.redemptions: list[RedemptionModel] = []
            self.keyed: list[KeyedRequest] = []

        # --- helpers ----------------------------------------------------------------------
        def run(self, command: Any, expected: type[DomainError] | None) -> Any:
            event(f"{getattr(command, '__qualname__', '?').split('.')[0]}: "
                  f"{expected.__name__ if expected else 'ok'}")
            if expected is None:
                return linli.writer.execute(command)
            with pytest.raises(expected):
                linli.writer.execute(command)
            return None

        def till(self, merchant_id: UUID) -> Actor:
            return Actor(f"till-{merchant_id}", Role.MERCHANT, community_id=self.community_id,
                         merchant_id=merchant_id)

        @property
        def staff(self) -> Actor:
            return Actor("staff-properties", Role.STAFF, community_id=self.community_id)

        @property
        def auditor(self) -> Actor:
            return Actor("auditor-properties", Role.AUDITOR, community_id=self.community_id)

        # --- setting up -------------------------------------------------------------------
        @initialize(funds=st.lists(st.integers(0, 150), min_size=2, max_size=4))
        def found_community(self, funds: list[int]) -> None:
            name = f"社区-{uuid.uuid4().hex[:8]}"
            self.community_id = linli.writer.execute(reg.register_community(name, ADMIN)).id
            linli.writer.execute(merchants.set_policy(self.community_id, PointsPolicy(
                redemption_consent=ConsentPolicy.MEMBER_ID), ADMIN))
            for code, spec in RULES.items():
                linli.writer.execute(reg.put_rule(
                    self.community_id, code, name=code, points=spec.points, unit=spec.unit,
                    daily_cap=spec.daily_cap, monthly_cap=None,
                    requires_approval=spec.requires_approval, by=self.staff))
            self.members = [
                linli.writer.execute(reg.register_member(
                    self.community_id, f"居民{n}", None, None, self.staff)).id
                for n in range(len(funds))
            ]
            self.merchants = [
                linli.writer.execute(reg.register_merchant(
                    self.community_id, f"商户{n}", self.staff)).id
                for n in range(2)
            ]
            for member_id, points in zip(self.members, funds, strict=True):
                if points:
                    self.give(member_id, "GIFT", points, 0, 0)

        # --- awards -----------------------------------------------------------------------
        def give(self, member_id: UUID, code: str, amount: int, minutes: int,
                 day: int) -> None:
            spec = RULES[code]
            per_hour = spec.unit == "hour"
            points = spec.points * minutes // 60 if per_hour else spec.points * amount
            expected: type[DomainError] | None = None
            if points < 1:
                expected = InvalidRequest
            elif spec.daily_cap is not None:
                room = spec.daily_cap - self.cap_used[(member_id, code, day)]
                if room <= 0:
                    expected = CapReached
                points = min(points, room)
            command = pts.award(
                member_id, code, quantity=None if per_hour else amount,
                minutes=minutes if per_hour else None,
                occurred_at=NOW - timedelta(days=day), note="", now=NOW, by=self.staff)

            result = self.run(command, expected)

            if result is None:
                return
            status = "pending" if spec.requires_approval else "posted"
            assert (result.points, result.status) == (points, status)
            self.awards.append(AwardModel(result.id, member_id, code, day, points, status))
            self.cap_used[(member_id, code, day)] += points
            if status == "posted":
                self.balance[member_id] += points
                self.earned[member_id] += points

        @rule(member=st.integers(0, 3), code=st.sampled_from(EARNING_RULES),
              amount=st.integers(1, 4), minutes=st.integers(1, 180), day=st.integers(0, 1))
        def award(self, member: int, code: str, amount: int, minutes: int, day: int) -> None:
            self.give(self.members[member % len(self.members)], code, amount, minutes, day)

        @rule(member=st.integers(0, 3), amount=st.integers(1, 3), day=st.integers(0, 1))
        def award_needing_approval(self, member: int, amount: int, day: int) -> None:
            self.give(self.members[member % len(self.members)], "SHOW", amount, 0, day)

        def choose(self, pick: int, status: str, anything: bool) -> AwardModel:
            """An award in `status` when there is one (unless `anything`), else any award."""
            candidates = [a for a in self.awards if a.status == status]
            if anything or not candidates:
                candidates = self.awards
            return candidates[pick % len(candidates)]

        @precondition(lambda self: self.awards)
        @rule(pick=st.integers(0, 10_000), anything=st.booleans())
        def approve(self, pick: int, anything: bool) -> None:
            award = self.choose(pick, "pending", anything)
            expected = None if award.status == "pending" else InvalidTransition

            self.run(pts.approve_award(award.id, self.staff), expected)

            if expected is None:
                award.status = "posted"
                self.balance[award.member] += award.points
                self.earned[award.member] += award.points

        @precondition(lambda self: self.awards)
        @rule(pick=st.integers(0, 10_000), anything=st.booleans())
        def reject(self, pick: int, anything: bool) -> None:
            award = self.choose(pick, "pending", anything)
            expected = None if award.status == "pending" else InvalidTransition

            self.run(pts.reject_award(award.id, "材料不全", self.staff), expected)

            if expected is None:
                award.status = "rejected"
                self.cap_used[(award.member, award.code, award.day)] -= award.points

        @precondition(lambda self: self.awards)
        @rule(pick=st.integers(0, 10_000), anything=st.booleans())
        def reverse(self, pick: int, anything: bool) -> None:
            award = self.choose(pick, "posted", anything)
            expected: type[DomainError] | None = None
            if award.status != "posted":
                expected = InvalidTransition
            elif self.balance[award.member] < award.points:
                expected = InsufficientBalance

            self.run(pts.reverse_award(award.id, "重复登记", self.staff), expected)

            if expected is None:
                award.status = "reversed"
                self.balance[award.member] -= award.points
                self.earned[award.member] -= award.points
                self.cap_used[(award.member, award.code, award.day)] -= award.points

        # --- the till ---------------------------------------------------------------------
        def _redeem_model(self, member_id: UUID, merchant_id: UUID, points: int,
                          redemption_id: UUID) -> None:
            self.balance[member_id] -= points
            self.balance[merchant_id] += points
            self.redemptions.append(RedemptionModel(redemption_id, member_id, merchant_id,
                                                    points))

        @rule(member=st.integers(0, 3), merchant=st.integers(0, 1), points=st.integers(1, 40))
        def redeem(self, member: int, merchant: int, points: int) -> None:
            member_id = self.members[member % len(self.members)]
            merchant_id = self.merchants[merchant]
            enough = self.balance[member_id] >= points

            moved = self.run(pts.redeem(merchant_id, member_id, points, "大米",
                                        self.till(merchant_id), now=NOW),
                             None if enough else InsufficientBalance)

            if moved is not None:
                assert moved.balance_after == self.balance[member_id] - points
                self._redeem_model(member_id, merchant_id, points, moved.id)

        @rule(member=st.integers(0, 3), merchant=st.integers(0, 1), points=st.integers(1, 40),
              replay=st.none() | st.integers(0, 10_000))
        def redeem_with_key(self, member: int, merchant: int, points: int,
                            replay: int | None) -> None:
            if replay is not None and self.keyed:
                request = self.keyed[replay % len(self.keyed)]
            else:
                request = KeyedRequest(uuid.uuid4().hex, self.members[member % len(self.members)],
                                       self.merchants[merchant], points, StoredResponse(0, ""))
            till = self.till(request.merchant)
            spec = Idempotency(till.id, request.key,
                               f"{request.member}:{request.merchant}:{request.points}", render)
            command = pts.redeem(request.merchant, request.member, request.points, "食用油",
                                 till, now=NOW)
            first = not request.response.body
            enough = self.balance[request.member] >= request.points

            event(f"keyed redeem: {'first' if first else 'replay'}")
            response = linli.writer.execute_keyed(command, spec)

            if not first:  # the stored response again, and no second effect
                assert response == request.response
                return
            assert response.status_code == (201 if enough else 409), response
            self.keyed.append(KeyedRequest(request.key, request.member, request.merchant,
                                           request.points, response))
            if enough:
                self._redeem_model(request.member, request.merchant, request.points,
                                   UUID(response.body))

        @precondition(lambda self: self.redemptions)
        @rule(pick=st.integers(0, 10_000), full=st.booleans(), part=st.integers(1, 60))
        def refund(self, pick: int, full: bool, part: int) -> None:
            redemption = self.redemptions[pick % len(self.redemptions)]
            left = redemption.points - redemption.refunded
            points = left if full and left > 0 else part
            expected: type[DomainError] | None = None
            if points > left:
                expected = RefundExceedsRedemption
            elif self.balance[redemption.merchant] < points:
                expected = InsufficientBalance

            self.run(pts.refund(redemption.id, points, self.till(redemption.merchant), now=NOW),
                     expected)

            if expected is None:
                redemption.refunded += points
                self.balance[redemption.merchant] -= points
                self.balance[redemption.member] += points

        # --- auditors ---------------------------------------------------------------------
        @rule(owner=st.integers(0, 5),
              amount=st.integers(-40, 40).filter(lambda amount: amount != 0))
        def adjust(self, owner: int, amount: int) -> None:
            owners = [(m, OwnerKind.MEMBER) for m in self.members] + [
                (m, OwnerKind.MERCHANT) for m in self.merchants]
            owner_id, kind = owners[owner % len(owners)]

            moved = self.run(pts.adjust(owner_id, kind, Asset.POINTS, amount, "盘点差异",
                                        self.auditor), None)

            self.balance[owner_id] += amount
            self.adjusted.add(owner_id)
            assert moved.balance_after == self.balance[owner_id]

        # --- after the history ------------------------------------------------------------
        def teardown(self) -> None:
            if self.community_id is None:
                return
            linli.projections.catch_up()
            self.check_views_against_the_model()
            self.check_the_store_against_the_model()
            report = verify(linli.app, linli.engine)
            assert report.ok, report.problems
            before = table_rows(linli)
            linli.projections.rebuild()
            assert table_rows(linli) == before

        def check_views_against_the_model(self) -> None:
            cid = str(self.community_id)
            with linli.engine.connect() as conn:
                rows = conn.execute(
                    select(balances.c.account_id, balances.c.owner_id, balances.c.owner_kind,
                           balances.c.asset, balances.c.balance)
                    .where(balances.c.community_id == cid)).all()
                in_passbooks = dict(conn.execute(
                    select(passbook_lines.c.account_id, func.sum(passbook_lines.c.amount))
                    .group_by(passbook_lines.c.account_id)).all())
            per_asset: dict[str, int] = defaultdict(int)
            for row in rows:
                per_asset[row.asset] += row.balance
                if row.owner_kind == OwnerKind.SYSTEM:
                    continue
                owner = UUID(row.owner_id)
                assert row.balance >= 0 or owner in self.adjusted, row  # invariant 2
                assert int(in_passbooks.get(row.account_id) or 0) == row.balance, row
            assert set(per_asset.values()) <= {0}, per_asset  # invariant 1, this community
            assert set(asset_totals(linli.engine).values()) <= {0}  # and the whole store
            for owner in self.members + self.merchants:
                found = account_balance(linli.engine, owner, Asset.POINTS)
                assert found.balance == self.balance[owner], owner
            for member in self.members:
                assert account_balance(linli.engine, member, Asset.POINTS).earned == (
                    self.earned[member])
                assert account_balance(linli.engine, member, Asset.MINUTES).balance == 0
            issued = ids.system_account(self.community_id, Asset.POINTS.value, "issued")
            system = {row.account_id: row.balance for row in rows}
            assert -system.get(issued, 0) == sum(self.earned[m] for m in self.members)

        def check_the_store_against_the_model(self) -> None:
            repository = linli.app.repository
            for award in self.awards:
                stored = repository.get(award.id)
                assert isinstance(stored, Award)
                assert (stored.status, stored.points) == (award.status, award.points)
            for redemption in self.redemptions:
                stored = repository.get(redemption.id)
                assert isinstance(stored, Redemption)
                assert (stored.points, stored.refunded) == (redemption.points,
                                                            redemption.refunded)
            for owner in self.members + self.merchants:
                account = repository.get(ids.account_id(owner, Asset.POINTS.value))
                assert account.balance == self.balance[owner]

    return Ledger


class TestRandomHistories:
    def test_every_history_keeps_the_books_and_the_model_in_step(self, linli):
        machine = ledger_machine(linli)

        run_state_machine_as_test(machine, settings=settings(
            max_examples=15, stateful_step_count=30, deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture,
                                   HealthCheck.too_slow]))
