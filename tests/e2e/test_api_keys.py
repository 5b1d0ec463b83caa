"""API keys: an expiry of their own, what staff may revoke, and the list a console shows."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from ledger.commands.access import hash_token
from tests.scenario import Town, ok, problem_type


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def _key_id(client, token: str) -> str:
    from ledger.ids import api_key_id
    return str(api_key_id(hash_token(token)))


class TestExpiry:
    def test_a_key_works_until_its_expiry_then_is_401(self, client):
        town = Town.standard(client)
        issued = ok(client.post("/v1/api-keys", headers=town.staff, json={
            "role": "member", "member_id": town.member_id, "expires_at": _in(1.5)}), 201)
        phone = {"Authorization": f"Bearer {issued['token']}"}
        assert issued["expires_at"] is not None
        ok(client.get(f"/v1/members/{town.member_id}/balance", headers=phone))

        time.sleep(1.6)

        expired = client.get(f"/v1/members/{town.member_id}/balance", headers=phone)
        assert expired.status_code == 401

    def test_an_expiry_already_past_is_refused(self, client):
        town = Town.standard(client)
        refused = client.post("/v1/api-keys", headers=town.staff, json={
            "role": "member", "member_id": town.member_id, "expires_at": _in(-60)})
        assert refused.status_code == 422
        assert problem_type(refused) == "invalid-request"


class TestRevocation:
    def test_staff_revoke_member_and_merchant_keys_of_their_community_only(self, client):
        town = Town.standard(client)
        other = Town.standard(client, name="B社区")
        ids = {who: _key_id(client, town.tokens[who]) for who in town.tokens}
        second_staff = town.issue_token(role="staff", community_id=town.community_id)

        for refused in (ids["auditor"], _key_id(client, second_staff)):
            answer = client.delete(f"/v1/api-keys/{refused}", headers=town.staff)
            assert answer.status_code == 403, answer.text
            assert problem_type(answer) == "forbidden"
        foreign = client.delete(f"/v1/api-keys/{_key_id(client, other.tokens['member'])}",
                                headers=town.staff)
        assert foreign.status_code == 404
        ok(client.get(f"/v1/communities/{town.community_id}", headers=town.auditor))

        for revoked in (ids["member"], ids["merchant"]):
            assert client.delete(f"/v1/api-keys/{revoked}", headers=town.staff).status_code == 204
        assert client.get(f"/v1/members/{town.member_id}/balance",
                          headers=town.member).status_code == 401

    def test_an_admin_revokes_any_key(self, client):
        town = Town.standard(client)
        assert client.delete(f"/v1/api-keys/{_key_id(client, town.tokens['auditor'])}"
                             ).status_code == 204


class TestList:
    def test_staff_list_their_communitys_keys_paged_without_tokens(self, client):
        town = Town.standard(client)
        other = Town.standard(client, name="B社区")
        client.delete(f"/v1/api-keys/{_key_id(client, town.tokens['member'])}")

        pages, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = ok(client.get("/v1/api-keys", headers=town.staff, params=params))
            pages.append(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        items = [i for p in pages for i in p["items"]]
        text = "".join(str(p) for p in pages)

        assert {i["id"] for i in items} == {_key_id(client, t) for t in town.tokens.values()}
        assert {i["community_id"] for i in items} == {town.community_id}
        assert len(pages) == 2
        assert [i["revoked"] for i in items if i["role"] == "member"] == [True]
        for token in (*town.tokens.values(), *other.tokens.values()):
            assert token not in text and hash_token(token) not in text
        merchant = next(i for i in items if i["role"] == "merchant")
        assert merchant["merchant_id"] == town.merchant_id and merchant["created_at"]

    def test_admins_see_every_community_and_others_are_refused(self, client):
        town = Town.standard(client)
        other = Town.standard(client, name="B社区")
        every = ok(client.get("/v1/api-keys", params={"limit": 500}))["items"]
        assert {town.community_id, other.community_id} <= {i["community_id"] for i in every}
        one = ok(client.get("/v1/api-keys", params={"community_id": other.community_id}))
        assert {i["community_id"] for i in one["items"]} == {other.community_id}

        assert client.get("/v1/api-keys", headers=town.staff,
                          params={"community_id": other.community_id}).status_code == 404
        for refused in (town.merchant, town.member):
            assert client.get("/v1/api-keys", headers=refused).status_code == 403
