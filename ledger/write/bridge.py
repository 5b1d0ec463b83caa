"""Between the writer's thread and the threads and event loops that submit commands: the
submissions and their queues, and the waking of each event loop's waiters once per group.

A request on an event loop waits on an `asyncio` future of its loop (`Submission.waiter`); the
writer resolves the thread-safe `Future` of each request of a group, then hands each loop the
outcomes of all its requests of that group in one `call_soon_threadsafe`, not one a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from ledger.write.keyed import Idempotency
from ledger.write.unit_of_work import UnitOfWork

Q = TypeVar("Q")
W = TypeVar("W")


@dataclass
class Submission:
    """A command queued for the writer, and where its outcome goes."""

    command: Callable[[UnitOfWork], Any]
    idempotency: Idempotency | None
    future: Future[Any]
    waiter: asyncio.Future[Any] | None = None  # an event loop's, for `Writer.run`


def queued(waiting: queue.SimpleQueue[Q | None]) -> list[Q]:
    """Takes what `waiting` holds now, without waiting (the ends, None, left out)."""
    items: list[Q] = []
    while True:
        try:
            item = waiting.get_nowait()
        except queue.Empty:
            return items
        if item is not None:
            items.append(item)


def take(waiting: queue.SimpleQueue[Q | None], most: int) -> tuple[list[Q], bool]:
    """Takes the next item of `waiting` (waited for) and those queued behind it, at most
    `most`; and tells whether the end (None) came among them."""
    first = waiting.get()
    if first is None:
        return [], True
    taken = [first]
    while len(taken) < most:
        try:
            item = waiting.get_nowait()
        except queue.Empty:
            break
        if item is None:
            return taken, True
        taken.append(item)
    return taken, False


def fail_unanswered(group: list[Submission], error: Exception) -> None:
    """Fails with `error` each request of the group that has no outcome yet."""
    for submission in group:
        if not submission.future.done():
            submission.future.set_exception(error)


def wake_waiters(group: list[Submission]) -> None:
    """Hands each event loop the outcomes of its requests in this group (those resolved), in
    one call."""
    _on_their_loops([(s.waiter.get_loop(), s) for s in group
                     if s.waiter is not None and s.future.done()], _settle_waiters)


def wake_fetched(asked: list[tuple[list[UUID], asyncio.Future[None]]]) -> None:
    """Tells each event loop that its requests' prefetches are done, in one call."""
    _on_their_loops([(fetched.get_loop(), fetched) for _, fetched in asked], _settle_fetched)


def _on_their_loops(waiting: list[tuple[asyncio.AbstractEventLoop, W]],
                    settle: Callable[[list[W]], None]) -> None:
    """Calls `settle` on each event loop with what waits there, once a loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[W]] = {}
    for loop, item in waiting:
        by_loop.setdefault(loop, []).append(item)
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(settle, items)


def _settle_waiters(submissions: list[Submission]) -> None:
    """On the event loop: gives each waiter its future's outcome (every future of a group is
    resolved before the group's waiters are woken)."""
    for submission in submissions:
        waiter, future = submission.waiter, submission.future
        assert waiter is not None
        if waiter.done():  # timed out or cancelled meanwhile
            continue
        if (error := future.exception(timeout=0)) is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(future.result(timeout=0))


def _settle_fetched(futures: list[asyncio.Future[None]]) -> None:
    for fetched in futures:
        if not fetched.done():  # timed out or cancelled meanwhile
            fetched.set_result(None)
