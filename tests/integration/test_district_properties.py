"""Random histories of a district's 通存通兑, checked against a model.

A hypothesis state machine runs withdrawals of members' minutes at the counters of other
communities (of the same district, and of a district with an agreement), months passing, and
settlements of past periods by either district (some empty, overlapping or not over, and so
refused). After every step: each community's net position equals the sum of its cross-community
postings not yet settled, the positions of all communities sum to zero, and a refused
settlement changed nothing. At the end the views' positions equal the aggregates'.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from eventsourcing.application import AggregateNotFoundError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from api.bootstrap import Linli
from ledger.actor import Actor, Role
from ledger.commands import districts, timebank
from ledger.commands import registry as reg
from ledger.domain.districts import month_key
from ledger.domain.timebank import Interchange
from ledger.errors import NothingToSettle
from projections.districts import positions

ADMIN = Actor(id="admin-district-properties", role=Role.ADMIN)
START = datetime(2097, 1, 15, 4, 0, tzinfo=UTC)
SIZES = (3, 1)  # communities of the district, and of the one it has an agreement with


def district_machine(linli: Linli) -> type[RuleBasedStateMachine]:
    class Interchanges(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.districts: list[UUID] = []
            self.district_of: dict[UUID, UUID] = {}
            self.communities: list[UUID] = []
            self.members: dict[UUID, UUID] = {}  # community -> its member
            self.month = 0  # months after START
            # (debtor, creditor, month) -> minutes not settled yet
            self.open: dict[tuple[UUID, UUID, str], int] = defaultdict(int)
            self.settled: dict[UUID, set[str]] = defaultdict(set)

        def now(self) -> datetime:
            return START + timedelta(days=31 * self.month)

        @initialize()
        def found_districts(self) -> None:
            run = linli.writer.execute
            for size in SIZES:
                district = run(districts.register_district(f"街道-{uuid.uuid4().hex[:6]}",
                                                           ADMIN)).id
                self.districts.append(district)
                for _ in range(size):
                    community = run(reg.register_community(f"社区-{uuid.uuid4().hex[:6]}",
                                                           ADMIN)).id
                    run(districts.add_community(district, community, ADMIN))
                    self.district_of[community] = district
                    self.communities.append(community)
                    member = run(reg.register_member(community, "居民", None, None, ADMIN)).id
                    for _ in range(2):  # more than 25 withdrawals of an hour can take
                        run(timebank.deposit(member, None, 1_440, "助洁", None, None, ADMIN,
                                             now=self.now()))
                    self.members[community] = member
            for district, other in (self.districts, reversed(self.districts)):
                run(districts.make_agreement(district, other, 1_000_000, ADMIN))

        @rule(home=st.integers(0, sum(SIZES) - 1), serving=st.integers(0, sum(SIZES) - 1),
              minutes=st.integers(1, 60), then_a_month_passes=st.booleans())
        def withdraw_at_a_counter(self, home: int, serving: int, minutes: int,
                                  then_a_month_passes: bool) -> None:
            home_id, serving_id = self.communities[home], self.communities[serving]
            staff = Actor("staff-district-properties", Role.STAFF, community_id=serving_id)
            linli.writer.execute(timebank.withdraw(
                self.members[home_id], minutes, "助餐", None, None, staff, now=self.now()))
            if home_id != serving_id:
                self.open[home_id, serving_id, month_key(self.now())] += minutes
            self.month += then_a_month_passes

        @rule(which=st.integers(0, len(SIZES) - 1), pick=st.integers(0, 7),
              quarter=st.sampled_from([False, False, False, True]))
        def settle(self, which: int, pick: int, quarter: bool) -> None:
            district = self.districts[which]
            # Mostly a month with postings; else this month (not over) or an empty one.
            ours = {c for c, d in self.district_of.items() if d == district}
            candidates = sorted({k[2] for k, v in self.open.items() if v and (
                k[0] in ours or k[1] in ours)} - self.settled[district]) or [
                month_key(self.now())]
            extra = [month_key(self.now()), month_key(START - timedelta(days=62))]
            local = (candidates + extra)[pick % (len(candidates) + 2)] if pick > 3 \
                else candidates[pick % len(candidates)]
            first = (int(local[5:]) - 1) // 3 * 3 + 1
            period = f"{local[:4]}-Q{(first + 2) // 3}" if quarter else local
            months = ([f"{local[:4]}-{m:02d}" for m in range(first, first + 3)] if quarter
                      else [local])
            due = {k: v for k, v in self.open.items()
                   if k[2] in months and (k[0] in ours or k[1] in ours)}
            refused = (max(months) >= month_key(self.now())
                       or bool(self.settled[district] & set(months))
                       or not _net_by_pair(due))
            if refused:
                with pytest.raises(NothingToSettle):
                    linli.writer.execute(districts.settle(district, period, ADMIN, self.now()))
                return
            settlement = linli.writer.execute(districts.settle(district, period, ADMIN,
                                                               self.now()))
            assert sum(int(str(line["net_minutes"])) for line in settlement.lines) == 0
            for pair, minutes in _net_by_pair(due).items():
                for k in [k for k in due if {k[0], k[1]} == set(pair)]:
                    del self.open[k]
                assert minutes
            self.settled[district] |= set(months)

        @invariant()
        def positions_are_the_open_postings_and_sum_to_zero(self) -> None:
            if not self.communities:
                return
            expected: dict[UUID, int] = defaultdict(int)
            for (debtor, creditor, _), minutes in self.open.items():
                expected[debtor] += minutes
                expected[creditor] -= minutes
            found: dict[UUID, int] = defaultdict(int)
            for a in self.communities:
                for b in self.communities:
                    if a < b:
                        pair: object = None
                        try:
                            pair = linli.app.repository.get(Interchange.create_id(a, b))
                        except AggregateNotFoundError:  # never opened: nothing owed
                            continue
                        assert isinstance(pair, Interchange)
                        found[a] += pair.owed_by(a)
                        found[b] += pair.owed_by(b)
            for community in self.communities:
                assert found[community] == expected[community], community
            assert sum(found.values()) == 0

        def teardown(self) -> None:
            if not self.communities:
                return
            assert linli.read_your_writes()
            owes = positions(linli.engine, [str(c) for c in self.communities])
            for community in self.communities:
                repository_net = 0
                for other in self.communities:
                    if other != community:
                        try:
                            pair = linli.app.repository.get(Interchange.create_id(community,
                                                                                  other))
                        except AggregateNotFoundError:  # never opened
                            continue
                        repository_net += pair.owed_by(community)
                assert sum(owes[str(community)].values()) == repository_net

    return Interchanges


def _net_by_pair(due: dict[tuple[UUID, UUID, str], int]) -> dict[frozenset[UUID], int]:
    """What each pair owes net (by the pair's first in id order), leaving off pairs at 0."""
    net: dict[frozenset[UUID], int] = defaultdict(int)
    for (debtor, creditor, _), minutes in due.items():
        first = min(debtor, creditor, key=str)
        net[frozenset((debtor, creditor))] += minutes if debtor == first else -minutes
    return {pair: minutes for pair, minutes in net.items() if minutes}


class TestDistrictHistories:
    def test_positions_are_the_unsettled_postings_and_sum_to_zero(self, linli):
        run_state_machine_as_test(district_machine(linli), settings=settings(
            max_examples=8, stateful_step_count=25, deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture,
                                   HealthCheck.too_slow]))
