"""Crash and retry: keyed redemptions while the server is killed -9 and its connections cut.

Clients retry each request with its key until the answer is definite. Afterwards the store
holds exactly the redemptions that got a 2xx, none twice, and `linli verify` passes.
"""

from __future__ import annotations

from harness.scenarios import crash_and_retry


class TestCrashAndRetry:
    def test_every_2xx_is_stored_once_and_nothing_else_is(self, served):
        figures = crash_and_retry(served, redemptions=120, clients=6, seed=9, kills=1,
                                  terminations=3)

        print(figures.line("crash"))
        assert figures.problems == []
        assert figures.operations == 120
        assert figures.kills == 1, figures.line("crash")
        if served.database_url.startswith("postgresql"):
            assert figures.terminations >= 1, figures.line("crash")
