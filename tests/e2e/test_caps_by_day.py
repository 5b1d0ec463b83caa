"""Caps count by the day (and month) the deed occurred, in the community's time zone: a
backdated award counts against its own day's cap, never today's, and backdating many times to
one day passes that day's cap no more than awarding on it did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.scenario import Town, ok

CAP = 5


@pytest.fixture
def town(client) -> Town:
    town = Town.standard(client)
    town.add_rule("PATROL", 1, daily_cap=CAP)
    return town


def award(town: Town, quantity: int, days_ago: int = 0) -> Any:
    body: dict[str, Any] = {"member_id": town.member_id, "rule_code": "PATROL",
                            "quantity": quantity}
    if days_ago:
        body["occurred_at"] = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    return town.client.post("/v1/awards", headers=town.staff, json=body)


def refused_by_cap(response: Any) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["type"].endswith("/cap-reached")


class TestCapsByTheDeedsDay:
    def test_backdating_again_and_again_does_not_pass_that_days_cap(self, town):
        ok(award(town, CAP), 201)
        refused_by_cap(award(town, 1))

        cut = ok(award(town, 3, days_ago=1), 201)
        rest = ok(award(town, 3, days_ago=1), 201)
        refused_by_cap(award(town, 1, days_ago=1))
        refused_by_cap(award(town, 1))

        assert (cut["points"], rest["points"], rest["capped"]) == (3, 2, True)
        assert town.balance()["points"] == 2 * CAP

    def test_a_backdated_award_leaves_todays_cap_whole(self, town):
        for days_ago in (1, 2, 3):
            assert ok(award(town, CAP, days_ago=days_ago), 201)["points"] == CAP

        today = ok(award(town, CAP), 201)

        assert (today["points"], today["capped"]) == (CAP, False)
        assert town.balance()["points"] == 4 * CAP

    def test_a_deed_beyond_the_backdating_limit_or_in_the_future_is_refused(self, town):
        for days_ago in (91, -1):
            response = award(town, 1, days_ago=days_ago)
            assert response.status_code == 422, response.text
        assert town.balance()["points"] == 0
