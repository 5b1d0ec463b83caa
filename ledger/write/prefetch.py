"""The prefetch thread: loads what requests waiting on event loops will read, before the writer
runs their commands.

A command that names what it will read (`Reading`) is not queued for the writer until those
aggregates are in memory: the event loop hands their ids to this thread and awaits. The thread
loads all that was asked meanwhile in one `AggregateCache.fetch` (one query for many requests),
then wakes each loop once. The writer's thread, which runs one command after another, then
seldom waits on the database at all.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from uuid import UUID

from ledger.write.bridge import queued, take, wake_fetched
from ledger.write.cache import AggregateCache

log = logging.getLogger(__name__)

Asked = tuple[list[UUID], asyncio.Future[None]]  # ids to fetch, and the future to resolve


class Prefetcher:
    """Runs the prefetch thread: takes what event loops ask, fetches it into the cache."""

    def __init__(self, cache: AggregateCache, most: int) -> None:
        self._cache = cache
        self._most = most  # requests a fetch serves at most
        self._asked: queue.SimpleQueue[Asked | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="linli-prefetch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ends the thread; requests that asked as it stopped are woken (the writer then loads
        what they need itself)."""
        self._asked.put(None)
        self._thread.join(timeout=30)
        wake_fetched(queued(self._asked))

    def ask(self, aggregate_ids: list[UUID],
            loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """Queues `aggregate_ids` to fetch; the returned future of `loop` is done once they
        are (or could not be) fetched."""
        fetched: asyncio.Future[None] = loop.create_future()
        self._asked.put((aggregate_ids, fetched))
        return fetched

    def _loop(self) -> None:
        """Fetches all that is queued meanwhile in one go, until the end (None) comes."""
        while True:
            asked, stop = take(self._asked, self._most)
            if asked:
                try:
                    self._cache.fetch([i for ids, _ in asked for i in ids])
                except Exception:  # the writer loads what is missing itself, and reports it
                    log.exception("prefetching failed")
                wake_fetched(asked)
            if stop:
                return
