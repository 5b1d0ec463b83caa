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
    DISTRICT_STAFF = "district_staff"  # a key's role; its actor acts as staff of the district
    DISTRICT_AUDITOR = "district_auditor"  # a key's role; its actor audits the district


DISTRICT_ROLES = {Role.DISTRICT_STAFF: Role.STAFF, Role.DISTRICT_AUDITOR: Role.AUDITOR}


@dataclass(frozen=True)
class Actor:
    """The principal behind a command, with the scope its grant is limited to.

    Events record `id` and `role`; the scope fields let commands refuse, atomically with
    their own reads, a resource outside the grant (reported as not found: never its data).
    A district's staff (or auditor) acts as `STAFF` (or `AUDITOR`) over `communities`, the
    district's communities when its key was read; events record its role as `district_staff`.
    """

    id: str
    role: Role
    community_id: UUID | None = None
    merchant_id: UUID | None = None
    member_id: UUID | None = None
    expires_at: datetime | None = None  # a sign-in link's grant ends then
    district_id: UUID | None = None
    communities: frozenset[UUID] | None = None  # a district's scope

    @cached_property
    def role_value(self) -> str:
        """The role as events record it: a plain str, made once (an enum's `.value` is a
        call each time)."""
        if self.district_id is not None:
            return f"district_{self.role.value}"
        return str(self.role.value)

    @property
    def scoped(self) -> bool:
        """Whether the actor's grant is limited to one community or one district's."""
        return self.community_id is not None or self.communities is not None

    def in_scope(self, community_id: UUID) -> bool:
        """Whether `community_id` is within the actor's grant."""
        if self.community_id is not None:
            return self.community_id == community_id
        return self.communities is None or community_id in self.communities

    def scope_ids(self) -> list[str] | None:
        """The communities of the grant as text (None: every community)."""
        if self.community_id is not None:
            return [str(self.community_id)]
        if self.communities is not None:
            return sorted(str(c) for c in self.communities)
        return None

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
        if self.communities is not None and community_id not in self.communities:
            raise NotFound("not-found", thing=kind)

    def check_merchant(self, merchant_id: UUID, kind: str, resource_id: object) -> None:
        if self.merchant_id is not None and self.merchant_id != merchant_id:
            raise NotFound("not-found", thing=kind)

    def check_member(self, member_id: UUID, kind: str, resource_id: object) -> None:
        if self.member_id is not None and self.member_id != member_id:
            raise NotFound("not-found", thing=kind)
