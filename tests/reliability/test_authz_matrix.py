"""The authorization matrix, generated from our OpenAPI.

Every operation whose path has an id — and every POST whose body names a member, merchant or
community — is sent with the ids of community A, by every role of community B (and by A's
second merchant and member, for what belongs to A's first ones). Each answer is 401, 403 or
404, carries none of A's data, and nothing is stored. Bodies are built from the operation's
own request schema, so a new endpoint joins the matrix by itself.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from ledger.domain.idempotency import IdempotencyRecord
from tests.scenario import Town, auth, ok

DENIED = {401, 403, 404}
METHODS = ("get", "post", "put", "delete")


def secret_name(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def town(client):
    """Community A with real resources and distinctive names; community B with every role."""
    a = Town.standard(client, name=secret_name("A社区"))
    names = [secret_name("A居民"), secret_name("A商户"), secret_name("A楼栋")]
    member = ok(client.post("/v1/members", headers=a.staff, json={
        "community_id": a.community_id, "name": names[0]}), 201)["id"]
    a.award(50, member)
    a.award(50)
    redemption = ok(a.redeem(5), 201)["id"]
    hold = ok(client.post("/v1/holds", headers={**a.merchant, "Idempotency-Key": "h1"},
                          json={"member_id": a.member_id, "points": 3}), 201)["id"]
    award = a.award(2)["id"]
    household = ok(client.post("/v1/households", headers=a.staff, json={
        "community_id": a.community_id, "address": names[2]}), 201)["id"]
    merchant2 = ok(client.post("/v1/merchants", headers=a.staff, json={
        "community_id": a.community_id, "name": names[1]}), 201)["id"]
    key_id = ok(client.post("/v1/api-keys", json={"role": "member", "member_id": member}),
                201)["id"]
    request = ok(client.post("/v1/service-requests", headers=a.staff, json={
        "requester_id": a.member_id, "service_type": "助餐"}), 201)["id"]
    activity = ok(client.post("/v1/activities", headers=a.staff, json={
        "community_id": a.community_id, "title": names[0], "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2026-01-01T02:00:00Z"}), 201)["id"]
    team = ok(client.post("/v1/teams", headers=a.staff, json={
        "community_id": a.community_id, "name": secret_name("A队")}), 201)
    ok(client.post(f"/v1/teams/{team['id']}/members", headers=a.staff,
                   json={"member_id": member}))
    names.append(team["name"])
    observer = a.add_member(secret_name("A观察员"))
    ok(client.put(f"/v1/members/{a.member_id}/care", headers=a.staff, json={
        "categories": ["独居"], "observer_member_id": observer, "visit_every_days": 7}))
    wish = ok(client.post("/v1/wishes", headers=a.member, json={
        "member_id": a.member_id, "text": secret_name("A心愿")}), 201)
    proposal = ok(client.post("/v1/proposals", headers=a.member, json={
        "community_id": a.community_id, "text": secret_name("A建议")}), 201)
    building = ok(client.post(f"/v1/communities/{a.community_id}/buildings", headers=a.staff,
                              json={"name": secret_name("A楼"), "grid_id": a.add_grid("A网格")}),
                  201)
    names += [wish["text"], proposal["text"], building["name"]]
    names.append(secret_name("A街道"))
    district = ok(client.post("/v1/districts", json={"name": names[-1]}), 201)["id"]
    ok(client.post(f"/v1/districts/{district}/communities",
                   json={"community_id": a.community_id}))
    webhook = ok(client.post("/v1/webhooks", headers=a.merchant, json={
        "url": "http://127.0.0.1:9/hook", "events": ["redemption.created"]}), 201)["id"]
    a.redeem(1)
    delivery = ok(client.get(f"/v1/webhooks/{webhook}/deliveries",
                             headers=a.merchant))["items"][0]["id"]
    b = Town.standard(client, name="B社区")
    foreign = {
        "B staff": b.staff, "B merchant": b.merchant, "B member": b.member,
        "B auditor": b.auditor,
        "A other merchant": a.token(role="merchant", merchant_id=merchant2),
        "A other member": a.token(role="member", member_id=member),
        "no token": {}, "bad token": auth("not-a-token"),
    }
    ids = {"community_id": a.community_id, "member_id": a.member_id,
           "merchant_id": a.merchant_id, "redemption_id": redemption, "hold_id": hold,
           "award_id": award, "household_id": household, "key_id": key_id,
           "grid_id": None, "code": "GIFT", "quarter": "2026-Q4", "request_id": request,
           "partner_id": b.community_id, "team_id": team["id"],
           "passbook_no": client.get(f"/v1/members/{a.member_id}").json()["passbook_no"],
           "number": None, "activity_id": activity, "period": "2026-12",
           "wish_id": wish["id"], "proposal_id": proposal["id"], "building_id": building["id"],
           "district_id": district, "settlement_id": str(uuid.uuid4()),
           "webhook_id": webhook, "delivery_id": delivery}
    secrets = [client.get(f"/v1/communities/{a.community_id}").json()["name"],
               client.get(f"/v1/members/{a.member_id}").json()["passbook_no"], *names]
    return a, ids, foreign, secrets


def example(schema: dict[str, Any], spec: dict[str, Any], ids: dict[str, Any],
            name: str = "") -> Any:
    """A valid value for `schema`, using A's ids for id fields."""
    if "$ref" in schema:
        return example(spec["components"]["schemas"][schema["$ref"].split("/")[-1]], spec,
                       ids, name)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return example(options[0], spec, ids, name) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        chosen = set(schema.get("required", []))
        optional_ids = [f for f in properties if f not in chosen and ids.get(f)]
        chosen |= set(optional_ids[:1])  # one optional id: "exactly one of" rules hold
        return {field: example(sub, spec, ids, field)
                for field, sub in properties.items() if field in chosen}
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if schema.get("format") == "uuid":
        return ids.get(name) or str(uuid.uuid4())
    if schema.get("format") == "date":
        return "1950-01-01"
    if schema.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    return "GIFT" if name == "rule_code" else "x"


def operations(spec: dict[str, Any], ids: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(method, path with A's ids, body) for every operation that names something of A's."""
    found = []
    for template, item in spec["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if (operation is None or not template.startswith("/v1/")
                    or template.startswith("/v1/certificates/")):  # anyone may check one
                continue
            path = template.format(**{k: v for k, v in ids.items() if v is not None})
            query = {p["name"]: example(p["schema"], spec, ids, p["name"])
                     for p in operation.get("parameters", [])
                     if p["in"] == "query" and p.get("required")}
            if query:
                path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
            body = None
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                body = example(schema, spec, ids)
            names_a = "{" in template or (isinstance(body, dict) and any(
                body.get(k) == ids[k] for k in ("member_id", "merchant_id", "community_id")))
            if names_a:
                found.append((method, path, body))
    return found


class TestAuthorizationMatrix:
    def test_no_foreign_token_reaches_anything_of_another_community(self, town, client,
                                                                     linli):
        a, ids, foreign, secrets = town
        spec = client.get("/openapi.json").json()
        matrix = operations(spec, ids)
        position = linli.app.recorder.max_notification_id()
        leaks = []
        for method, path, body in matrix:
            for who, headers in foreign.items():
                if who.startswith("A other") and not _owned_by_a_first_ones(path, ids):
                    continue
                response = client.request(method.upper(), path, json=body, headers={
                    **headers, "Idempotency-Key": uuid.uuid4().hex,
                    "Authorization": headers.get("Authorization", "")})
                text = response.text
                if response.status_code not in DENIED or any(s in text for s in secrets):
                    leaks.append(f"{who}: {method.upper()} {path} → {response.status_code} "
                                 f"{text[:160]}")

        assert len(matrix) >= 30, [m[:2] for m in matrix]
        assert leaks == [], "\n".join(leaks)
        # A refused keyed request keeps its answer (so a retry gets it again); nothing else.
        stored = linli.app.recorder.select_notifications(position, 1_000,
                                                         inclusive_of_start=False)
        assert {n.topic for n in stored} <= {get_topic(IdempotencyRecord.Recorded)}  # type: ignore[attr-defined]

    def test_body_fields_never_override_the_tokens_identity(self, town, client):
        a, ids, foreign, _ = town
        other_merchant = ok(client.post("/v1/merchants", headers=a.staff, json={
            "community_id": a.community_id, "name": "别家"}), 201)["id"]
        sneaky = [
            ("/v1/redemptions", a.merchant, {"member_id": a.member_id, "points": 1,
                                              "description": "x",
                                              "merchant_id": other_merchant}),
            ("/v1/redemptions", a.merchant, {"member_id": a.member_id, "points": 1,
                                              "description": "x", "balance": 999_999}),
            ("/v1/holds", a.merchant, {"member_id": a.member_id, "points": 1,
                                        "merchant_id": other_merchant}),
            ("/v1/api-keys", a.staff, {"role": "admin"}),
            ("/v1/api-keys", a.staff, {"role": "auditor", "community_id": a.community_id}),
            ("/v1/api-keys", a.staff, {"role": "member", "member_id": a.member_id,
                                        "role_override": "admin"}),
        ]
        before = a.balance()["points"]
        for path, headers, body in sneaky:
            response = client.post(path, json=body,
                                   headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
            assert response.status_code in (403, 422), (path, body, response.text)
        assert a.balance()["points"] == before

        # Without the extra field, the redemption is the token's merchant's, whatever else.
        made = ok(a.redeem(1), 201)
        assert made["merchant_id"] == a.merchant_id


def _owned_by_a_first_ones(path: str, ids: dict[str, Any]) -> bool:
    """Resources of A's first member or merchant (A's other member/merchant must not reach)."""
    mine = (ids["member_id"], ids["merchant_id"], ids["redemption_id"], ids["hold_id"],
            ids["webhook_id"])
    return any(i in path for i in mine)
