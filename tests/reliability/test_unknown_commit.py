"""A write whose commit outcome is unknown is re-read, never reported as failed when stored.

The database is real; only the acknowledgement of one commit is lost, the two ways it happens:
the library retries the insert after the connection dropped (and the retry conflicts with our
own stored events), or the connection is gone for good (the error reaches the writer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from tests.scenario import Town, key, ok


def lose_next_acknowledgement(linli: Any, how: str) -> None:
    """Arm the event store so that its next insert commits and then reports a failure."""
    recorder = linli.app.events.recorder
    original: Callable[..., Any] = recorder.insert_events

    def insert_events(*args: Any, **kwargs: Any) -> Any:
        del recorder.insert_events  # once: back to the real method
        if how == "never-committed":
            raise OperationalError("server closed the connection unexpectedly")
        original(*args, **kwargs)
        if how == "retried-by-library":
            return original(*args, **kwargs)  # the retry meets our own stored events
        raise OperationalError("server closed the connection unexpectedly")

    recorder.insert_events = insert_events


@pytest.fixture
def world(client):
    world = Town.standard(client)
    world.award(100)
    return world


STORED_BUT_UNACKNOWLEDGED = ["retried-by-library", "connection-gone"]


class TestUnknownCommitOutcome:
    @pytest.mark.parametrize("how", STORED_BUT_UNACKNOWLEDGED)
    def test_a_stored_redemption_is_answered_201_and_a_retry_replays_it(self, world, linli,
                                                                        how):
        headers = {**world.merchant, **key()}
        body = {"member_id": world.member_id, "points": 30, "description": "大米"}
        lose_next_acknowledgement(linli, how)

        first = world.client.post("/v1/redemptions", headers=headers, json=body)
        again = world.client.post("/v1/redemptions", headers=headers, json=body)

        assert first.status_code == 201, first.text
        assert again.status_code == 201 and again.content == first.content
        assert world.balance()["points"] == 70

    @pytest.mark.parametrize("how", STORED_BUT_UNACKNOWLEDGED)
    def test_a_stored_award_without_a_key_is_not_applied_twice(self, world, linli, how):
        lose_next_acknowledgement(linli, how)

        award = world.award(25)

        assert award["points"] == 25
        assert world.balance()["points"] == 125

    def test_a_write_that_was_not_stored_is_503_and_its_retry_applies_once(self, world, linli):
        headers = {**world.merchant, **key()}
        body = {"member_id": world.member_id, "points": 30, "description": "大米"}
        lose_next_acknowledgement(linli, "never-committed")

        first = world.client.post("/v1/redemptions", headers=headers, json=body)
        assert first.status_code == 503, first.text
        assert first.json()["type"].endswith("/unavailable")
        assert world.balance()["points"] == 100

        again = world.client.post("/v1/redemptions", headers=headers, json=body)
        ok(again, 201)
        assert world.balance()["points"] == 70
