"""The projections in a process of their own (what `linli serve` runs by default)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from api.bootstrap import open_linli
from harness.serving import logged_port, wait_until_up
from ledger.actor import Actor, Role
from ledger.commands import points, registry
from ledger.domain.assets import Asset
from ledger.settings import Settings
from projections.queries import account_balance
from projections.runner import ProjectionRunner
from projections.worker import ProjectionProcess

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


def _town(linli, each: int = 1) -> tuple[object, object]:
    """A community with a rule giving `each` points a time, and a member."""
    community = linli.writer.execute(registry.register_community("东湖社区", ADMIN)).id
    linli.writer.execute(registry.put_rule(
        community, "GIFT", name="助人", points=each, unit="each", daily_cap=None,
        monthly_cap=None, requires_approval=False, by=ADMIN))
    member = linli.writer.execute(registry.register_member(community, "王芳", None, None,
                                                           ADMIN)).id
    return community, member


def _award(linli, member, quantity: int = 1) -> None:
    linli.writer.execute(points.award(member, "GIFT", quantity=quantity, minutes=None,
                                      occurred_at=None, note="", now=linli.clock(), by=ADMIN))


def test_a_read_after_a_write_sees_it_with_the_projections_in_a_child(settings):
    linli = open_linli(settings.model_copy(update={"projection_worker": "process"}))
    assert isinstance(linli.projections, ProjectionProcess)
    linli.start()
    try:
        _, member = _town(linli, each=5)
        _award(linli, member, quantity=3)

        assert linli.read_your_writes()
        assert account_balance(linli.engine, member, Asset.POINTS).balance == 15
        assert linli.projections.position == linli.writer.last_position
    finally:
        linli.close()


@contextmanager
def _serving(database_url: str, log: Path | None = None, cwd: Path | None = None,
             ) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`linli serve` in its own process group (as in a terminal), started in `cwd`, ready, its
    output in `log` (else in a temporary file); its `/readyz` address, on the port it bound."""
    with contextlib.ExitStack() as stack:
        if log is None:
            log = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "serve.log"
        environment = {**os.environ, "LINLI_DATABASE_URL": database_url}
        output = stack.enter_context(log.open("wb"))
        server = subprocess.Popen([LINLI, "serve", "--port", "0"], env=environment,
                                  stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True, cwd=cwd)
        try:
            port = logged_port(log, 0, lambda: server.poll() is None, 60)
            assert port is not None, log.read_text()
            ready = f"http://127.0.0.1:{port}/readyz"
            assert wait_until_up(ready, lambda: server.poll() is None, 60)
            yield server, ready
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_the_projection_process_ends_with_its_server_even_by_kill_9(database_url):
    with _serving(database_url) as (server, _):
        children = _children(server.pid)
        assert children

        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)

        assert all(_gone(child, 10) for child in children), "a child outlived its server"


def test_ctrl_c_stops_the_server_and_its_projection_process_quietly(database_url, tmp_path):
    """Ctrl-C reaches the terminal's process group: the server shuts down, stops its child
    (in a group of its own), and nothing prints a traceback."""
    log = tmp_path / "serve.log"
    with _serving(database_url, log) as (server, _):
        [worker] = _children(server.pid)

        os.killpg(server.pid, signal.SIGINT)

        assert server.wait(timeout=30) == 0
        assert _gone(worker, 10)
    assert "Traceback" not in log.read_text()


def test_the_server_starts_one_child_its_projection_process(database_url):
    """No resource tracker beside it (multiprocessing's: 13 MB of the server's memory)."""
    with _serving(database_url) as (server, _):
        [worker] = _children(server.pid)

        assert b"projections.worker" in Path(f"/proc/{worker}/cmdline").read_bytes()


def test_a_server_started_beside_a_folder_named_like_linlis_code_runs_its_own(database_url,
                                                                             tmp_path):
    """The projection process imports nothing from the directory the server started in."""
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "__init__.py").write_text("raise ImportError('not Linli')\n")

    with _serving(database_url, cwd=tmp_path) as (_, ready):
        assert httpx.get(ready, timeout=10).status_code == 200


def test_a_projection_process_that_cannot_start_says_so_and_leaves_nothing_running(tmp_path):
    unreachable = f"sqlite:///{tmp_path}/no-such-directory/linli.db"
    worker = ProjectionProcess(Settings(database_url=unreachable))

    with pytest.raises(RuntimeError, match="did not start"):
        worker.start()

    assert not worker.running
    worker.wake()  # after a failed start: nothing to wake, and no error


def test_the_server_is_not_ready_once_its_projection_process_is_gone(database_url):
    with _serving(database_url) as (server, ready):
        [worker] = _children(server.pid)

        os.kill(worker, signal.SIGKILL)
        assert _gone(worker, 10)
        answer = httpx.get(ready, timeout=10)

        assert answer.status_code == 503
        assert answer.json()["detail"] == "数据视图的更新进程没有运行。"


@pytest.mark.parametrize("worker", ["thread", "process"])
def test_a_read_is_not_kept_waiting_while_the_log_gathers(settings, worker):
    """After a batch the projections let events gather before the next; a read waiting for
    its writes ends the gathering at once."""
    linli = open_linli(settings.model_copy(update={
        "projection_worker": worker, "projection_gather_seconds": 60.0,
        "read_wait_seconds": 10.0}))
    linli.start()
    try:
        _, member = _town(linli)
        for _ in range(5):  # each commit wakes the projections, which then gather
            _award(linli, member)
            time.sleep(0.05)
        started = time.monotonic()

        assert linli.read_your_writes()
        assert time.monotonic() - started < 9  # not the gathering's minute, nor the timeout
        assert account_balance(linli.engine, member, Asset.POINTS).balance == 5
    finally:
        linli.close()


def test_events_committed_meanwhile_are_applied_in_one_batch(settings, monkeypatch):
    batches: list[int] = []
    run_once = ProjectionRunner.run_once

    def counted(self: ProjectionRunner) -> int:
        found = run_once(self)
        if found:
            batches.append(found)
        return found

    monkeypatch.setattr(ProjectionRunner, "run_once", counted)
    linli = open_linli(settings.model_copy(update={"projection_gather_seconds": 1.0}))
    linli.start()
    try:
        _, member = _town(linli)
        time.sleep(0.3)  # the set-up applied; a gathering under way
        batches.clear()
        for _ in range(10):
            _award(linli, member)
            time.sleep(0.02)
        time.sleep(2.5)  # no read waiting: the gatherings run their time

        assert len(batches) <= 3  # ten commits, not ten batches
        assert linli.projections.position == linli.writer.last_position
        assert account_balance(linli.engine, member, Asset.POINTS).balance == 10
    finally:
        linli.close()
