"""Who does something: every event records an actor and the role it acted in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from uuid import UUID

from ledger.errors import NotFound


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    MERCHANT = "merchant"
    MEMBER = "member"
    AUDITOR = "auditor"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """The principal behind a command, with the scope its grant is limited to.

    Events record `id` and `role`; the scope fields let commands refuse, atomically with
    their own reads, a resource outside the grant (reported as not found: never its data).
    """

    id: str
    role: Role
    community_id: UUID | None = None
    merchant_id: UUID | None = None
    member_id: UUID | None = None
    expires_at: datetime | None = None  # a sign-in link's grant ends then

    @cached_property
    def role_value(self) -> str:
        """The role as events record it: a plain str, made once (an enum's `.value` is a
        call each time)."""
        return str(self.role.value)

    @cached_property
    def principal(self) -> str:
        """Whom the actor's Idempotency-Keys belong to: its merchant (any of its keys, so a
        till's retry through a new key replays the first answer), its member, or the key
        itself (staff, auditors, admins)."""
        if self.role is Role.MERCHANT and self.merchant_id is not None:
            return f"merchant:{self.merchant_id}"
        if self.role is Role.MEMBER and self.member_id is not None:
            return f"member:{self.member_id}"
        return self.id

    @classmethod
    def system(cls) -> Actor:
        return cls(id="linli", role=Role.SYSTEM)

    # Each refusal names the resource asked for ("<kind> <id> was not found"), its text made
    # only when it is refused.
    def check_community(self, community_id: UUID, kind: str, resource_id: object) -> None:
        if self.community_id is not None and self.community_id != community_id:
            raise NotFound("not-found", thing=kind)

    def check_merchant(self, merchant_id: UUID, kind: str, resource_id: object) -> None:
        if self.merchant_id is not None and self.merchant_id != merchant_id:
            raise NotFound("not-found", thing=kind)

    def check_member(self, member_id: UUID, kind: str, resource_id: object) -> None:
        if self.member_id is not None and self.member_id != member_id:
            raise NotFound("not-found", thing=kind)
