"""A real local HTTP receiver of webhooks for tests: records what it acknowledged, and can
be told to answer 500, to hang past the sender's timeout, or to be down (not listening)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ledger.webhook_signing import HEADER, verify

DEADLINE = 30.0  # seconds a wait may take before it fails (a loaded 2-core machine)


@dataclass(frozen=True)
class Received:
    body: bytes
    signature: str

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class Receiver:
    """Listens on 127.0.0.1 (a port of its own, kept across `down()`); `mode` is "ok",
    "fail" (500) or "hang" (answers after `hang_seconds`)."""

    def __init__(self) -> None:
        self.acknowledged: list[Received] = []
        self.refused = 0
        self.mode = "ok"
        self.hang_seconds = 1.0
        self.pause_seconds = 0.0  # before each acknowledgement (a slow receiver)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                mode = receiver.mode  # as it was when the request came
                if mode == "hang":
                    time.sleep(receiver.hang_seconds)
                if mode != "ok":
                    with receiver._lock:
                        receiver.refused += 1
                    self._answer(500)
                    return
                if receiver.pause_seconds:
                    time.sleep(receiver.pause_seconds)
                with receiver._lock:
                    receiver.acknowledged.append(Received(body, self.headers.get(HEADER, "")))
                self._answer(200)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.event for r in self.acknowledged]

    def all_signed_by(self, secret: str) -> bool:
        with self._lock:
            return all(verify(secret, r.signature, r.body, int(time.time()))
                       for r in self.acknowledged)

    def wait_for(self, done: Callable[[list[dict[str, Any]]], bool], seconds: float = DEADLINE
                 ) -> list[dict[str, Any]]:
        """The events acknowledged, once `done(events)` holds (fails after `seconds`)."""
        deadline = time.monotonic() + seconds
        while True:
            events = self.events()
            if done(events):
                return events
            assert time.monotonic() < deadline, f"receiver got {[e['type'] for e in events]}"
            time.sleep(0.02)


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    try:
        yield receiver
    finally:
        receiver.down()


def until(check: Callable[[], Any], seconds: float = DEADLINE) -> Any:
    """`check()` once it is truthy (polls; fails after `seconds`)."""
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)
    return value
