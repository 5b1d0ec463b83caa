"""The payment codes (付款码) alive now, in the serving process's memory.

A code is made for one member and lives `lifetime`; the member's account, not this book,
records that it was consumed (see `ledger.domain.consent`), so a code is consumed exactly once
however many tills send it. A code is never stored: a restart forgets the live ones, and they
read as invalid (the resident's page makes a fresh one).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from ledger.domain.consent import Consent, code_digest, new_code
from ledger.errors import PaymentCodeInvalid


@dataclass(frozen=True)
class PaymentCode:
    """A live code: whose it is and until when."""

    code: str
    member_id: UUID
    community_id: UUID
    expires_at: datetime

    @property
    def consent(self) -> Consent:
        """The consent a redemption with this code is given with."""
        return Consent.by_code(code_digest(self.code), self.expires_at)


class PaymentCodeBook:
    """Makes codes and finds them again while they live; thread-safe."""

    def __init__(self, lifetime: timedelta) -> None:
        self.lifetime = lifetime
        self._codes: dict[str, PaymentCode] = {}
        self._by_expiry: deque[PaymentCode] = deque()  # in the order made: expiring first
        self._lock = threading.Lock()

    def make(self, member_id: UUID, community_id: UUID, now: datetime) -> PaymentCode:
        """A fresh code for the member, living from `now`."""
        expires_at = (now + self.lifetime).replace(microsecond=0)
        with self._lock:
            self._forget_expired(now)
            code = new_code()
            while code in self._codes:  # one in 10^17 a draw: no two live codes alike
                code = new_code()
            made = PaymentCode(code, member_id, community_id, expires_at)
            self._codes[code] = made
            self._by_expiry.append(made)
        return made

    def find(self, code: str, now: datetime) -> PaymentCode:
        """The live code; refuses one unknown or expired."""
        found = self._codes.get(code)
        if found is None or found.expires_at <= now:
            raise PaymentCodeInvalid("付款码无效或已过期，请居民刷新付款码后再扫")
        return found

    def __len__(self) -> int:
        return len(self._codes)

    def _forget_expired(self, now: datetime) -> None:
        while self._by_expiry and self._by_expiry[0].expires_at <= now:
            del self._codes[self._by_expiry.popleft().code]
