"""New ids: version 7 (the time, then random bits), never repeated, not shared by a forked
process."""

from __future__ import annotations

import os
import time
import uuid

from ledger.ids import new_id


def test_ids_are_version_7_uuids_that_never_repeat():
    before = time.time_ns() // 1_000_000
    made = [new_id() for _ in range(20_000)]  # several reads of the pool
    after = time.time_ns() // 1_000_000

    assert len(set(made)) == len(made)
    assert {i.version for i in made} == {7}
    assert {i.variant for i in made} == {uuid.RFC_4122}
    assert all(before <= i.int >> 80 <= after for i in made)  # the Unix time in ms


def test_ids_follow_the_clock_and_their_other_74_bits_are_random():
    made = [new_id() for _ in range(20_000)]
    time.sleep(0.002)
    later = new_id()

    assert all(i < later for i in made)  # the database's order of uuids: by their bytes
    random_bits = [*range(0, 62), *range(64, 76)]  # all but the time, version and variant
    for bit in random_bits:
        ones = sum(i.int >> bit & 1 for i in made)
        assert 9_000 < ones < 11_000, bit  # about half: 10,000 ± 14 standard deviations


def test_a_forked_process_does_not_make_the_ids_its_parent_makes():
    new_id()  # the pool is read, with ids left in it
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.close(read)
        os.write(write, b"".join(new_id().bytes for _ in range(100)))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(child, 0)
    in_child = {uuid.UUID(bytes=data[i:i + 16]) for i in range(0, len(data), 16)}
    in_parent = {new_id() for _ in range(100)}

    assert len(in_child) == 100
    assert not in_child & in_parent
