"""Volunteer service certificates (志愿服务记录证明), checkable against the hash chain.

A certificate is issued from a member's MINUTES account as it stands at one version of that
stream. Its number is `<passbook_no>-<version>`; its verification code is the first 20 hex
digits of SHA-256(b"linli/certificate/v1" 0x00 | number (UTF-8) | the stored hash of that
version of the account), so the code can be checked by anyone who can read the chain, and no
code can be made for a history that is not the stored one.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, select

from ledger import ids
from ledger.application import LedgerApp
from ledger.chain import stored_hashes
from ledger.domain.assets import Asset
from projections.tables import registry_members

CODE_DIGITS = 20
DOMAIN = b"linli/certificate/v1\x00"


def verification_code(number: str, head_hash: bytes) -> str:
    digest = hashlib.sha256(DOMAIN + number.encode() + head_hash).hexdigest()[:CODE_DIGITS]
    return "-".join(digest[i:i + 4] for i in range(0, CODE_DIGITS, 4)).upper()


@dataclass(frozen=True)
class Line:
    at: datetime
    kind: str
    minutes: int
    description: str


@dataclass(frozen=True)
class Certificate:
    number: str
    code: str
    member_id: UUID
    name: str
    passbook_no: str
    community: str
    minutes_earned: int
    lines: list[Line]
    as_of: datetime | None


def _member_by_passbook(engine: Engine, passbook_no: str) -> tuple[UUID, str] | None:
    with engine.connect() as conn:
        row = conn.execute(select(registry_members.c.member_id, registry_members.c.name)
                           .where(registry_members.c.passbook_no == passbook_no)).first()
    return (UUID(row.member_id), row.name) if row else None


def issue(app: LedgerApp, member: Any, community_name: str,
          version: int | None = None) -> Certificate | None:
    """The certificate of a member's minutes at `version` of the account (default: now);
    None when the member has no minutes account or no such version."""
    account_id = ids.account_id(member.id, Asset.MINUTES.value)
    events = list(app.events.get(account_id, lte=version))
    if not events or (version is not None and events[-1].originator_version != version):
        return None
    head: Any = events[-1]
    number = f"{member.passbook_no}-{head.originator_version}"
    found = stored_hashes(app.recorder, [(account_id, head.originator_version)])
    head_hash = found.get((account_id, head.originator_version))
    if head_hash is None:
        return None
    postings: list[Any] = [e for e in events if hasattr(e, "amount")]
    if not postings:
        return None
    return Certificate(
        number=number, code=verification_code(number, head_hash), member_id=member.id,
        name=member.name, passbook_no=member.passbook_no, community=community_name,
        minutes_earned=postings[-1].earned_after,
        lines=[Line(p.timestamp, p.kind, p.amount, p.description) for p in postings],
        as_of=head.timestamp,
    )


def check(app: LedgerApp, engine: Engine, number: str, code: str) -> tuple[bool, Any]:
    """Whether `code` is the code of certificate `number`, and the member it names."""
    passbook_no, _, version_text = number.rpartition("-")
    if not version_text.isdigit() or not passbook_no:
        return False, None
    found = _member_by_passbook(engine, passbook_no)
    if found is None:
        return False, None
    member_id, _ = found
    account_id = ids.account_id(member_id, Asset.MINUTES.value)
    version = int(version_text)
    head_hash = stored_hashes(app.recorder, [(account_id, version)]).get((account_id, version))
    if head_hash is None:
        return False, None
    expected = verification_code(number, head_hash)
    given = code.strip().upper().replace(" ", "")
    return hmac.compare_digest(given.encode(), expected.encode()), member_id


def render_html(certificate: Certificate, issuer: str) -> str:
    """A printable page (A4), Chinese first, with the number and the verification code."""
    e = html.escape
    hours, minutes = divmod(certificate.minutes_earned, 60)
    rows = "\n".join(
        f"<tr><td>{e(line.at.date().isoformat())}</td><td>{e(line.kind)}</td>"
        f"<td class=n>{line.minutes}</td><td>{e(line.description)}</td></tr>"
        for line in certificate.lines)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>志愿服务记录证明 {e(certificate.number)}</title>
<style>
@page {{ size: A4; margin: 20mm; }}
body {{ font-family: "Noto Serif CJK SC", "Songti SC", serif; max-width: 170mm; margin: auto; }}
h1 {{ text-align: center; letter-spacing: .3em; }}
table {{ width: 100%; border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #444; padding: 4px 6px; font-size: 11pt; }}
.n {{ text-align: right; }} .code {{ font-family: monospace; font-size: 13pt; }}
footer {{ margin-top: 2em; font-size: 10pt; color: #333; }}
</style></head><body>
<h1>志愿服务记录证明</h1>
<p>证明编号 No. <b>{e(certificate.number)}</b></p>
<p>兹证明 <b>{e(certificate.name)}</b>（积分存折号 {e(certificate.passbook_no)}）在
{e(certificate.community)} 参加志愿服务，时间银行累计记录服务时长
<b>{hours} 小时 {minutes} 分钟</b>（{certificate.minutes_earned} 分钟）。</p>
<table><tr><th>日期</th><th>类别</th><th>分钟</th><th>说明</th></tr>
{rows}
</table>
<p>出具单位：{e(issuer)}</p>
<p>记录截至：{e(certificate.as_of.isoformat() if certificate.as_of else "")}</p>
<footer>验证码 Verification code: <span class=code>{e(certificate.code)}</span><br>
The code is derived from the hash chain of this member's time-bank account; check it at
<code>GET /v1/certificates/{e(certificate.number)}/verify?code=…</code>.</footer>
</body></html>
"""
