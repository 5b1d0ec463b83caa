"""The server's garbage collection (`api.gc_tuning`): survivors frozen, cycles still reclaimed."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from api.gc_tuning import FullCollection, tune_gc, untune_gc


class Node:
    other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return first, weakref.ref(first)


@pytest.fixture
def tuned() -> Iterator[None]:
    tune_gc()
    try:
        yield
    finally:
        untune_gc()


def test_a_cycle_that_dies_young_is_collected_young(tuned):
    node, alive = cycle()
    del node
    gc.collect(0)
    assert alive() is None


def test_what_survives_a_young_collection_is_frozen_until_a_full_collection(tuned):
    node, alive = cycle()
    frozen = gc.get_freeze_count()
    gc.collect(0)
    assert gc.get_freeze_count() >= frozen + 2  # the cycle's two nodes, out of reach

    del node
    gc.collect(0)
    gc.collect(1)
    assert alive() is not None  # frozen garbage: only a full collection sees it

    FullCollection(interval_seconds=3600).tick()
    assert alive() is None
    assert gc.get_freeze_count() > 0  # the rest frozen again


def test_untuned_the_collector_is_as_cpython_sets_it():
    tune_gc()
    untune_gc()
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
    node, alive = cycle()
    gc.collect(0)  # survives into the next generation, as usual
    del node
    gc.collect()
    assert alive() is None
