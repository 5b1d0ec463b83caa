"""The books from the event store: a journal beancount reads to the same balances, CSV of
the ledger and of a passbook, and `linli replay --until` equal to the balance `as_of`."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from beancount import loader
from beancount.core import realization
from sqlalchemy import select

from ledger.ids import account_id
from projections import journal
from projections.tables import balances
from tests.integration.test_cli import run
from tests.scenario import Town, ok


@pytest.fixture
def world(client) -> Town:
    world = Town.standard(client)
    other = world.add_member("李四")
    world.award(40)
    world.award(25, other)
    assert world.redeem(15).status_code == 201
    assert world.redeem(5, other).status_code == 201
    auditor = world.token(role="auditor")
    for body in ({"member_id": world.member_id, "asset": "MINUTES", "amount": 90,
                  "reason": "志愿服务 1.5 小时"},
                 {"merchant_id": world.merchant_id, "asset": "POINTS", "amount": -3,
                  "reason": "冲正"}):
        ok(client.post("/v1/adjustments", headers=auditor, json=body), 201)
    return world


def linli_balances(linli: Any) -> dict[str, int]:
    assert linli.read_your_writes()
    with linli.engine.connect() as conn:
        rows = conn.execute(select(balances.c.account_id, balances.c.balance)).all()
    return {account: balance for account, balance in rows if balance}


def beancount_balances(path: Path) -> dict[str, int]:
    """Balances as beancount computes them, under Linli's account ids."""
    entries, errors, _ = loader.load_file(str(path))
    assert errors == [], errors
    result: dict[str, int] = {}
    for account in realization.iter_children(realization.realize(entries)):
        for position in account.balance:
            if position.units.number == 0:
                continue
            number = position.units.number
            assert number == Decimal(int(number))
            parts = account.account.split(":")
            if parts[0] == "Assets":
                linli_id = parts[2].removeprefix("A-")
            else:
                linli_id = (f"community:{parts[2].removeprefix('C-')}:{parts[3]}:"
                            f"{parts[4].lower()}")
            result[linli_id] = int(number)
    return result


class TestJournal:
    def test_beancount_reads_the_same_balance_for_every_account(self, world, linli,
                                                                database_url, tmp_path):
        path = tmp_path / "linli.beancount"

        result = run(database_url, "export", "journal", "--format", "beancount", "-o",
                     str(path))

        assert result.returncode == 0, result.stderr
        expected = linli_balances(linli)
        assert any(k.endswith(":MINUTES:adjustments") for k in expected)
        assert beancount_balances(path) == expected

    def test_a_period_starts_with_the_balances_brought_forward(self, world, linli,
                                                               database_url, tmp_path):
        path = tmp_path / "period.beancount"
        today = datetime.now(UTC).date().isoformat()

        result = run(database_url, "export", "journal", "--from", today, "-o", str(path))

        assert result.returncode == 0, result.stderr
        assert "balances brought forward" in path.read_text()
        assert beancount_balances(path) == linli_balances(linli)

    def test_the_ledger_csv_sums_to_every_balance(self, world, linli, database_url):
        result = run(database_url, "export", "ledger")

        assert result.returncode == 0, result.stderr
        sums: dict[str, int] = defaultdict(int)
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        for row in rows:
            sums[row["account_id"]] += int(row["amount"])
        members = {k: v for k, v in linli_balances(linli).items()
                   if not k.startswith("community:")}
        assert {k: v for k, v in sums.items() if v} == members
        assert {r["kind"] for r in rows} >= {"award", "redemption", "adjustment"}

    def test_a_passbook_csv_lists_its_lines(self, world, database_url):
        result = run(database_url, "export", "passbook", world.member_id)

        assert result.returncode == 0, result.stderr
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert [int(r["amount"]) for r in rows] == [40, -15]
        assert rows[-1]["balance_after"] == "25"


class TestReplay:
    def test_replay_until_an_instant_equals_the_balance_as_of_it(self, world, client,
                                                                 database_url):
        time.sleep(0.01)
        instant = datetime.now(UTC)
        time.sleep(0.01)
        world.award(7)
        assert world.redeem(20).status_code == 201

        result = run(database_url, "replay", "--until", instant.isoformat())

        assert result.returncode == 0, result.stderr
        replayed = {(line.split("\t")[2], line.split("\t")[4]): int(line.split("\t")[5])
                    for line in result.stdout.splitlines()[1:]}
        as_of = ok(client.get(f"/v1/members/{world.member_id}/balance",
                              params={"as_of": instant.isoformat()}, headers=world.staff))
        now = world.balance()
        assert replayed[(world.member_id, "POINTS")] == as_of["points"] == 25
        assert replayed[(world.member_id, "MINUTES")] == as_of["minutes"] == 90
        assert now["points"] == 12


class TestJournalInstants:
    def test_to_and_from_an_instant_with_an_offset_cut_where_replay_does(
            self, world, linli, database_url, tmp_path):
        time.sleep(0.01)
        instant = datetime.now(UTC)
        time.sleep(0.01)
        world.award(7)
        in_beijing = instant.astimezone(timezone(timedelta(hours=8))).isoformat()
        before, after = tmp_path / "before.beancount", tmp_path / "after.beancount"

        cut = run(database_url, "export", "journal", "--to", in_beijing, "-o", str(before))
        rest = run(database_url, "export", "journal", "--from", in_beijing, "-o", str(after))
        replayed = run(database_url, "replay", "--until", instant.isoformat())

        assert cut.returncode == 0 and rest.returncode == 0, cut.stderr + rest.stderr
        expected = {line.split("\t")[0]: int(line.split("\t")[5])
                    for line in replayed.stdout.splitlines()[1:]}
        assert beancount_balances(before) == {k: v for k, v in expected.items() if v}
        assert beancount_balances(before)[str(account_id(UUID(world.member_id), "POINTS"))] == 25
        text = after.read_text()
        assert "balances brought forward" in text and text.count('* "award"') == 1
        assert beancount_balances(after) == linli_balances(linli)

    def test_a_bound_that_is_not_an_instant_is_refused(self, world, database_url):
        result = run(database_url, "export", "journal", "--to", "yesterday")
        assert result.returncode == 2 and "--to" in result.stderr


class TestOverHttp:
    def test_an_auditor_downloads_the_journal_and_the_ledger(self, world, linli, client,
                                                            tmp_path):
        auditor = world.token(role="auditor")
        journal = client.get("/v1/exports/journal", headers=auditor)
        ledger = client.get("/v1/exports/ledger", headers=auditor,
                            params={"from": "2000-01-01T00:00:00Z"})

        assert journal.status_code == 200 and ledger.status_code == 200
        path = tmp_path / "http.beancount"
        path.write_text(journal.text, encoding="utf-8")
        assert beancount_balances(path) == linli_balances(linli)
        assert ledger.headers["content-type"].startswith("text/csv")
        assert len(list(csv.DictReader(io.StringIO(ledger.text)))) == 8  # redemptions: 2 legs

    def test_a_community_auditor_may_not(self, world, client):
        response = client.get("/v1/exports/journal", headers=world.auditor)
        assert response.status_code == 403


@pytest.mark.skipif(shutil.which("hledger") is None, reason="hledger is not installed (apt)")
class TestHledger:
    def test_hledger_reads_the_same_balance_for_every_account(self, world, linli,
                                                              database_url, tmp_path):
        path = tmp_path / "linli.journal"
        assert run(database_url, "export", "journal", "--format", "hledger", "-o",
                   str(path)).returncode == 0

        report = subprocess.run(["hledger", "-f", str(path), "balance", "--flat", "--empty",
                                 "-O", "csv"], capture_output=True, text=True, check=True)

        found: dict[str, int] = {}
        for row in list(csv.reader(io.StringIO(report.stdout)))[1:]:
            account, amount = row
            if account == "total" or not amount or amount == "0":
                continue
            number, asset = amount.split()
            parts = account.split(":")
            key = (parts[2].removeprefix("A-") if parts[0] == "Assets" else
                   f"community:{parts[2].removeprefix('C-')}:{parts[3]}:{parts[4].lower()}")
            assert asset in key or parts[0] == "Assets"
            found[key] = int(number)
        assert found == linli_balances(linli)


def test_the_books_read_in_small_ranges_are_the_same(world, linli, monkeypatch):
    """The log is read in bounded ranges of positions; ranges smaller than the log, some with
    nothing the books need, give the same books."""
    whole = journal.read_books(linli.app)
    monkeypatch.setattr(journal, "BATCH", 3)
    in_ranges = journal.read_books(linli.app)

    assert repr(in_ranges) == repr(whole)
    assert len(whole[1]) >= 4  # awards, redemptions and adjustments
