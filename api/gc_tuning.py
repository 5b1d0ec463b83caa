"""The server's cyclic garbage collection, tuned for short pauses.

A busy server's heap is mostly long-lived: the writer's cached aggregates, the answers to
keyed requests, the chain heads. CPython collects its youngest generation whenever tracked
allocations outnumber deallocations by a threshold, and every object that survives is scanned
again in the older generations' collections. With a high threshold the young generation grew
to 100,000 objects and more (deallocations of old objects hold the count back), and each of
its collections held the GIL, so every request, for up to 27 ms of CPU every few seconds
under `bench.http` (timed with `gc.callbacks`).

Here the young generation is collected often (small pauses, 2-3 ms), and what survives a
collection is frozen out of the collector's reach (`gc.freeze`): it lives on, or dies by
reference counting like any object. Only cyclic garbage made of frozen objects would stay; it
is rare (59 objects after 40,000 redemptions), and a full collection now and then
(`FullCollection`) reclaims it, at the cost of one longer pause (about 350 ms with 10,000
members in memory).
"""

from __future__ import annotations

import gc
from typing import Any

from ledger.periodic import Periodic

YOUNG_THRESHOLD = 5_000  # net tracked allocations between two collections of the young


def _freeze_survivors(phase: str, _info: dict[str, Any]) -> None:
    if phase == "stop":
        gc.freeze()


def tune_gc() -> None:
    """Freeze what exists now (the server's start-up), then collect the young often and
    freeze what survives each collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD)
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)


def untune_gc() -> None:
    """Back to CPython's defaults (for tests)."""
    if _freeze_survivors in gc.callbacks:
        gc.callbacks.remove(_freeze_survivors)
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)


def collect_everything() -> int:
    """A full collection, frozen objects included; what survives is frozen again. Returns
    the number of unreachable objects found."""
    gc.unfreeze()
    found = gc.collect()
    gc.freeze()
    return found


class FullCollection(Periodic):
    """`collect_everything` every `interval_seconds`."""

    thread_name = "linli-gc"

    def tick(self) -> None:
        collect_everything()
