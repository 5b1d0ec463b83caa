"""Sign-in links (a QR code staff print for a resident's phone), through the real app on both
backends: who may make one, the member token inside it, trading it for the phone's own token,
and a new link ending every earlier one.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from harness.serving import serving
from tests.conftest import ADMIN_TOKEN
from tests.e2e.test_payment_codes import Clock, community, hand_clock, in_chinese, problem, when
from tests.scenario import Town, auth, ok


@pytest.fixture
def clock(linli: Any) -> Clock:
    return hand_clock(linli)


def make_link(town: Town, headers: dict[str, str] | None = None,
              member_id: str | None = None) -> Any:
    """Ask for a sign-in link for a member (the cast's), by staff unless `headers` say
    otherwise ({} is the client's admin token); the response."""
    return town.client.post(f"/v1/members/{member_id or town.member_id}/sign-in-links",
                            headers=town.staff if headers is None else headers, json={})


def token_in(url: str) -> str:
    """The token in a sign-in link's fragment."""
    return parse_qs(urlsplit(url).fragment)["token"][0]


def link_token(town: Town, headers: dict[str, str] | None = None,
               member_id: str | None = None) -> str:
    return token_in(ok(make_link(town, headers, member_id), 201)["url"])


def me(town: Town, token: str) -> Any:
    return town.client.get("/v1/me", headers=auth(token))


def works_as_member(town: Town, token: str, member_id: str | None = None) -> bool:
    """The token is a member token of the member (the cast's) that reads its balance."""
    who = me(town, token)
    if who.status_code != 200:
        assert who.status_code == 401, who.text
        return False
    member = member_id or town.member_id
    assert who.json()["role"] == "member" and who.json()["member_id"] == member, who.json()
    ok(town.client.get(f"/v1/members/{member}/balance", headers=auth(token)))
    return True


def trade(town: Town, token: str) -> Any:
    return town.client.post("/v1/sign-in", headers=auth(token))


class TestMakingALink:
    def test_staff_make_a_link_holding_a_member_token(self, client, clock):
        town = community(client, points=5)

        body = ok(make_link(town), 201)

        assert body["member_id"] == town.member_id
        url = urlsplit(body["url"])
        assert (url.scheme, url.netloc, url.path) == ("http", "testserver", "/web/signin")
        lives = when(body["expires_at"]) - clock.now
        assert timedelta(hours=72) - timedelta(minutes=1) <= lives <= timedelta(
            hours=72, minutes=1), body
        assert works_as_member(town, token_in(body["url"]))
        balance = ok(client.get(f"/v1/members/{town.member_id}/balance",
                                headers=auth(token_in(body["url"]))))
        assert balance["points"] == 5

    def test_an_admin_makes_a_link_and_members_merchants_and_other_staff_may_not(self, client):
        town = community(client)
        elsewhere = community(client)

        by_admin = link_token(town, {})
        by_member = make_link(town, town.member)
        by_merchant = make_link(town, town.merchant)
        by_other_staff = make_link(town, elsewhere.staff)

        assert works_as_member(town, by_admin)
        assert problem(by_member)[0] == 403
        assert problem(by_merchant)[0] == 403
        assert problem(by_other_staff)[0] in (403, 404)

    def test_the_token_is_the_members_own(self, client):
        town = community(client)
        neighbour = town.add_member("李四")

        token = link_token(town, member_id=neighbour)

        assert works_as_member(town, token, neighbour)
        assert client.get(f"/v1/members/{town.member_id}/balance",
                          headers=auth(token)).status_code in (403, 404)


class TestANewLink:
    def test_a_new_link_ends_the_earlier_ones(self, client):
        town = community(client)
        first = link_token(town)
        second = link_token(town)

        third = link_token(town, {})

        assert problem(me(town, first)) == (401, "unauthorized")
        assert not works_as_member(town, second)
        assert works_as_member(town, third)

    def test_a_new_link_leaves_the_members_other_keys_and_other_members_links(self, client):
        town = community(client)
        neighbour = town.add_member("李四")
        neighbours = link_token(town, member_id=neighbour)
        link_token(town)

        link_token(town)

        assert works_as_member(town, town.tokens["member"])
        assert works_as_member(town, neighbours, neighbour)


class TestSigningIn:
    def test_a_link_is_traded_for_the_phones_own_token(self, client):
        town = community(client)
        link = link_token(town)

        traded = ok(trade(town, link), 201)

        assert traded["member_id"] == town.member_id
        assert traded["token"] != link
        assert works_as_member(town, traded["token"])
        assert not works_as_member(town, link)
        assert problem(trade(town, link)) == (401, "unauthorized")

    def test_a_link_traded_by_five_phones_at_once_is_traded_once(self, linli):
        phones = 5
        with serving(linli) as base_url, httpx.Client(
                base_url=base_url, timeout=30.0,
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
            town = community(http)
            link = link_token(town)
            start = threading.Barrier(phones, timeout=30)

            def phone(_: int) -> httpx.Response:
                with httpx.Client(base_url=base_url, timeout=30.0) as own:
                    start.wait()
                    return own.post("/v1/sign-in", headers=auth(link))

            with ThreadPoolExecutor(max_workers=phones) as pool:
                answers = list(pool.map(phone, range(phones)))

            traded = [a.json()["token"] for a in answers if a.status_code == 201]
            assert len(traded) == 1, [(a.status_code, a.text) for a in answers]
            assert all(problem(a)[0] in (401, 409) for a in answers if a.status_code != 201)
            assert works_as_member(town, traded[0])
            assert not works_as_member(town, link)

    def test_the_traded_token_ends_when_a_new_link_is_made(self, client):
        town = community(client)
        traded = ok(trade(town, link_token(town)), 201)["token"]

        newer = link_token(town)

        assert not works_as_member(town, traded)
        assert works_as_member(town, newer)
        assert works_as_member(town, ok(trade(town, newer), 201)["token"])

    def test_a_token_that_is_not_a_links_is_refused_and_keeps_working(self, client):
        town = community(client)
        traded = ok(trade(town, link_token(town)), 201)["token"]
        tokens = [town.tokens["member"], traded, town.tokens["staff"], town.tokens["merchant"]]

        refused = [trade(town, token) for token in tokens]

        assert [problem(r) for r in refused] == [(409, "not-a-sign-in-link")] * len(tokens)
        assert in_chinese(refused[0])
        assert [me(town, token).status_code for token in tokens] == [200] * len(tokens)

    def test_without_a_token_or_with_an_unknown_one_it_is_401(self, client):
        town = community(client)

        unknown = trade(town, "no-such-token")
        without = client.post("/v1/sign-in", headers={"Authorization": ""})

        assert problem(unknown) == (401, "unauthorized")
        assert problem(without)[0] == 401


class TestExpiry:
    def test_a_links_token_works_72_hours(self, client, clock):
        """Links are made with the app's clock set back, then read at the real time: this
        holds whether a token's expiry is checked by the app's clock or the real one."""
        town = community(client)
        neighbour = town.add_member("李四")
        now = clock.now

        clock.now = now - timedelta(hours=72, minutes=1)
        expired = link_token(town)
        clock.now = now - timedelta(hours=71, minutes=59)
        alive = link_token(town, member_id=neighbour)
        clock.now = now

        assert problem(me(town, expired)) == (401, "unauthorized")
        assert problem(trade(town, expired)) == (401, "unauthorized")
        assert works_as_member(town, alive, neighbour)
        assert works_as_member(town, ok(trade(town, alive), 201)["token"], neighbour)
