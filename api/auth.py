"""Bearer tokens to actors: the bootstrap admin token, or an API key found by its hash."""

from __future__ import annotations

import hmac

from eventsourcing.application import AggregateNotFoundError

from api.errors import ApiProblem
from ledger.actor import Actor, Role
from ledger.application import LedgerApp
from ledger.commands.access import hash_token
from ledger.domain.access import ApiKey
from ledger.ids import api_key_id

BOOTSTRAP_ADMIN_ID = "admin:bootstrap"


def unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, "unauthorized", "Unauthorized", detail,
                      headers={"WWW-Authenticate": "Bearer"})


def actor_for_token(app: LedgerApp, token: str | None, admin_token: str | None) -> Actor:
    if not token:
        raise unauthorized("send Authorization: Bearer <token>")
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Actor(BOOTSTRAP_ADMIN_ID, Role.ADMIN)
    try:
        key: object = app.repository.get(api_key_id(hash_token(token)))
    except AggregateNotFoundError:
        raise unauthorized("the token is not known") from None
    if not isinstance(key, ApiKey) or key.revoked:
        raise unauthorized("the token is not known or was revoked")
    return Actor(f"key:{key.id}", Role(key.role), key.community_id, key.merchant_id,
                 key.member_id)


def require_role(actor: Actor, *roles: Role) -> None:
    """403 unless the actor has one of `roles` (admin may do everything)."""
    if actor.role is Role.ADMIN or actor.role in roles:
        return
    raise ApiProblem(403, "forbidden", "Forbidden",
                     f"the {actor.role.value} role may not do this")
