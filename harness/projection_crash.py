"""Projections survive crashes: a worker killed -9 again and again during a long replay."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from api.bootstrap import Linli, open_linli
from harness.populate import populate
from harness.scenarios import Figures
from harness.served import linli_env
from ledger.settings import Settings
from projections.catalogue import all_views
from projections.runner import ProjectionRunner
from projections.tables import tracking

ROOT = Path(__file__).resolve().parents[1]
WORKER = "from harness.worker import main; main()"


def fill(database_url: str, members: int) -> Linli:
    """A store of about 6 events a member, with empty views (nothing projected yet)."""
    linli = open_linli(Settings(database_url=database_url, projection_worker="thread"))
    linli.writer.start()  # the writer only: the views stay at position 0
    populate(linli, members=members, points_each=7)
    return linli


def table_rows(linli: Linli) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view's tables, in a fixed order."""
    tables = [table for view in all_views() for table in view.tables]
    with linli.engine.connect() as conn:
        return {t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
                for t in tables}


def lowest_position(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(min(conn.execute(select(tracking.c.position)).scalars(), default=0))


def replay_through_kills(linli: Linli, *, kills: int, seed: int,
                         batch_events: int = 100) -> Figures:
    """Start the worker and kill -9 it part way, `kills` times; then let it finish."""
    figures = Figures()
    rng = random.Random(seed)
    env = linli_env(linli.settings.database_url,
                    LINLI_PROJECTION_BATCH_EVENTS=str(batch_events))
    head = linli.app.recorder.max_notification_id() or 0
    started = time.monotonic()
    positions = [lowest_position(linli.engine)]
    while True:
        worker = subprocess.Popen([sys.executable, "-c", WORKER], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if figures.kills >= kills:
            _, errors = worker.communicate(timeout=600)
            if worker.returncode != 0:
                figures.problems.append(f"the worker failed: {errors.decode()[-2000:]}")
            break
        # Kill i comes once the views are about i/(kills+1) of the way, on any machine.
        target = max(positions[-1] + 1, (figures.kills + 1) * head // (kills + 1))
        while lowest_position(linli.engine) < target and worker.poll() is None:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.01))
        worker.kill()
        worker.communicate(timeout=60)
        figures.kills += 1
        positions.append(lowest_position(linli.engine))
        figures.operations += 1
        if positions[-1] >= head:
            figures.problems.append("the worker finished before it could be killed")
    figures.seconds = time.monotonic() - started
    if positions != sorted(positions):
        figures.problems.append(f"a view went back: {positions}")
    if lowest_position(linli.engine) != head:
        figures.problems.append(f"views at {lowest_position(linli.engine)}, the log at {head}")
    live = table_rows(linli)
    assert isinstance(linli.projections, ProjectionRunner)  # opened with the thread worker
    figures.requests = linli.projections.rebuild()
    fresh = table_rows(linli)
    for name in live:
        if live[name] != fresh[name]:
            figures.problems.append(f"table {name} differs from a fresh rebuild")
    if not any(live.values()):
        figures.problems.append("the views are empty")
    return figures
