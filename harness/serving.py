"""A real HTTP server for the tests that need one: a free port, and waiting for it to answer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from api.app import create_app
from api.bootstrap import Linli
from api.http_protocol import OneWriteHttpProtocol

STARTUP_SECONDS = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    """The app over `linli`, served by uvicorn in a thread on a free 127.0.0.1 port (with the
    HTTP protocol `linli serve` uses)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(linli=linli), host="127.0.0.1",
                                           port=port, log_level="warning",
                                           http=OneWriteHttpProtocol))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_up(f"{url}/healthz", thread.is_alive, STARTUP_SECONDS):
            raise RuntimeError("the HTTP server did not come up")
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_SECONDS)
    assert not thread.is_alive(), "the HTTP server did not stop"
