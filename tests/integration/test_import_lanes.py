"""A large award file posted in lanes (PostgreSQL: the second lane by a process of its own;
SQLite: one lane): every row once, whatever happens to a lane's process or the run."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from api.bootstrap import Linli
from ledger.actor import Actor, Role
from ledger.domain.imports import Import, ImportLane, lane_of
from ledger.imports import lanes, run
from ledger.imports.columns import Kind
from ledger.imports.posting import POSTING, Lane, Row
from ledger.imports.run import run_import
from ledger.imports.source import open_source
from ledger.settings import is_postgres_url
from projections.verify import verify
from tests.scenario import Town, ok

ADMIN = Actor("test", Role.ADMIN)
ROWS = 3000


@pytest.fixture(autouse=True)
def lanes_for_small_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files of any size go in lanes where they may (the machinery of a large file, on a
    file a test writes in a moment)."""
    monkeypatch.setattr(run, "LANES_FROM_BYTES", 0)


def award_file(world: Town, tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """`ROWS` awards of GIFT (a point each) round twenty residents, ten in each of two lanes,
    dated over the past year; and the points each resident is given."""
    members: list[str] = []
    while len(members) < 20:
        member = world.add_member(f"居民{len(members)}")
        if sum(lane_of(UUID(m), lanes.LANES) == lane_of(UUID(member), lanes.LANES)
               for m in members) < 20 // lanes.LANES:
            members.append(member)
    old = datetime.now(UTC) - timedelta(days=360)
    lines = ["存折号,规则,数量,日期"]
    given = dict.fromkeys(members, 0)
    for row in range(ROWS):
        member = members[row % len(members)]
        day = (old + timedelta(days=row % 300)).date().isoformat()
        lines.append(f"{world.passbooks[member]},GIFT,1,{day}")
        given[member] += 1
    sheet = tmp_path / "积分.csv"
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sheet, given


def import_awards(linli: Linli, world: Town, sheet: Path, **options: Any) -> run.Answer:
    linli.read_your_writes()  # the residents the rows name
    return run_import(linli, open_source(sheet), Kind.AWARDS, UUID(world.community_id),
                      dry_run=False, by=ADMIN, **options)


def the_import(linli: Linli, answer: run.Answer) -> tuple[Import, list[ImportLane]]:
    record = linli.app.repository.get(answer.id)
    return record, [linli.app.repository.get(i) for i in record.lane_ids()]


def each_row_once(world: Town, linli: Linli, given: dict[str, int]) -> None:
    """Every resident holds the points of their rows, once; the books verify."""
    linli.read_your_writes()
    for member, points in given.items():
        assert ok(world.client.get(f"/v1/members/{member}/balance"))["points"] == points
    assert verify(linli.app, linli.engine, None).ok


def test_a_large_award_file_is_posted_in_lanes_each_row_once(
        world: Town, linli: Linli, tmp_path: Path) -> None:
    sheet, given = award_file(world, tmp_path)
    told: list[tuple[str, int, int | None]] = []
    answer = import_awards(linli, world, sheet, progress=lambda *said: told.append(said))
    assert (answer.rows, answer.accepted, answer.rejected) == (ROWS, ROWS, 0)
    each_row_once(world, linli, given)

    record, lane_records = the_import(linli, answer)
    apart = is_postgres_url(linli.settings.database_url)
    assert record.lanes == (lanes.LANES if apart else 1)
    assert len(lane_records) == record.lanes - 1
    assert sum(p.accepted for p in [record, *lane_records]) == ROWS
    assert all(p.accepted > 0 for p in [record, *lane_records])
    # The rows each lane posted are its residents' (a lane per resident).
    for number, progress in enumerate([record, *lane_records]):
        posted = sum(points for member, points in given.items()
                     if lane_of(UUID(member), record.lanes) == number)
        assert progress.accepted == posted
    # The progress told is the rows every lane has reached: it never goes back.
    reached = [done for phase, done, _ in told if phase == POSTING]
    assert reached and reached == sorted(reached) and reached[-1] >= ROWS - 1

    again = import_awards(linli, world, sheet)
    assert again.replayed and (again.accepted, again.rejected) == (ROWS, 0)
    each_row_once(world, linli, given)


def test_a_lane_whose_process_is_stopped_is_taken_up_again_where_it_stood(
        world: Town, linli: Linli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server stopped (SIGTERM to its processes) while a lane's process posts: that
    process ends at once, although the server's own handler of SIGTERM only asks it to stop;
    the run (here, the next) goes on from where the lane stood."""
    if not lanes.may_post_apart(linli.settings):
        pytest.skip("one lane on SQLite: no process of its own to stop")
    sheet, given = award_file(world, tmp_path)
    stopped, went_on = tmp_path / "stopped", tmp_path / "went-on"
    post_lane = lanes.post_lane

    def stopped_half_way(writer: Any, keyring: Any, rows: Iterable[Row], lane: Lane,
                         *args: Any) -> bool:
        """The second lane's first process: sent SIGTERM once its first chunks are
        committed."""
        if lane.number == 0 or stopped.exists():
            return post_lane(writer, keyring, rows, lane, *args)

        def then_stopped() -> Iterator[Row]:
            for count, row in enumerate(rows):
                if count == 1200:  # of its 1,500
                    time.sleep(1)  # the first two chunks' commits
                    stopped.touch()
                    os.kill(os.getpid(), signal.SIGTERM)
                    time.sleep(2)
                    went_on.touch()
                yield row

        return post_lane(writer, keyring, then_stopped(), lane, *args)

    monkeypatch.setattr(lanes, "post_lane", stopped_half_way)
    signal.signal(signal.SIGTERM, lambda *_: None)  # as a server's: stop when it may
    try:
        answer = import_awards(linli, world, sheet)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    assert stopped.exists() and not went_on.exists()
    assert (answer.rows, answer.accepted, answer.rejected) == (ROWS, ROWS, 0)
    each_row_once(world, linli, given)


class Interrupted(Exception):
    pass


def test_a_run_interrupted_while_its_lanes_post_goes_on_where_each_lane_stands(
        world: Town, linli: Linli, other: Linli, tmp_path: Path) -> None:
    sheet, given = award_file(world, tmp_path)

    def stop(phase: str, done: int, total: int | None) -> None:
        if phase == POSTING:  # the first chunk of this process's lane is sent
            raise Interrupted

    with pytest.raises(Interrupted):
        import_awards(linli, world, sheet, progress=stop)
    answer = import_awards(other, world, sheet)
    assert (answer.rows, answer.accepted, answer.rejected) == (ROWS, ROWS, 0)
    assert not answer.replayed
    assert linli.projections.wait_for(other.writer.last_position, 60)  # the views it reads
    each_row_once(world, linli, given)
