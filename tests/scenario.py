"""One scenario builder for tests: a community with its grids, households, members, merchant and
keys, built through the HTTP API.

It talks to any client with `.get`, `.post` and `.put` that sends the admin token by default:
FastAPI's `TestClient` in process, or an `httpx.Client` against a served `linli serve`. A test
composes what it needs: `Town.found(client)` for a bare community with the `GIFT` rule, then
`add_grid`, `add_household`, `add_member`, `add_merchant`, `add_rule`, `cast`; or
`Town.standard(client)` for the usual cast (a member, a merchant, and a key for staff, merchant,
member and auditor).

`CommandTown` builds the same community in process, through the writer and the commands, for
the tests of the commands themselves: actors instead of keys, and commands a test can submit in
groups (`award_command`, `redeem_command`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from sqlalchemy import select

from api.bootstrap import Linli
from ledger import ids
from ledger.actor import Actor, Role
from ledger.commands import merchants
from ledger.commands import points as pts
from ledger.commands import registry as reg
from ledger.domain.assets import Asset, OwnerKind
from ledger.domain.consent import ConsentPolicy
from ledger.domain.policy import PointsPolicy
from projections.queries import AccountBalance, account_balance, asset_totals
from projections.runner import ProjectionRunner
from projections.tables import balances
from projections.verify import verify

T = TypeVar("T")
Command = Callable[[Any], T]  # a command: what the writer runs with its unit of work


class Client(Protocol):
    """What the builder needs of an HTTP client (`TestClient` or `httpx.Client`)."""

    def get(self, url: str, **kwargs: Any) -> Any: ...

    def post(self, url: str, **kwargs: Any) -> Any: ...

    def put(self, url: str, **kwargs: Any) -> Any: ...


def ok(response: Any, status: int = 200) -> Any:
    """Assert the response's status and return its JSON body."""
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


def problem_type(response: Any) -> str:
    """The slug of a problem response (the last segment of its `type`)."""
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["type"]).rsplit("/", 1)[-1]


def auth(token: str) -> dict[str, str]:
    """Headers that send `token` as a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def key() -> dict[str, str]:
    """Headers with a fresh Idempotency-Key."""
    return {"Idempotency-Key": uuid.uuid4().hex}


def at(text: str) -> str:
    """An ISO date-time read as UTC, written with its offset."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()


@dataclass(frozen=True)
class Rule:
    """An earning rule of a community's rulebook."""

    name: str
    points: int
    unit: str = "each"
    requires_approval: bool = False


GIFT = Rule("志愿服务", 1)
ROLES = ("staff", "merchant", "member", "auditor")


@dataclass
class Town:
    """A community built through the API, with short-hands for what tests do in it.

    `member_id`, `merchant_id`, `household_id`, `grid_id` and `tokens` name the cast once
    `cast` has added it; `staff`, `merchant`, `member` and `auditor` are its keys as headers.
    """

    client: Client
    community_id: str
    names: dict[str, str] = field(default_factory=dict)  # member id -> name
    passbooks: dict[str, str] = field(default_factory=dict)  # member id -> passbook number
    member_id: str = ""
    merchant_id: str = ""
    household_id: str | None = None
    grid_id: str | None = None
    tokens: dict[str, str] = field(default_factory=dict)  # role -> the cast's raw token

    # --- building ---------------------------------------------------------------------------
    @classmethod
    def found(cls, client: Client, name: str = "湖滨社区", *,
              rules: dict[str, Rule] | None = None, consent: str = "member_id",
              **extra: Any) -> Town:
        """Register a community (with `extra` fields) and its rules (`GIFT` by default). Its
        tills name members by id (`consent`, v1's way) unless told `payment_code`."""
        community = ok(client.post("/v1/communities", json={"name": name, **extra}), 201)
        town = cls(client, community["id"])
        if consent != "payment_code":
            ok(client.put(f"/v1/communities/{town.community_id}/policy",
                          json={"redemption_consent": consent}))
        for code, rule in (rules if rules is not None else {"GIFT": GIFT}).items():
            town.add_rule(code, rule.points, rule.unit, name=rule.name,
                          requires_approval=rule.requires_approval)
        return town

    @classmethod
    def standard(cls, client: Client, name: str = "116社区", *,
                 consent: str = "member_id") -> Town:
        """A community with the `GIFT` rule (1 point each), a member 张三, a merchant
        文明积分超市, and a key for staff, merchant, member and auditor."""
        return cls.found(client, name, consent=consent).cast()

    def add_rule(self, code: str, points: int, unit: str = "each", *, name: str = "志愿服务",
                 daily_cap: int | None = None, monthly_cap: int | None = None,
                 requires_approval: bool = False) -> None:
        """Put a rule in the community's rulebook."""
        body: dict[str, Any] = {"name": name, "points": points, "unit": unit}
        for field_name, value in (("daily_cap", daily_cap), ("monthly_cap", monthly_cap),
                                  ("requires_approval", requires_approval)):
            if value:
                body[field_name] = value
        ok(self.client.put(f"/v1/communities/{self.community_id}/rules/{code}", json=body))

    def add_grid(self, name: str) -> str:
        """Register a grid; its id."""
        return str(ok(self.client.post(f"/v1/communities/{self.community_id}/grids",
                                       json={"name": name}), 201)["id"])

    def add_household(self, address: str, grid_id: str | None = None) -> str:
        """Register a household; its id."""
        return str(ok(self.client.post("/v1/households", json={
            "community_id": self.community_id, "address": address, "grid_id": grid_id}),
            201)["id"])

    def add_member(self, name: str = "李四", household_id: str | None = None,
                   grid_id: str | None = None) -> str:
        """Register a member (as the cast's staff, once there is one); its id."""
        body: dict[str, Any] = {"community_id": self.community_id, "name": name}
        if household_id is not None:
            body["household_id"] = household_id
        if grid_id is not None:
            body["grid_id"] = grid_id
        member = ok(self.client.post("/v1/members", headers=self._by(), json=body), 201)
        self.names[member["id"]] = name
        self.passbooks[member["id"]] = member["passbook_no"]
        return str(member["id"])

    def add_merchant(self, name: str = "文明积分超市") -> str:
        """Register a merchant; its id."""
        return str(ok(self.client.post("/v1/merchants", json={
            "community_id": self.community_id, "name": name}), 201)["id"])

    def issue_token(self, **grant: Any) -> str:
        """Issue an API key for `grant` (role and whose); its raw token."""
        return str(ok(self.client.post("/v1/api-keys", json=grant), 201)["token"])

    def token(self, **grant: Any) -> dict[str, str]:
        """Issue an API key for `grant`; headers that send it."""
        return auth(self.issue_token(**grant))

    def cast(self, member: str = "张三", *, household_id: str | None = None,
             grid_id: str | None = None, merchant: str = "文明积分超市",
             roles: Iterable[str] = ROLES) -> Town:
        """Add a member, a merchant, and a key for each of `roles` about them."""
        self.household_id, self.grid_id = household_id, grid_id
        self.member_id = self.add_member(member, household_id, grid_id)
        self.merchant_id = self.add_merchant(merchant)
        grants = {"staff": {"community_id": self.community_id},
                  "merchant": {"merchant_id": self.merchant_id},
                  "member": {"member_id": self.member_id},
                  "auditor": {"community_id": self.community_id}}
        for role in roles:
            self.tokens[role] = self.issue_token(role=role, **grants[role])
        return self

    # --- the cast's keys --------------------------------------------------------------------
    @property
    def staff(self) -> dict[str, str]:
        return auth(self.tokens["staff"])

    @property
    def merchant(self) -> dict[str, str]:
        return auth(self.tokens["merchant"])

    @property
    def member(self) -> dict[str, str]:
        return auth(self.tokens["member"])

    @property
    def auditor(self) -> dict[str, str]:
        return auth(self.tokens["auditor"])

    @property
    def passbook_no(self) -> str:
        return self.passbooks[self.member_id]

    def _by(self) -> dict[str, str]:
        """The cast's staff key, or nothing (the client's admin token) before the cast."""
        return self.staff if "staff" in self.tokens else {}

    # --- acting -----------------------------------------------------------------------------
    def award(self, quantity: int = 0, member_id: str | None = None, *, code: str = "GIFT",
              minutes: int | None = None, when: str | None = None) -> dict[str, Any]:
        """Award `quantity` (or `minutes`) of rule `code` to a member (the cast's by default),
        occurred `when` (UTC, see `at`); the award."""
        body: dict[str, Any] = {"member_id": member_id or self.member_id, "rule_code": code}
        if minutes is not None:
            body["minutes"] = minutes
        else:
            body["quantity"] = quantity
        if when is not None:
            body["occurred_at"] = at(when)
        award: dict[str, Any] = ok(self.client.post("/v1/awards", headers=self._by(),
                                                    json=body), 201)
        return award

    def reverse(self, award_id: str) -> None:
        ok(self.client.post(f"/v1/awards/{award_id}/reverse", json={"reason": "重复登记"}))

    def redeem(self, points: int, member_id: str | None = None, **extra: Any) -> Any:
        """Redeem `points` at the cast's merchant, with a fresh key; the response. The member
        is named by id (the cast's by default) unless `extra` names them another way."""
        named = ({} if {"payment_code", "passbook_no"} & extra.keys()
                 else {"member_id": member_id or self.member_id})
        return self.client.post("/v1/redemptions", headers={**self.merchant, **key()}, json={
            **named, "points": points, "description": "大米", **extra})

    def payment_code(self, member_id: str | None = None, headers: dict[str, str] | None = None
                     ) -> str:
        """A fresh payment code of a member (the cast's by default), made by its own token
        (or by `headers`)."""
        made = ok(self.client.post(
            f"/v1/members/{member_id or self.member_id}/payment-codes",
            headers={**(headers if headers is not None else self.member), **key()}), 201)
        return str(made["code"])

    # --- reading ----------------------------------------------------------------------------
    def balance(self, member_id: str | None = None) -> dict[str, Any]:
        """A member's balance (the cast's by default), read by staff."""
        balance: dict[str, Any] = ok(self.client.get(
            f"/v1/members/{member_id or self.member_id}/balance", headers=self.staff))
        return balance

    def board(self, headers: dict[str, str] | None = None, **params: Any) -> list[tuple[Any, ...]]:
        """(rank, name, earned) of each line of the leaderboard."""
        body = ok(self.client.get("/v1/leaderboards", headers=headers or {},
                                  params={"community_id": self.community_id, **params}))
        return [(i["rank"], i["name"], i["earned"]) for i in body["items"]]

    def names_on(self, **params: Any) -> list[tuple[str, int]]:
        return [(name, earned) for _, name, earned in self.board(**params)]


# --- in process --------------------------------------------------------------------------------
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # 02:00 on 24 November in Shanghai
ADMIN = Actor(id="admin-tests", role=Role.ADMIN)


@dataclass
class CommandTown:
    """A community on a running Linli, built through the writer, with an actor for each role
    and short-hand commands."""

    linli: Linli
    community_id: UUID
    staff: Actor
    auditor: Actor
    tills: dict[UUID, Actor] = field(default_factory=dict)  # merchant id -> its till

    @classmethod
    def found(cls, linli: Linli, time_zone: str = "Asia/Shanghai") -> CommandTown:
        """Register a community with a unique name, whose tills name members by id; its
        staff and auditor actors."""
        name = f"社区-{uuid.uuid4().hex[:8]}"
        community = linli.writer.execute(reg.register_community(name, ADMIN, time_zone))
        cid = community.id
        linli.writer.execute(merchants.set_policy(
            cid, PointsPolicy(redemption_consent=ConsentPolicy.MEMBER_ID), ADMIN))
        return cls(linli, cid, staff=Actor(f"staff-{name}", Role.STAFF, community_id=cid),
                   auditor=Actor(f"auditor-{name}", Role.AUDITOR, community_id=cid))

    def run(self, command: Command[T]) -> T:
        return self.linli.writer.execute(command)

    # --- building ---------------------------------------------------------------------------
    def add_rule(self, code: str, points: int, unit: str = "each", *, name: str = "志愿服务",
                 daily_cap: int | None = None, monthly_cap: int | None = None,
                 requires_approval: bool = False) -> dict[str, Any]:
        return self.run(reg.put_rule(
            self.community_id, code, name=name, points=points, unit=unit, daily_cap=daily_cap,
            monthly_cap=monthly_cap, requires_approval=requires_approval, by=self.staff))

    def add_member(self, name: str = "张三") -> UUID:
        return self.run(reg.register_member(self.community_id, name, None, None, self.staff)).id

    def add_merchant(self, name: str = "文明积分超市") -> UUID:
        """Register a merchant and give it a till actor."""
        merchant_id = self.run(reg.register_merchant(self.community_id, name, self.staff)).id
        self.tills[merchant_id] = Actor(f"till-{merchant_id}", Role.MERCHANT,
                                        community_id=self.community_id, merchant_id=merchant_id)
        return merchant_id

    # --- points -----------------------------------------------------------------------------
    def award_command(self, member_id: UUID, code: str, *, quantity: int | None = None,
                      minutes: int | None = None, occurred_at: datetime | None = None,
                      now: datetime = NOW) -> Command[pts.AwardResult]:
        return pts.award(member_id, code, quantity=quantity, minutes=minutes,
                         occurred_at=occurred_at, note="", now=now, by=self.staff)

    def award(self, member_id: UUID, code: str, **kwargs: Any) -> pts.AwardResult:
        return self.run(self.award_command(member_id, code, **kwargs))

    def approve(self, award_id: UUID) -> pts.AwardResult:
        return self.run(pts.approve_award(award_id, self.staff))

    def reject(self, award_id: UUID, reason: str = "材料不全") -> pts.AwardResult:
        return self.run(pts.reject_award(award_id, reason, self.staff))

    def reverse(self, award_id: UUID, reason: str = "重复登记") -> pts.AwardResult:
        return self.run(pts.reverse_award(award_id, reason, self.staff))

    def redeem_command(self, merchant_id: UUID, member_id: UUID,
                       points: int) -> Command[pts.Movement]:
        return pts.redeem(merchant_id, member_id, points, "大米", self.tills[merchant_id],
                          now=NOW)

    def redeem(self, merchant_id: UUID, member_id: UUID, points: int) -> pts.Movement:
        return self.run(self.redeem_command(merchant_id, member_id, points))

    def refund(self, merchant_id: UUID, redemption_id: UUID, points: int) -> pts.Movement:
        return self.run(pts.refund(redemption_id, points, self.tills[merchant_id], now=NOW))

    def adjust(self, owner_id: UUID, kind: OwnerKind, amount: int) -> pts.Movement:
        return self.run(pts.adjust(owner_id, kind, Asset.POINTS, amount, "审计调整",
                                   self.auditor))

    # --- reading ----------------------------------------------------------------------------
    def settle(self) -> None:
        """Bring the views up to date and check every invariant verify knows."""
        assert isinstance(self.linli.projections, ProjectionRunner)  # the thread worker
        self.linli.projections.catch_up()
        report = verify(self.linli.app, self.linli.engine)
        assert report.ok, report.problems
        assert set(asset_totals(self.linli.engine).values()) <= {0}

    def points(self, owner_id: UUID) -> AccountBalance:
        return account_balance(self.linli.engine, owner_id, Asset.POINTS)

    def balance(self, owner_id: UUID) -> int:
        return self.points(owner_id).balance

    def system_balance(self, purpose: str) -> int:
        name = ids.system_account(self.community_id, Asset.POINTS.value, purpose)
        with self.linli.engine.connect() as conn:
            value = conn.execute(select(balances.c.balance)
                                 .where(balances.c.account_id == name)).scalar()
        return int(value or 0)


def funded(town: CommandTown, points: int, code: str = "GIFT") -> UUID:
    """A new member holding `points`, awarded through a 1-point rule."""
    town.add_rule(code, 1)
    member_id = town.add_member()
    town.award(member_id, code, quantity=points)
    return member_id
