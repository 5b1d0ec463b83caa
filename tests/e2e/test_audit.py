"""The audit trail through the real app: verify, the events feed, and tampering with the raw
rows on the real database (one kind of tampering per test), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

import projections.verify as checked
from api.bootstrap import Linli
from ledger.chain import MAC_MAGIC, event_hash, event_mac, split
from ledger.ids import account_id
from tests.integration.test_cli import run
from tests.scenario import Town, ok


class Rows:
    """Raw access to the stored events, as someone with database access has."""

    def __init__(self, linli: Linli) -> None:
        self.linli = linli
        self.table = linli.app.recorder.events_table_name  # type: ignore[attr-defined]
        self.position = "notification_id" if linli.settings.is_postgres else "rowid"

    def all(self) -> list[Any]:
        with self.linli.engine.connect() as conn:
            return list(conn.execute(text(
                f"SELECT {self.position} AS notification_id, originator_id, "
                "originator_version, topic, state "
                f"FROM {self.table} ORDER BY {self.position}")))

    def stream(self, row: Any) -> UUID:
        return UUID(str(row.originator_id))

    def where(self, row: Any) -> tuple[str, dict[str, Any]]:
        return f"{self.position} = :position", {"position": row.notification_id}

    def update(self, row: Any, **values: Any) -> None:
        clause, key = self.where(row)
        sets = ", ".join(f"{name} = :{name}" for name in values)
        with self.linli.engine.begin() as conn:
            assert conn.execute(text(f"UPDATE {self.table} SET {sets} WHERE {clause}"),
                                {**key, **values}).rowcount == 1

    def delete(self, row: Any) -> None:
        clause, key = self.where(row)
        with self.linli.engine.begin() as conn:
            assert conn.execute(text(f"DELETE FROM {self.table} WHERE {clause}"), key).rowcount == 1

    def insert(self, originator_id: Any, version: int, topic: str, state: bytes) -> int:
        with self.linli.engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {self.table} (originator_id, originator_version, "
                              "topic, state) VALUES (:id, :version, :topic, :state)"),
                         {"id": originator_id, "version": version, "topic": topic,
                          "state": state})
            return int(conn.execute(text(f"SELECT MAX({self.position}) FROM {self.table}"))
                       .scalar_one())


@pytest.fixture
def world(client) -> Town:
    world = Town.standard(client)
    for points in (30, 20, 10):
        world.award(points)
    assert world.redeem(15).status_code == 201
    return world


@pytest.fixture
def sealed(world: Town, linli: Linli) -> Town:
    """The world, its log sealed by a checkpoint, and one more award after it."""
    assert linli.sealer is not None
    assert linli.sealer.seal() is not None
    world.award(5)
    return world


def verify(world: Town) -> dict[str, Any]:
    auditor = world.token(role="auditor")
    return ok(world.client.get("/v1/audit/verify", headers=auditor))


def postings(rows: Rows) -> list[Any]:
    return [r for r in rows.all() if r.topic.endswith("Account.Posted")]


def first_problem(report: dict[str, Any]) -> dict[str, Any]:
    assert report["ok"] is False, report
    problem: dict[str, Any] = report["problems"][0]
    return problem


class TestACleanStore:
    def test_verifies_with_its_checkpoint(self, sealed, linli):
        report = verify(sealed)

        assert report["ok"] is True, report["problems"]
        assert report["events_checked"] == len(Rows(linli).all())
        assert report["checkpoints"] == 1
        assert report["unsealed_events"] >= 2  # the checkpoint itself and what came after
        assert len(report["sealed_hash"]) == 64

    def test_sealing_again_with_nothing_new_adds_nothing(self, world, linli):
        assert linli.sealer is not None
        assert linli.sealer.seal() is not None
        assert linli.sealer.seal() is None
        assert verify(world)["checkpoints"] == 1

    def test_two_rebuilds_give_identical_projections(self, sealed, linli):
        def tables() -> dict[str, list[Any]]:
            with linli.engine.connect() as conn:
                return {t.name: sorted(map(tuple, conn.execute(t.select())), key=repr)
                        for view in linli.projections.views for t in view.tables}

        linli.read_your_writes()
        live = tables()
        linli.projections.rebuild(None)
        once = tables()
        linli.projections.rebuild(None)

        assert once == live
        assert tables() == once


class TestTheEventsFeed:
    def test_pages_through_every_event_with_links_to_the_previous_hash(self, sealed, linli):
        auditor = sealed.token(role="auditor")
        items: list[dict[str, Any]] = []
        after = 0
        while True:
            page = ok(sealed.client.get("/v1/events", headers=auditor,
                                        params={"after": after, "limit": 7}))
            if not page["items"]:
                assert page["next_after"] == after
                break
            assert len(page["items"]) <= 7
            items += page["items"]
            after = page["next_after"]

        assert [i["position"] for i in items] == [r.notification_id for r in Rows(linli).all()]
        heads: dict[str, str] = {}
        for item in items:
            assert item["prev_hash"] == heads.get(item["stream_id"], "00" * 32)
            heads[item["stream_id"]] = item["hash"]
        redemption = next(i for i in items if i["type"] == "Account.Posted"
                          and i["data"]["kind"] == "redemption")
        assert redemption["data"]["amount"] == -15
        assert redemption["actor"]["role"] == "merchant"
        assert redemption["recorded_at"] is not None

    def test_hashes_are_sha256_of_the_documented_encoding(self, sealed, linli):
        for row in Rows(linli).all():
            state = bytes(row.state)
            topic = row.topic.encode()
            expected = hashlib.sha256(
                b"linli/event/v1\x00" + Rows(linli).stream(row).bytes
                + struct.pack(">qI", row.originator_version, len(topic)) + topic
                + state[4:36] + state[100:]).digest()
            assert state[:4] == b"LCH2"
            assert state[36:68] == expected
            assert state[68:100] == hmac.digest(linli.app.keys.mac, expected, "sha256")

    def test_a_community_auditor_sees_only_its_community(self, sealed, client):
        other = Town.standard(client, "湖滨社区")
        other.award(9)
        items: list[dict[str, Any]] = []
        after = 0
        while True:
            page = ok(client.get("/v1/events", headers=sealed.auditor,
                                 params={"after": after, "limit": 5}))
            items += page["items"]
            if page["next_after"] == after:
                break
            after = page["next_after"]

        streams = {i["stream_id"] for i in items}
        assert {sealed.community_id, sealed.member_id, sealed.merchant_id} <= streams
        assert not {other.community_id, other.member_id, other.merchant_id} & streams
        community_ids = {i["data"].get("community_id") for i in items} - {None}
        assert community_ids == {sealed.community_id}
        assert any(i["type"] == "Account.Posted" for i in items)

    def test_withholds_every_keys_token_hash_and_keeps_its_stored_hash(self, sealed, linli):
        auditor = sealed.token(role="auditor")
        items = ok(sealed.client.get("/v1/events", headers=auditor,
                                     params={"limit": 500}))["items"]
        issued = [i for i in items if i["type"] == "ApiKey.Issued"]
        stored = {r.notification_id: bytes(r.state) for r in Rows(linli).all()}

        assert len(issued) >= 4
        for item in issued:
            assert "token_hash" not in item["data"] and item["withheld"] == ["token_hash"]
            assert item["data"]["role"]
            assert bytes.fromhex(item["hash"]) == split(stored[item["position"]])[0].hash
        personal = {"Member.Registered": ["name"], "Member.Renamed": ["name"],
                    "Member.BirthDateRecorded": ["born_on"], "Household.Registered": ["address"],
                    "Household.AddressChanged": ["address"]}  # docs/privacy.md
        assert any(i["type"] in personal for i in items)
        assert all(i["withheld"] == personal.get(i["type"], []) for i in items
                   if i["type"] != "ApiKey.Issued")
        assert all("token_hash" not in str(i["data"]) for i in items)

    def test_shows_a_damaged_row_as_it_is(self, sealed, linli):
        rows = Rows(linli)
        target = postings(rows)[0]
        rows.update(target, topic="ledger.domain.accounts:Account.Forged")

        page = ok(sealed.client.get("/v1/events", headers=sealed.token(role="auditor"),
                                    params={"after": target.notification_id - 1, "limit": 1}))

        item = page["items"][0]
        assert item["position"] == target.notification_id
        assert item["type"] == "Account.Forged"
        assert "undecodable" in item["data"]

    @pytest.mark.parametrize("role", ["staff", "member", "merchant"])
    def test_is_refused_to_other_roles(self, world, role):
        token = {"staff": world.staff, "member": world.member, "merchant": world.merchant}[role]
        for path in ("/v1/events", "/v1/audit/verify"):
            response = world.client.get(path, headers=token)
            assert response.status_code == 403, response.text
            assert response.json()["type"].endswith("/forbidden")


class TestACommunitysAuditorVerifies:
    def test_its_own_streams_with_the_scope_named(self, sealed, client):
        other = Town.standard(client, "湖滨社区")
        other.award(9)
        whole = verify(sealed)

        mine = ok(client.get("/v1/audit/verify", headers=sealed.auditor))

        assert (mine["ok"], mine["scope"], whole["scope"]) == (True, sealed.community_id, "all")
        assert 0 < mine["accounts_checked"] < whole["accounts_checked"]
        assert mine["sealed_through"] == whole["sealed_through"]

    def test_hears_of_tampering_in_its_community_and_not_in_another(self, sealed, client,
                                                                    linli):
        other = Town.standard(client, "湖滨社区")
        other.award(9)
        rows = Rows(linli)
        theirs = str(account_id(UUID(other.member_id), "POINTS"))
        target = [r for r in postings(rows) if str(rows.stream(r)) == theirs][-1]
        rows.update(target, topic=target.topic + "X")

        mine = ok(client.get("/v1/audit/verify", headers=sealed.auditor))
        assert mine["ok"] is True, mine["problems"]
        assert first_problem(ok(client.get("/v1/audit/verify", headers=other.auditor))
                             )["position"] == target.notification_id
        assert first_problem(verify(sealed))["position"] == target.notification_id

    def test_an_unknown_token_or_another_role_is_refused(self, world):
        assert world.client.get("/v1/audit/verify",
                                headers={"Authorization": "Bearer nope"}).status_code == 401
        assert world.client.get("/v1/audit/verify", headers=world.staff).status_code == 403


class TestTamperingIsCaught:
    def test_a_flipped_byte_in_an_event_state(self, sealed, linli):
        rows = Rows(linli)
        target = postings(rows)[1]
        state = bytearray(bytes(target.state))
        at = bytes(state).index(b'"amount"') + 10  # inside the amount's digits
        state[at] ^= 0x01
        rows.update(target, state=bytes(state))

        problem = first_problem(verify(sealed))

        assert problem["position"] == target.notification_id
        assert problem["stream_id"] == str(rows.stream(target))
        assert "hash does not match" in problem["problem"]

    def test_an_edited_topic(self, sealed, linli):
        rows = Rows(linli)
        target = next(r for r in rows.all() if r.topic.endswith("Award.Created")
                      or r.topic.endswith(":Award.Posted") or ":Award." in r.topic)
        rows.update(target, topic=target.topic + "X")

        problem = first_problem(verify(sealed))

        assert problem["position"] == target.notification_id
        assert "hash does not match" in problem["problem"]

    def test_a_deleted_event_in_the_middle_of_a_stream(self, sealed, linli):
        rows = Rows(linli)
        target = postings(rows)[0]  # the member's first award; more postings follow
        rows.delete(target)

        report = verify(sealed)
        problem = first_problem(report)

        assert problem["position"] == target.notification_id
        assert "deleted" in problem["problem"]
        assert any("events are missing" in p["problem"] for p in report["problems"])

    def test_a_deleted_last_event_of_a_stream(self, sealed, linli):
        rows = Rows(linli)
        sealed_through = verify(sealed)["sealed_through"]
        last_of_stream: dict[UUID, Any] = {}
        for row in rows.all():
            last_of_stream[rows.stream(row)] = row
        target = next(r for r in last_of_stream.values()
                      if r.notification_id <= sealed_through)
        rows.delete(target)

        problem = first_problem(verify(sealed))

        assert problem["position"] == target.notification_id
        assert "was deleted" in problem["problem"]

    def test_two_rows_with_their_contents_swapped(self, sealed, linli):
        rows = Rows(linli)
        first, second = postings(rows)[0], postings(rows)[2]
        rows.update(first, topic=second.topic, state=bytes(second.state))
        rows.update(second, topic=first.topic, state=bytes(first.state))

        report = verify(sealed)
        named = {p["position"] for p in report["problems"] if p["position"] is not None}

        assert first_problem(report)["position"] == first.notification_id
        assert {first.notification_id, second.notification_id} <= named

    def test_a_forged_row(self, sealed, linli):
        rows = Rows(linli)
        model = postings(rows)[-1]  # a copy of a real posting, as the stream's next event
        versions = [r.originator_version for r in rows.all()
                    if rows.stream(r) == rows.stream(model)]
        forged = rows.insert(model.originator_id, max(versions) + 1, model.topic,
                             bytes(model.state))

        problem = first_problem(verify(sealed))

        assert problem["position"] == forged
        assert problem["stream_id"] == str(rows.stream(model))


def forge_posting(rows: Rows, account: Any, **changes: Any) -> int:
    """A posting appended to `account`'s stream with its hash and MAC recomputed (someone who
    may write the database and holds the MAC key): the chain alone cannot tell."""
    last = [r for r in postings(rows) if rows.stream(r) == UUID(str(account))][-1]
    header, payload = split(bytes(last.state))
    assert header is not None
    fields = json.loads(payload)
    fields.update(changes)
    body = json.dumps(fields, separators=(",", ":")).encode()
    version = last.originator_version + 1
    own = event_hash(rows.stream(last), version, last.topic, header.hash, body)
    state = MAC_MAGIC + header.hash + own + event_mac(rows.linli.app.keys.mac, own) + body
    return rows.insert(last.originator_id, version, last.topic, state)


class TestOverdrafts:
    def adjust(self, world: Town, amount: int) -> None:
        ok(world.client.post("/v1/adjustments", headers=world.token(role="auditor"), json={
            "member_id": world.member_id, "asset": "POINTS", "amount": amount,
            "reason": "审计调整"}), 201)

    def test_an_adjustment_below_zero_passes(self, world):
        self.adjust(world, -60)  # 45 → -15

        assert verify(world)["ok"] is True

    def test_a_redemption_into_debt_after_a_small_adjustment_is_named(self, world, linli,
                                                                      database_url):
        self.adjust(world, 1)  # 45 → 46: once, any account ever adjusted passed
        rows = Rows(linli)
        account = str(account_id(UUID(world.member_id), "POINTS"))
        forged = forge_posting(rows, account, kind="redemption", amount=-100,
                               balance_after=-54,
                               counter_account=f"community:{world.community_id}:POINTS:issued")

        report = verify(world)
        problem = first_problem(report)

        assert problem["position"] == forged
        assert problem["stream_id"] == account
        assert "redemption of -100" in problem["problem"] and "below zero" in problem["problem"]
        command = run(database_url, "verify")
        assert command.returncode == 1
        assert command.stderr.startswith(f"PROBLEM: event at position {forged} ")


class TestTheReadmeQuery:
    @pytest.mark.parametrize("backend", ["postgres"], indirect=True)
    def test_recomputes_every_hash_in_plain_sql(self, sealed, linli):
        readme = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text()
        query = readme.split("## The hash chain", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
        with linli.engine.connect() as conn:
            checked = conn.exec_driver_sql(query).all()

        assert len(checked) == len(Rows(linli).all())
        assert all(row.hash_ok for row in checked)

        Rows(linli).update(postings(Rows(linli))[0], topic="forged:Topic")
        with linli.engine.connect() as conn:
            assert not all(row.hash_ok for row in conn.exec_driver_sql(query))


class TestTheCommand:
    def test_verify_exits_1_naming_the_first_bad_event(self, sealed, linli, database_url):
        assert run(database_url, "verify").returncode == 0
        rows = Rows(linli)
        target = postings(rows)[1]
        rows.update(target, topic=target.topic + "X")

        result = run(database_url, "verify")

        assert result.returncode == 1
        first = result.stderr.splitlines()[0]
        assert first.startswith(f"PROBLEM: event at position {target.notification_id} "
                                f"(stream {rows.stream(target)}, version "
                                f"{target.originator_version})")


class TestTwoProcesses:
    @pytest.mark.parametrize("backend", ["postgres"], indirect=True)
    @pytest.mark.parametrize("edited", [40, None], ids=["some", "past the cap"])
    def test_a_long_logs_report_is_the_same_checked_in_two_processes(self, world, linli,
                                                                      monkeypatch, edited):
        """`linli verify` checks a long log's chain in a process of its own: the same
        problems, in the same order, up to the same cap, as one process finds."""
        for _ in range(60):
            world.award(1)
        assert linli.sealer is not None and linli.sealer.seal() is not None
        world.award(2)
        linli.projections.catch_up()
        rows = Rows(linli)
        for row in postings(rows)[-(edited or 0):]:  # its hash, balance_after, snapshot
            rows.update(row, state=bytes(row.state).replace(b'"balance_after":',
                                                             b'"balance_after":1', 1))
        rows.delete(next(r for r in rows.all() if r.topic.endswith("Award.Recorded")))
        one = checked.verify(linli.app, linli.engine)
        started: list[int] = []

        class Counted(checked._ChainApart):
            def __init__(self, *args: Any) -> None:
                started.append(1)
                super().__init__(*args)

        monkeypatch.setattr(checked, "_ChainApart", Counted)
        monkeypatch.setattr(checked, "APART_EVENTS", 0)
        two = checked.verify(linli.app, linli.engine, chain_apart=True)

        assert started == [1]
        named = " ".join(str(p) for p in one.problems)
        assert "hash does not match" in named and "says balance_after" in named
        if edited is None:
            assert len(one.problems) == checked.MAX_PROBLEMS
        else:  # named at the checkpoint's event, the position before the edited ones
            assert "was deleted" in named and len(one.problems) < checked.MAX_PROBLEMS
        assert [str(p) for p in two.problems] == [str(p) for p in one.problems]
        assert (two.events_checked, two.checkpoints, two.unsealed_events, two.sealed_through,
                two.sealed_hash, two.snapshots_rebuilt, two.accounts_checked) == (
            one.events_checked, one.checkpoints, one.unsealed_events, one.sealed_through,
            one.sealed_hash, one.snapshots_rebuilt, one.accounts_checked)
