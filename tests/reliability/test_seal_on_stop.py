"""A clean stop of `linli serve` (SIGTERM, as Ctrl-C's SIGINT) seals what is unsealed: the
log's tail is covered by a checkpoint even when the sealer's interval never came."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import httpx

from harness.served import ADMIN_TOKEN, Served, run_cli
from tests.scenario import Town, auth


def test_sigterm_seals_the_tail(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    served = Served(database_url, log, LINLI_SEAL_INTERVAL_SECONDS="3600")
    with served, httpx.Client(base_url=served.url, headers=auth(ADMIN_TOKEN),
                              timeout=30.0) as http:
        town = Town.found(http)
        member = town.add_member("居民0")
        town.award(10, member)
        last_write = int(http.get("/readyz").json()["last_write_position"])
    # Leaving `served` sends SIGTERM and waits; uvicorn ends by raising the signal again.
    assert served.process is not None and served.process.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in log.read_text()

    result = run_cli(database_url, "verify")

    assert result.returncode == 0, result.stdout + result.stderr
    sealed = re.search(r"sealed through position (\d+)", result.stdout)
    assert sealed is not None, result.stdout
    assert int(sealed.group(1)) >= last_write
    after = re.search(r"(\d+) events after the last checkpoint", result.stdout)
    assert after is not None and int(after.group(1)) <= 2  # the audit log's opening and seal
    assert "sealed the log through position" in log.read_text()
