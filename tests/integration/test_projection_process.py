"""The projections in a process of their own (what `linli serve` runs by default)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from api.bootstrap import open_linli
from ledger.actor import Actor, Role
from ledger.commands import points, registry
from ledger.domain.assets import Asset
from projections.queries import account_balance
from projections.worker import ProjectionProcess
from tests.serving import free_port, wait_until_up

ADMIN = Actor("test:admin", Role.ADMIN)
LINLI = str(Path(sys.executable).parent / "linli")


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _gone(pid: int, seconds: float) -> bool:
    """Whether the process ended (a zombie not yet reaped by its parent has ended)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


def test_a_read_after_a_write_sees_it_with_the_projections_in_a_child(settings):
    linli = open_linli(settings.model_copy(update={"projection_worker": "process"}))
    assert isinstance(linli.projections, ProjectionProcess)
    linli.start()
    try:
        community = linli.writer.execute(registry.register_community("东湖社区", ADMIN)).id
        linli.writer.execute(registry.put_rule(
            community, "GIFT", name="助人", points=5, unit="each", daily_cap=None,
            monthly_cap=None, requires_approval=False, by=ADMIN))
        member = linli.writer.execute(registry.register_member(community, "王芳", None, None,
                                                               ADMIN)).id
        linli.writer.execute(points.award(member, "GIFT", quantity=3, minutes=None,
                                          occurred_at=None, note="", now=linli.clock(),
                                          by=ADMIN))

        assert linli.read_your_writes()
        assert account_balance(linli.engine, member, Asset.POINTS).balance == 15
        assert linli.projections.position == linli.writer.last_position
    finally:
        linli.close()


@contextmanager
def _serving(database_url: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`linli serve` in its own process, ready; its `/readyz` address."""
    port = free_port()
    environment = {**os.environ, "LINLI_DATABASE_URL": database_url}
    server = subprocess.Popen([LINLI, "serve", "--port", str(port)], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ready = f"http://127.0.0.1:{port}/readyz"
    try:
        assert wait_until_up(ready, lambda: server.poll() is None, 60)
        yield server, ready
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_projection_process_ends_with_its_server_even_by_kill_9(database_url):
    with _serving(database_url) as (server, _):
        children = _children(server.pid)  # the worker (and multiprocessing's tracker)
        assert children

        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)

        assert all(_gone(child, 10) for child in children), "a child outlived its server"


def test_the_server_is_not_ready_once_its_projection_process_is_gone(database_url):
    with _serving(database_url) as (server, ready):
        [worker] = [c for c in _children(server.pid)
                    if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]

        os.kill(worker, signal.SIGKILL)
        assert _gone(worker, 10)
        answer = httpx.get(ready, timeout=10)

        assert answer.status_code == 503
        assert answer.json()["detail"] == "the projections are not running"
