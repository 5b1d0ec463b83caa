"""Bearer tokens to actors: the bootstrap admin token, or an API key found by its hash."""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import islice

from eventsourcing.application import AggregateNotFoundError

from api.errors import ApiProblem
from ledger.actor import DISTRICT_ROLES, Actor, Role
from ledger.application import LedgerApp
from ledger.commands.access import hash_token
from ledger.domain.access import ApiKey
from ledger.domain.districts import District
from ledger.ids import api_key_id

BOOTSTRAP_ADMIN_ID = "admin:bootstrap"

log = logging.getLogger(__name__)


def unauthorized(key: str) -> ApiProblem:
    """A 401 whose detail is the message `key`."""
    return ApiProblem(401, "unauthorized", key, headers={"WWW-Authenticate": "Bearer"})


class KeyCache:
    """The actors of recently seen tokens, by token hash, each kept for `seconds`.

    A till sends its key with every request; loading the key's aggregate each time would
    cost two queries. Revoking a key through this process forgets every entry at once; a
    key revoked by another process stops working within `seconds`.

    A key in use is reloaded ahead of time: the first `get` past half its lifetime hands
    `reload` to one background thread, and the key's entry is renewed when the reload
    succeeds (or forgotten when it says 401). So a till's key never expires while it is
    used, and its requests never all miss at once and load the same key together.
    """

    def __init__(self, seconds: float, max_entries: int = 100_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._actors: dict[str, tuple[float, float, Actor]] = {}  # renew at, expire at
        self._lock = threading.Lock()
        self._generation = 0  # moved on by `clear`: a load begun before it is not kept
        self._reloading: set[str] = set()
        self._reloader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="key-reload")

    @property
    def generation(self) -> int:
        """Pass to `put` the generation read before loading the key."""
        return self._generation

    def get(self, token_hash: str, reload: Callable[[], Actor] | None = None) -> Actor | None:
        entry = self._actors.get(token_hash)
        if entry is None:
            return None
        renew_at, expire_at, actor = entry
        now = time.monotonic()
        if expire_at < now:
            return None
        if actor.expires_at is not None and actor.expires_at <= datetime.now(UTC):
            return None  # a sign-in link's grant has ended
        if reload is not None and renew_at <= now:
            self._reload_soon(token_hash, reload)
        return actor

    def put(self, token_hash: str, actor: Actor, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            if len(self._actors) >= self.max_entries:  # forget the tenth put longest ago
                for oldest in list(islice(self._actors, self.max_entries // 10 or 1)):
                    del self._actors[oldest]
            now = time.monotonic()
            self._actors[token_hash] = (now + self.seconds / 2, now + self.seconds, actor)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._actors.clear()

    def close(self, wait: bool = False) -> None:
        """Stop reloading (`wait`: once the reload under way has ended)."""
        self._reloader.shutdown(wait=wait, cancel_futures=True)

    def _reload_soon(self, token_hash: str, reload: Callable[[], Actor]) -> None:
        with self._lock:
            if token_hash in self._reloading:
                return
            self._reloading.add(token_hash)
        try:
            self._reloader.submit(self._reload, token_hash, reload, self._generation)
        except RuntimeError:  # closed
            self._reloading.discard(token_hash)

    def _reload(self, token_hash: str, reload: Callable[[], Actor], generation: int) -> None:
        try:
            actor = reload()
        except ApiProblem as problem:
            if problem.status == 401:  # revoked, or gone
                with self._lock:
                    self._actors.pop(token_hash, None)
        except Exception:  # the database is away: the entry expires in its time
            log.warning("reloading an API key failed", exc_info=True)
        else:
            self.put(token_hash, actor, generation)
        finally:
            with self._lock:
                self._reloading.discard(token_hash)


def actor_for_token(app: LedgerApp, token: str | None, admin_token: str | None) -> Actor:
    if not token:
        raise unauthorized("token-missing")
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Actor(BOOTSTRAP_ADMIN_ID, Role.ADMIN)
    try:
        key: object = app.repository.get(api_key_id(hash_token(token)))
    except AggregateNotFoundError:
        raise unauthorized("token-unknown") from None
    if not isinstance(key, ApiKey) or not key.works_at(datetime.now(UTC)):
        raise unauthorized("token-unknown")
    role = Role(key.role)
    if role in DISTRICT_ROLES and key.district_id is not None:
        district: object = app.repository.get(key.district_id)
        assert isinstance(district, District)
        return Actor(f"key:{key.id}", DISTRICT_ROLES[role], expires_at=key.expires_at,
                     district_id=district.id, communities=frozenset(district.communities))
    return Actor(f"key:{key.id}", Role(key.role), key.community_id, key.merchant_id,
                 key.member_id, key.expires_at)


def require_role(actor: Actor, *roles: Role) -> None:
    """403 unless the actor has one of `roles` (admin may do everything)."""
    if actor.role is Role.ADMIN or actor.role in roles:
        return
    raise ApiProblem(403, "forbidden", "role-may-not", role=actor.role_value)
