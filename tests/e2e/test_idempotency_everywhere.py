"""Idempotency-Key on every write route of the OpenAPI document: the same key twice with a
valid body answers the same status and bytes, and the second stores nothing.

`WRITES` gives, for each write route, a maker that builds what the route needs (an award to
approve, an order to dispatch...) and returns who sends it, the path and a valid body. A write
route missing from the table fails `test_every_write_route_has_a_maker`, so a new route joins
by adding one line.

The tests share one running Linli per backend (`client`, for the module): each builds its own
community (`Cast`, `Town.standard`), and the route cases count only what their own two
requests store.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import BACKENDS, admin_client, backend_database, running_linli, settings_for
from tests.scenario import Town, auth, key, ok

Made = tuple[dict[str, str], str, Any]  # headers, path, body
Maker = Callable[["Cast"], Made]

ADMIN: dict[str, str] = {}  # the client's own token
SHOWN_ONCE = {"token", "url", "secret"}  # a retry answers without the secret shown once


class Cast:
    """A community with the usual cast (`town`), and builders for what each route acts on."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.town = Town.standard(client)
        self.town.award(100)
        self.other_member = self.town.add_member("王五")
        self.deposit(self.town.member_id, 120)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None,
             status: int = 201) -> Any:
        return ok(self.client.post(path, json=body, headers=headers or {}), status)

    def deposit(self, member_id: str, minutes: int) -> None:
        self.post("/v1/timebank/deposits", {"volunteer_id": member_id, "minutes": minutes,
                                            "service_type": "助老"})

    def redemption(self) -> str:
        return str(ok(self.town.redeem(1), 201)["id"])

    def hold(self) -> str:
        return str(self.post("/v1/holds", {"member_id": self.town.member_id, "points": 1},
                             {**self.town.merchant, **key()})["id"])

    def pending_award(self) -> str:
        code = f"R{uuid.uuid4().hex[:6]}"
        self.town.add_rule(code, 1, requires_approval=True)
        return str(self.town.award(1, code=code)["id"])

    def order(self, *steps: str) -> str:
        """A service request of the cast's member, taken through `steps` by staff."""
        t = self.town
        order = self.post("/v1/service-requests", {"requester_id": t.member_id,
                                                   "service_type": "助餐"})["id"]
        bodies = {"dispatch": {"volunteer_id": self.other_member}, "accept": None,
                  "complete": {"minutes": 30}, "rate": {"stars": 1}}
        for step in steps:
            self.post(f"/v1/service-requests/{order}/{step}", bodies[step], status=200)
        return str(order)

    def household(self) -> str:
        return self.town.add_household("1-101")

    def grid(self) -> str:
        return self.town.add_grid(f"网格{uuid.uuid4().hex[:4]}")

    def rule(self) -> str:
        code = f"R{uuid.uuid4().hex[:6]}"
        self.town.add_rule(code, 1)
        return code

    def member_key(self) -> str:
        return str(self.post("/v1/api-keys", {"role": "member",
                                              "member_id": self.other_member})["id"])

    def sign_in_link_token(self) -> str:
        url = self.post(f"/v1/members/{self.other_member}/sign-in-links", {})["url"]
        return str(url.split("#token=")[1])

    def team(self, *members: str) -> str:
        """A team of the cast's community, with `members`."""
        team = str(self.post("/v1/teams", {"community_id": self.town.community_id,
                                           "name": "小飞剪"}, self.town.staff)["id"])
        for member in members:
            self.post(f"/v1/teams/{team}/members", {"member_id": member}, self.town.staff,
                      status=200)
        return team

    def cared(self) -> str:
        """The other member, put in care with the cast's member as observer."""
        self.client.put(f"/v1/members/{self.other_member}/care", headers=self.town.staff, json={
            "categories": ["独居"], "observer_member_id": self.town.member_id,
            "visit_every_days": 7})
        return self.other_member

    def wish(self, claimed: bool = False) -> str:
        """A wish of the cast's member (claimed by the other member)."""
        wish = str(self.post("/v1/wishes", {"member_id": self.town.member_id,
                                            "text": "修自行车"}, self.town.member)["id"])
        if claimed:
            self.post(f"/v1/wishes/{wish}/claim", {"member_id": self.other_member},
                      self.town.staff, status=200)
        return wish

    def proposal(self) -> str:
        """A proposal of the cast's member."""
        return str(self.post("/v1/proposals", {"community_id": self.town.community_id,
                                               "text": "增设休息座椅"}, self.town.member)["id"])

    def building(self) -> str:
        """A building of the cast's community, in a new grid."""
        return str(self.post(f"/v1/communities/{self.town.community_id}/buildings",
                             {"name": "3栋", "grid_id": self.grid()}, self.town.staff)["id"])


    def webhook(self) -> str:
        """A subscription of the cast's merchant whose receiver refuses every connection."""
        return str(self.post("/v1/webhooks", {"url": "http://127.0.0.1:9/hook",
                                              "events": ["redemption.created"]},
                             self.town.merchant)["id"])

    def delivery(self) -> tuple[str, str]:
        """A subscription and one of its deliveries (failing, waiting for a retry)."""
        webhook = self.webhook()
        self.redemption()
        found = ok(self.client.get(f"/v1/webhooks/{webhook}/deliveries",
                                   headers=self.town.merchant))["items"]
        return webhook, str(found[0]["id"])


def _community(c: Cast) -> str:
    return c.town.community_id


def activity_body(c: Cast) -> dict[str, Any]:
    """An activity of the cast's community, under way now."""
    now = datetime.now(UTC)
    return {"community_id": c.town.community_id, "title": "清扫楼道",
            "starts_at": (now - timedelta(minutes=10)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(), "timebank": True}


def activity(c: Cast, *, checked_in: bool = False) -> str:
    """An activity under way (with the cast's member checked in); its id."""
    made = str(c.post("/v1/activities", activity_body(c), c.town.staff)["id"])
    if checked_in:
        c.post(f"/v1/activities/{made}/check-ins", {"member_id": c.town.member_id},
               c.town.staff)
    return made


def pending_award(c: Cast) -> str:
    """An award of the cast's member waiting for approval; its id."""
    c.town.add_rule("CHECK", 2, requires_approval=True)
    return str(c.town.award(1, code="CHECK")["id"])


def district(c: Cast, *, owing: bool = False) -> str:
    """A district of the cast's community and a neighbour; with `owing`, the neighbour owes
    the cast's community for care at its counter in March 2025 (a period to settle)."""
    made = str(c.post("/v1/districts", {"name": "湖滨街道"})["id"])
    neighbour = Town.found(c.client, "邻社区")
    for community in (c.town.community_id, neighbour.community_id):
        c.post(f"/v1/districts/{made}/communities", {"community_id": community}, status=200)
    if owing:
        elder = neighbour.add_member("赵大妈")
        c.deposit(elder, 60)
        linli = c.client.app.state.linli
        real = linli.clock
        linli.clock = lambda: datetime(2025, 3, 15, 4, 0, tzinfo=UTC)
        try:
            c.post("/v1/timebank/withdrawals", {
                "member_id": elder, "minutes": 30, "service_type": "助餐",
                "serving_community_id": c.town.community_id})
        finally:
            linli.clock = real
    return made


WRITES: dict[tuple[str, str], Maker] = {
    ("POST", "/v1/till/holder"): lambda c: (
        c.town.merchant, "/v1/till/holder", {"member_id": c.town.member_id}),
    ("POST", "/v1/redemptions"): lambda c: (
        c.town.merchant, "/v1/redemptions",
        {"member_id": c.town.member_id, "points": 2, "description": "大米"}),
    ("POST", "/v1/redemptions/{redemption_id}/refunds"): lambda c: (
        c.town.merchant, f"/v1/redemptions/{c.redemption()}/refunds", {"points": 1}),
    ("POST", "/v1/adjustments"): lambda c: (
        c.town.auditor, "/v1/adjustments",
        {"member_id": c.town.member_id, "asset": "POINTS", "amount": 3, "reason": "补录"}),
    ("POST", "/v1/holds"): lambda c: (
        c.town.merchant, "/v1/holds", {"member_id": c.town.member_id, "points": 2}),
    ("POST", "/v1/holds/{hold_id}/capture"): lambda c: (
        c.town.merchant, f"/v1/holds/{c.hold()}/capture", {}),
    ("POST", "/v1/holds/{hold_id}/void"): lambda c: (
        c.town.merchant, f"/v1/holds/{c.hold()}/void", None),
    ("POST", "/v1/members/{member_id}/payment-codes"): lambda c: (
        c.town.member, f"/v1/members/{c.town.member_id}/payment-codes", {}),
    ("PUT", "/v1/members/{member_id}/pin"): lambda c: (
        c.town.staff, f"/v1/members/{c.town.member_id}/pin", {"pin": "135790"}),
    ("POST", "/v1/members/{member_id}/erasure"): lambda c: (
        ADMIN, f"/v1/members/{c.other_member}/erasure", {"reason": "本人申请"}),
    ("POST", "/v1/members/{member_id}/sign-in-links"): lambda c: (
        c.town.staff, f"/v1/members/{c.town.member_id}/sign-in-links", {}),
    ("POST", "/v1/sign-in"): lambda c: (auth(c.sign_in_link_token()), "/v1/sign-in", None),
    ("POST", "/v1/api-keys"): lambda c: (
        c.town.staff, "/v1/api-keys", {"role": "member", "member_id": c.other_member}),
    ("DELETE", "/v1/api-keys/{key_id}"): lambda c: (
        c.town.staff, f"/v1/api-keys/{c.member_key()}", None),
    ("POST", "/v1/communities"): lambda c: (ADMIN, "/v1/communities", {"name": "新社区"}),
    ("POST", "/v1/communities/{community_id}/grids"): lambda c: (
        c.town.staff, f"/v1/communities/{_community(c)}/grids", {"name": "一网格"}),
    ("POST", "/v1/households"): lambda c: (
        c.town.staff, "/v1/households", {"community_id": _community(c), "address": "1-101"}),
    ("POST", "/v1/members"): lambda c: (
        c.town.staff, "/v1/members", {"community_id": _community(c), "name": "赵六"}),
    ("POST", "/v1/merchants"): lambda c: (
        c.town.staff, "/v1/merchants", {"community_id": _community(c), "name": "理发店"}),
    ("PUT", "/v1/communities/{community_id}/rules/{code}"): lambda c: (
        c.town.staff, f"/v1/communities/{_community(c)}/rules/CLEAN",
        {"name": "清洁", "points": 2, "unit": "each"}),
    ("POST", "/v1/awards"): lambda c: (
        c.town.staff, "/v1/awards",
        {"member_id": c.town.member_id, "rule_code": "GIFT", "quantity": 3}),
    ("POST", "/v1/awards/approvals"): lambda c: (
        c.town.staff, "/v1/awards/approvals", {"award_ids": [pending_award(c)]}),
    ("POST", "/v1/awards/batch"): lambda c: (
        c.town.staff, "/v1/awards/batch",
        {"rule_code": "GIFT", "member_ids": [c.town.member_id, c.other_member], "quantity": 1}),
    ("POST", "/v1/activities"): lambda c: (
        c.town.staff, "/v1/activities", activity_body(c)),
    ("POST", "/v1/activities/{activity_id}/check-ins"): lambda c: (
        c.town.staff, f"/v1/activities/{activity(c)}/check-ins",
        {"member_id": c.town.member_id}),
    ("POST", "/v1/activities/{activity_id}/check-outs"): lambda c: (
        c.town.staff, f"/v1/activities/{activity(c, checked_in=True)}/check-outs",
        {"member_id": c.town.member_id}),
    ("POST", "/v1/activities/{activity_id}/close"): lambda c: (
        c.town.staff, f"/v1/activities/{activity(c, checked_in=True)}/close", None),
    ("POST", "/v1/awards/{award_id}/approve"): lambda c: (
        c.town.staff, f"/v1/awards/{c.pending_award()}/approve", None),
    ("POST", "/v1/awards/{award_id}/reject"): lambda c: (
        c.town.staff, f"/v1/awards/{c.pending_award()}/reject", {"reason": "材料不全"}),
    ("POST", "/v1/awards/{award_id}/reverse"): lambda c: (
        c.town.staff, f"/v1/awards/{c.town.award(2)['id']}/reverse", {"reason": "重复登记"}),
    ("POST", "/v1/merchants/{merchant_id}/settlements"): lambda c: (
        c.redemption() and c.town.staff, f"/v1/merchants/{c.town.merchant_id}/settlements",
        {}),
    ("PUT", "/v1/communities/{community_id}/policy"): lambda c: (
        c.town.staff, f"/v1/communities/{_community(c)}/policy",
        {"redemption_consent": "member_id", "daily_redemption_limit_points": 500}),
    ("PATCH", "/v1/members/{member_id}"): lambda c: (
        c.town.staff, f"/v1/members/{c.other_member}", {"name": "王五一", "reason": "改名"}),
    ("PATCH", "/v1/households/{household_id}"): lambda c: (
        c.town.staff, f"/v1/households/{c.household()}", {"address": "2-202"}),
    ("PATCH", "/v1/merchants/{merchant_id}"): lambda c: (
        c.town.staff, f"/v1/merchants/{c.town.merchant_id}", {"name": "文明超市"}),
    ("PATCH", "/v1/communities/{community_id}/grids/{grid_id}"): lambda c: (
        c.town.staff, f"/v1/communities/{_community(c)}/grids/{c.grid()}", {"sort_order": 2}),
    ("DELETE", "/v1/communities/{community_id}/rules/{code}"): lambda c: (
        c.town.staff, f"/v1/communities/{_community(c)}/rules/{c.rule()}", None),
    ("POST", "/v1/members/{member_id}/opt-out"): lambda c: (
        c.town.member, f"/v1/members/{c.town.member_id}/opt-out", None),
    ("POST", "/v1/members/{member_id}/opt-in"): lambda c: (
        c.town.member, f"/v1/members/{c.town.member_id}/opt-in", None),
    ("POST", "/v1/timebank/deposits"): lambda c: (
        c.town.staff, "/v1/timebank/deposits",
        {"volunteer_id": c.town.member_id, "minutes": 30, "service_type": "助老"}),
    ("POST", "/v1/timebank/withdrawals"): lambda c: (
        c.town.staff, "/v1/timebank/withdrawals",
        {"member_id": c.town.member_id, "minutes": 10, "service_type": "助餐"}),
    ("POST", "/v1/timebank/transfers"): lambda c: (
        c.town.member, "/v1/timebank/transfers",
        {"from_member_id": c.town.member_id, "to_member_id": c.other_member, "minutes": 5}),
    ("POST", "/v1/timebank/donations"): lambda c: (
        c.town.member, "/v1/timebank/donations", {"member_id": c.town.member_id,
                                                  "minutes": 5}),
    ("POST", "/v1/timebank/allocations"): lambda c: (
        c.post("/v1/timebank/donations", {"member_id": c.town.member_id, "minutes": 20})
        and c.town.staff, "/v1/timebank/allocations",
        {"community_id": _community(c), "member_id": c.other_member, "minutes": 10,
         "reason": "独居老人"}),
    ("PUT", "/v1/communities/{community_id}/timebank/policy"): lambda c: (
        c.town.staff, f"/v1/communities/{_community(c)}/timebank/policy",
        {"storage_cap_minutes": 6000}),
    ("PUT", "/v1/communities/{community_id}/timebank/partners/{partner_id}"): lambda c: (
        c.town.staff,
        f"/v1/communities/{_community(c)}/timebank/partners/"
        f"{c.post('/v1/communities', {'name': '邻社区'})['id']}",
        {"credit_limit_minutes": 600}),
    ("POST", "/v1/members/{member_id}/relatives"): lambda c: (
        c.town.staff, f"/v1/members/{c.town.member_id}/relatives",
        {"relative_id": c.other_member, "relation": "子女"}),
    ("PUT", "/v1/members/{member_id}/birth-date"): lambda c: (
        c.town.staff, f"/v1/members/{c.town.member_id}/birth-date",
        {"birth_date": "1950-01-01"}),
    ("POST", "/v1/service-requests"): lambda c: (
        c.town.member, "/v1/service-requests",
        {"requester_id": c.town.member_id, "service_type": "助餐"}),
    ("POST", "/v1/service-requests/{request_id}/dispatch"): lambda c: (
        c.town.staff, f"/v1/service-requests/{c.order()}/dispatch",
        {"volunteer_id": c.other_member}),
    ("POST", "/v1/service-requests/{request_id}/accept"): lambda c: (
        c.town.staff, f"/v1/service-requests/{c.order('dispatch')}/accept", None),
    ("POST", "/v1/service-requests/{request_id}/complete"): lambda c: (
        c.town.staff, f"/v1/service-requests/{c.order('dispatch', 'accept')}/complete",
        {"minutes": 30}),
    ("POST", "/v1/service-requests/{request_id}/rate"): lambda c: (
        c.town.member,
        f"/v1/service-requests/{c.order('dispatch', 'accept', 'complete')}/rate",
        {"stars": 5}),
    ("POST", "/v1/service-requests/{request_id}/confirm"): lambda c: (
        c.town.staff,
        f"/v1/service-requests/{c.order('dispatch', 'accept', 'complete')}/confirm", {}),
    ("POST", "/v1/service-requests/{request_id}/dismiss"): lambda c: (
        c.town.staff,
        f"/v1/service-requests/{c.order('dispatch', 'accept', 'complete', 'rate')}/dismiss",
        {"reason": "服务未完成"}),
    ("POST", "/v1/service-requests/{request_id}/cancel"): lambda c: (
        c.town.member, f"/v1/service-requests/{c.order()}/cancel", {"reason": "不需要了"}),
    ("POST", "/v1/webhooks"): lambda c: (
        c.town.merchant, "/v1/webhooks", {"url": "http://127.0.0.1:9/hook",
                                          "events": ["redemption.created"]}),
    ("PATCH", "/v1/webhooks/{webhook_id}"): lambda c: (
        c.town.merchant, f"/v1/webhooks/{c.webhook()}", {"events": ["hold.captured"]}),
    ("DELETE", "/v1/webhooks/{webhook_id}"): lambda c: (
        c.town.merchant, f"/v1/webhooks/{c.webhook()}", None),
    ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): lambda c: (
        c.town.merchant, "/v1/webhooks/{}/deliveries/{}/redeliver".format(*c.delivery()),
        None),
    ("POST", "/v1/teams"): lambda c: (
        c.town.staff, "/v1/teams", {"community_id": c.town.community_id, "name": "小飞剪"}),
    ("POST", "/v1/teams/{team_id}/members"): lambda c: (
        c.town.staff, f"/v1/teams/{c.team()}/members", {"member_id": c.other_member}),
    ("DELETE", "/v1/teams/{team_id}/members/{member_id}"): lambda c: (
        c.town.staff, f"/v1/teams/{c.team(c.other_member)}/members/{c.other_member}", None),
    ("PUT", "/v1/communities/{community_id}/services/{code}"): lambda c: (
        c.town.staff, f"/v1/communities/{_community(c)}/services/助餐",
        {"name": "助餐", "default_minutes": 45}),
    ("PUT", "/v1/members/{member_id}/care"): lambda c: (
        c.town.staff, f"/v1/members/{c.other_member}/care",
        {"categories": ["高龄"], "observer_member_id": c.town.member_id, "visit_every_days": 7}),
    ("POST", "/v1/members/{member_id}/visits"): lambda c: (
        c.town.member, f"/v1/members/{c.cared()}/visits", {"note": "一切都好"}),
    ("POST", "/v1/wishes"): lambda c: (
        c.town.member, "/v1/wishes", {"member_id": c.town.member_id, "text": "想学用智能手机"}),
    ("POST", "/v1/wishes/{wish_id}/claim"): lambda c: (
        c.town.staff, f"/v1/wishes/{c.wish()}/claim", {"member_id": c.other_member}),
    ("POST", "/v1/wishes/{wish_id}/fulfil"): lambda c: (
        c.town.staff, f"/v1/wishes/{c.wish(claimed=True)}/fulfil", None),
    ("POST", "/v1/proposals"): lambda c: (
        c.town.member, "/v1/proposals", {"community_id": c.town.community_id,
                                         "text": "小区门口加装减速带"}),
    ("PATCH", "/v1/proposals/{proposal_id}"): lambda c: (
        c.town.staff, f"/v1/proposals/{c.proposal()}", {"status": "listed", "priority": 2}),
    ("POST", "/v1/communities/{community_id}/buildings"): lambda c: (
        c.town.staff, f"/v1/communities/{_community(c)}/buildings",
        {"name": "5栋", "grid_id": c.grid(), "leader_member_id": c.other_member}),
    ("PATCH", "/v1/communities/{community_id}/buildings/{building_id}"): lambda c: (
        c.town.staff, f"/v1/communities/{_community(c)}/buildings/{c.building()}",
        {"leader_member_id": c.other_member}),
    ("POST", "/v1/districts"): lambda c: (ADMIN, "/v1/districts", {"name": "湖滨街道"}),
    ("POST", "/v1/districts/{district_id}/communities"): lambda c: (
        ADMIN, f"/v1/districts/{c.post('/v1/districts', {'name': '湖滨街道'})['id']}"
        "/communities", {"community_id": c.town.community_id}),
    ("POST", "/v1/districts/{district_id}/agreements"): lambda c: (
        ADMIN, f"/v1/districts/{district(c)}/agreements",
        {"other_district_id": c.post("/v1/districts", {"name": "城东街道"})["id"],
         "credit_limit_minutes": 600}),
    ("POST", "/v1/districts/{district_id}/settlements"): lambda c: (
        ADMIN, f"/v1/districts/{district(c, owing=True)}/settlements", {"period": "2025-03"}),
}

# Routes whose retry cannot reach the route again: the sign-in link's token is revoked by the
# first sign-in, so its retry is 401 (nothing is issued twice).
RETRY_REFUSED = {("POST", "/v1/sign-in"): 401}
# Payment codes live in memory, never in the log: a retry gets the same code, and nothing is
# stored either time.
IN_MEMORY = {("POST", "/v1/members/{member_id}/payment-codes"),
             ("POST", "/v1/till/holder")}  # a read: nothing is stored
# Writes whose own content is their key: a file imported again answers the first import
# (tests/e2e/test_imports.py).
BY_CONTENT = {("POST", "/v1/imports")}


def write_routes(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec["paths"].items()
            if path.startswith("/v1/")
            for method in item if method in ("post", "put", "patch", "delete")}


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One running Linli per backend for the module's tests, in place of one per test: each
    test makes its own community."""
    folder = tmp_path_factory.mktemp("idempotency")
    with (backend_database(request.param, folder, "linli_t_", request) as url,
          running_linli(settings_for(url)) as linli, admin_client(linli) as client):
        yield client


def test_every_write_route_has_a_maker(client):
    routes = write_routes(client.get("/openapi.json").json())
    assert routes - WRITES.keys() - BY_CONTENT == set(), \
        "add a maker to WRITES for each new write route"


def _without_secrets(body: bytes) -> Any:
    if not body:
        return None
    parsed = json.loads(body)
    for name in SHOWN_ONCE & parsed.keys():
        parsed[name] = parsed[name].split("#token=")[0] if name == "url" else ""
    return parsed


@pytest.mark.parametrize("route", sorted(WRITES), ids=lambda r: f"{r[0]} {r[1]}")
def test_the_same_key_twice_has_one_effect_and_the_same_answer(route, client):
    linli = client.app.state.linli
    cast = Cast(client)
    headers, path, body = WRITES[route](cast)
    method, _ = route
    same = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    before = linli.app.recorder.max_notification_id() or 0

    first = client.request(method, path, json=body, headers=same)
    after_first = linli.app.recorder.max_notification_id() or 0
    second = client.request(method, path, json=body, headers=same)
    after_second = linli.app.recorder.max_notification_id() or 0

    assert 200 <= first.status_code < 300, (route, first.text)
    if route in IN_MEMORY:
        assert after_first == before
    else:
        assert after_first > before, "the first request changed nothing"
    if route in RETRY_REFUSED:
        assert second.status_code == RETRY_REFUSED[route]
    elif first.content and _without_secrets(first.content) != json.loads(first.content):
        assert second.status_code == first.status_code
        assert _without_secrets(second.content) == _without_secrets(first.content)
        assert second.content != first.content, "a secret shown once was shown again"
    else:
        assert (second.status_code, second.content) == (first.status_code, first.content)
    assert after_second == after_first, "the retry changed something"


class TestRules:
    def test_another_body_under_the_key_is_refused_and_changes_nothing(self, client):
        town = Town.standard(client)
        same = {**town.staff, "Idempotency-Key": "award-1"}
        award = {"member_id": town.member_id, "rule_code": "GIFT", "quantity": 3}
        ok(client.post("/v1/awards", headers=same, json=award), 201)

        again = client.post("/v1/awards", headers=same, json={**award, "quantity": 4})

        assert again.status_code == 422
        assert again.json()["type"].endswith("/idempotency-key-reused")
        assert town.balance()["points"] == 3

    def test_the_same_key_while_the_first_still_runs_is_409_and_changes_nothing(self, client):
        from api.idempotency import _claim
        town = Town.standard(client)
        award = {"member_id": town.member_id, "rule_code": "GIFT", "quantity": 3}
        with _claim(f"key:{_key_id(client, town.tokens['staff'])}", "award-9"):  # the first
            again = client.post("/v1/awards", json=award,
                                headers={**town.staff, "Idempotency-Key": "award-9"})
        assert again.status_code == 409
        assert again.json()["type"].endswith("/idempotency-key-in-flight")
        assert town.balance()["points"] == 0

    def test_a_key_sent_empty_or_too_long_is_refused_not_ignored(self, client):
        town = Town.standard(client)
        award = {"member_id": town.member_id, "rule_code": "GIFT", "quantity": 3}
        for sent in ("", "k" * 256):
            refused = client.post("/v1/awards", json=award,
                                  headers={**town.staff, "Idempotency-Key": sent})
            assert refused.status_code == 400, refused.text
            assert refused.json()["type"].endswith("/idempotency-key-invalid")
        assert town.balance()["points"] == 0

    def test_a_route_marked_required_answers_400_without_a_key(self, client):
        town = Town.standard(client)
        town.award(10)
        refused = client.post("/v1/redemptions", headers=town.merchant, json={
            "member_id": town.member_id, "points": 1, "description": "大米"})
        assert refused.status_code == 400
        assert refused.json()["type"].endswith("/idempotency-key-required")

    def test_the_document_requires_the_key_where_the_route_does(self, client):
        spec = client.get("/openapi.json").json()
        required = {(method.upper(), path) for path, item in spec["paths"].items()
                    for method, operation in item.items()
                    for p in operation.get("parameters", [])
                    if p["name"] == "Idempotency-Key" and p.get("required")}
        assert required == {("POST", "/v1/redemptions"),
                            ("POST", "/v1/redemptions/{redemption_id}/refunds"),
                            ("POST", "/v1/holds"), ("POST", "/v1/timebank/transfers"),
                            ("POST", "/v1/members/{member_id}/payment-codes"),
                            ("POST", "/v1/awards/batch"), ("POST", "/v1/awards/approvals"),
                            ("POST", "/v1/districts/{district_id}/settlements")}
        every = {(method.upper(), path) for path, item in spec["paths"].items()
                 for method, operation in item.items()
                 if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))}
        assert every == write_routes(spec) - BY_CONTENT - {("POST", "/v1/till/holder")}


class TestPrincipal:
    def test_a_retry_through_the_merchants_new_till_key_replays_the_first_answer(self, client):
        town = Town.standard(client)
        town.award(20)
        new_till = town.token(role="merchant", merchant_id=town.merchant_id)
        body = {"member_id": town.member_id, "points": 5, "description": "大米"}
        first = client.post("/v1/redemptions", json=body,
                            headers={**town.merchant, "Idempotency-Key": "receipt-7"})
        client.delete(f"/v1/api-keys/{_key_id(client, town.tokens['merchant'])}")
        again = client.post("/v1/redemptions", json=body,
                            headers={**new_till, "Idempotency-Key": "receipt-7"})

        assert (again.status_code, again.content) == (first.status_code, first.content)
        assert town.balance()["points"] == 15

    def test_a_members_keys_share_its_keys_and_staff_keys_do_not(self, client):
        town = Town.standard(client)
        phone = town.token(role="member", member_id=town.member_id)
        body = {"requester_id": town.member_id, "service_type": "助餐"}
        first = client.post("/v1/service-requests", json=body,
                            headers={**town.member, "Idempotency-Key": "order-1"})
        again = client.post("/v1/service-requests", json=body,
                            headers={**phone, "Idempotency-Key": "order-1"})
        assert again.content == first.content

        other_staff = town.token(role="staff", community_id=town.community_id)
        by_staff = [client.post("/v1/service-requests", json=body,
                                headers={**who, "Idempotency-Key": "order-2"})
                    for who in (town.staff, other_staff)]
        assert by_staff[0].json()["id"] != by_staff[1].json()["id"]


def _key_id(client: Any, token: str) -> str:
    from ledger.commands.access import hash_token
    from ledger.ids import api_key_id
    return str(api_key_id(hash_token(token)))
