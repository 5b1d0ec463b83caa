"""Webhooks through the real app, delivered to a real local HTTP receiver: every kind once and
in log order, signed; a receiver down for a while gets everything afterwards; one that keeps
failing is disabled with the reason; a restart loses nothing and sends nothing twice to a
receiver that acknowledged. Backoff is short here (`settings`), and an answer may take 2 s
before it counts as lost (a loaded machine must not turn an acknowledgement into a retry)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import open_linli
from ledger.settings import Settings
from ledger.webhook_urls import check_webhook_url
from projections import webhook_store as store
from projections.expiry_reminders import remind_expiring
from projections.webhook_sender import WebhookSender
from tests.conftest import ADMIN_TOKEN
from tests.receiver import receiving, until
from tests.scenario import Town, key, ok, problem_type

ALL_KINDS = ["redemption.created", "redemption.refunded", "hold.captured", "hold.voided",
             "hold.expired", "settlement.created", "award.posted", "award.reversed",
             "points.expiring", "service_request.dispatched", "service_request.completed",
             "service_request.rated"]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN, projection_worker="thread",
                    projection_poll_seconds=0.02, projection_gather_seconds=0,
                    sweep_interval_seconds=0, seal_interval_seconds=0,
                    rate_limit_per_second=1_000_000, rate_limit_burst=1_000_000,
                    auth_failure_burst=1_000_000, webhook_allow_private=True,
                    webhook_poll_seconds=0.02, webhook_timeout_seconds=2.0,
                    webhook_retry_first_seconds=0.05, webhook_retry_max_seconds=0.2,
                    reminder_interval_seconds=0)


def subscribe(client: Any, headers: dict[str, str], url: str, kinds: list[str],
              **extra: Any) -> dict[str, Any]:
    made: dict[str, Any] = ok(client.post("/v1/webhooks", headers={**headers, **key()},
                                          json={"url": url, "events": kinds, **extra}), 201)
    return made


def deliveries(client: Any, headers: dict[str, str], webhook_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(client.get(f"/v1/webhooks/{webhook_id}/deliveries",
                                                headers=headers))["items"]
    return found


def act(client: Any, town: Town, linli: Any) -> None:
    """One event of every kind (`EXPECTED` in log order)."""
    award = town.award(50)  # award.posted
    redemption = ok(town.redeem(10), 201)  # redemption.created
    ok(client.post(f"/v1/redemptions/{redemption['id']}/refunds",
                   headers={**town.merchant, **key()}, json={"points": 4}), 201)
    placed = ok(client.post("/v1/holds", headers={**town.merchant, **key()}, json={
        "member_id": town.member_id, "points": 5}), 201)
    ok(client.post(f"/v1/holds/{placed['id']}/capture", headers=town.merchant))
    voided = ok(client.post("/v1/holds", headers={**town.merchant, **key()}, json={
        "member_id": town.member_id, "points": 5}), 201)
    ok(client.post(f"/v1/holds/{voided['id']}/void", headers=town.merchant))
    expiring = ok(client.post("/v1/holds", headers={**town.merchant, **key()}, json={
        "member_id": town.member_id, "points": 5, "expires_in_seconds": 30}), 201)
    linli.clock = lambda: datetime.now(UTC) + timedelta(seconds=31)
    linli.read_your_writes()
    assert linli.sweeper.run_once()[0] == 1
    assert ok(client.get(f"/v1/holds/{expiring['id']}", headers=town.merchant))["status"] \
        == "expired"
    linli.clock = lambda: datetime.now(UTC)
    ok(client.post(f"/v1/merchants/{town.merchant_id}/settlements", headers=town.staff,
                   json={}), 201)
    ok(client.post(f"/v1/awards/{award['id']}/reverse", json={"reason": "重复登记",
                                                                "points": 10}))
    order = ok(client.post("/v1/service-requests", json={
        "requester_id": town.member_id, "service_type": "助老", "description": "陪同就医"}), 201)
    volunteer = town.add_member("志愿者小李")
    path = f"/v1/service-requests/{order['id']}"
    ok(client.post(f"{path}/dispatch", json={"volunteer_id": volunteer}))
    ok(client.post(f"{path}/accept"))
    ok(client.post(f"{path}/complete", json={"minutes": 60}))
    ok(client.post(f"{path}/rate", json={"stars": 5}))
    linli.read_your_writes()
    assert remind_expiring(linli.engine, datetime.now(UTC), 40) == 1  # points.expiring


EXPECTED = ["award.posted", "redemption.created", "redemption.refunded", "hold.captured",
            "redemption.created", "hold.voided", "hold.expired", "settlement.created",
            "award.reversed", "service_request.dispatched", "service_request.completed",
            "service_request.rated", "points.expiring"]
MERCHANTS = [k for k in EXPECTED if k.split(".")[0] in ("redemption", "hold", "settlement")]


def test_every_kind_once_in_order_signed_then_a_receiver_down_for_a_while_gets_the_rest(
        client, linli):
    town = Town.standard(client)
    ok(client.put(f"/v1/communities/{town.community_id}/policy", headers=town.staff, json={
        "points_expiry": "months_after_earning", "n": 1, "redemption_consent": "member_id"}))
    with receiving() as community_hook, receiving() as till_hook:
        community = subscribe(client, town.staff, community_hook.url, ALL_KINDS)
        till = subscribe(client, town.merchant, till_hook.url,
                         ["redemption.created", "redemption.refunded", "hold.captured",
                          "hold.voided", "hold.expired", "settlement.created"],
                         secret="till-secret-0123456789")
        assert till["secret"] == "till-secret-0123456789" and community["secret"]

        act(client, town, linli)

        got = community_hook.wait_for(lambda e: len(e) >= len(EXPECTED))
        assert [e["type"] for e in got] == EXPECTED
        assert [e["type"] for e in till_hook.wait_for(lambda e: len(e) >= len(MERCHANTS))] \
            == MERCHANTS
        positions = [e["position"] for e in got[:-1]]
        assert positions == sorted(set(positions))
        assert {e["community_id"] for e in got} == {town.community_id}
        assert got[1]["data"]["points"] == 10 and got[1]["merchant_id"] == town.merchant_id
        assert community_hook.all_signed_by(community["secret"])
        assert till_hook.all_signed_by("till-secret-0123456789")
        assert not community_hook.all_signed_by("another-secret-000000")
        notices = ok(client.get(f"/v1/communities/{town.community_id}/notices",
                                headers=town.staff))["items"]
        assert {n["kind"] for n in notices} == {"service_request.dispatched", "points.expiring"}

        # The till's receiver answers 500 for a while: its deliveries wait, in order
        till_hook.mode = "fail"
        for _ in range(3):
            ok(town.redeem(1), 201)
        until(lambda: till_hook.refused >= 2)
        log = deliveries(client, town.merchant, till["id"])
        assert log[-1]["status"] == "pending" or any(
            d["response_code"] == 500 and d["attempts"] >= 1 for d in log)
        till_hook.mode = "ok"
        after = till_hook.wait_for(lambda e: len(e) >= len(MERCHANTS) + 3)
        assert [e["type"] for e in after[len(MERCHANTS):]] == ["redemption.created"] * 3
        log = until(lambda: (found := deliveries(client, town.merchant, till["id"]))
                    and {d["status"] for d in found} == {"delivered"} and found)
        assert log[2]["response_code"] == 200 and log[2]["attempts"] >= 2  # newest first

        # Redelivery on request: the same event, once more
        first = log[-1]
        answer = client.post(f"/v1/webhooks/{till['id']}/deliveries/{first['id']}/redeliver",
                             headers=town.merchant)
        assert answer.status_code == 202, answer.text
        again = till_hook.wait_for(lambda e: len(e) >= len(MERCHANTS) + 4)
        assert again[-1]["id"] == first["event_id"]

        # A rebuild remakes the subscriptions, and sends nothing again
        count = len(community_hook.events())
        linli.projections.rebuild(["webhooks"])
        linli.projections.catch_up()
        assert ok(client.get(f"/v1/webhooks/{community['id']}",
                             headers=town.staff))["events"] == sorted(ALL_KINDS)
        assert len(deliveries(client, town.staff, community["id"])) == count

        # Another merchant sees nothing of the till's subscription
        other = town.add_merchant("另一家超市")
        other_key = town.token(role="merchant", merchant_id=other)
        assert client.get(f"/v1/webhooks/{till['id']}", headers=other_key).status_code == 404
        assert client.get(f"/v1/webhooks/{till['id']}/deliveries",
                          headers=other_key).status_code == 404
        assert client.delete(f"/v1/webhooks/{till['id']}", headers=other_key).status_code == 404
        assert ok(client.get("/v1/webhooks", headers=other_key))["items"] == []
        assert [w["id"] for w in ok(client.get("/v1/webhooks", headers=town.merchant))["items"]] \
            == [till["id"]]


def test_bad_urls_are_refused_and_a_receiver_that_keeps_failing_is_disabled(client, linli):
    town = Town.standard(client)
    town.award(20)
    for url in ("ftp://example.com/x", "javascript:alert(1)", "http://testserver/v1/hook"):
        refused = client.post("/v1/webhooks", headers=town.staff,
                              json={"url": url, "events": ["award.posted"]})
        assert (refused.status_code, problem_type(refused)) == (422, "webhook-url-refused")
    allowed, linli.settings = linli.settings, linli.settings.model_copy(
        update={"webhook_allow_private": False})  # as a deployment runs by default
    try:
        for url in ("http://127.0.0.1:9/", "http://10.0.0.8/hook", "http://localhost:8000/"):
            refused = client.post("/v1/webhooks", headers=town.merchant,
                                  json={"url": url, "events": ["redemption.created"]})
            assert (refused.status_code, problem_type(refused)) == (422, "webhook-url-refused")
            assert "地址" in refused.json()["detail"]
    finally:
        linli.settings = allowed
    unknown = client.post("/v1/webhooks", headers=town.staff,
                          json={"url": "https://example.com/", "events": ["everything"]})
    assert unknown.status_code == 422
    for url in ("http://127.0.0.1:9/", "http://localhost/", "http://10.1.2.3/",
                "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data",
                "http://[::1]/", "http://[fe80::1]/", "http://0.0.0.0/"):
        with pytest.raises(Exception) as refused_url:
            check_webhook_url(url, allow_private=False)
        assert getattr(refused_url.value, "slug", "") == "webhook-url-refused", url
    assert check_webhook_url("https://93.184.216.34/hook", allow_private=False)

    with receiving() as hook:
        hook.mode = "hang"
        hook.hang_seconds = 0.5  # past the sender's 0.3 s timeout
        linli.webhooks.settings = linli.settings.model_copy(
            update={"webhook_give_up_seconds": 0.6, "webhook_timeout_seconds": 0.3})
        made = subscribe(client, town.staff, hook.url, ["award.posted"])
        started = time.monotonic()
        town.award(1)
        town.award(2)
        assert time.monotonic() - started < 2  # the write path does not wait on the receiver

        shown = until(lambda: (w := ok(client.get(f"/v1/webhooks/{made['id']}",
                                                  headers=town.staff)))["status"] == "disabled"
                      and w)
        assert "已自动停用" in shown["disabled_reason"]
        log = deliveries(client, town.staff, made["id"])
        assert [d["status"] for d in log] == ["pending", "failed"]
        assert log[1]["attempts"] >= 2 and log[1]["error"]
        blocked = client.post(f"/v1/webhooks/{made['id']}/deliveries/{log[1]['id']}/redeliver",
                              headers=town.staff)
        assert (blocked.status_code, problem_type(blocked)) == (409, "webhook-disabled")

        # Taken up again, the receiver (now well) gets what waited, then the failed one
        hook.mode = "ok"
        linli.webhooks.settings = linli.settings
        ok(client.patch(f"/v1/webhooks/{made['id']}", headers=town.staff,
                        json={"status": "active"}))
        assert [e["data"]["points"] for e in hook.wait_for(lambda e: len(e) >= 1)] == [2]
        ok(client.post(f"/v1/webhooks/{made['id']}/deliveries/{log[1]['id']}/redeliver",
                       headers=town.staff), 202)
        assert [e["data"]["points"] for e in hook.wait_for(lambda e: len(e) >= 2)] == [2, 1]


def test_a_subscription_taken_up_before_the_sender_saw_it_disabled_gets_what_waited(
        client, linli):
    town = Town.standard(client)
    linli.webhooks.gate = lambda: False  # the running sender idles; this one passes by hand
    sender = WebhookSender(linli.engine, linli.settings.model_copy(
        update={"webhook_give_up_seconds": 0.001}), lambda: datetime.now(UTC))
    with receiving() as hook:
        hook.mode = "fail"
        made = subscribe(client, town.staff, hook.url, ["award.posted"])
        town.award(1)
        town.award(2)
        linli.read_your_writes()
        # The first fails for longer than allowed (tried again until that shows): given up
        until(lambda: sender.run_once() * 0 or store.giving_up(linli.engine, made["id"]))
        until(lambda: ok(client.get(f"/v1/webhooks/{made['id']}",
                                    headers=town.staff))["status"] == "disabled")

        # Taken up again before the sender passed by: it sends what waited
        hook.mode = "ok"
        ok(client.patch(f"/v1/webhooks/{made['id']}", headers=town.staff,
                        json={"status": "active"}))
        linli.read_your_writes()
        sender.settings = linli.settings
        got = until(lambda: sender.run_once() * 0 or hook.events())
        assert [e["data"]["points"] for e in got] == [2]


def test_a_restart_loses_nothing_and_sends_nothing_twice(settings: Settings, tmp_path: Path):
    with receiving() as hook:
        hook.pause_seconds = 0.01  # still delivering when the server stops
        first = open_linli(settings)
        first.start()
        with TestClient(create_app(linli=first)) as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
            town = Town.standard(client)
            subscribe(client, town.staff, hook.url, ["award.posted"])
            for points in range(1, 31):
                town.award(points)
            until(lambda: len(hook.events()) >= 3)
        first.close()
        sent_before_restart = len(hook.events())

        # As `linli serve` runs it: the projections, and the sender, in a process of their own
        second = open_linli(settings.model_copy(update={"projection_worker": "process"}))
        second.start()
        try:
            with TestClient(create_app(linli=second)) as client:
                client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
                client.headers.update(town.staff)
                for points in range(31, 41):
                    town.client = client
                    town.award(points)
                events = hook.wait_for(lambda e: len(e) >= 40)
        finally:
            second.close()
    assert sent_before_restart < 40
    assert [e["data"]["points"] for e in events] == list(range(1, 41))
    assert len({e["id"] for e in events}) == 40
