"""A community built through the real HTTP app, for the leaderboard and report tests.

The clock is fixed in 2098: awards are dated by it, while the event store stamps registrations
with the real clock, so every member here was registered before the periods the tests rank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import Linli
from tests.helpers import auth, ok

NOW = datetime(2098, 11, 23, 18, 0, tzinfo=UTC)  # 02:00 on 24 November in Shanghai


def at(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()


@dataclass
class Town:
    """A community built through the API, with short-hands for what the tests need."""

    client: TestClient
    community_id: str
    names: dict[str, str] = field(default_factory=dict)  # member id -> name

    @classmethod
    def found(cls, client: TestClient, name: str = "湖滨社区", **extra: Any) -> Town:
        community = ok(client.post("/v1/communities", json={"name": name, **extra}), 201)
        town = cls(client, community["id"])
        town.rule("GIFT", "志愿服务", 1)
        return town

    def rule(self, code: str, name: str, points: int, unit: str = "each") -> None:
        ok(self.client.put(f"/v1/communities/{self.community_id}/rules/{code}",
                           json={"name": name, "points": points, "unit": unit}))

    def grid(self, name: str) -> str:
        return str(ok(self.client.post(f"/v1/communities/{self.community_id}/grids",
                                       json={"name": name}), 201)["id"])

    def household(self, address: str, grid_id: str | None = None) -> str:
        return str(ok(self.client.post("/v1/households", json={
            "community_id": self.community_id, "address": address, "grid_id": grid_id}),
            201)["id"])

    def member(self, name: str, household_id: str | None = None,
               grid_id: str | None = None) -> str:
        member_id = str(ok(self.client.post("/v1/members", json={
            "community_id": self.community_id, "name": name, "household_id": household_id,
            "grid_id": grid_id}), 201)["id"])
        self.names[member_id] = name
        return member_id

    def award(self, member_id: str, points: int = 0, *, code: str = "GIFT",
              when: str | None = None, minutes: int | None = None) -> str:
        body: dict[str, Any] = {"member_id": member_id, "rule_code": code}
        if minutes is not None:
            body["minutes"] = minutes
        else:
            body["quantity"] = points
        if when is not None:
            body["occurred_at"] = at(when)
        return str(ok(self.client.post("/v1/awards", json=body), 201)["id"])

    def reverse(self, award_id: str) -> None:
        ok(self.client.post(f"/v1/awards/{award_id}/reverse", json={"reason": "重复登记"}))

    def token(self, **grant: Any) -> dict[str, str]:
        return auth(ok(self.client.post("/v1/api-keys", json=grant), 201)["token"])

    def board(self, headers: dict[str, str] | None = None, **params: Any) -> list[tuple[Any, ...]]:
        """(rank, name, earned) of each line of the leaderboard."""
        body = ok(self.client.get("/v1/leaderboards", headers=headers or {},
                                  params={"community_id": self.community_id, **params}))
        return [(i["rank"], i["name"], i["earned"]) for i in body["items"]]

    def names_on(self, **params: Any) -> list[tuple[str, int]]:
        return [(name, earned) for _, name, earned in self.board(**params)]


@pytest.fixture
def town(client: TestClient, linli: Linli) -> Town:
    linli.clock = lambda: NOW
    return Town.found(client)
