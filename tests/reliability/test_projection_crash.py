"""Projections survive crashes: kill -9 the worker during a replay; the views end identical
to a fresh rebuild (an event applied twice would show as a doubled balance or line)."""

from __future__ import annotations

from harness.projection_crash import fill, replay_through_kills


class TestProjectionsSurviveCrashes:
    def test_views_after_kills_equal_a_fresh_rebuild(self, database_url):
        linli = fill(database_url, members=400)
        try:
            figures = replay_through_kills(linli, kills=3, seed=9, batch_events=50)
        finally:
            linli.close()

        print(figures.line("projections"))
        assert figures.problems == []
        assert figures.kills == 3
