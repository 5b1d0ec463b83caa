"""The writer on SQLite and PostgreSQL: group commit and its retry plan, the insert sent ahead,
the cache and its warm-up, prefetching, keyed requests across processes, and snapshots."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import DataError as PersistenceDataError
from eventsourcing.persistence import OperationalError as PersistenceOperationalError

from api.bootstrap import Linli, open_linli
from ledger import chain, ids
from ledger.application import replay
from ledger.commands import points as pts
from ledger.domain.accounts import Account
from ledger.domain.assets import Asset, PostingKind
from ledger.errors import InsufficientBalance, InvalidRequest
from ledger.pg_recorder import InFlightInsert
from ledger.settings import Settings
from ledger.store import load_aggregates
from ledger.write import cache as write_cache
from ledger.write import group_store
from ledger.write.keyed import Idempotency, StoredResponse
from ledger.write.unit_of_work import UnitOfWork
from projections.queries import AccountBalance
from tests.scenario import CommandTown, funded


def in_groups(town: CommandTown, commands: list[Callable[[UnitOfWork], Any]], size: int,
              keys: list[Idempotency] | None = None) -> list[Future[Any]]:
    """Submit `commands` (keyed by `keys`, if given) while the writer is held, so that it
    takes them in groups of `size` one after another; their futures, once the last has its
    outcome."""
    writer = town.linli.writer
    holding, gate = threading.Event(), threading.Event()
    held = writer.submit(lambda uow: holding.set() or gate.wait(timeout=10))
    assert holding.wait(timeout=10)  # the writer runs it, alone
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer, "batch_max_commands", size)
        futures = [writer.submit(command, key)
                   for command, key in zip(commands, keys or [None] * len(commands),
                                           strict=True)]
        gate.set()
        assert held.result(timeout=60)
        for future in futures:
            future.exception(timeout=60)
    return futures


def outcome(future: Future[Any]) -> Any:
    """A redemption's balance after, or the name of its error."""
    error = future.exception(timeout=0)
    return future.result().balance_after if error is None else type(error).__name__


# --- group commit ---------------------------------------------------------------------------
class TestGroupCommit:
    def test_failing_commands_fail_alone_inside_a_group(self, town):
        spender, earner, merchant_id = funded(town, 100), town.add_member(), town.add_merchant()
        town.add_rule("SORT", 3)
        commands: list[tuple[str, Callable[[UnitOfWork], Any]]] = []
        for _ in range(40):
            commands.append(("redeem", town.redeem_command(merchant_id, spender, 7)))
            commands.append(("award", town.award_command(earner, "SORT")))
        batches_before = town.linli.writer.batches_committed

        futures = [(what, town.linli.writer.submit(command)) for what, command in commands]
        outcomes = []
        for what, future in futures:
            error = future.exception(timeout=60)
            outcomes.append((what, "ok" if error is None else type(error).__name__))

        # 100 points pay for 14 redemptions of 7; the 26 after them fail, the awards do not.
        redeemed = [o for w, o in outcomes if w == "redeem"]
        assert redeemed == ["ok"] * 14 + ["InsufficientBalance"] * 26
        assert [o for w, o in outcomes if w == "award"] == ["ok"] * 40
        assert town.linli.writer.batches_committed - batches_before < len(commands)
        town.settle()
        assert town.balance(spender) == 100 - 14 * 7
        assert town.balance(merchant_id) == 14 * 7
        assert town.points(earner) == AccountBalance(balance=40 * 3, held=0, earned=40 * 3)

    def test_an_event_loop_gets_each_requests_own_outcome(self, town):
        """`Writer.run` (the API's way): the loop is woken once per group, and each waiting
        request still gets its own result or error."""
        spender, merchant_id = funded(town, 50), town.add_merchant()

        async def redeem_all() -> list[Any]:
            return await asyncio.gather(
                *(town.linli.writer.run(town.redeem_command(merchant_id, spender, 10))
                  for _ in range(8)), return_exceptions=True)

        with ThreadPoolExecutor(1) as loop_thread:  # a loop of its own, as the server's
            outcomes = loop_thread.submit(asyncio.run, redeem_all()).result(timeout=60)

        refused = [o for o in outcomes if isinstance(o, InsufficientBalance)]
        done = sorted(o.balance_after for o in outcomes if o not in refused)
        assert (done, len(refused)) == ([0, 10, 20, 30, 40], 3)
        town.settle()
        assert (town.balance(spender), town.balance(merchant_id)) == (0, 50)


    @pytest.mark.parametrize("error", [InvalidRequest("changed its mind"),
                                       RuntimeError("a defect")], ids=["refused", "defect"])
    def test_a_command_failing_after_a_change_leaves_no_trace(self, town, error):
        town.add_rule("SORT", 3)
        member_id = town.add_member()
        account_id = ids.account_id(member_id, Asset.POINTS.value)

        def half_done(uow: UnitOfWork) -> None:
            uow.get(Account, account_id).post(
                amount=1_000, kind=PostingKind.AWARD, transaction_id=uuid.uuid4(),
                counter_account=ids.system_account(town.community_id, "POINTS", "issued"),
                by=town.staff)
            raise error

        commands = [town.award_command(member_id, "SORT") for _ in range(20)]
        commands.insert(10, half_done)

        futures = [town.linli.writer.submit(command) for command in commands]
        errors = [future.exception(timeout=60) for future in futures]

        assert errors[10] is error
        assert errors[:10] + errors[11:] == [None] * 20
        town.settle()
        assert town.points(member_id) == AccountBalance(balance=60, held=0, earned=60)
        assert town.award(member_id, "SORT").points == 3  # the cached account is sound


    def test_answers_kept_for_retries_do_not_push_accounts_out_of_memory(self, town,
                                                                        monkeypatch):
        """Each keyed request leaves its answer for retries. The writer keeps the latest
        answers apart from the accounts: a busy till does not push a quiet member's account
        out of memory, and a retry whose answer was forgotten is still answered, not done
        again."""
        quiet, busy, merchant_id = funded(town, 10), funded(town, 1_200), town.add_merchant()
        writer = town.linli.writer
        writer.execute(town.redeem_command(merchant_id, quiet, 1))
        monkeypatch.setattr(writer.cache, "max_aggregates", 1_000)
        monkeypatch.setattr(writer.cache, "max_records", 100)
        loaded: list[UUID] = []
        get = writer.app.repository.get
        monkeypatch.setattr(writer.app.repository, "get",
                            lambda aggregate_id, **kw: loaded.append(aggregate_id)
                            or get(aggregate_id, **kw))

        def spec(n: int) -> Idempotency:
            return Idempotency(str(merchant_id), f"receipt-{n}", "the same body",
                               lambda m: StoredResponse(201, f"balance {m.balance_after}"))

        futures = [writer.submit(town.redeem_command(merchant_id, busy, 1), spec(n))
                   for n in range(1_100)]
        answers = [future.result(timeout=60) for future in futures]
        writer.execute(town.redeem_command(merchant_id, quiet, 1))

        assert loaded == []  # every account still in memory, every key taken as new
        assert writer.execute_keyed(town.redeem_command(merchant_id, busy, 1),
                                    spec(0)) == answers[0] == StoredResponse(201, "balance 1199")
        town.settle()
        assert (town.balance(quiet), town.balance(busy)) == (8, 100)

    def test_an_account_pushed_out_of_a_small_cache_mid_command_stays_current(self, town,
                                                                            monkeypatch):
        """With room for fewer aggregates than a redemption reads, the account one command
        changed is still the one the next command of its group runs on: the group commits
        as one, with no retry."""
        member_id, merchant_id = funded(town, 10), town.add_merchant()
        writer = town.linli.writer
        # Every read a load: the cache emptied on the writer's own thread.
        writer.execute(lambda uow: writer.cache.aggregates.clear())
        monkeypatch.setattr(writer.cache, "max_aggregates", 2)
        failed = writer.attempts_failed
        futures = in_groups(town, [town.redeem_command(merchant_id, member_id, 1)
                                   for _ in range(3)], 3)
        assert [outcome(future) for future in futures] == [9, 8, 7]
        assert writer.attempts_failed == failed
        town.settle()
        assert town.balance(member_id) == 7

    def test_the_heads_of_streams_let_go_are_forgotten_with_them(self, town, monkeypatch):
        """The writer keeps a stream's head (its last hash) only while it keeps its
        aggregate, or the heads would fill memory as members come and go; a member written
        again after being let go chains onto its stored head."""
        writer = town.linli.writer
        monkeypatch.setattr(writer.cache, "max_aggregates", 3)
        members, merchant_id = [funded(town, 10) for _ in range(4)], town.add_merchant()
        for _ in range(2):
            for member_id in members:
                town.redeem(merchant_id, member_id, 1)

        heads = town.linli.app.events._heads  # type: ignore[attr-defined]
        assert heads and set(heads) <= set(writer.cache.aggregates)
        town.settle()  # verifies every chain
        assert [town.balance(m) for m in members] == [8] * 4

    def test_a_second_copy_of_an_account_in_one_group_loses_no_event(self, town):
        """Were an account dropped from memory while its group runs (a defect), a later
        command of the group would change a second copy read from the store: the group then
        runs again one command at a time, and no posting of the first copy is lost."""
        member_id, merchant_id = funded(town, 10), town.add_merchant()
        writer = town.linli.writer
        account_id = ids.account_id(member_id, Asset.POINTS.value)
        redeem = town.redeem_command(merchant_id, member_id, 1)

        def forgetful(uow: UnitOfWork) -> pts.Movement:
            writer.cache.aggregates.pop(account_id, None)
            return redeem(uow)

        futures = in_groups(town, [redeem, forgetful, redeem], 3)
        assert [outcome(future) for future in futures] == [9, 8, 7]
        town.settle()  # verifies the books: every posting has its counterpart
        assert town.balance(member_id) == 7

    def test_the_log_keeps_the_order_in_which_commands_ran(self, town):
        """Group commit never reorders: each command's events lie in the log in the order
        the commands were submitted, across and within groups."""
        town.add_rule("SORT", 3)
        members = [town.add_member() for _ in range(5)]
        futures = [town.linli.writer.submit(town.award_command(members[i % 5], "SORT"))
                   for i in range(300)]
        award_ids = [future.result(timeout=60).id for future in futures]
        wanted = set(award_ids)
        positions = {n.originator_id: n.id
                     for n in town.linli.app.recorder.select_notifications(1, 100_000)
                     if n.originator_id in wanted}
        in_log = [positions[award_id] for award_id in award_ids]
        assert in_log == sorted(in_log)
        assert town.linli.writer.batches_committed < 300

    def test_on_postgresql_a_group_runs_while_the_one_before_is_stored(self, town,
                                                                      monkeypatch):
        """PostgreSQL stores a group while the writer runs the next (the insert is sent, its
        outcome read before the next is sent); SQLite stores one group, then runs the next.
        Each request is answered as though they had run one at a time."""
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        happened: list[str] = []

        def redeem(points: int) -> Callable[[UnitOfWork], Any]:
            command = town.redeem_command(merchant_id, member_id, points)
            return lambda uow: happened.append("ran") or command(uow)

        if town.linli.settings.is_postgres:
            recorder: Any = town.linli.app.recorder
            send = recorder.send_events

            def logged(*args: Any, **kwargs: Any) -> Any:
                in_flight = send(*args, **kwargs)
                happened.append("sent")
                result = in_flight.result
                monkeypatch.setattr(in_flight, "result",
                                    lambda: (result(), happened.append("stored"))[0])
                return in_flight

            monkeypatch.setattr(recorder, "send_events", logged)

        futures = in_groups(town, [redeem(30) for _ in range(4)], 2)

        assert [outcome(f) for f in futures] == [70, 40, 10, "InsufficientBalance"]
        ran_meanwhile = [happened[i + 1:happened.index("stored", i)].count("ran")
                         for i, step in enumerate(happened) if step == "sent"]
        # The second group ran while the first was stored; nothing was queued behind it.
        assert ran_meanwhile == ([2, 0] if town.linli.settings.is_postgres else [])
        town.settle()
        assert (town.balance(member_id), town.balance(merchant_id)) == (10, 90)


    @pytest.mark.parametrize("backend", ["postgres"], indirect=True)
    def test_a_group_sent_ahead_whose_acknowledgement_is_lost_is_answered_once(
            self, town, monkeypatch):
        """The connection drops after a group sent ahead has committed: its insert is tried
        again (as the library retries), meets its own events, and the group is answered as
        stored, applied once."""
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        receive = InFlightInsert._receive

        def dropped_after_commit(conn: Any) -> Any:
            receive(conn)
            monkeypatch.setattr(InFlightInsert, "_receive", staticmethod(receive))  # once
            raise psycopg.OperationalError("server closed the connection unexpectedly")

        monkeypatch.setattr(InFlightInsert, "_receive", staticmethod(dropped_after_commit))
        futures = in_groups(town, [town.redeem_command(merchant_id, member_id, 10)
                                   for _ in range(6)], 2)

        assert [outcome(f) for f in futures] == [90, 80, 70, 60, 50, 40]
        assert InFlightInsert._receive is receive
        town.settle()
        assert (town.balance(member_id), town.balance(merchant_id)) == (40, 60)


    def test_a_defect_fails_its_own_group_and_the_writer_goes_on(self, town, monkeypatch):
        """A defect of the writer's own (here: taking a group's snapshots) fails that group's
        requests. The group stored meanwhile is answered as stored, and the writer runs the
        groups after it from what the log holds."""
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        writer = town.linli.writer
        snapshots, calls = writer._snapshots, []

        def third_call_fails(*args: Any) -> Any:
            calls.append(1)
            if len(calls) == 3:  # the held command's group, the first group, then this
                raise RuntimeError("a defect")
            return snapshots(*args)

        monkeypatch.setattr(writer, "_snapshots", third_call_fails)
        futures = in_groups(town, [town.redeem_command(merchant_id, member_id, 10)
                                   for _ in range(6)], 2)

        assert [outcome(f) for f in futures] == [90, 80, "RuntimeError", "RuntimeError", 70, 60]
        town.settle()
        assert (town.balance(member_id), town.balance(merchant_id)) == (60, 40)

    @pytest.mark.parametrize("backend", ["postgres"], indirect=True)
    def test_a_group_that_could_not_be_sent_is_unavailable_and_the_next_runs_without_it(
            self, town, monkeypatch):
        """The database refuses a group's insert as it is sent: that group's requests are
        answered 503 (nothing of them stored), and the group that ran meanwhile, on its
        changes, runs again without them."""
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        recorder: Any = town.linli.app.recorder
        send = recorder.send_events

        def refused_once(*args: Any, **kwargs: Any) -> Any:
            monkeypatch.setattr(recorder, "send_events", send)
            raise PersistenceDataError("value out of range")

        monkeypatch.setattr(recorder, "send_events", refused_once)
        futures = in_groups(town, [town.redeem_command(merchant_id, member_id, 10)
                                   for _ in range(6)], 2)

        assert [outcome(f) for f in futures] == ["Unavailable"] * 2 + [90, 80, 70, 60]
        detail = str(futures[0].exception())
        assert "out of range" not in detail and "数据库" in detail  # the text is only logged
        town.settle()
        assert (town.balance(member_id), town.balance(merchant_id)) == (60, 40)


class TestTwoProcessesOnOneDatabase:
    """A second Linli on the same database (`other`) stands for a second API process."""

    def test_a_write_from_another_process_is_not_lost(self, town, other):
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        town.redeem(merchant_id, member_id, 10)  # this process now holds both accounts
        elsewhere = replace(town, linli=other)

        elsewhere.redeem(merchant_id, member_id, 30)
        failed_before = town.linli.writer.attempts_failed
        here = town.redeem(merchant_id, member_id, 50)
        with pytest.raises(InsufficientBalance):
            town.redeem(merchant_id, member_id, 11)

        assert here.balance_after == 10
        assert town.linli.writer.attempts_failed == failed_before + 1  # counted for /metrics
        town.settle()
        assert (town.balance(member_id), town.balance(merchant_id)) == (10, 90)

    def test_a_group_run_on_changes_that_could_not_be_stored_runs_again(self, town, other):
        """On PostgreSQL a group runs while the one before it is stored. When that insert
        fails (here: another process spent from the account since this one cached it), the
        group after ran on changes that were never stored: it runs again, from what was, and
        every answer is what the log says."""
        member_id, neighbour_id = funded(town, 100), funded(town, 100)
        merchant_id = town.add_merchant()
        town.redeem(merchant_id, member_id, 10)  # this process holds the account: 90
        replace(town, linli=other).redeem(merchant_id, member_id, 50)  # 40 in the log
        failed_before = town.linli.writer.attempts_failed
        commands = [town.redeem_command(merchant_id, member_id, 10) for _ in range(8)]
        commands.insert(4, town.redeem_command(merchant_id, neighbour_id, 10))  # second group

        futures = in_groups(town, commands, 4)

        assert [outcome(f) for f in futures] == [30, 20, 10, 0, 90] + ["InsufficientBalance"] * 4
        assert town.linli.writer.attempts_failed > failed_before
        town.settle()
        assert town.redeem(merchant_id, neighbour_id, 1).balance_after == 89  # held as stored
        town.settle()
        assert [town.balance(m) for m in (member_id, neighbour_id, merchant_id)] == [0, 89, 111]

    @pytest.mark.parametrize("backend", ["postgres"], indirect=True)
    def test_a_failure_while_a_group_sent_ahead_runs_again_answers_every_request(
            self, town, other, monkeypatch):
        """The group sent ahead fails (another process spent from the account) and runs
        again one command at a time; there the database fails too (a check of what a refused
        command read). No request is left waiting: those not done get the error, and the
        writer goes on from the log."""
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        town.redeem(merchant_id, member_id, 10)  # this process holds the account: 90
        replace(town, linli=other).redeem(merchant_id, member_id, 50)  # 40 in the log
        latest = group_store.latest_versions

        def fails_once(app: Any, aggregate_ids: Any) -> Any:
            if aggregate_ids:  # the refused command's check, run alone
                monkeypatch.setattr(group_store, "latest_versions", latest)
                raise PersistenceOperationalError("the database went away")
            return latest(app, aggregate_ids)

        monkeypatch.setattr(group_store, "latest_versions", fails_once)
        amounts = [10, 1_000, 10, 10, 10, 10]
        futures = in_groups(town, [town.redeem_command(merchant_id, member_id, amount)
                                   for amount in amounts], 2)

        assert [outcome(f) for f in futures] == [30] + ["OperationalError"] * 3 + [20, 10]
        town.settle()
        assert (town.balance(member_id), town.balance(merchant_id)) == (10, 90)

    def test_a_retry_run_while_its_first_request_is_stored_is_answered_the_same(self, town,
                                                                               other):
        """A till's retry can reach the writer while its first request's group is being
        stored, and is answered from that request's record. Here that group fails (another
        process spent from the account), so both groups run again: one redemption a key, and
        the retry's answer is the first's."""
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        town.redeem(merchant_id, member_id, 10)  # this process holds the account: 90
        replace(town, linli=other).redeem(merchant_id, member_id, 50)  # 40 in the log
        till = town.tills[merchant_id]

        def spec(key: str) -> Idempotency:
            return Idempotency(till.id, key, "same body",
                               lambda m: StoredResponse(201, f"balance {m.balance_after}"))

        futures = in_groups(town, [town.redeem_command(merchant_id, member_id, 10)
                                   for _ in range(4)], 2,
                            [spec("receipt-1"), spec("receipt-2"), spec("receipt-1"),
                             spec("receipt-3")])

        assert [f.result().body for f in futures] == [
            "balance 30", "balance 20", "balance 30", "balance 10"]
        town.settle()
        assert (town.balance(member_id), town.balance(merchant_id)) == (10, 90)

    def test_an_account_fetched_before_a_spend_elsewhere_is_not_overdrawn(self, town, other):
        """A request loads what its command will read before the writer runs it (prefetch);
        an account spent by another process in between is caught, not overdrawn."""
        merchant_id = town.add_merchant()
        elsewhere = replace(town, linli=other)
        member_id = funded(elsewhere, 100)  # this process has not loaded the member
        account_id = ids.account_id(member_id, Asset.POINTS.value)
        town.linli.writer.prefetch([member_id, account_id])

        elsewhere.redeem(merchant_id, member_id, 60)
        with pytest.raises(InsufficientBalance):
            town.redeem(merchant_id, member_id, 50)
        here = town.redeem(merchant_id, member_id, 40)

        assert here.balance_after == 0
        town.settle()
        assert (town.balance(member_id), town.balance(merchant_id)) == (0, 100)

    def test_requests_on_an_event_loop_fetch_what_they_name_together(self, town, other,
                                                                     monkeypatch):
        """Requests waiting on `Writer.run` hand what they will read to one prefetch thread,
        which loads all that is asked meanwhile in one go; each still gets its own outcome."""
        merchant_id = town.add_merchant()
        elsewhere = replace(town, linli=other)
        members = [funded(elsewhere, 20) for _ in range(12)]  # not loaded in this process
        fetches: list[int] = []
        real = load_aggregates

        def counted(app: Any, aggregate_ids: Any) -> Any:
            fetches.append(len(aggregate_ids))
            return real(app, aggregate_ids)

        monkeypatch.setattr("ledger.write.cache.load_aggregates", counted)

        async def redeem_all() -> list[Any]:
            return await asyncio.gather(
                *(town.linli.writer.run(town.redeem_command(merchant_id, member, points))
                  for member, points in zip(members, [5, 25] * 6, strict=True)),
                return_exceptions=True)

        with ThreadPoolExecutor(1) as loop_thread:
            outcomes = loop_thread.submit(asyncio.run, redeem_all()).result(timeout=60)

        assert [o.balance_after if isinstance(o, pts.Movement) else type(o).__name__
                for o in outcomes] == [15, "InsufficientBalance"] * 6
        assert len(fetches) < len(members)  # together, not one load a request
        assert sum(fetches) >= 2 * len(members)  # each member and its account
        town.settle()
        assert town.balance(merchant_id) == 6 * 5

    @pytest.fixture
    def head_queries(self, monkeypatch: pytest.MonkeyPatch) -> list[tuple[UUID, int]]:
        """The (stream, version) keys whose stored hash the event store queries from now on."""
        queried: list[tuple[UUID, int]] = []
        real = chain.stored_hashes

        def counted(recorder: Any, keys: list[tuple[UUID, int]]) -> Any:
            queried.extend(keys)
            return real(recorder, keys)

        monkeypatch.setattr("ledger.chain.stored_hashes", counted)
        return queried

    def test_streams_loaded_together_are_written_without_reading_their_heads(
        self, town, other, request
    ):
        """Prefetch remembers the hash of each stream's latest event (read with its snapshot's
        or its last events): the next insert on the stream links to it without a query, and
        the chain stays whole."""
        elsewhere = replace(town, linli=other)  # writes all of it, so this process has
        merchant_id = elsewhere.add_merchant()  # nothing in memory
        members = [funded(elsewhere, 50) for _ in range(3)]
        accounts = [ids.account_id(m, Asset.POINTS.value) for m in members]
        other.app.take_snapshot(accounts[0])  # only a snapshot: its event read for the hash
        elsewhere.redeem(merchant_id, members[1], 1)
        other.app.take_snapshot(accounts[1])
        elsewhere.redeem(merchant_id, members[1], 2)  # a snapshot, then an event
        queried = request.getfixturevalue("head_queries")  # counted from here on
        merchant_account = ids.account_id(merchant_id, Asset.POINTS.value)
        town.linli.writer.prefetch([merchant_id, merchant_account, *members, *accounts])

        for member_id, points in zip(members, [3, 4, 5], strict=True):
            town.redeem(merchant_id, member_id, points)

        assert not [key for key in queried if key[0] in {merchant_account, *accounts}]
        assert [town.linli.app.repository.get(a).balance for a in accounts] == [47, 43, 45]
        town.settle()  # verify recomputes every event's hash and link

    def test_the_writer_keeps_the_heads_of_what_it_keeps_in_memory_only(
        self, town, request
    ):
        """A redemption's record is seldom written again: its stream's head is not kept (a
        busy till's records would crowd out the accounts' heads), and a refund reads it in
        one query; the accounts, kept in memory, are written again without one."""
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        redemption = town.redeem(merchant_id, member_id, 30)
        queried = request.getfixturevalue("head_queries")  # counted from here on
        town.redeem(merchant_id, member_id, 5)
        assert queried == []
        town.refund(merchant_id, redemption.id, 10)
        assert queried == [(redemption.id, 1)]
        town.settle()  # verify recomputes every event's hash and link

    def test_accounts_fetched_together_are_as_the_repository_builds_them(
        self, town, monkeypatch
    ):
        """Prefetch loads many aggregates in two queries: each must be the state the
        repository builds, from its latest snapshot and the events after it, or from its
        events alone; ids with no events are left out."""
        merchant_id = town.add_merchant()
        members = [funded(town, 50) for _ in range(3)]
        accounts = [ids.account_id(m, Asset.POINTS.value) for m in members]
        app = town.linli.app
        app.take_snapshot(accounts[0])  # a snapshot, then more events
        town.redeem(merchant_id, members[0], 7)
        app.take_snapshot(accounts[1])  # a snapshot and nothing after it
        town.redeem(merchant_id, members[2], 9)  # no snapshot at all
        monkeypatch.setattr("ledger.store.CHUNK", 2)  # several queries' worth
        wanted = [*accounts, *members, uuid.uuid4()]

        loaded = load_aggregates(app, wanted)

        assert set(loaded) == set(wanted[:-1])
        for aggregate_id in wanted[:-1]:
            built = app.repository.get(aggregate_id)
            assert (type(loaded[aggregate_id]), vars(loaded[aggregate_id])) == (
                type(built), vars(built))
        assert [loaded[a].balance for a in accounts] == [43, 50, 41]

    def test_a_command_loads_many_aggregates_in_one_go_and_holds_them_all(
        self, town, monkeypatch
    ):
        """`UnitOfWork.load_many`: those the cache keeps, then the others in one query; a
        cache smaller than what the command names lets none go before the command has it,
        and its `find`s then ask the store nothing."""
        members = [funded(town, 10 * (n + 1)) for n in range(4)]
        accounts = [ids.account_id(m, Asset.POINTS.value) for m in members]
        cache = write_cache.AggregateCache(town.linli.app, max_aggregates=3, max_records=3)
        for account_id in accounts[:2]:
            cache.load(account_id)
        queries: list[list[UUID]] = []
        real = write_cache.load_aggregates

        def counted(app: Any, wanted: list[UUID]) -> Any:
            queries.append(list(wanted))
            return real(app, wanted)

        monkeypatch.setattr(write_cache, "load_aggregates", counted)
        monkeypatch.setattr(town.linli.app.repository, "get", None)  # no query one by one
        uow = UnitOfWork(cache)

        uow.load_many(accounts[::-1])  # those kept last: loading the others would push them out

        assert len(queries) == 1 and set(queries[0]) >= set(accounts[2:])
        assert [uow.get(Account, a).balance for a in accounts] == [10, 20, 30, 40]

    def test_what_one_load_of_many_finds_absent_is_not_asked_for_again(self, town,
                                                                      monkeypatch):
        """An aggregate the command's own `load_many` did not find is absent to its `find`s
        without a query; one fetched as absent before (by the prefetch, say, which may be
        out of date) is looked up again."""
        member = funded(town, 10)
        account, nowhere, fetched_before = (ids.account_id(member, Asset.POINTS.value),
                                            uuid.uuid4(), uuid.uuid4())
        cache = write_cache.AggregateCache(town.linli.app, max_aggregates=10, max_records=10)
        cache.fetch([fetched_before])
        asked: list[UUID] = []
        real = town.linli.app.repository.get

        def get(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
            asked.append(aggregate_id)
            return real(aggregate_id, *args, **kwargs)

        monkeypatch.setattr(town.linli.app.repository, "get", get)
        uow = UnitOfWork(cache)

        uow.load_many([account, nowhere, fetched_before])

        assert uow.find(Account, nowhere) is None
        assert uow.find(Account, account) is not None
        assert asked == [fetched_before]

    def test_a_keyed_command_done_by_another_process_is_answered_not_done_again(
        self, town, other
    ):
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        till = town.tills[merchant_id]

        def keyed(linli: Linli) -> StoredResponse:
            spec = Idempotency(till.id, "till-7-receipt-42", "same body",
                               lambda m: StoredResponse(201, f"balance {m.balance_after}"))
            return linli.writer.execute_keyed(town.redeem_command(merchant_id, member_id, 30),
                                              spec)

        first, again = keyed(other), keyed(town.linli)

        assert first == again == StoredResponse(201, "balance 70")
        town.settle()
        assert town.balance(member_id) == 70

    def test_a_group_with_a_key_done_elsewhere_answers_each_request_once(self, town, other):
        """Keys are taken as new without a query; one done by another process fails the
        group's insert, and each request is then answered on its own, none done twice."""
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        till = town.tills[merchant_id]

        def spec(key: str) -> Idempotency:
            return Idempotency(till.id, key, "same body",
                               lambda m: StoredResponse(201, f"balance {m.balance_after}"))

        done_elsewhere = other.writer.execute_keyed(
            town.redeem_command(merchant_id, member_id, 30), spec("receipt-2"))
        futures = [town.linli.writer.submit(town.redeem_command(merchant_id, member_id, 10),
                                            spec(f"receipt-{n}")) for n in (1, 2, 3)]
        answers = [future.result(timeout=60) for future in futures]

        assert done_elsewhere == StoredResponse(201, "balance 70")
        assert answers[1] == done_elsewhere  # the stored answer, not a second redemption
        assert sorted(a.body for a in (answers[0], answers[2])) == ["balance 50", "balance 60"]
        town.settle()
        assert town.balance(member_id) == 50

    def test_retries_of_keys_done_elsewhere_are_answered_in_a_few_transactions(self, town,
                                                                               other):
        """After an outage tills retry: keys done by another process (or here, long ago)
        come back among new ones. One query finds the done ones and the group runs again as
        a group, not one transaction a request."""
        member_id, merchant_id = funded(town, 100), town.add_merchant()
        till = town.tills[merchant_id]

        def spec(n: int) -> Idempotency:
            return Idempotency(till.id, f"receipt-{n}", "same body",
                               lambda m: StoredResponse(201, f"balance {m.balance_after}"))

        done = [other.writer.execute_keyed(town.redeem_command(merchant_id, member_id, 1),
                                           spec(n)) for n in range(0, 40, 4)]
        before = town.linli.writer.batches_committed
        futures = [town.linli.writer.submit(town.redeem_command(merchant_id, member_id, 1),
                                            spec(n)) for n in range(40)]
        answers = [future.result(timeout=60) for future in futures]

        assert answers[0::4] == done  # the stored answers, not second redemptions
        assert town.linli.writer.batches_committed - before < 10
        town.settle()
        assert town.balance(member_id) == 100 - 40


# --- snapshots ------------------------------------------------------------------------------
class TestSnapshots:
    POSTINGS = 1_000

    def test_a_busy_account_loads_from_its_latest_snapshot(self, town):
        interval = town.linli.settings.snapshot_interval_events
        member_id, merchant_id = funded(town, 10_000), town.add_merchant()
        futures = [town.linli.writer.submit(town.redeem_command(merchant_id, member_id, 3))
                   for _ in range(self.POSTINGS - 1)]
        for future in futures:
            future.result(timeout=60)
        # Snapshots are written once a group's requests have their answers: a command queued
        # after the redemptions returns once the writer has written them.
        town.linli.writer.execute(lambda uow: None)
        account_id = ids.account_id(member_id, Asset.POINTS.value)

        loaded = town.linli.app.repository.get(account_id)

        assert isinstance(loaded, Account)
        assert loaded.balance == 10_000 - 3 * (self.POSTINGS - 1)
        assert loaded.version == self.POSTINGS + 1  # opened, then the postings
        snapshots = list(town.linli.app.snapshots.get(account_id))  # type: ignore[union-attr]
        assert snapshots
        latest = snapshots[-1]
        assert latest.originator_version > loaded.version - interval
        after = list(town.linli.app.events.get(account_id, gt=latest.originator_version))
        assert len(after) <= interval
        town.settle()
        assert town.balance(member_id) == loaded.balance
        assert town.balance(merchant_id) == 3 * (self.POSTINGS - 1)

    def test_on_postgresql_a_groups_snapshots_go_in_with_its_events(self, town, monkeypatch):
        """PostgreSQL inserts a group's snapshots in the call that inserts its events (one
        round trip); SQLite writes them apart, once the group's requests have their answers."""
        recorder: Any = town.linli.app.snapshots.recorder  # type: ignore[union-attr]
        written_apart: list[int] = []
        insert = recorder.insert_events

        def counted(stored: Any, **kwargs: Any) -> Any:
            written_apart.append(len(stored))
            return insert(stored, **kwargs)

        monkeypatch.setattr(recorder, "insert_events", counted)
        interval = town.linli.settings.snapshot_interval_events
        member_id, merchant_id = funded(town, 10 * interval), town.add_merchant()
        account_id = ids.account_id(member_id, Asset.POINTS.value)
        for _ in range(2 * interval):  # the account crosses two multiples of the interval
            town.redeem(merchant_id, member_id, 1)
        town.linli.writer.execute(lambda uow: None)  # any snapshots written apart, written

        snapshots = list(town.linli.app.snapshots.get(account_id))  # type: ignore[union-attr]
        assert [s.originator_version // interval for s in snapshots] == [1, 2]
        assert bool(written_apart) is not town.linli.settings.is_postgres
        assert town.linli.app.repository.get(account_id).balance == 8 * interval

    def test_every_snapshot_holds_its_aggregate_at_its_version(self, town, monkeypatch):
        """Snapshots are encoded as their group commits and written after its answers: each
        must be the state its events give at its version, though later commands (here a group
        that fails and runs again one command at a time) change the same lists and dicts."""
        monkeypatch.setattr(town.linli.writer, "snapshot_interval_events", 2)
        town.add_rule("PATROL", 1, daily_cap=1_000)  # awards change the account's cap usage
        merchant_id = town.add_merchant()
        members = [funded(town, 500, "PATROL") for _ in range(3)]

        def fails_after_posting(uow: UnitOfWork) -> None:
            account = uow.get(Account, ids.account_id(members[0], Asset.POINTS.value))
            account.post(amount=1, kind=PostingKind.ADJUSTMENT, transaction_id=uuid.uuid4(),
                         counter_account="test", by=town.auditor)
            raise InvalidRequest("refused after its event: the group runs again alone")

        for _ in range(3):
            commands: list[Callable[[UnitOfWork], Any]] = []
            for member_id in members:  # three changes each: snapshots fall between them
                commands += [town.redeem_command(merchant_id, member_id, 2),
                             town.award_command(member_id, "PATROL", quantity=3),
                             town.redeem_command(merchant_id, member_id, 1)]
            commands.insert(4, fails_after_posting)
            futures = in_groups(town, commands, len(commands))  # all ten in one group
            for future in futures:
                with contextlib.suppress(InvalidRequest):
                    future.result(timeout=60)
        town.linli.writer.execute(lambda uow: None)  # the snapshots written
        assert town.linli.writer.attempts_failed == 3

        app = town.linli.app
        accounts = [ids.account_id(m, Asset.POINTS.value) for m in [*members, merchant_id]]
        for account_id in accounts:
            snapshots = list(app.snapshots.get(account_id))  # type: ignore[union-attr]
            assert len(snapshots) >= 3
            for snapshot in snapshots:
                at_version = replay(None, app.events.get(
                    account_id, lte=snapshot.originator_version))
                assert vars(snapshot.mutate(None)) == vars(at_version)
        town.settle()
        assert [town.balance(m) for m in members] == [500] * 3


class TestWarmingUpAfterARestart:
    """A restarted process loads the accounts posted to last, and their owners, before its
    writer takes commands: the first requests find them in memory, as before the restart."""

    @staticmethod
    def restarted(settings: Settings, **changed: Any) -> Linli:
        running = open_linli(settings.model_copy(update=changed), run_migrations=False)
        running.start()
        return running

    @pytest.fixture
    def used(self, town: CommandTown) -> tuple[list[UUID], UUID]:
        """Three members funded one after another, the first of them redeeming last."""
        members = [funded(town, 100) for _ in range(3)]
        merchant_id = town.add_merchant()
        town.redeem(merchant_id, members[0], 10)
        town.settle()
        return members, merchant_id

    def test_the_first_redemption_after_a_restart_reads_nothing_from_the_store(
            self, town, used, settings, monkeypatch):
        members, merchant_id = used
        again = self.restarted(settings)
        try:
            cached = set(again.writer.cache.aggregates)
            assert {ids.account_id(m, Asset.POINTS.value) for m in members} <= cached
            assert not {ids.account_id(m, Asset.MINUTES.value) for m in members} & cached

            def not_loaded(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
                raise AssertionError(f"{aggregate_id} was loaded from the store")

            monkeypatch.setattr(again.app.repository, "get", not_loaded)
            elsewhere = replace(town, linli=again)
            assert [elsewhere.redeem(merchant_id, m, 5).balance_after
                    for m in members] == [85, 95, 95]
        finally:
            again.close()
        town.settle()
        assert [town.balance(m) for m in [*members, merchant_id]] == [85, 95, 95, 25]

    def test_the_latest_used_come_first_and_only_as_many_as_the_cache_holds(
            self, town, used, settings):
        members, merchant_id = used
        points = [ids.account_id(m, Asset.POINTS.value) for m in [*members, merchant_id]]
        again = self.restarted(settings, cache_max_aggregates=5)
        try:
            cached = list(again.writer.cache.aggregates)  # the least recently used first
        finally:
            again.close()
        # The community, then the accounts the redemption posted to (the merchant's last)
        # and their owners; the other members' awards (and their time accounts) came before.
        assert cached == [points[0], members[0], points[3], merchant_id, town.community_id]

    def test_no_warm_up_when_turned_off_or_out_of_time(self, used, settings):
        off = self.restarted(settings, warm_up_seconds=0)
        try:
            assert off.writer.cached_aggregates == 0
        finally:
            off.close()
        late = open_linli(settings, run_migrations=False)
        try:
            members, merchant_id = used
            assert late.writer.warm(members, until=time.monotonic()) == 0
            assert late.writer.warm(members, until=time.monotonic() + 60) == 3
            late.writer.start()
            with pytest.raises(RuntimeError, match="running"):
                late.writer.warm([merchant_id], until=time.monotonic() + 60)
        finally:
            late.close()

    def test_a_failing_warm_up_leaves_a_writer_that_loads_as_it_goes(
            self, town, used, settings, monkeypatch, caplog):
        members, merchant_id = used

        def refused(*args: Any) -> Any:
            raise PersistenceOperationalError("the database went away")

        monkeypatch.setattr(write_cache, "load_aggregates", refused)
        again = self.restarted(settings)
        try:
            assert again.writer.cached_aggregates == 0
            assert "warming the writer's cache failed" in caplog.text
            assert replace(town, linli=again).redeem(merchant_id, members[1], 5) \
                .balance_after == 95
        finally:
            again.close()

    def test_a_second_start_leaves_the_running_writer_as_it_is(self, used, settings, caplog):
        """The app's lifespan starts a Linli a caller may have started already."""
        again = self.restarted(settings)
        try:
            cached = again.writer.cached_aggregates
            again.start()
            assert again.writer.cached_aggregates == cached > 0
            assert "warming the writer's cache failed" not in caplog.text
        finally:
            again.close()
