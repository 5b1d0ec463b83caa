"""A real HTTP server for the tests that need one, on a port it holds from the start, and
waiting for it to answer.

No server is given a port that was free a moment ago: another could take it in between, and
the readiness check would then be answered by the wrong server. The in-process server is
handed a socket already bound to a port the system chose; `linli serve` is started with
`--port 0`, and the port is read from its own log, where uvicorn names the port it bound.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from api.app import create_app
from api.bootstrap import Linli
from api.http_protocol import OneWriteHttpProtocol

STARTUP_SECONDS = 15.0


# What uvicorn logs once it listens (with the port it bound, when asked for port 0), and when
# the port it was asked for is taken.
LISTENING = re.compile(rb"Uvicorn running on http://[^\s:]+:(\d+)")
PORT_TAKEN = b"address already in use"


def bound_socket() -> socket.socket:
    """A TCP socket bound to a port of 127.0.0.1 that the system chose, held until closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def logged_port(log: Path, offset: int, alive: Callable[[], bool], seconds: float) -> int | None:
    """The port a `linli serve` says it listens on, in its log `log` past byte `offset`: this
    server's own port, never another's. None when it ends first or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        running = alive()
        with log.open("rb") as written:
            written.seek(offset)
            found = LISTENING.search(written.read())
        if found:
            return int(found.group(1))
        if not running or time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def port_was_taken(log: Path, offset: int) -> bool:
    """Whether the `linli serve` logging into `log` past `offset` found its port taken."""
    with log.open("rb") as written:
        written.seek(offset)
        return PORT_TAKEN in written.read()


def wait_until_up(url: str, alive: Callable[[], bool], seconds: float) -> bool:
    """True once GET `url` answers 200; False when `alive()` turns false or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or not alive():
            return False
        time.sleep(0.05)


@contextmanager
def serving(linli: Linli, name: str = "uvicorn-test") -> Iterator[str]:
    """The app over `linli`, served by uvicorn in a thread on a 127.0.0.1 port bound before it
    starts (with the HTTP protocol `linli serve` uses)."""
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(linli=linli), host="127.0.0.1",
                                           port=port, log_level="warning",
                                           http=OneWriteHttpProtocol))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name,
                              daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_up(f"{url}/healthz", thread.is_alive, STARTUP_SECONDS):
            raise RuntimeError("the HTTP server did not come up")
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_SECONDS)
        sock.close()
    assert not thread.is_alive(), "the HTTP server did not stop"
