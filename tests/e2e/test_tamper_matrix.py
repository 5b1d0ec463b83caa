"""Someone who can write the database but holds neither key: each attack on the raw rows, on
SQLite and PostgreSQL. For each, `linli verify` exits 1 naming the first bad position, and the
running app refuses what it can detect (a forged key never authenticates, an edited snapshot is
never believed, a log cut behind its checkpoint is not sealed over)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import text
from typer.testing import CliRunner

import projections.verify
from api.bootstrap import Linli
from api.cli import cli
from ledger.chain import (
    GENESIS,
    MAC_MAGIC,
    MAGIC,
    SNAPSHOT_HEADER_BYTES,
    event_hash,
    snapshot_head,
    split,
    with_snapshot_header,
)
from ledger.commands.access import hash_token
from ledger.domain.audit import AUDIT_LOG_ID, log_hash
from ledger.ids import account_id, api_key_id
from ledger.sealer import SEALED, LogCut
from ledger.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.e2e.test_audit import Rows, postings
from tests.scenario import Town, auth, key, ok


@pytest.fixture(autouse=True, params=["one process", "two processes"])
def processes(request: pytest.FixtureRequest, backend: str,
              monkeypatch: pytest.MonkeyPatch) -> str:
    """On PostgreSQL verify checks a long log's chain in a process of its own beside the
    snapshots and the replay: each attack is named alike, small log or long."""
    if request.param == "two processes":
        if backend != "postgres":
            pytest.skip("one process on SQLite")
        monkeypatch.setattr(projections.verify, "APART_EVENTS", 0)
    return str(request.param)


FIRST_PROBLEM = re.compile(r"^PROBLEM: (?:event at )?position (\d+)", re.MULTILINE)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The suite's settings, a snapshot every 4 events."""
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN,
                    projection_worker="thread", projection_poll_seconds=0.05,
                    sweep_interval_seconds=0, seal_interval_seconds=0, warm_up_seconds=0,
                    snapshot_interval_events=4, rate_limit_per_second=1_000_000,
                    rate_limit_burst=1_000_000, auth_failure_burst=1_000_000)


@pytest.fixture
def world(client: Any) -> Town:
    world = Town.standard(client)
    for points in (30, 20, 10):
        world.award(points)
    assert world.redeem(15).status_code == 201
    return world


@pytest.fixture
def sealed(world: Town, linli: Linli) -> Town:
    """The world, its log sealed by a signed checkpoint, and one more award after it."""
    seal(linli)
    world.award(5)
    return world


def seal(linli: Linli) -> int:
    assert linli.sealer is not None
    sealed = linli.sealer.seal()
    assert sealed is not None
    return sealed


def verify(database_url: str, *args: str) -> tuple[int, int | None, str]:
    """`linli verify` on the database: (exit code, the position the first problem names,
    its output)."""
    result = CliRunner().invoke(cli, ["verify", *args],
                                env={"LINLI_DATABASE_URL": database_url})
    found = FIRST_PROBLEM.search(result.output)
    return result.exit_code, int(found.group(1)) if found else None, result.output


def assert_named(database_url: str, position: int, *args: str) -> str:
    code, named, output = verify(database_url, *args)
    assert code == 1, output
    assert named == position, output
    return output


def forget(linli: Linli) -> None:
    """The writer forgets the aggregates it holds (as after a restart): the next command
    loads them from the database."""
    linli.writer.submit(lambda uow: linli.writer.cache.clear()).result(timeout=10)


def rechain(rows: Rows, edit: dict[int, bytes] | None = None,
            drop: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """What an attacker who knows every recipe but holds no key does: payloads replaced
    (`edit`: position -> payload) or rows dropped, then every hash and every checkpoint's log
    hash after them recomputed and written back (the MACs and signatures stay as they were)."""
    edit = edit or {}
    heads: dict[UUID, bytes] = {}
    sealed_hash, pending = "00" * 32, []
    for row in rows.all():
        position, stream = row.notification_id, rows.stream(row)
        if position in drop:
            rows.delete(row)
            continue
        state = bytes(row.state)
        header, payload = split(state)
        assert header is not None
        mac = header.mac
        payload = edit.get(position, payload)
        if row.topic == SEALED:
            fields = json.loads(payload)
            covered = [(p, h) for p, h in pending if p <= fields["through_position"]]
            pending = [(p, h) for p, h in pending if p > fields["through_position"]]
            fields["log_hash"] = log_hash(sealed_hash, covered)
            fields["events"] = len(covered)
            fields["fingerprints"] = b"".join(h[:2] for _, h in covered).hex()
            sealed_hash = fields["log_hash"]
            payload = json.dumps(fields, separators=(",", ":")).encode()
        prev = heads.get(stream, GENESIS)
        own = event_hash(stream, row.originator_version, row.topic, prev, payload)
        heads[stream] = own
        pending.append((position, own))
        new = (MAC_MAGIC + prev + own + mac if mac is not None else MAGIC + prev + own) + payload
        if new != state:
            rows.update(row, state=new)


def payload_of(row: Any) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(split(bytes(row.state))[1])
    return fields


def encoded(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, separators=(",", ":")).encode()


class TestAForgedAdminKey:
    @pytest.mark.parametrize("header", ["without a MAC", "with a made-up MAC"])
    def test_never_authenticates_and_verify_names_it(self, world, linli, database_url,
                                                     header):
        rows = Rows(linli)
        model = next(r for r in rows.all() if r.topic.endswith("ApiKey.Issued"))
        token = "lnl_forged-admin-token"
        fields = payload_of(model)
        fields.update(token_hash=hash_token(token), role="admin", community_id=None,
                      merchant_id=None, member_id=None, label="forged")
        payload, stream = encoded(fields), api_key_id(hash_token(token))
        own = event_hash(stream, 1, model.topic, GENESIS, payload)
        state = (MAGIC + GENESIS + own if header == "without a MAC"
                 else MAC_MAGIC + GENESIS + own + bytes(32)) + payload
        forged = rows.insert(stream.hex if not linli.settings.is_postgres else stream, 1,
                             model.topic, state)

        response = world.client.post("/v1/communities", headers=auth(token),
                                     json={"name": "伪造的社区"})

        assert response.status_code in (401, 500), response.text
        assert world.client.get("/v1/communities", headers=auth(token)).status_code != 200
        assert_named(database_url, forged)


class TestSealedHistory:
    """Behind a signed checkpoint: each change is named even with every hash recomputed."""

    def test_an_event_rewritten_with_its_hash_recomputed(self, sealed, linli, database_url,
                                                         settings):
        rows = Rows(linli)
        target = postings(rows)[0]
        fields = payload_of(target)
        fields["amount"] += 1000
        fields["balance_after"] += 1000
        rechain(rows, edit={target.notification_id: encoded(fields)})

        assert_named(database_url, target.notification_id)
        forget(linli)
        refused = sealed.client.post("/v1/adjustments", headers=sealed.token(role="auditor"),
                                     json={"member_id": sealed.member_id, "asset": "POINTS",
                                           "amount": 1, "reason": "审计调整"})
        assert refused.status_code == 500
        assert refused.json()["type"].endswith("/tampered-event")

    def test_a_whole_stream_rewritten_with_every_later_checkpoint(self, sealed, linli,
                                                                  database_url):
        rows = Rows(linli)
        account = str(account_id(UUID(sealed.member_id), "POINTS"))
        stream = [r for r in postings(rows) if str(rows.stream(r)) == account]
        edits = {}
        for row in stream:
            fields = payload_of(row)
            fields["amount"] *= 2
            fields["balance_after"] *= 2
            edits[row.notification_id] = encoded(fields)
        rechain(rows, edit=edits)

        output = assert_named(database_url, stream[0].notification_id)
        assert "signature does not match" in output

    def test_an_edited_event(self, sealed, linli, database_url):
        rows = Rows(linli)
        target = postings(rows)[1]
        rows.update(target, state=bytes(target.state).replace(b'"amount":', b'"amount": '))

        assert_named(database_url, target.notification_id)

    def test_a_deleted_event(self, sealed, linli, database_url):
        rows = Rows(linli)
        target = postings(rows)[1]
        rechain(rows, drop={target.notification_id})

        assert_named(database_url, target.notification_id)

    def test_two_events_reordered(self, sealed, linli, database_url):
        rows = Rows(linli)
        first, second = postings(rows)[0], postings(rows)[2]
        rows.update(first, topic=second.topic, state=bytes(second.state))
        rows.update(second, topic=first.topic, state=bytes(first.state))
        rows.update(first, originator_id=second.originator_id,
                    originator_version=-first.originator_version)
        rows.update(second, originator_id=first.originator_id,
                    originator_version=first.originator_version)
        rows.update(first, originator_version=second.originator_version)

        assert_named(database_url, first.notification_id)

    def test_an_inserted_event(self, sealed, linli, database_url):
        rows = Rows(linli)
        model = postings(rows)[-1]
        versions = [r.originator_version for r in rows.all()
                    if rows.stream(r) == rows.stream(model)]
        forged = rows.insert(model.originator_id, max(versions) + 1, model.topic,
                             bytes(model.state))

        assert_named(database_url, forged)


class TestUnsealedHistory:
    """After the last checkpoint: what the app wrote is what it seals, whatever the rows say
    by then."""

    def test_an_event_rewritten_with_its_hash_recomputed(self, sealed, linli, database_url):
        rows = Rows(linli)
        target = postings(rows)[-1]  # the award after the checkpoint
        assert target.notification_id > seal_position(linli)
        fields = payload_of(target)
        fields["amount"] += 1000
        fields["balance_after"] += 1000
        rechain(rows, edit={target.notification_id: encoded(fields)})

        assert_named(database_url, target.notification_id)

    def test_a_deleted_idempotency_record(self, sealed, linli, database_url):
        ok(sealed.client.post("/v1/awards", headers={**sealed.staff, **key()}, json={
            "member_id": sealed.member_id, "rule_code": "GIFT", "quantity": 3}), 201)
        rows = Rows(linli)
        record = next(r for r in reversed(rows.all()) if "Idempotency" in r.topic)
        rows.delete(record)

        seal(linli)

        assert_named(database_url, record.notification_id)

    def test_two_rows_swapped(self, sealed, linli, database_url):
        sealed.award(7)
        rows = Rows(linli)
        after = [r for r in rows.all() if r.notification_id > seal_position(linli)]
        first, second = after[0], after[-1]
        assert rows.stream(first) != rows.stream(second)
        swap(rows, first, second)

        seal(linli)

        assert_named(database_url, first.notification_id)

    def test_an_inserted_event(self, sealed, linli, database_url):
        rows = Rows(linli)
        model = postings(rows)[-1]
        header, payload = split(bytes(model.state))
        assert header is not None
        version = model.originator_version + 1
        own = event_hash(rows.stream(model), version, model.topic, header.hash, payload)
        forged = rows.insert(model.originator_id, version, model.topic,
                             MAGIC + header.hash + own + payload)

        assert_named(database_url, forged)


def seal_position(linli: Linli) -> int:
    return int(linli.app.repository.get(AUDIT_LOG_ID).through_position)


def swap(rows: Rows, first: Any, second: Any) -> None:
    """Exchange two rows' contents (stream, version, topic, state) between their positions."""
    temporary = -1_000_000
    rows.update(first, originator_version=temporary)
    rows.update(second, originator_id=first.originator_id,
                originator_version=first.originator_version, topic=first.topic,
                state=bytes(first.state))
    rows.update(first, originator_id=second.originator_id,
                originator_version=second.originator_version, topic=second.topic,
                state=bytes(second.state))


class TestWitnesses:
    @pytest.fixture
    def witness(self, sealed: Town, linli: Linli, database_url: str,
                tmp_path: Path) -> Iterator[Path]:
        """A witness file holding the latest signed seal, and the public key beside it."""
        path = tmp_path / "witness.jsonl"
        result = CliRunner().invoke(cli, ["audit", "witness", "-o", str(path)],
                                    env={"LINLI_DATABASE_URL": database_url})
        assert result.exit_code == 0, result.output
        response = sealed.client.get("/v1/audit/public-key", headers={"Authorization": ""})
        assert response.status_code == 200 and "PUBLIC KEY" in response.text
        (tmp_path / "linli.pub").write_text(response.text)
        yield path

    def test_a_clean_log_passes_with_the_public_key_only(self, witness, database_url,
                                                         tmp_path):
        code, _, output = verify(database_url, "--public-key", str(tmp_path / "linli.pub"),
                                 "--witness", str(witness))
        assert code == 0, output

    def test_the_tail_cut_behind_the_latest_checkpoint(self, witness, linli, database_url):
        rows = Rows(linli)
        through = json.loads(witness.read_text().splitlines()[-1])["position"]
        cut = [r for r in rows.all() if r.notification_id > through - 3]
        for row in cut:
            rows.delete(row)

        assert_named(database_url, cut[0].notification_id, "--witness", str(witness))
        with pytest.raises(LogCut):
            seal(linli)

    def test_a_rewrite_behind_a_witnessed_checkpoint_with_the_public_key_only(
            self, witness, linli, database_url, tmp_path):
        rows = Rows(linli)
        target = postings(rows)[0]
        fields = payload_of(target)
        fields["reason"] = "改写"
        rechain(rows, edit={target.notification_id: encoded(fields)})

        code, _, output = verify(database_url, "--public-key", str(tmp_path / "linli.pub"),
                                 "--witness", str(witness))
        assert code == 1 and "signature does not match" in output, output

    def test_since_witness_checks_only_what_came_after(self, witness, sealed, linli,
                                                       database_url):
        sealed.award(1)
        code, _, output = verify(database_url, "--witness", str(witness), "--since-witness")
        assert code == 0, output
        through = json.loads(witness.read_text().splitlines()[-1])["position"]
        checked = int(re.search(r"checked (\d+) events", output).group(1))  # type: ignore[union-attr]
        assert checked == len([r for r in Rows(linli).all() if r.notification_id > through])

        rows = Rows(linli)
        target = postings(rows)[-1]
        rows.update(target, state=bytes(target.state).replace(b'"amount":', b'"amount": '))
        assert_named(database_url, target.notification_id, "--witness", str(witness),
                     "--since-witness")


class TestSnapshots:
    def test_an_edited_snapshot_is_never_believed(self, world, linli, database_url):
        account = account_id(UUID(world.member_id), "POINTS")
        snapshots = linli.app.snapshots.recorder  # type: ignore[union-attr]
        stored = list(snapshots.select_events(account, desc=True, limit=1))
        assert stored, "the account has a snapshot"
        snapshot = stored[0]
        body = bytes(snapshot.state)[SNAPSHOT_HEADER_BYTES:]
        assert b'"held":0' in body
        table = snapshots.events_table_name
        rows = Rows(linli)
        with linli.engine.begin() as conn:
            conn.execute(text(f"UPDATE {table} SET state = :state WHERE originator_id = :id "
                              "AND originator_version = :version"),
                         {"state": bytes(snapshot.state).replace(b'"held":0',
                                                                 b'"held":-100000'),
                          "id": account if rows.position == "notification_id" else account.hex,
                          "version": snapshot.originator_version})
        forget(linli)

        refused = world.redeem(1_000)

        assert refused.status_code == 409, refused.text
        balance = ok(world.client.get(f"/v1/members/{world.member_id}/balance",
                                      headers=world.staff))
        assert balance["points"] == 45
        code, _, output = verify(database_url)
        assert code == 1 and "snapshot" in output, output

    def test_a_snapshot_rewritten_with_its_mac_is_named_by_the_replay(self, world, linli,
                                                                      database_url):
        """Someone holding the MAC key (an insider) still cannot make a snapshot disagree
        with its events unseen: verify compares an account's snapshot with the replay."""
        account = account_id(UUID(world.member_id), "POINTS")
        snapshots = linli.app.snapshots.recorder  # type: ignore[union-attr]
        snapshot = list(snapshots.select_events(account, desc=True, limit=1))[0]
        head = snapshot_head(bytes(snapshot.state))
        assert head is not None
        body = bytes(snapshot.state)[SNAPSHOT_HEADER_BYTES:].replace(b'"held":0',
                                                                      b'"held":-100000')
        forged = with_snapshot_header(StoredEvent(account, snapshot.originator_version,
                                                  snapshot.topic, body), head,
                                      linli.app.keys.mac)  # type: ignore[attr-defined]
        rows = Rows(linli)
        with linli.engine.begin() as conn:
            conn.execute(text(f"UPDATE {snapshots.events_table_name} SET state = :state "
                              "WHERE originator_id = :id AND originator_version = :version"),
                         {"state": forged.state, "version": snapshot.originator_version,
                          "id": account if rows.position == "notification_id" else account.hex})

        code, _, output = verify(database_url)
        assert code == 1 and "held -100000" in output, output

    def test_any_aggregates_snapshot_rewritten_with_its_mac_is_named_by_its_rebuild(
            self, world, linli, database_url):
        """Not only accounts: verify rebuilds every aggregate that has a snapshot from its
        events and names the first field its latest snapshot holds otherwise."""
        snapshots = linli.app.snapshots.recorder  # type: ignore[union-attr]
        table = snapshots.events_table_name
        with linli.engine.connect() as conn:
            rows = conn.execute(text(f"SELECT originator_id, originator_version, topic, state "
                                     f"FROM {table}")).all()
        latest: dict[Any, Any] = {}
        for row in rows:
            if row.originator_id not in latest or (
                    row.originator_version > latest[row.originator_id].originator_version):
                latest[row.originator_id] = row
        others = [r for r in latest.values()
                  if b'"topic":"ledger.domain.accounts:Account"' not in bytes(r.state)]
        assert others, "an aggregate other than an account has a snapshot"
        target = others[0]
        stored = bytes(target.state)
        fields = json.loads(stored[SNAPSHOT_HEADER_BYTES:])
        name, value = next((k, v) for k, v in fields["state"].items()
                           if not k.startswith("_") and isinstance(v, str))
        fields["state"][name] = value + "x"
        stream = UUID(str(target.originator_id))
        forged = with_snapshot_header(
            StoredEvent(stream, target.originator_version, target.topic,
                        json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()),
            stored[4:36], linli.app.keys.mac)  # type: ignore[attr-defined]
        with linli.engine.begin() as conn:
            conn.execute(text(f"UPDATE {table} SET state = :state WHERE originator_id = :id "
                              "AND originator_version = :version"),
                         {"state": forged.state, "id": target.originator_id,
                          "version": target.originator_version})

        code, _, output = verify(database_url)

        assert code == 1, output
        assert (f"(stream {stream}, version {target.originator_version}): the stream's "
                f"snapshot at version {target.originator_version} does not match its events: "
                f"its {name} is {json.dumps(value + 'x', ensure_ascii=False)}, the events give "
                f"{json.dumps(value, ensure_ascii=False)}") in output, output
        assert output.count("PROBLEM:") == 1, output


class TestAStoreFromBeforeTheKeys:
    def test_its_events_load_once_a_signed_seal_vouches_for_them(self, world, linli,
                                                                 database_url):
        """Events without MACs (b"LCH1") and no signed checkpoint, as a store written before
        the keys: refused until the first signed checkpoint records where they end, then
        loaded; one added after it is refused."""
        rows = Rows(linli)
        for row in rows.all():
            header, payload = split(bytes(row.state))
            assert header is not None
            if row.topic.startswith("ledger.domain.audit:"):
                rows.delete(row)
            else:
                rows.update(row, state=MAGIC + header.prev_hash + header.hash + payload)
        with linli.engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {linli.app.snapshots.recorder.events_table_name}"))  # type: ignore[union-attr]
        forget(linli)
        assert linli.sealer is not None
        linli.sealer.committed.forget_through(2**62)  # written by an older process
        assert world.redeem(1).status_code == 500  # nothing vouches for the member's events

        seal(linli)
        forget(linli)

        assert world.redeem(1).status_code == 201
        code, _, output = verify(database_url)
        assert code == 0, output
        model = postings(Rows(linli))[-1]
        header, payload = split(bytes(model.state))
        assert header is not None
        version = model.originator_version + 1
        own = event_hash(Rows(linli).stream(model), version, model.topic, header.hash, payload)
        forged = Rows(linli).insert(model.originator_id, version, model.topic,
                                    MAGIC + header.hash + own + payload)
        forget(linli)
        assert world.redeem(1).status_code == 500
        assert_named(database_url, forged)
