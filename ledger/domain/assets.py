"""The two assets. Amounts are integers and never mix in one posting."""

from enum import StrEnum


class Asset(StrEnum):
    POINTS = "POINTS"
    MINUTES = "MINUTES"


class OwnerKind(StrEnum):
    MEMBER = "member"
    MERCHANT = "merchant"
    SYSTEM = "system"


class PostingKind(StrEnum):
    """What a passbook line records."""

    AWARD = "award"
    AWARD_REVERSAL = "award_reversal"
    REDEMPTION = "redemption"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"
    EXPIRY = "expiry"
    SETTLEMENT = "settlement"


EARNING_KINDS = frozenset({PostingKind.AWARD, PostingKind.AWARD_REVERSAL})
