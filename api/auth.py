"""Bearer tokens to actors: the bootstrap admin token, or an API key found by its hash."""

from __future__ import annotations

import hmac
import threading
import time

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


class KeyCache:
    """The actors of recently seen tokens, by token hash, each kept for `seconds`.

    A till sends its key with every request; loading the key's aggregate each time would
    cost two queries. Revoking a key through this process forgets every entry at once; a
    key revoked by another process stops working within `seconds`.
    """

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._actors: dict[str, tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    def get(self, token_hash: str) -> Actor | None:
        entry = self._actors.get(token_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token_hash: str, actor: Actor) -> None:
        with self._lock:
            if len(self._actors) >= self.max_entries:
                self._actors.clear()
            self._actors[token_hash] = (time.monotonic() + self.seconds, actor)

    def clear(self) -> None:
        with self._lock:
            self._actors.clear()


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
