"""What the tests of consent at the till share: a community with a chosen consent policy, a
code made for a member, paying and holding by any way of naming the member, the merchant's
statement, a check that nothing moved, and the app's clock moved by hand."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.scenario import Town, key, ok

PROBLEM_JSON = "application/problem+json"
CODE = re.compile(r"[0-9]{18}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Clock:
    """The app's clock (`linli.clock`), moved by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def hand_clock(linli: Any) -> Clock:
    """Give the app a clock moved by hand, starting at the real time (to the second)."""
    moved = Clock(datetime.now(UTC).replace(microsecond=0))
    linli.clock = moved
    return moved




def problem(response: Any) -> tuple[int, str]:
    """(status, slug) of a problem+json answer."""
    assert response.headers["content-type"].startswith(PROBLEM_JSON), (
        response.status_code, response.text)
    return response.status_code, str(response.json()["type"]).rsplit("/", 1)[-1]


def in_chinese(response: Any) -> bool:
    body = response.json()
    return bool(CHINESE.search(body["title"])) and bool(CHINESE.search(body["detail"]))


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def set_consent(town: Town, consent: str | None) -> dict[str, Any]:
    """Replace the community's policy: points never expire, `redemption_consent` as given
    (left out when None); the policy answered."""
    body: dict[str, Any] = {"points_expiry": "never", "n": 0}
    if consent is not None:
        body["redemption_consent"] = consent
    policy: dict[str, Any] = ok(town.client.put(
        f"/v1/communities/{town.community_id}/policy", json=body))
    return policy


def community(client: Any, consent: str = "payment_code", points: int = 0,
              member: str = "张三明") -> Town:
    """A community asking for `consent` at its tills, with the usual cast (member, merchant,
    a key each for staff, merchant, member and auditor), its member holding `points`."""
    town = Town.found(client, f"社区{uuid.uuid4().hex[:8]}")
    set_consent(town, consent)
    town.cast(member)
    if points:
        town.award(points)
    return town


def issue(town: Town, headers: dict[str, str] | None = None, member_id: str | None = None,
          idempotency: dict[str, str] | None = None) -> Any:
    """Ask for a payment code for a member (the cast's), by the member's own token unless
    `headers` say otherwise ({} is the client's admin token); the response."""
    return town.client.post(
        f"/v1/members/{member_id or town.member_id}/payment-codes",
        headers={**(town.member if headers is None else headers), **(idempotency or key())},
        json={})


def code_of(town: Town, headers: dict[str, str] | None = None,
            member_id: str | None = None) -> str:
    """A fresh payment code for a member (the cast's)."""
    return str(ok(issue(town, headers, member_id), 201)["code"])


def pay(town: Town, points: int, merchant: dict[str, str] | None = None,
        idempotency: dict[str, str] | None = None, **naming: Any) -> Any:
    """A redemption at a till (the cast's merchant), naming the member by `naming`
    (payment_code=…, member_id=…, or passbook_no=… and pin=…); the response."""
    return town.client.post("/v1/redemptions", headers={
        **(merchant or town.merchant), **(idempotency or key())},
        json={**naming, "points": points, "description": "大米"})


def hold(town: Town, points: int, merchant: dict[str, str] | None = None,
         **naming: Any) -> Any:
    """A hold at a till (the cast's merchant) naming the member by `naming`; the response."""
    return town.client.post("/v1/holds", headers={**(merchant or town.merchant), **key()},
                            json={**naming, "points": points, "expires_in_seconds": 600})


def statement(town: Town, merchant_id: str | None = None) -> dict[str, Any]:
    """A merchant's statement (the cast's), read by staff."""
    body: dict[str, Any] = ok(town.client.get(
        f"/v1/merchants/{merchant_id or town.merchant_id}/statement", headers=town.staff))
    return body


def assert_untouched(town: Town, points: int, member_id: str | None = None) -> None:
    """The member still holds `points`, none held, and the cast's merchant took nothing."""
    balance = town.balance(member_id)
    assert (balance["points"], balance["points_held"], balance["points_available"]) == (
        points, 0, points)
    taken = statement(town)
    assert taken["items"] == []
    assert taken["totals"]["redeemed"] == 0


def all_events(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every event `GET /v1/events` gives these headers, page after page."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = ok(client.get("/v1/events", headers=headers,
                             params={"after": after, "limit": 500}))
        events += page["items"]
        if page["next_after"] == after:
            return events
        after = page["next_after"]


# --- the community's policy -----------------------------------------------------------------
