"""A demo community modelled on 116社区 (青山区钢花村街道): grids, households, residents, a
rulebook of the actions the seeds name, merchants including a 文明积分超市, and some history;
and its district (钢花村街道) with two neighbouring communities whose residents are served at
each other's counters (通存通兑), last month's net settlement among them."""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from ledger.actor import Actor, Role
from ledger.commands import access, districts, points, registry, service_orders, timebank
from ledger.domain.districts import month_key
from ledger.domain.policy import TimeBankPolicy
from ledger.errors import DomainError
from ledger.payment_codes import PaymentCodeBook
from ledger.write.writer import Writer

RULES = [
    # code, name, points, unit, daily cap, monthly cap, requires approval
    ("VOLUNTEER", "志愿服务", 10, "hour", 40, None, False),
    ("MEDIATION", "纠纷调解", 20, "each", None, 100, True),
    ("PERFORMANCE", "文化展演", 15, "each", None, None, False),
    ("SORTING", "垃圾分类", 2, "each", 2, 40, False),
    ("PATROL", "治安巡逻", 8, "hour", 24, None, False),
    ("PROPOSAL", "建言献策", 10, "each", None, 50, True),
    ("GARDEN", "最美花园", 30, "each", None, 30, True),
    ("ELDER_CARE", "敬老助老", 12, "hour", 48, None, False),
    ("REPAIR", "义务维修", 15, "each", None, None, False),
    ("BLOOD", "无偿献血", 100, "each", None, 100, True),
]
GRIDS = [f"第{n}网格" for n in "一二三四五六七八九十"] + ["第十一网格", "第十二网格", "第十三网格"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "秀英", "桂兰", "新平", "志强", "丽华", "德明", "淑珍", "海燕", "国庆",
         "玉兰", "文斌", "春梅", "卫东", "晓红", "长青"]
MERCHANTS = ["116文明积分超市", "钢花便民理发店", "邻里社区食堂", "惠民修鞋铺"]
SERVICES = ["助餐", "陪诊", "理发", "助浴", "读报聊天", "代购"]
REWARDS = [("大米5斤", 50), ("食用油1桶", 80), ("挂面2把", 20), ("洗衣粉", 30), ("理发一次", 40)]


@dataclass
class DemoSummary:
    community_id: UUID
    members: int
    households: int
    tokens: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"demo community 116社区: {self.community_id}",
               f"{self.households} households, {self.members} residents"]
        out += [f"{name}: {value}" for name, value in self.tokens.items()]
        return out


def build_demo(writer: Writer, *, now: datetime, seed: int = 116,
               households: int = 40) -> DemoSummary:
    """Register the demo community and a few weeks of history through the normal commands."""
    rng = random.Random(seed)
    staff = Actor("demo:staff", Role.STAFF)
    codes = PaymentCodeBook(timedelta(minutes=1))  # the tills take points by payment code
    community_id = writer.execute(registry.register_community("116社区", staff)).id
    grid_ids = [writer.execute(registry.add_grid(community_id, g, staff)).id for g in GRIDS]
    for code, name, per_unit, unit, daily, monthly, approval in RULES:
        writer.execute(registry.put_rule(community_id, code, name=name, points=per_unit,
                                         unit=unit, daily_cap=daily, monthly_cap=monthly,
                                         requires_approval=approval, by=staff))
    merchant_ids = [writer.execute(registry.register_merchant(community_id, m, staff)).id
                    for m in MERCHANTS]
    member_ids: list[UUID] = []
    for n in range(households):
        grid_id = grid_ids[n % len(grid_ids)]
        address = f"116小区{n // 8 + 1}栋{n % 4 + 1}单元{(n % 6 + 1) * 100 + n % 3 + 1}室"
        household_id = writer.execute(
            registry.register_household(community_id, grid_id, address, staff)).id
        surname = SURNAMES[n % len(SURNAMES)]
        for _ in range(rng.randint(1, 3)):
            name = surname + rng.choice(GIVEN)
            member_ids.append(writer.execute(
                registry.register_member(community_id, name, household_id, None, staff)).id)

    for day in range(28, 0, -1):
        when = now - timedelta(days=day, hours=rng.randint(0, 8))
        for member_id in rng.sample(member_ids, k=min(len(member_ids), 12)):
            code, _name, _pts, unit, *_ = rng.choice(RULES)
            try:
                result = writer.execute(points.award(
                    member_id, code, quantity=None if unit == "hour" else 1,
                    minutes=rng.choice([60, 90, 120]) if unit == "hour" else None,
                    occurred_at=when, note="", now=now, by=staff))
                if result.status == "pending" and rng.random() < 0.8:
                    writer.execute(points.approve_award(result.id, staff))
            except DomainError:
                pass  # a cap reached: the rulebook at work
        for member_id in rng.sample(member_ids, k=3):
            merchant_id = rng.choice(merchant_ids)
            item, cost = rng.choice(REWARDS)
            till = Actor(f"demo:till:{merchant_id}", Role.MERCHANT, community_id, merchant_id)
            shown = codes.make(member_id, community_id, when, staff.id)  # the resident's phone
            with contextlib.suppress(DomainError):  # not enough points yet
                writer.execute(points.redeem(merchant_id, member_id, cost, item, till, now=when,
                                             consent=shown.consent))

    _time_bank(writer, community_id, member_ids, rng, now, staff)
    summary = DemoSummary(community_id, len(member_ids), households)
    admin = Actor("demo:admin", Role.ADMIN)
    for label, role, scope in [
        ("staff token", Role.STAFF, {"community_id": community_id}),
        ("auditor token", Role.AUDITOR, {"community_id": community_id}),
        ("merchant token (文明积分超市)", Role.MERCHANT, {"merchant_id": merchant_ids[0]}),
        ("member token", Role.MEMBER, {"member_id": member_ids[0]}),
    ]:
        issued = writer.execute(access.issue_api_key(
            role, community_id=scope.get("community_id"),
            merchant_id=scope.get("merchant_id"), member_id=scope.get("member_id"),
            label=f"demo {label}", by=admin))
        summary.tokens[label] = issued.token
    summary.tokens["member id"] = str(member_ids[0])
    district_id = _district(writer, community_id, rng, now, admin)
    for label, role in [("district staff token", Role.DISTRICT_STAFF),
                        ("district auditor token", Role.DISTRICT_AUDITOR)]:
        summary.tokens[label] = writer.execute(access.issue_api_key(
            role, community_id=None, merchant_id=None, member_id=None,
            label=f"demo {label}", by=admin, district_id=district_id)).token
    summary.tokens["district id (钢花村街道)"] = str(district_id)
    return summary


NEIGHBOURS = ["钢花新村社区", "红钢城社区"]


def _district(writer: Writer, community_id: UUID, rng: random.Random, now: datetime,
              admin: Actor) -> UUID:
    """钢花村街道: 116社区 and two neighbours, each with volunteers who banked hours and elders
    who spend them at the other communities' counters, last month and this; last month is
    settled."""
    district_id = writer.execute(districts.register_district("钢花村街道", admin)).id
    writer.execute(districts.add_community(district_id, community_id, admin))
    communities = [community_id]
    residents: dict[UUID, list[UUID]] = {}
    for name in NEIGHBOURS:
        neighbour = writer.execute(registry.register_community(name, admin)).id
        writer.execute(districts.add_community(district_id, neighbour, admin))
        staff = Actor(f"demo:staff:{name}", Role.STAFF, community_id=neighbour)
        members = [writer.execute(registry.register_member(
            neighbour, rng.choice(SURNAMES) + rng.choice(GIVEN), None, None, staff)).id
            for _ in range(12)]
        for member in members:
            writer.execute(timebank.deposit(
                member, None, rng.choice([120, 180, 240]), rng.choice(SERVICES),
                now - timedelta(days=rng.randint(35, 60)), None, staff, now))
        communities.append(neighbour)
        residents[neighbour] = members
    for when in (now - timedelta(days=31), now):
        for home, members in residents.items():
            for member in rng.sample(members, k=4):
                serving = rng.choice([c for c in communities if c != home])
                counter = Actor(f"demo:counter:{serving}", Role.STAFF, community_id=serving)
                with contextlib.suppress(DomainError):  # not enough minutes left
                    writer.execute(timebank.withdraw(member, rng.choice([30, 45, 60]),
                                                     rng.choice(SERVICES), None, None,
                                                     counter, when))
    with contextlib.suppress(DomainError):  # nothing owed last month
        writer.execute(districts.settle(district_id, month_key(now - timedelta(days=31)),
                                        admin, now))
    return district_id


def _time_bank(writer: Writer, community_id: UUID, member_ids: list[UUID], rng: random.Random,
               now: datetime, staff: Actor) -> None:
    """Volunteers bank hours through service orders at every stage; elders spend some."""
    writer.execute(timebank.set_policy(community_id, TimeBankPolicy(
        storage_cap_minutes=1_500 * 60, withdraw_min_age=60, service_rule_code="ELDER_CARE"),
        staff))
    volunteers, elders = member_ids[: len(member_ids) // 3], member_ids[-8:]
    for elder in elders:
        writer.execute(timebank.record_birth_date(
            elder, now.date().replace(year=now.year - rng.randint(62, 88)), staff, now))
    stages = ["requested", "dispatched", "accepted", "completed", "rated", "rated", "rated"]
    for n in range(24):
        elder, volunteer = rng.choice(elders), rng.choice(volunteers)
        order = writer.execute(service_orders.request(
            elder, rng.choice(SERVICES), "", rng.choice([60, 90, 120]), staff, now)).id
        steps = [service_orders.dispatch(order, volunteer, staff, now),
                 service_orders.accept(order, staff, now),
                 service_orders.complete(order, rng.choice([45, 60, 90, 120]), staff, now),
                 service_orders.rate(order, rng.choice([4, 5, 5, 3]), "", staff, now)]
        for step in steps[: stages.index(stages[n % len(stages)])]:
            writer.execute(step)
    for volunteer in rng.sample(volunteers, k=6):  # some give hours to the pool (公益池)
        with contextlib.suppress(DomainError):  # not enough minutes banked
            writer.execute(timebank.donate(volunteer, 30, staff))
    for elder in elders[:3]:  # staff allocate them to elders, who spend them on care
        with contextlib.suppress(DomainError):  # the pool ran dry
            writer.execute(timebank.allocate(community_id, elder, 40, "困难老人", staff))
            writer.execute(timebank.withdraw(elder, 30, "助浴", None, None, staff, now))
