"""Secrets: tokens are kept only as hashes, and no token reaches the logs.

Runs against the shared `linli serve` of the run, whose log has taken every request of the
other reliability tests (schemathesis's thousands included, all with the admin token).
"""

from __future__ import annotations

import hashlib

import httpx
from sqlalchemy import MetaData, create_engine, select

from harness.served import ADMIN_TOKEN
from ledger.application import open_ledger
from ledger.settings import Settings
from tests.scenario import Town, auth


def issued_tokens(url: str) -> list[str]:
    """Tokens of every role, each used once well and once mangled."""
    with httpx.Client(base_url=url, headers=auth(ADMIN_TOKEN), timeout=30.0) as http:
        town = Town.found(http)
        member = town.add_member("居民0")
        town.award(10, member)
        merchant = town.add_merchant("商户0")
        tokens = [town.issue_token(**grant) for grant in (
            {"role": "merchant", "merchant_id": merchant},
            {"role": "auditor", "community_id": town.community_id},
            {"role": "staff", "community_id": town.community_id},
            {"role": "member", "member_id": member},
            {"role": "auditor", "community_id": town.community_id, "label": "街道审计"},
        )]
        for token in tokens:
            http.get(f"/v1/members/{member}/balance", headers=auth(token))
            http.get(f"/v1/members/{member}/balance", headers=auth(f"{token}x"))
            http.post("/v1/redemptions", content=b"{not json",
                      headers={**auth(token), "Content-Type": "application/json"})
    return tokens


class TestSecrets:
    def test_the_event_store_and_views_hold_token_hashes_never_tokens(self, shared_served):
        tokens = issued_tokens(shared_served.url)
        app = open_ledger(Settings(database_url=shared_served.database_url))
        try:
            stored, position = b"", 0
            while batch := app.recorder.select_notifications(position, 1_000,
                                                             inclusive_of_start=False):
                stored += b"".join(n.state for n in batch)
                position = batch[-1].id
        finally:
            app.close()
        engine = create_engine(Settings(database_url=shared_served.database_url)
                               .sqlalchemy_url)
        try:
            metadata = MetaData()
            metadata.reflect(engine)
            with engine.connect() as conn:
                rows = repr([conn.execute(select(t)).all() for t in metadata.sorted_tables
                             if t.name not in ("linli_events", "linli_snapshots")])
        finally:
            engine.dispose()

        for token in [*tokens, ADMIN_TOKEN]:
            assert token.encode() not in stored
            assert token not in rows
        for token in tokens:  # the store knows each key by its hash
            assert hashlib.sha256(token.encode()).hexdigest().encode() in stored

    def test_no_token_in_the_servers_log(self, shared_served):
        tokens = issued_tokens(shared_served.url)

        log = shared_served.log_path.read_text(encoding="utf-8", errors="replace")

        assert "GET /v1/members/" in log  # the log is there and has the requests
        for token in [*tokens, ADMIN_TOKEN]:
            assert token not in log
            assert token[-12:] not in log
