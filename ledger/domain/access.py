"""API keys: a role and a scope, stored only as the hash of the token."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.domain.base import LedgerAggregate


class ApiKey(LedgerAggregate):
    """A bearer token's grant. The id derives from the token's hash, so a lookup is one read.

    A sign-in link's key (`sign_in_link`) works until `expires_at`, or until it is traded for
    the phone's own key; other keys do not expire.
    """

    # Class defaults: keys stored before these existed neither expire nor came from a link.
    expires_at: datetime | None = None
    sign_in_link: bool = False
    district_id: UUID | None = None

    @staticmethod
    def create_id(token_hash: str) -> UUID:
        return ids.api_key_id(token_hash)

    @event("Issued")
    def __init__(
        self,
        token_hash: str,
        role: str,
        community_id: UUID | None,
        merchant_id: UUID | None,
        member_id: UUID | None,
        label: str,
        actor_id: str,
        actor_role: str,
        expires_at: datetime | None = None,
        sign_in_link: bool = False,
        district_id: UUID | None = None,
    ) -> None:
        self.token_hash = token_hash
        self.role = role
        self.community_id = community_id
        self.merchant_id = merchant_id
        self.member_id = member_id
        self.label = label
        self.revoked = False
        self.expires_at = expires_at
        self.sign_in_link = sign_in_link
        self.district_id = district_id

    def works_at(self, now: datetime) -> bool:
        """Whether the key is neither revoked nor expired at `now`."""
        return not self.revoked and (self.expires_at is None or now < self.expires_at)

    def revoke(self, actor_id: str, actor_role: str) -> None:
        if not self.revoked:
            self._revoked(actor_id=actor_id, actor_role=actor_role)

    @event("Revoked")
    def _revoked(self, actor_id: str, actor_role: str) -> None:
        self.revoked = True
