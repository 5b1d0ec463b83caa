"""The HTTP server as `linli serve` runs it: each response sent in one write, streams still
streamed, keep-alive and `Connection: close` as HTTP/1.1 has them."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest

from api.server import GatheredWrites
from tests.serving import serving_app

BODY = b'{"status":"ok"}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """`/whole` answers in one body; `/stream` sends two parts a quarter of a second apart."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first;", "more_body": True})
        await asyncio.sleep(0.25)
        await send({"type": "http.response.body", "body": b"second"})
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})


@pytest.fixture(scope="module")
def address() -> Iterator[tuple[str, int]]:
    with serving_app(app, "/whole") as url:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        yield parts.hostname, parts.port


def request(path: str, close: bool = False) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: linli\r\n"
            + ("Connection: close\r\n" if close else "") + "\r\n").encode()


def test_a_whole_response_arrives_and_the_connection_stays_open(address):
    with socket.create_connection(address, timeout=5) as conn:
        for _ in range(3):
            conn.sendall(request("/whole"))
            received = b""
            while not received.endswith(BODY):
                received += conn.recv(65536)
            assert received.startswith(b"HTTP/1.1 200 OK\r\n")
            assert f"content-length: {len(BODY)}".encode() in received.lower()


def test_writes_in_one_turn_of_the_loop_go_out_as_one():
    """The head and body of a response reach the socket in one write, after the turn in
    which they were written; a close sends what is pending first."""

    async def scenario() -> tuple[list[bytes], list[bytes], bytes]:
        loop = asyncio.get_running_loop()
        ours, peer = socket.socketpair()
        transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
        written: list[bytes] = []
        write = transport.write
        transport.write = lambda data: (written.append(bytes(data)), write(data))  # type: ignore[method-assign]
        gathered = GatheredWrites(transport, loop)  # type: ignore[arg-type]
        gathered.write(b"HTTP/1.1 200 OK\r\n\r\n")
        gathered.write(b"body")
        during_the_turn = list(written)
        await asyncio.sleep(0)
        after_the_turn = list(written)
        gathered.write(b"last")
        gathered.close()
        await asyncio.sleep(0.01)
        peer.settimeout(5)
        received = b""
        while chunk := peer.recv(65536):
            received += chunk
        peer.close()
        return during_the_turn, after_the_turn, received

    with ThreadPoolExecutor(1) as loop_thread:  # a loop of its own, as the server's
        during, after, received = loop_thread.submit(asyncio.run, scenario()).result(30)
    assert during == []
    assert after == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    assert received == b"HTTP/1.1 200 OK\r\n\r\nbodylast"


def test_connection_close_gets_the_whole_response_then_the_end(address):
    with socket.create_connection(address, timeout=5) as conn:
        conn.sendall(request("/whole", close=True))
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK\r\n") and received.endswith(BODY)
    assert b"connection: close" in received.lower()


def test_a_streamed_response_arrives_as_it_is_sent(address):
    with socket.create_connection(address, timeout=5) as conn:
        conn.sendall(request("/stream"))
        started = time.monotonic()
        first = b""
        while b"first;" not in first:
            first += conn.recv(65536)
        arrived_first = time.monotonic() - started
        rest = b""
        while not rest.endswith(b"0\r\n\r\n"):
            rest += conn.recv(65536)
    assert arrived_first < 0.2, "the first part waited for the second"
    assert b"second" in rest and b"second" not in first
