"""A resident's consent at the till: how a community asks for it, and how a till gives it.

Where a community's `redemption_consent` is `payment_code` (the default), a till takes points
only with the member's consent: a payment code (付款码) the member's phone shows, or the member's
passbook number and PIN. Where it is `member_id`, a till may also name the member (v1's way,
for a 积分超市 run by staff). A posting records the consent it was given with; a payment code's
digest stays on the member's account, so the code is consumed once, with the posting.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ledger.errors import PaymentCodeInvalid

CODE_DIGITS = 18
PIN_DIGITS = 6
_TYPED_SEPARATORS = re.compile(r"[\s\-]+")


class ConsentPolicy(StrEnum):
    """What a community asks of a till before it takes a member's points."""

    PAYMENT_CODE = "payment_code"  # the member's code or PIN
    MEMBER_ID = "member_id"  # naming the member is enough


class ConsentKind(StrEnum):
    """How a till named the member."""

    MEMBER_ID = "member_id"
    PAYMENT_CODE = "payment_code"
    PIN = "pin"


@dataclass(frozen=True)
class Consent:
    """The consent a redemption or hold was given with; a code's digest and expiry with it."""

    kind: ConsentKind
    code_digest: str | None = None
    code_expires_at: datetime | None = None
    code_made_by: str | None = None  # the member's own key, or staff's at the counter

    @classmethod
    def by_code(cls, digest: str, expires_at: datetime, made_by: str) -> Consent:
        return cls(ConsentKind.PAYMENT_CODE, digest, expires_at, made_by)

    def as_event(self) -> list[str] | None:
        """The consent as a posting records it: None for a member id (v1's postings);
        ["pin"]; or ["payment_code", digest, expiry, who made the code]."""
        if self.kind is ConsentKind.MEMBER_ID:
            return None
        if self.kind is ConsentKind.PIN:
            return [self.kind.value]
        assert self.code_digest is not None and self.code_expires_at is not None
        return [self.kind.value, self.code_digest, self.code_expires_at.isoformat(),
                self.code_made_by or ""]


BY_MEMBER_ID = Consent(ConsentKind.MEMBER_ID)
BY_PIN = Consent(ConsentKind.PIN)


def new_code() -> str:
    """An 18-digit payment code from the system's secure random source (no leading zero)."""
    return str(10 ** (CODE_DIGITS - 1) + secrets.randbelow(9 * 10 ** (CODE_DIGITS - 1)))


def typed_code(text: str) -> str:
    """A code as a till typed or scanned it, without spaces or hyphens; refused unless it
    is 18 digits."""
    code = _TYPED_SEPARATORS.sub("", text)
    if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        raise PaymentCodeInvalid("payment-code-digits", digits=CODE_DIGITS)
    return code


def code_digest(code: str) -> str:
    """What a posting records of a code: enough to know it again, never the code."""
    return hashlib.sha256(f"linli-payment-code:{code}".encode()).hexdigest()[:32]
