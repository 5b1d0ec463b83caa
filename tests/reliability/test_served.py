"""The harness's `linli serve`: on a port it bound itself, and the same port after a restart,
even when another program held that port for a moment while the server was down."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx

from harness.served import Served
from harness.serving import PORT_TAKEN
from tests import databases


def _close_once_refused(squatter: socket.socket, log: Path, seconds: float = 60.0) -> None:
    """Hold the port until the server logs that it found it taken."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and PORT_TAKEN in log.read_bytes():
            break
        time.sleep(0.05)
    squatter.close()


def test_a_restart_keeps_its_port_once_a_program_holding_it_lets_go(
        sqlite_template: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    served = Served(databases.sqlite_copy(sqlite_template, tmp_path), log)
    served.port = port = squatter.getsockname()[1]  # as after a first start: restarted there
    let_go = threading.Thread(target=_close_once_refused, args=(squatter, log))
    let_go.start()

    with served:
        let_go.join()
        assert served.port == port
        assert httpx.get(f"{served.url}/readyz", timeout=10).status_code == 200
    assert PORT_TAKEN in log.read_bytes()
