"""The payment codes (付款码) alive now, in the serving process's memory.

A code is made for one member and lives `lifetime`; the member's account, not this book,
records that it was consumed (see `ledger.domain.consent`), so a code is consumed exactly once
however many tills send it. A code is never stored, and making one writes nothing to the log (a
resident's page makes one a minute while it is open): a restart forgets the live ones, and they
read as invalid (the page makes a fresh one).

A code is made with an idempotency key: the same key with the same request gets the same code
again, a different request under it is refused, for `KEYS_KEPT` (or until `KEYS_MAX` newer
keys push it out).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from uuid import UUID

from ledger.domain.consent import Consent, code_digest, new_code
from ledger.errors import IdempotencyKeyReused, PaymentCodeInvalid

KEYS_KEPT = timedelta(hours=24)
KEYS_MAX = 500_000


@dataclass(frozen=True)
class PaymentCode:
    """A live code: whose it is, who made it (the member's phone, or staff at the counter)
    and until when."""

    code: str
    member_id: UUID
    community_id: UUID
    made_by: str
    expires_at: datetime

    @cached_property
    def consent(self) -> Consent:
        """The consent a redemption with this code is given with (its digest made once)."""
        return Consent.by_code(code_digest(self.code), self.expires_at, self.made_by)


@dataclass(frozen=True)
class CodeKey:
    """The idempotency key a code is asked for with: whose, which, and the request's hash."""

    principal: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class _Keyed:
    key: CodeKey
    made: PaymentCode
    made_at: datetime


class PaymentCodeBook:
    """Makes codes and finds them again while they live; thread-safe."""

    def __init__(self, lifetime: timedelta) -> None:
        self.lifetime = lifetime
        self._codes: dict[str, PaymentCode] = {}
        self._by_expiry: deque[PaymentCode] = deque()  # in the order made: expiring first
        self._keys: dict[tuple[str, str], _Keyed] = {}
        self._keys_in_order: deque[_Keyed] = deque()
        self._lock = threading.Lock()

    def make(self, member_id: UUID, community_id: UUID, now: datetime, made_by: str,
             key: CodeKey | None = None) -> PaymentCode:
        """A fresh code for the member, living from `now`; for a retry under the same `key`,
        the first one again (refused if the request differs)."""
        with self._lock:
            self._forget(now)
            earlier = self._keys.get((key.principal, key.key)) if key is not None else None
            if earlier is not None:
                if key is not None and earlier.key.fingerprint != key.fingerprint:
                    raise IdempotencyKeyReused("idempotency-key-reused")
                return earlier.made
            code = new_code()
            while code in self._codes:  # one in 10^17 a draw: no two live codes alike
                code = new_code()
            made = PaymentCode(code, member_id, community_id, made_by,
                               (now + self.lifetime).replace(microsecond=0))
            self._codes[code] = made
            self._by_expiry.append(made)
            if key is not None:
                keyed = _Keyed(key, made, now)
                self._keys[(key.principal, key.key)] = keyed
                self._keys_in_order.append(keyed)
        return made

    def find(self, code: str, now: datetime) -> PaymentCode:
        """The live code; refuses one unknown or expired."""
        found = self._codes.get(code)
        if found is None or found.expires_at <= now:
            raise PaymentCodeInvalid("payment-code-invalid")
        return found

    def __len__(self) -> int:
        return len(self._codes)

    def _forget(self, now: datetime) -> None:
        """Forget the codes expired, and the keys past keeping."""
        while self._by_expiry and self._by_expiry[0].expires_at <= now:
            del self._codes[self._by_expiry.popleft().code]
        keys = self._keys_in_order
        while keys and (len(keys) >= KEYS_MAX or keys[0].made_at + KEYS_KEPT <= now):
            oldest = keys.popleft().key
            del self._keys[(oldest.principal, oldest.key)]
