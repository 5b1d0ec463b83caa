"""Issuing and revoking API keys. Tokens are shown once and stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from ledger.actor import DISTRICT_ROLES, Actor, Role
from ledger.domain.access import ApiKey
from ledger.domain.districts import District
from ledger.domain.registry import Community, Member, Merchant
from ledger.errors import (
    InvalidRequest,
    KeyExpiryInPast,
    KeyNotRevocable,
    NotASignInLink,
    NotFound,
    SignInLinkSpent,
)
from ledger.write.unit_of_work import UnitOfWork

TOKEN_PREFIX = "lnl_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    id: UUID
    token: str
    role: Role
    community_id: UUID | None
    merchant_id: UUID | None
    member_id: UUID | None
    label: str
    expires_at: datetime | None = None
    district_id: UUID | None = None


def issue_api_key(
    role: Role,
    *,
    community_id: UUID | None,
    merchant_id: UUID | None,
    member_id: UUID | None,
    label: str,
    by: Actor,
    expires_at: datetime | None = None,
    now: datetime | None = None,
    district_id: UUID | None = None,
) -> Callable[[UnitOfWork], IssuedKey]:
    """A new key; with `expires_at` it stops working then (a past instant is refused). A
    district's keys (`district_staff`, `district_auditor`) name the district; only an admin
    issues them."""

    def command(uow: UnitOfWork) -> IssuedKey:
        if expires_at is not None and now is not None and expires_at <= now:
            raise KeyExpiryInPast("key-expiry-past", at=expires_at.isoformat())
        community, merchant, member = community_id, merchant_id, member_id
        if role is Role.MERCHANT:
            if merchant is None:
                raise InvalidRequest("key-needs-merchant")
            community = uow.get(Merchant, merchant).community_id
        elif role is Role.MEMBER:
            if member is None:
                raise InvalidRequest("key-needs-member")
            community = uow.get(Member, member).community_id
        elif role is Role.STAFF:
            if community is None:
                raise InvalidRequest("key-needs-community")
            uow.get(Community, community)
        elif role is Role.AUDITOR and community is not None:
            uow.get(Community, community)
        elif role is Role.SYSTEM:
            raise InvalidRequest("key-system-role")
        district = district_id if role in DISTRICT_ROLES else None
        if role in DISTRICT_ROLES:
            if district is None:
                raise InvalidRequest("key-needs-district")
            if by.role is not Role.ADMIN:
                raise NotFound("not-found", thing="district")
            uow.get(District, district)
            community = None
        if role not in (Role.MERCHANT,):
            merchant = None
        if role not in (Role.MEMBER,):
            member = None
        if role is Role.ADMIN:
            community = None
        if by.scoped and (community is None or not by.in_scope(community)):
            raise NotFound("not-found", thing="community")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(token_hash=hash_token(token), role=role.value, community_id=community,
                     merchant_id=merchant, member_id=member, label=label, actor_id=by.id,
                     actor_role=by.role_value, expires_at=expires_at, district_id=district)
        uow.add(key)
        return IssuedKey(key.id, token, role, community, merchant, member, label, expires_at,
                         district)

    return command


def revoke_api_key(key_id: UUID, by: Actor) -> Callable[[UnitOfWork], None]:
    def command(uow: UnitOfWork) -> None:
        key = uow.get(ApiKey, key_id)
        if by.scoped and (key.community_id is None or not by.in_scope(key.community_id)):
            raise NotFound("not-found", thing="api key")
        if by.role is Role.STAFF and key.role not in (Role.MEMBER.value, Role.MERCHANT.value):
            raise KeyNotRevocable("key-not-revocable", role=key.role)
        key.revoke(by.id, by.role_value)

    return command


@dataclass(frozen=True)
class SignInLink:
    """A fresh member key for a sign-in link, shown once."""

    key_id: UUID
    token: str
    member_id: UUID
    expires_at: datetime


def make_sign_in_link(member_id: UUID, by: Actor, now: datetime,
                      lifetime: timedelta) -> Callable[[UnitOfWork], SignInLink]:
    """A new member key for a sign-in link; the keys of the member's earlier links (and those
    traded for them) are revoked in the same transaction."""

    def command(uow: UnitOfWork) -> SignInLink:
        member = uow.get(Member, member_id)
        by.check_community(member.community_id, "member", member_id)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = now + lifetime
        key = ApiKey(token_hash=hash_token(token), role=Role.MEMBER.value,
                     community_id=member.community_id, merchant_id=None, member_id=member_id,
                     label="登录链接", actor_id=by.id, actor_role=by.role_value,
                     expires_at=expires_at, sign_in_link=True)
        for earlier in member.sign_in_link_made(key.id, by):
            earlier_key = uow.find(ApiKey, UUID(earlier))
            if earlier_key is not None:
                earlier_key.revoke(by.id, by.role_value)
        uow.add(key)
        return SignInLink(key.id, token, member_id, expires_at)

    return command


def sign_in(link_key_id: UUID, now: datetime) -> Callable[[UnitOfWork], IssuedKey]:
    """Trade a sign-in link's key for the phone's own member key, which does not expire; the
    link's key stops working."""

    def command(uow: UnitOfWork) -> IssuedKey:
        link = uow.get(ApiKey, link_key_id)
        if not link.sign_in_link:
            raise NotASignInLink("not-a-sign-in-link")
        if not link.works_at(now) or link.member_id is None:  # traded at once by another
            raise SignInLinkSpent("sign-in-link-spent")
        member = uow.get(Member, link.member_id)
        by = Actor(f"key:{link.id}", Role.MEMBER, member.community_id, None, member.id)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(token_hash=hash_token(token), role=Role.MEMBER.value,
                     community_id=member.community_id, merchant_id=None, member_id=member.id,
                     label="手机登录", actor_id=by.id, actor_role=by.role_value)
        link.revoke(by.id, by.role_value)
        member.signed_in(link.id, key.id, by)
        uow.add(key)
        return IssuedKey(key.id, token, Role.MEMBER, member.community_id, None, member.id,
                         key.label)

    return command
