"""Building blocks for tests that go through the real HTTP app."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    return body


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


@dataclass
class World:
    """A community with a rule, a member, a merchant, and a token for each role."""

    client: TestClient
    community_id: str
    member_id: str
    merchant_id: str
    staff: dict[str, str]
    merchant: dict[str, str]
    member: dict[str, str]
    auditor: dict[str, str]

    def award(self, points: int, member_id: str | None = None) -> dict[str, Any]:
        """Give `points` through the `GIFT` rule (1 point each)."""
        return ok(self.client.post("/v1/awards", headers=self.staff, json={
            "member_id": member_id or self.member_id, "rule_code": "GIFT", "quantity": points,
        }), 201)

    def redeem(self, points: int, member_id: str | None = None, **extra: Any) -> Any:
        headers = {**self.merchant, **key()}
        return self.client.post("/v1/redemptions", headers=headers, json={
            "member_id": member_id or self.member_id, "points": points,
            "description": "大米", **extra})

    def balance(self, member_id: str | None = None) -> dict[str, Any]:
        return ok(self.client.get(f"/v1/members/{member_id or self.member_id}/balance",
                                  headers=self.staff))

    def new_member(self, name: str = "李四") -> str:
        member = ok(self.client.post("/v1/members", headers=self.staff, json={
            "community_id": self.community_id, "name": name}), 201)
        return str(member["id"])

    def token(self, **grant: Any) -> dict[str, str]:
        issued = ok(self.client.post("/v1/api-keys", json=grant), 201)
        return auth(issued["token"])


def make_world(client: TestClient, name: str = "116社区") -> World:
    community = ok(client.post("/v1/communities", json={"name": name}), 201)
    cid = community["id"]
    ok(client.put(f"/v1/communities/{cid}/rules/GIFT", json={
        "name": "志愿服务", "points": 1, "unit": "each"}))
    member = ok(client.post("/v1/members", json={"community_id": cid, "name": "张三"}), 201)
    merchant = ok(client.post("/v1/merchants", json={"community_id": cid,
                                                      "name": "文明积分超市"}), 201)

    def token(**grant: Any) -> dict[str, str]:
        return auth(ok(client.post("/v1/api-keys", json=grant), 201)["token"])

    return World(
        client=client, community_id=cid, member_id=member["id"], merchant_id=merchant["id"],
        staff=token(role="staff", community_id=cid),
        merchant=token(role="merchant", merchant_id=merchant["id"]),
        member=token(role="member", member_id=member["id"]),
        auditor=token(role="auditor", community_id=cid),
    )
