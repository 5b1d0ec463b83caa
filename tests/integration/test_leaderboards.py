"""The leaderboards view on SQLite and PostgreSQL: where batches end never matters, approvals,
and posting kinds it has never heard of."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from sqlalchemy import select, update

from api.bootstrap import Linli
from ledger import ids
from ledger.actor import Actor, Role
from ledger.commands import points as pts
from ledger.commands import registry as reg
from projections import leaderboards
from projections.leaderboard_ranking import ranking
from projections.leaderboards import LeaderboardsView
from projections.pending_awards import PendingAwardsView
from projections.registry_view import RegistryView
from projections.runner import ProjectionRunner
from projections.tables import leaderboard_pending, monthly_postings, tracking
from projections.view import POSTED, Positioned

NOW = datetime(2098, 11, 23, 18, 0, tzinfo=UTC)
ADMIN = Actor("admin-tests", Role.ADMIN)


def found(linli: Linli) -> tuple[UUID, UUID, list[UUID]]:
    """A community with one grid, one household of two and a member alone."""
    run = linli.writer.execute
    community = run(reg.register_community(f"社区-{uuid.uuid4().hex[:6]}", ADMIN)).id
    run(reg.put_rule(community, "GIFT", name="志愿服务", points=1, unit="each", daily_cap=None,
                     monthly_cap=None, requires_approval=False, by=ADMIN))
    run(reg.put_rule(community, "CHECKED", name="纠纷调解", points=20, unit="each",
                     daily_cap=None, monthly_cap=None, requires_approval=True, by=ADMIN))
    grid = run(reg.add_grid(community, "一网格", ADMIN)).id
    home = run(reg.register_household(community, grid, "1栋101", ADMIN)).id
    members = [run(reg.register_member(community, name, household, None, ADMIN)).id
               for name, household in (("王秀英", home), ("王建国", home), ("李桂兰", None))]
    return community, home, members


def award(member: UUID, quantity: int, when: str, code: str = "GIFT") -> Any:
    return pts.award(member, code, quantity=quantity, minutes=None,
                     occurred_at=datetime.fromisoformat(when).replace(tzinfo=UTC), note="",
                     now=NOW, by=ADMIN)


def board(linli: Linli, community: UUID, period: str = "all",
          subject: str = "member") -> list[tuple[str, int]]:
    linli.projections.catch_up()
    return [(s.subject_id, s.earned) for s in ranking(
        linli.engine, str(community), period=period, subject=subject, asset="POINTS",
        grid_id=None, limit=50, public=False)]


def contents(linli: Linli) -> dict[str, list[tuple[Any, ...]]]:
    with linli.engine.connect() as conn:
        return {table.name: sorted(tuple(row) for row in conn.execute(select(table)))
                for view in (RegistryView(), LeaderboardsView()) for table in view.tables}


class TestWhereBatchesEnd:
    def test_one_event_a_batch_gives_what_the_live_view_holds(self, linli):
        community, home, (wang, jian, li) = found(linli)
        # Submitted together, they commit as one group: every account's postings come before
        # every award's Recorded event, so single-event batches split them apart.
        futures = [linli.writer.submit(award(member, quantity, when)) for member, quantity, when
                   in ((wang, 10, "2098-10-01T01:00:00"), (jian, 5, "2098-11-01T01:00:00"),
                       (li, 12, "2098-09-30T17:00:00"), (wang, 3, "2098-11-02T01:00:00"))]
        awarded = [f.result() for f in futures]
        linli.writer.execute(pts.reverse_award(awarded[1].id, "重复登记", ADMIN))
        expected = {"all": [(str(wang), 13), (str(li), 12)],
                    "2098-10": [(str(li), 12), (str(wang), 10)],
                    "2098-11": [(str(wang), 3)]}
        assert {p: board(linli, community, p) for p in expected} == expected
        assert board(linli, community, "2098-Q4", "household") == [(str(home), 13)]
        live = contents(linli)
        assert live["leaderboard_pending"] == []

        # Rebuilt in one transaction, one event a batch.
        ProjectionRunner(linli.app, linli.engine, rebuild_batch_events=1).rebuild(
            ["registry", "leaderboards"])
        assert contents(linli) == live

        # Followed live from the start, one event a batch, one transaction each.
        linli.projections.stop()
        with linli.engine.begin() as conn:
            for table in LeaderboardsView.tables:
                conn.execute(table.delete())
            conn.execute(update(tracking).where(tracking.c.name == "leaderboards")
                         .values(position=0))
        follower = ProjectionRunner(linli.app, linli.engine, views=[LeaderboardsView()],
                                    batch_events=1)
        waited = 0
        while follower.run_once() > 0:
            with linli.engine.connect() as conn:
                waited = max(waited, len(conn.execute(select(leaderboard_pending)).all()))
        assert waited >= 2  # postings really did wait for their awards
        assert contents(linli) == live


class TestApprovals:
    def test_a_pending_award_counts_once_approved_never_when_rejected(self, linli):
        community, _, (wang, jian, _) = found(linli)
        approved = linli.writer.execute(award(wang, 1, "2098-11-01T01:00:00", "CHECKED"))
        rejected = linli.writer.execute(award(jian, 2, "2098-11-01T01:00:00", "CHECKED"))
        assert board(linli, community) == []

        linli.writer.execute(pts.approve_award(approved.id, ADMIN))
        linli.writer.execute(pts.reject_award(rejected.id, "材料不全", ADMIN))
        assert board(linli, community, "2098-11") == [(str(wang), 20)]


class TestKindsNotYetKnown:
    def test_earned_is_what_the_account_counts_whatever_the_kind(self, linli):
        """A posting kind added later needs no change here: it is earned when the account
        counts it as earned, and it is summed by kind."""
        community, _, (wang, _, _) = found(linli)
        linli.projections.catch_up()
        minutes = str(ids.account_id(wang, "MINUTES"))
        points = str(ids.account_id(wang, "POINTS"))

        def posting(position: int, account: str, kind: str, amount: int,
                    earned_after: int) -> Positioned:
            return Positioned(position, POSTED, SimpleNamespace(
                originator_id=account, transaction_id=uuid.uuid4(), kind=kind, amount=amount,
                earned_after=earned_after, timestamp=datetime(2098, 11, 3, tzinfo=UTC)), account)

        with linli.engine.begin() as conn:
            LeaderboardsView().apply(conn, [
                posting(10**12, minutes, "bonus", 90, 90),
                posting(10**12 + 1, points, "expiry", -5, 0),
            ])
        minutes_board = ranking(linli.engine, str(community), period="2098-11",
                                subject="member", asset="MINUTES", grid_id=None, limit=5,
                                public=False)
        assert [(s.subject_id, s.earned) for s in minutes_board] == [(str(wang), 90)]
        assert board(linli, community) == []
        with linli.engine.connect() as conn:
            sums = conn.execute(select(monthly_postings.c.asset, monthly_postings.c.kind,
                                       monthly_postings.c.amount)
                                .where(monthly_postings.c.community_id == str(community))
                                .order_by(monthly_postings.c.asset)).all()
        assert [tuple(row) for row in sums] == [("MINUTES", "bonus", 90),
                                                ("POINTS", "expiry", -5)]


class TestAccountsKeptBetweenBatches:
    """The view keeps the members' accounts (and what they earned) from batch to batch; what
    it keeps must never outlive a batch that was not stored, nor another runner's batches."""

    def test_a_batch_that_failed_counts_in_full_when_it_is_applied_again(
            self, linli, monkeypatch):
        community, _, (wang, _, _) = found(linli)
        linli.projections.stop()
        linli.writer.execute(award(wang, 10, "2098-11-01T01:00:00"))
        runner = ProjectionRunner(linli.app, linli.engine)
        runner.catch_up()  # the view now keeps wang's account: 10 earned
        linli.writer.execute(award(wang, 5, "2098-11-02T01:00:00"))
        # A view that follows awards, applied after the leaderboards in the same transaction.
        last = next(v for v in runner.views if isinstance(v, PendingAwardsView))
        assert runner.views.index(last) > next(
            i for i, v in enumerate(runner.views) if isinstance(v, LeaderboardsView))
        apply = last.apply

        def fails_once(conn: Any, events: Any) -> None:
            monkeypatch.setattr(last, "apply", apply)
            raise RuntimeError("the batch failed after the leaderboards applied it")

        monkeypatch.setattr(last, "apply", fails_once)
        try:
            runner.catch_up()
        except RuntimeError:
            pass
        else:
            raise AssertionError("the batch did not fail")
        runner.catch_up()

        assert board(linli, community, "2098-11") == [(str(wang), 15)]

    def test_a_batch_another_runner_applied_counts_once(self, linli):
        community, _, (wang, jian, _) = found(linli)
        linli.projections.stop()
        first, second = (ProjectionRunner(linli.app, linli.engine) for _ in range(2))
        for quantity, runner in ((10, first), (5, second), (7, first), (1, second)):
            linli.writer.execute(award(wang, quantity, "2098-11-01T01:00:00"))
            linli.writer.execute(award(jian, 1, "2098-11-01T01:00:00"))
            while runner.run_once() > 0:  # the first time, it finds the other moved on
                pass

        assert board(linli, community, "2098-11") == [(str(wang), 23), (str(jian), 4)]

    def test_past_the_accounts_it_may_keep_it_reads_them_again(self, linli, monkeypatch):
        community, _, (wang, jian, li) = found(linli)
        monkeypatch.setattr(leaderboards, "ACCOUNTS_HELD", 1)
        linli.projections.stop()
        runner = ProjectionRunner(linli.app, linli.engine, batch_events=1)
        view = next(v for v in runner.views if isinstance(v, LeaderboardsView))
        for member in (wang, jian, li, wang):
            linli.writer.execute(award(member, 2, "2098-11-01T01:00:00"))
            runner.catch_up()
            assert len(view._accounts) + len(view._others) <= 2  # all three, unbounded

        assert board(linli, community, "2098-11") == [(str(wang), 4), (str(jian), 2),
                                                      (str(li), 2)]
