"""A sandbox for a merchant's developer: a community of its own, a resident holding points
whose phone makes payment codes, and the developer's own merchant key, in one command
(`linli demo --sandbox`). Each run makes a new one, so developers never share one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledger.actor import Actor, Role
from ledger.commands import access, points, registry
from ledger.write.writer import Writer

POINTS_PER_AWARD = 100
AWARDS = 10  # the resident starts with 1,000 points


@dataclass(frozen=True)
class Sandbox:
    community_id: UUID
    community_name: str
    member_id: UUID
    merchant_id: UUID
    merchant_token: str
    member_token: str
    staff_token: str

    def lines(self, base_url: str = "http://127.0.0.1:8000") -> list[str]:
        """What to print: the ids, the keys, and the payment-code flow to try with curl."""
        points_held = POINTS_PER_AWARD * AWARDS
        return [
            f"sandbox community {self.community_name}: {self.community_id}",
            f"member 沙箱居民: {self.member_id} ({points_held} points)",
            f"merchant 沙箱商户: {self.merchant_id}",
            f"merchant token (yours, for the till): {self.merchant_token}",
            f"member token (the resident's phone, makes payment codes): {self.member_token}",
            f"staff token (the community's staff): {self.staff_token}",
            "",
            "# with `linli serve` running: the resident shows a payment code, the till takes it",
            f"CODE=$(curl -s -X POST {base_url}/v1/members/{self.member_id}/payment-codes "
            f"-H 'Authorization: Bearer {self.member_token}' -H \"Idempotency-Key: $RANDOM$RANDOM\""
            " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"code\"])')",
            f"curl -s {base_url}/v1/redemptions -H 'Authorization: Bearer {self.merchant_token}' "
            "-H 'Content-Type: application/json' -H 'Idempotency-Key: till-1-receipt-0001' "
            "-d \"{\\\"payment_code\\\":\\\"$CODE\\\",\\\"points\\\":15,"
            "\\\"description\\\":\\\"大米5斤\\\"}\"",
            "# webhooks to your system: POST /v1/webhooks with the merchant token "
            "(docs/webhooks.md); a Python till: docs/examples/till.py",
        ]


def build_sandbox(writer: Writer, *, now: datetime) -> Sandbox:
    """Register the sandbox through the normal commands."""
    staff = Actor("sandbox:staff", Role.STAFF)
    admin = Actor("sandbox:admin", Role.ADMIN)
    name = f"沙箱社区-{secrets.token_hex(3)}"
    community_id = writer.execute(registry.register_community(name, staff)).id
    writer.execute(registry.put_rule(community_id, "SANDBOX", name="沙箱积分",
                                     points=POINTS_PER_AWARD, unit="each", daily_cap=None,
                                     monthly_cap=None, requires_approval=False, by=staff))
    member_id = writer.execute(registry.register_member(community_id, "沙箱居民", None, None,
                                                        staff)).id
    merchant_id = writer.execute(registry.register_merchant(community_id, "沙箱商户", staff)).id
    for _ in range(AWARDS):
        writer.execute(points.award(member_id, "SANDBOX", quantity=1, minutes=None,
                                    occurred_at=now, note="沙箱", now=now, by=staff))

    def token(role: Role, **scope: UUID) -> str:
        issued = writer.execute(access.issue_api_key(
            role, community_id=scope.get("community_id"), merchant_id=scope.get("merchant_id"),
            member_id=scope.get("member_id"), label=f"sandbox {role.value}", by=admin))
        return issued.token

    return Sandbox(community_id, name, member_id, merchant_id,
                   merchant_token=token(Role.MERCHANT, merchant_id=merchant_id),
                   member_token=token(Role.MEMBER, member_id=member_id),
                   staff_token=token(Role.STAFF, community_id=community_id))
