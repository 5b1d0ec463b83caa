"""How Linli runs uvicorn: its httptools protocol, with each response sent in one write.

uvicorn writes a response's head when the app sends `http.response.start` and its body on
`http.response.body`: two writes to the socket, two system calls, and on a loopback or a
busy host each costs about as much as parsing the request. `OneWriteHttpProtocol` gathers the
writes made in one turn of the event loop and sends them together at the end of that turn,
so a response sent whole goes out in one write. A response that streams still goes out as it
is sent, a turn later at most.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class GatheredWrites:
    """A transport whose writes in one turn of the loop reach the socket as one write."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # everything else is the transport's own
        return getattr(self._transport, name)


class OneWriteHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over `GatheredWrites`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self.transport: Any = GatheredWrites(self.transport, self.loop)


def uvicorn_config(app: Any, *, host: str, port: int, log_level: str = "info",
                   access_log: bool = False) -> uvicorn.Config:
    """The server's configuration, for `linli serve` and the tests' servers alike."""
    return uvicorn.Config(app, host=host, port=port, log_level=log_level,
                          access_log=access_log, http=OneWriteHttpProtocol)
