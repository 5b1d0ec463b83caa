"""The wait on a sent insert's socket works whatever the descriptor's number (a busy server's
pass 1024, where `select` gives up)."""

from __future__ import annotations

import os
import resource
import select
import socket

import pytest

from ledger.pg_recorder import _wait


def test_a_socket_numbered_past_1024_is_waited_on() -> None:
    high = 1500
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft <= high:
        if hard != resource.RLIM_INFINITY and hard <= high:
            pytest.skip(f"this process may open {hard} files at most")
        resource.setrlimit(resource.RLIMIT_NOFILE, (high + 1, hard))
    ours, theirs = socket.socketpair()
    os.dup2(ours.fileno(), high)
    try:
        with pytest.raises(ValueError):  # what `select` would do
            select.select([high], [], [], 0)
        _wait(high, select.POLLOUT)  # writable at once
        theirs.send(b"x")
        _wait(high, select.POLLIN)  # readable once the peer wrote
        assert os.read(high, 1) == b"x"
    finally:
        os.close(high)
        ours.close()
        theirs.close()
