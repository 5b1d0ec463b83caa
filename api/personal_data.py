"""Everything Linli holds about one person (个人信息查阅), in Chinese, section by section:
what the right of access gives them, as JSON and as a printable page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, or_, select

from api.access_log import reads_of
from ledger import ids
from ledger.domain.assets import Asset
from ledger.domain.registry import Community, Household, Member
from projections.queries import account_balance
from projections.registry_view import grid_names
from projections.tables import api_keys, member_pins, passbook_lines, service_orders
from web import printing

STATUS_WORDS = {"active": "在册", "moved_out": "已迁出", "deceased": "已去世"}
ROLE_WORDS = {"admin": "管理员", "staff": "社区工作人员", "merchant": "商户", "auditor": "审计",
              "district_staff": "街道工作人员", "district_auditor": "街道审计", "member": "本人"}
READS_SHOWN = 200


class Item(BaseModel):
    label: str
    value: str


class Section(BaseModel):
    title: str
    items: list[Item]


class PersonalDataOut(BaseModel):
    member_id: UUID
    erased: bool = Field(description="the member's personal data was erased (已注销)")
    generated_at: datetime
    sections: list[Section] = Field(description="everything held, in Chinese, by section")


@dataclass
class _Sections:
    sections: list[Section] = field(default_factory=list)

    def add(self, title: str, items: Sequence[tuple[str, object]]) -> None:
        self.sections.append(Section(title=title, items=[
            Item(label=label, value="" if value is None else str(value))
            for label, value in items]))


def personal_data(engine: Engine, member: Member, community: Community,
                  household: Household | None, now: datetime) -> PersonalDataOut:
    """The sections of what is held about `member`."""
    member_id = str(member.id)
    out = _Sections()
    grids = grid_names(engine, str(community.id))
    out.add("基本信息", [
        ("姓名", member.name), ("积分存折号", member.passbook_no), ("所在社区", community.name),
        ("网格", grids.get(str(member.grid_id), "") if member.grid_id else "未分网格"),
        ("住址", household.address if household is not None else "未登记住户"),
        ("出生日期", member.born_on or "未登记"),
        ("状态", STATUS_WORDS.get(member.status, member.status)),
        ("公示（公益达人榜）", "不参与公示" if member.opted_out else "参与公示（姓名脱敏）"),
        ("个人信息", "已注销：姓名、住址、出生日期已无法读取" if member.erased
         else "保存中（加密存储）"),
    ])
    relatives = [(relation, f"居民 {relative_id}") for relative_id, relation in member.relatives]
    out.add("亲属", relatives or [("登记的亲属", "无")])
    with engine.connect() as conn:
        pin_set = conn.execute(select(member_pins.c.set_at)
                               .where(member_pins.c.member_id == member_id)).scalar()
        keys = conn.execute(select(func.count()).select_from(api_keys).where(
            api_keys.c.member_id == member_id, api_keys.c.revoked.is_(False))).scalar() or 0
        accounts = [str(ids.account_id(member.id, asset.value)) for asset in Asset]
        lines = conn.execute(select(func.count()).select_from(passbook_lines).where(
            passbook_lines.c.account_id.in_(accounts))).scalar() or 0
        orders = conn.execute(select(func.count()).select_from(service_orders).where(or_(
            service_orders.c.requester_id == member_id,
            service_orders.c.volunteer_id == member_id))).scalar() or 0
    out.add("登录与密码", [
        ("支付密码", f"已设置（{_day(pin_set)}；只保存不可逆的散列）" if pin_set else "未设置"),
        ("有效的登录凭证（手机）", keys),
    ])
    points = account_balance(engine, member.id, Asset.POINTS)
    minutes = account_balance(engine, member.id, Asset.MINUTES)
    out.add("积分与时长", [
        ("积分余额", points.balance), ("预扣中的积分", points.held),
        ("累计获得积分", points.earned), ("时间银行余额（分钟）", minutes.balance),
        ("存折记录条数", lines), ("志愿服务单（申请或承接）", orders),
    ])
    reads, _ = reads_of(engine, member_id=member_id, communities=None, limit=READS_SHOWN,
                        before=None)
    out.add("谁查阅过我的个人信息", [
        (f"{_moment(r['read_at'])} {ROLE_WORDS.get(r['actor_role'], r['actor_role'])}",
         f"{r['what']}（{r['route']}）") for r in reads] or [("查阅记录", "无")])
    out.add("说明", [
        ("存放方式", "姓名、住址、出生日期在账本中按人单独加密；积分、时长等账目不含个人信息"),
        ("删除", "可向社区申请注销个人信息：密钥销毁后无法恢复，"
                 "积分记录保留并显示为「已注销居民」"),
    ])
    return PersonalDataOut(member_id=member.id, erased=member.erased, generated_at=now,
                           sections=out.sections)


def personal_data_html(found: PersonalDataOut, passbook_no: str) -> str:
    """The same, print-ready (A4)."""
    e = printing.e
    parts = []
    for section in found.sections:
        rows = "".join(f"<tr><th>{e(i.label)}</th><td>{e(i.value)}</td></tr>"
                       for i in section.items)
        parts.append(f"<h2>{e(section.title)}</h2><table class=\"kv\">{rows}</table>")
    body = (f"<h1>个人信息查阅结果</h1><div class=\"meta\"><span>积分存折号：{e(passbook_no)}"
            f"</span><span>生成时间：{e(_moment(found.generated_at))}</span></div>"
            + "".join(parts))
    return printing.document(f"个人信息查阅 {passbook_no}", body)


def _day(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime) else str(value)


def _moment(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)
