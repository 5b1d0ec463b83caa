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
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, func, select

from ledger import ids
from ledger.application import LedgerApp
from ledger.chain import stored_hashes
from ledger.domain.assets import Asset, PostingKind
from projections.tables import registry_members, service_deposits

CODE_DIGITS = 20
DOMAIN = b"linli/certificate/v1\x00"


def verification_code(number: str, head_hash: bytes) -> str:
    digest = hashlib.sha256(DOMAIN + number.encode() + head_hash).hexdigest()[:CODE_DIGITS]
    return "-".join(digest[i:i + 4] for i in range(0, CODE_DIGITS, 4)).upper()


@dataclass(frozen=True)
class Line:
    day: date  # in the community's time zone
    minutes: int
    description: str


@dataclass(frozen=True)
class Certificate:
    number: str  # the serial number: <passbook_no>-<version>
    code: str  # the verification code of the number
    member_id: UUID
    name: str
    passbook_no: str
    community: str
    time_zone: str
    minutes_earned: int
    service_minutes: int  # of the service lines: deposits for service and activities
    lines: list[Line]
    as_of: datetime | None  # the instant of the account's version, in the community's zone

    @property
    def full_code(self) -> str:
        """What a verifier types or scans: the serial number and its code."""
        return f"{self.number}-{self.code}"


def _member_by_passbook(engine: Engine, passbook_no: str) -> tuple[UUID, str] | None:
    with engine.connect() as conn:
        row = conn.execute(select(registry_members.c.member_id, registry_members.c.name)
                           .where(registry_members.c.passbook_no == passbook_no)).first()
    return (UUID(row.member_id), row.name) if row else None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def _occurred(posting: Any) -> datetime:
    occurred = getattr(posting, "occurred_at", None)
    return datetime.fromisoformat(occurred) if occurred else posting.timestamp


def issue(app: LedgerApp, member: Any, community: Any,
          version: int | None = None) -> Certificate | None:
    """The certificate of a member's service at `version` of the member's minutes account
    (default: now): only deposits for service and activities, dated in the community's time
    zone; None when there is no such version or no service to certify."""
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
    service = [p for p in postings if p.kind == PostingKind.DEPOSIT.value and p.amount > 0]
    if not service:
        return None
    zone = _zone(getattr(community, "time_zone", "Asia/Shanghai"))
    lines = sorted((Line(_occurred(p).astimezone(zone).date(), p.amount, p.description)
                    for p in service), key=lambda line: line.day)
    return Certificate(
        number=number, code=verification_code(number, head_hash), member_id=member.id,
        name=member.name, passbook_no=member.passbook_no, community=community.name,
        time_zone=zone.key, minutes_earned=postings[-1].earned_after if postings else 0,
        service_minutes=sum(line.minutes for line in lines), lines=lines,
        as_of=head.timestamp.astimezone(zone),
    )


def parse_code(text: str) -> tuple[str, str] | None:
    """The serial number and verification code in what a verifier typed or scanned (with or
    without dashes or spaces, in either case); None when it cannot be one."""
    plain = "".join(c for c in text if c.isalnum()).upper()
    passbook, version, code = plain[:10], plain[10:-CODE_DIGITS], plain[-CODE_DIGITS:]
    if (not passbook.isdigit() or len(passbook) != 10 or not version.isdigit()
            or not all(c in "0123456789ABCDEF" for c in code) or len(code) != CODE_DIGITS):
        return None
    number = f"{passbook[:4]}-{passbook[4:]}-{int(version)}"
    return number, "-".join(code[i:i + 4] for i in range(0, CODE_DIGITS, 4))


def ratings(engine: Engine, member_id: UUID) -> tuple[int, float | None]:
    """How many of the member's services were rated, and their mean stars."""
    with engine.connect() as conn:
        row = conn.execute(select(func.count(service_deposits.c.stars),
                                  func.avg(service_deposits.c.stars))
                           .where(service_deposits.c.volunteer_id == str(member_id),
                                  service_deposits.c.stars.is_not(None))).one()
    return int(row[0]), (float(row[1]) if row[1] is not None else None)


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
