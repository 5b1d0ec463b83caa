"""Leaderboards (公益达人榜) and the monthly figures of the reports, kept incrementally.

What counts as *earned* is what the account itself counts: each posting's `earned_after` minus
the account's previous one (award and award reversal, whole or in part, today; any kind later put in
`EARNING_KINDS`, such as a time-bank deposit, counts without a change here). Spending never
changes it; a reversed award lowers it.

An award counts in the periods of the instant it *occurred* (its `occurred_at`, in its
community's time zone); other postings count at the instant they were recorded. A reversal
names its award (`transaction_id`), so it lowers the periods the award counted in.

An award's posting is written before the award's own `Recorded` event (in the same
transaction), and a batch of the log may end between the two: such a posting waits in
`leaderboard_pending` until its award arrives. The result never depends on where batches end,
so a rebuild gives exactly what the live view holds.

Tables (one row per key, `earned` summed, `reached_position` the position of the last change,
so of equal totals the one that got there first ranks first):
- `leaderboard_totals`: community × scope (whole community "" or a grid) × subject (member or
  household) × asset × period.
- `monthly_postings`: per community, month, asset and posting kind on members' accounts
  (every kind, known or not, so nothing is lost when new kinds appear).
- `monthly_rule_points`: per community, month and rule, points earned and awards counted.
- `volunteer_counts`: per community and period, the members with minutes earned in it on the
  whole community's board (the rows of `leaderboard_totals` above zero, counted as they cross
  it).

Reads the registry tables, so `RegistryView` must come before this view in
`catalogue.all_views()`. The queries that rank are in `leaderboard_ranking`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Table, case, delete, select

from ledger.domain.assets import Asset, OwnerKind, PostingKind
from ledger.domain.awards import Award
from ledger.domain.registry import DEFAULT_TIME_ZONE
from ledger.domain.timebank import Deposit
from projections import board_moves, bulk, periods
from projections.tables import (
    earning_occurrences,
    leaderboard_accounts,
    leaderboard_pending,
    leaderboard_totals,
    monthly_postings,
    monthly_rule_points,
    registry_communities,
    registry_households,
    registry_members,
    volunteer_counts,
)
from projections.view import OPENED, POSTED, Positioned, Replay

AWARD_RECORDED = get_topic(Award.Recorded)  # type: ignore[attr-defined]
DEPOSIT_RECORDED = get_topic(Deposit.Recorded)  # type: ignore[attr-defined]

MEMBER = "member"
HOUSEHOLD = "household"
WHOLE_COMMUNITY = ""  # the grid_key of the community-wide boards

# Postings of these kinds count when their transaction occurred, as an event of
# OCCURRENCE_SOURCES says (transaction id, occurred_at, rule code); they wait for that event,
# which may come before or after them in the log. Every other posting counts when it was
# recorded.
KINDS_WITH_OCCURRENCE = frozenset({PostingKind.AWARD.value, PostingKind.AWARD_REVERSAL.value,
                                   PostingKind.AWARD_PART_REVERSAL.value,
                                   PostingKind.DEPOSIT.value})
OCCURRENCE_SOURCES: dict[str, Callable[[Any], tuple[str, datetime, str | None]]] = {
    AWARD_RECORDED: lambda e: (str(e.originator_id), e.occurred_at, e.rule_code),
    DEPOSIT_RECORDED: lambda e: (str(e.originator_id), e.occurred_at, None),
}
# An award counts once; it stops counting when its last point is reversed (a partial
# reversal lowers its points, not the count).
AWARD_COUNT = {PostingKind.AWARD.value: 1, PostingKind.AWARD_REVERSAL.value: -1}


@dataclass
class _Posting:
    position: int
    account_id: str
    transaction_id: str
    kind: str
    amount: int
    earned_delta: int
    recorded_at: datetime


class LeaderboardsView:
    """Earned totals per period, scope and subject; monthly figures for the reports."""

    name = "leaderboards"
    tables = (leaderboard_accounts, earning_occurrences, leaderboard_pending, leaderboard_totals,
              monthly_postings, monthly_rule_points, volunteer_counts)
    topics = (OPENED, POSTED, *OCCURRENCE_SOURCES, *board_moves.TOPICS)

    def __init__(self) -> None:
        self._accounts: dict[str, dict[str, Any]] = {}
        self._others: set[str] = set()

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        """The accounts read for a batch are kept for the next (a batch of redemptions read
        them all again: a tenth of the projections' time), up to `ACCOUNTS_HELD`."""
        if len(self._accounts) + len(self._others) > ACCOUNTS_HELD:
            self.forget()
        boards = _Boards(self._accounts, self._others)
        boards.apply(conn, events)
        boards.finish(conn)

    def forget(self) -> None:
        """What `apply` kept: the runner's word that the table may no longer hold it (a batch
        did not commit, or another runner or a rebuild changed it)."""
        self._accounts = {}
        self._others = set()

    def replay(self) -> Replay:
        """A rebuild keeps the members' accounts and the sums in memory from batch to batch
        (the sums up to `SUMS_HELD` keys), and writes each row once, not once a batch."""
        return _Boards()


SUMS_HELD = 200_000  # keys of sums a rebuild holds before it writes them
ACCOUNTS_HELD = 12_000  # accounts the view keeps between batches (about 0.5 KB each)


class _Boards:
    """The boards' accounts and sums, changed by batches of events until written."""

    def __init__(self, accounts: dict[str, dict[str, Any]] | None = None,
                 others: set[str] | None = None) -> None:
        self.accounts = {} if accounts is None else accounts  # members' accounts
        self.others = set() if others is None else others  # accounts known not to be members'
        self.changed: set[str] = set()  # accounts opened, or whose earned changed
        self.sums = _Sums()

    def apply(self, conn: Connection, events: list[Positioned]) -> None:
        occurrences: dict[str, tuple[datetime, str | None]] = {}
        postings: list[_Posting] = []
        earned_after: dict[int, int] = {}  # by position, for this batch's postings

        # Earlier postings still waiting for their occurrence come first: they are older.
        waiting = conn.execute(select(leaderboard_pending)
                               .order_by(leaderboard_pending.c.position)).all()
        if waiting:
            conn.execute(delete(leaderboard_pending))
        postings.extend(_Posting(**row._mapping) for row in waiting)

        accounts = self.accounts
        moves = board_moves.Moves()
        for item in events:
            e = item.event
            if item.topic in board_moves.TOPICS:
                moves.add(item)
            elif item.topic in OCCURRENCE_SOURCES:
                transaction_id, occurred_at, rule_code = OCCURRENCE_SOURCES[item.topic](e)
                occurrences[transaction_id] = (occurred_at, rule_code)
            elif item.topic == OPENED:
                if e.owner_kind == OwnerKind.MEMBER.value:
                    account_id = item.originator
                    accounts[account_id] = {"account_id": account_id,
                                            "member_id": str(e.owner_id),
                                            "community_id": str(e.community_id),
                                            "asset": e.asset, "earned": 0}
                    self.changed.add(account_id)
            elif item.topic == POSTED:
                posting = _Posting(item.position, item.originator, str(e.transaction_id),
                                   str(e.kind), int(e.amount), 0, e.timestamp)
                postings.append(posting)
                earned_after[posting.position] = int(e.earned_after)

        # The accounts posted to: members' only (merchants' mirror postings earn nothing).
        self._load_accounts(conn, {p.account_id for p in postings})
        for posting in postings[len(waiting):]:  # in log order
            account = accounts.get(posting.account_id)
            if account is not None:
                after = earned_after[posting.position]
                posting.earned_delta = after - account["earned"]
                if posting.earned_delta:
                    account["earned"] = after
                    self.changed.add(posting.account_id)
        postings = [p for p in postings if p.account_id in accounts]

        # When each award occurred: from this batch, or from the table.
        missing = sorted({p.transaction_id for p in postings if p.kind in KINDS_WITH_OCCURRENCE}
                         - set(occurrences))
        known = dict(occurrences)
        for chunk in bulk.chunks(missing):
            for row in conn.execute(select(earning_occurrences)
                                    .where(earning_occurrences.c.transaction_id.in_(chunk))):
                known[row.transaction_id] = (row.occurred_at, row.rule_code)

        context = _Context.load(
            conn, [accounts[a] for a in {p.account_id for p in postings}],
            [accounts[a] for a in {p.account_id for p in postings if p.earned_delta}], moves)
        still_waiting: list[dict[str, Any]] = []
        for posting in postings:
            instant, rule_code = posting.recorded_at, None
            if posting.kind in KINDS_WITH_OCCURRENCE:
                if posting.transaction_id not in known:
                    still_waiting.append(vars(posting).copy())
                    continue
                instant, rule_code = known[posting.transaction_id]
            context.count(self.sums, posting, accounts[posting.account_id], instant,
                          rule_code)

        bulk.insert(conn, earning_occurrences, [
            {"transaction_id": t, "occurred_at": at, "rule_code": rule}
            for t, (at, rule) in occurrences.items()])
        bulk.insert(conn, leaderboard_pending, still_waiting)
        if len(self.sums) > SUMS_HELD:
            self.sums.write(conn)

    def _load_accounts(self, conn: Connection, posted_to: set[str]) -> None:
        """The accounts of `posted_to` not yet known, from the table."""
        unknown = sorted(posted_to - self.accounts.keys() - self.others)
        for chunk in bulk.chunks(unknown):
            for row in conn.execute(select(leaderboard_accounts)
                                    .where(leaderboard_accounts.c.account_id.in_(chunk))):
                self.accounts[row.account_id] = dict(row._mapping)
        self.others.update(a for a in unknown if a not in self.accounts)

    def finish(self, conn: Connection) -> None:
        """Write the accounts' earned and the sums."""
        bulk.merge(conn, leaderboard_accounts, ("account_id",), _new_earned,
                   [self.accounts[key] for key in sorted(self.changed)])
        self.changed.clear()
        self.sums.write(conn)


class _Sums:
    """Earned and counted per key of the three tables of sums, added to them when written."""

    def __init__(self) -> None:
        self.totals: dict[tuple[str, str, str, str, str, str], list[int]] = {}
        self.monthly: dict[tuple[str, str, str, str], list[int]] = {}
        self.by_rule: dict[tuple[str, str, str], list[int]] = {}

    def __len__(self) -> int:
        return len(self.totals) + len(self.monthly) + len(self.by_rule)

    def write(self, conn: Connection) -> None:
        volunteers = _volunteers_moved(conn, self.totals)  # before the totals change
        bulk.merge(conn, leaderboard_totals, TOTALS_KEY, _add_earned, [
            {"community_id": k[0], "grid_key": k[1], "subject_kind": k[2], "asset": k[3],
             "period": k[4], "subject_id": k[5], "earned": v[0], "reached_position": v[1]}
            for k, v in sorted(self.totals.items())])
        bulk.merge(conn, monthly_postings, ("community_id", "month", "asset", "kind"),
                   _add_postings, [
                       {"community_id": k[0], "month": k[1], "asset": k[2], "kind": k[3],
                        "amount": v[0], "postings": v[1]}
                       for k, v in sorted(self.monthly.items())])
        bulk.merge(conn, monthly_rule_points, ("community_id", "month", "rule_code"),
                   _add_points, [
                       {"community_id": k[0], "month": k[1], "rule_code": k[2], "points": v[0],
                        "awards": v[1]} for k, v in sorted(self.by_rule.items())])
        bulk.merge(conn, volunteer_counts, ("community_id", "period"), _add_volunteers, [
            {"community_id": k[0], "period": k[1], "volunteers": v}
            for k, v in sorted(volunteers.items()) if v])
        self.totals.clear()
        self.monthly.clear()
        self.by_rule.clear()


MINUTES = Asset.MINUTES.value


def _volunteers_moved(conn: Connection,
                      totals: dict[tuple[str, str, str, str, str, str], list[int]]
                      ) -> dict[tuple[str, str], int]:
    """How the sums about to be added move the count of volunteers per community and period:
    +1 for a member's minutes earned in it going above zero, -1 for going back to zero.
    Reads the totals these sums change (members' minutes on the whole community's board
    only), one query per community of the batch."""
    changes: dict[str, dict[tuple[str, str], int]] = {}
    for (community_id, grid_key, kind, asset, period, subject_id), (delta, _) in totals.items():
        if delta and grid_key == WHOLE_COMMUNITY and kind == MEMBER and asset == MINUTES:
            changes.setdefault(community_id, {})[period, subject_id] = delta
    moved: dict[tuple[str, str], int] = {}
    t = leaderboard_totals.c
    for community_id, deltas in sorted(changes.items()):
        earned: dict[tuple[str, str], int] = {}
        subjects = sorted({subject_id for _, subject_id in deltas})
        for chunk in bulk.chunks(subjects):
            earned.update(((row.period, row.subject_id), int(row.earned)) for row in conn.execute(
                select(t.period, t.subject_id, t.earned)
                .where(t.community_id == community_id, t.grid_key == WHOLE_COMMUNITY,
                       t.subject_kind == MEMBER, t.asset == MINUTES,
                       t.period.in_(sorted({period for period, _ in deltas})),
                       t.subject_id.in_(chunk))))
        for (period, subject_id), delta in deltas.items():
            before = earned.get((period, subject_id), 0)
            change = int(before + delta > 0) - int(before > 0)
            if change:
                moved[community_id, period] = moved.get((community_id, period), 0) + change
    return moved


class _Context:
    """What a batch needs to know about members, households and communities."""

    def __init__(self, members: dict[str, Any], household_grids: dict[str, str | None],
                 zones: dict[str, ZoneInfo], moves: board_moves.Moves) -> None:
        self.members = members
        self.household_grids = household_grids
        self.zones = zones
        self.moves = moves

    @classmethod
    def load(cls, conn: Connection, accounts: Iterable[dict[str, Any]],
             earning: Iterable[dict[str, Any]], moves: board_moves.Moves) -> _Context:
        """For `accounts`, their communities' time zones; for the `earning` ones (whose
        postings change the boards), their members' households and grids."""
        member_ids = sorted({a["member_id"] for a in earning})
        community_ids = sorted({a["community_id"] for a in accounts})
        members: dict[str, Any] = {}
        m = registry_members.c
        for chunk in bulk.chunks(member_ids):
            for row in conn.execute(select(m.member_id, m.household_id, m.grid_id)
                                    .where(m.member_id.in_(chunk))):
                members[row.member_id] = row
        household_ids = sorted({r.household_id for r in members.values() if r.household_id}
                               | moves.household_ids())
        grids: dict[str, str | None] = {}
        h = registry_households.c
        for chunk in bulk.chunks(household_ids):
            for household in conn.execute(select(h.household_id, h.grid_id)
                                          .where(h.household_id.in_(chunk))):
                grids[household.household_id] = household.grid_id
        zones: dict[str, ZoneInfo] = {}
        c = registry_communities.c
        for chunk in bulk.chunks(community_ids):
            for found in conn.execute(select(c.community_id, c.time_zone)
                                      .where(c.community_id.in_(chunk))):
                zones[found.community_id] = ZoneInfo(found.time_zone)
        return cls(members, grids, zones, moves)

    def count(self, sums: _Sums, posting: _Posting, account: dict[str, Any], instant: datetime,
              rule_code: str | None) -> None:
        community_id, asset = account["community_id"], account["asset"]
        time_zone = self.zones.get(community_id) or ZoneInfo(DEFAULT_TIME_ZONE)
        delta = posting.earned_delta
        # A posting that earns nothing (a redemption's) counts in its month's figures only.
        keys = periods.keys_for(instant, time_zone) if delta else ()
        month = keys[3] if keys else periods.month_of(instant, time_zone)
        monthly = sums.monthly.setdefault((community_id, month, asset, posting.kind), [0, 0])
        monthly[0] += posting.amount
        monthly[1] += 1
        if delta == 0:
            return
        if rule_code is not None:
            rule = sums.by_rule.setdefault((community_id, month, rule_code), [0, 0])
            rule[0] += delta
            rule[1] += AWARD_COUNT.get(posting.kind, 0)
        member_id = account["member_id"]
        member = self.moves.member_at(member_id, posting.position, self.members.get(member_id))
        subjects: list[tuple[str, str, str | None]] = [
            (MEMBER, member_id, member.grid_id if member is not None else None)]
        if member is not None and member.household_id:
            subjects.append((HOUSEHOLD, member.household_id, self.moves.household_grid_at(
                member.household_id, posting.position,
                self.household_grids.get(member.household_id))))
        for kind, subject_id, grid_id in subjects:
            for grid_key in (WHOLE_COMMUNITY, grid_id) if grid_id else (WHOLE_COMMUNITY,):
                for period in keys:
                    total = sums.totals.setdefault(
                        (community_id, grid_key, kind, asset, period, subject_id), [0, 0])
                    total[0] += delta
                    total[1] = max(total[1], posting.position)


# What a batch's sums do to the rows already there (see `bulk.merge`).
TOTALS_KEY = ("community_id", "grid_key", "subject_kind", "asset", "period", "subject_id")


def _new_earned(table: Table, excluded: Any) -> dict[str, Any]:
    return {"earned": excluded.earned}


def _add_earned(table: Table, excluded: Any) -> dict[str, Any]:
    return {"earned": table.c.earned + excluded.earned,
            # positions only grow, but a posting that waited for its award may be older
            "reached_position": case(
                (excluded.reached_position > table.c.reached_position,
                 excluded.reached_position),
                else_=table.c.reached_position)}


def _add_postings(table: Table, excluded: Any) -> dict[str, Any]:
    return {"amount": table.c.amount + excluded.amount,
            "postings": table.c.postings + excluded.postings}


def _add_volunteers(table: Table, excluded: Any) -> dict[str, Any]:
    return {"volunteers": table.c.volunteers + excluded.volunteers}


def _add_points(table: Table, excluded: Any) -> dict[str, Any]:
    return {"points": table.c.points + excluded.points,
            "awards": table.c.awards + excluded.awards}
