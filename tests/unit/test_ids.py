"""Random ids: as random as `uuid4`, never repeated, not shared by a forked process."""

from __future__ import annotations

import os
import uuid

from ledger.ids import new_id


def test_ids_are_random_version_4_uuids_and_never_repeat():
    made = [new_id() for _ in range(20_000)]  # several reads of the pool

    assert len(set(made)) == len(made)
    assert {i.version for i in made} == {4}
    assert {i.variant for i in made} == {uuid.RFC_4122}


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
