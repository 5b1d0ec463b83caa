"""The server's HTTP protocol (`api.http_protocol`): a response in one write, and HTTP/1.1 as a
client speaks it byte by byte (pipelining, Expect: 100-continue, a malformed request)."""

from __future__ import annotations

import asyncio
import json
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.http_protocol import FLUSH_BYTES, CoalescingTransport
from harness.serving import serving
from tests.conftest import ADMIN_TOKEN

SECONDS = 10.0


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def write_eof(self) -> None:
        self.writes.append(b"EOF")

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: object = None) -> object:
        return f"info:{name}"


def test_writes_of_one_turn_of_the_loop_go_out_as_one() -> None:
    async def scenario() -> list[list[bytes]]:
        transport = RecordingTransport()
        coalescing = CoalescingTransport(transport, asyncio.get_running_loop())
        coalescing.write(b"HTTP/1.1 201 Created\r\n\r\n")
        coalescing.write(b"{}")
        seen = [list(transport.writes)]  # nothing yet: the turn has not ended
        await asyncio.sleep(0)
        seen.append(list(transport.writes))
        coalescing.writelines([b"ne", b"xt"])
        coalescing.write_eof()  # what was written goes out before the end
        seen.append(list(transport.writes))
        coalescing.close()
        seen.append(list(transport.writes))
        coalescing.write(b"after close")
        await asyncio.sleep(0)
        seen.append(list(transport.writes))
        large = RecordingTransport()
        buffered = CoalescingTransport(large, asyncio.get_running_loop())
        buffered.write(b"x" * (FLUSH_BYTES - 1))
        buffered.write(b"y")  # the limit reached: written at once, not at the turn's end
        seen.append([bytes([w[0]]) + str(len(w)).encode() for w in large.writes])
        assert transport.closed and coalescing.is_closing()
        assert coalescing.get_extra_info("peername") == "info:peername"
        return seen

    with ThreadPoolExecutor(1) as elsewhere:  # the browser tests' loop may run in this thread
        seen = elsewhere.submit(asyncio.run, scenario()).result(timeout=SECONDS)
    assert seen == [
        [],
        [b"HTTP/1.1 201 Created\r\n\r\n{}"],
        [b"HTTP/1.1 201 Created\r\n\r\n{}", b"next", b"EOF"],
        [b"HTTP/1.1 201 Created\r\n\r\n{}", b"next", b"EOF"],
        [b"HTTP/1.1 201 Created\r\n\r\n{}", b"next", b"EOF"],  # dropped, as a closed one does
        [b"x" + str(FLUSH_BYTES).encode()],
    ]


def _read_responses(sock: socket.socket, count: int) -> list[tuple[int, bytes]]:
    """`count` responses (status, body) read off `sock`, each by its Content-Length."""
    buffer = b""
    responses: list[tuple[int, bytes]] = []
    while len(responses) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, f"the server closed after {len(responses)} responses"
            buffer += chunk
        head, buffer = buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(line.split(":", 1)[1]) for line in lines[1:]
                      if line.lower().startswith("content-length:"))
        while len(buffer) < length:
            buffer += sock.recv(65536)
        responses.append((int(lines[0].split()[1]), buffer[:length]))
        buffer = buffer[length:]
    return responses


@pytest.fixture
def address(linli):
    with serving(linli) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def test_pipelined_requests_are_answered_in_order(address) -> None:
    requests = b"".join(
        f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        for path in ("/healthz", "/v1/nowhere", "/healthz"))
    with socket.create_connection(address, timeout=SECONDS) as sock:
        sock.sendall(requests)  # all three before any answer
        statuses = [status for status, _ in _read_responses(sock, 3)]
    assert statuses == [200, 404, 200]


def test_a_client_that_expects_100_continue_gets_it_then_its_answer(address) -> None:
    body = json.dumps({"name": "湖滨社区"}).encode()
    head = (f"POST /v1/communities HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}"
            f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n").encode()
    with socket.create_connection(address, timeout=SECONDS) as sock:
        sock.sendall(head)
        interim = b""
        while b"\r\n\r\n" not in interim:  # the server must say so before the body is sent
            chunk = sock.recv(1)
            assert chunk, "the server closed before 100 Continue"
            interim += chunk
        assert interim.startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        [(status, answer)] = _read_responses(sock, 1)
    assert status == 201 and json.loads(answer)["name"] == "湖滨社区"


def test_a_malformed_request_is_refused_and_the_connection_closed(address) -> None:
    with socket.create_connection(address, timeout=SECONDS) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 400 Bad Request")
