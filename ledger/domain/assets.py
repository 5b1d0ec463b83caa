"""The two assets. Amounts are integers and never mix in one posting."""

from enum import StrEnum


class Asset(StrEnum):
    POINTS = "POINTS"
    MINUTES = "MINUTES"


class OwnerKind(StrEnum):
    MEMBER = "member"
    MERCHANT = "merchant"
    SYSTEM = "system"
    POOL = "pool"  # a community's pool of donated minutes (时间银行公益池)


class PostingKind(StrEnum):
    """What a passbook line records."""

    AWARD = "award"
    AWARD_REVERSAL = "award_reversal"  # what was left of an award taken back
    AWARD_PART_REVERSAL = "award_part_reversal"  # a part of an award taken back, some left
    REDEMPTION = "redemption"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"
    EXPIRY = "expiry"
    SETTLEMENT = "settlement"
    DEPOSIT = "deposit"  # minutes for verified service given
    WITHDRAWAL = "withdrawal"  # minutes spent on care received
    GIFT = "gift"  # minutes given to (or received from) another member (转赠)
    DONATION = "donation"  # minutes given to the community's pool
    ALLOCATION = "allocation"  # minutes the pool gives to a member in need


EARNING_KINDS = frozenset({PostingKind.AWARD, PostingKind.AWARD_REVERSAL,
                           PostingKind.AWARD_PART_REVERSAL, PostingKind.DEPOSIT})
"""What counts as *earned* (leaderboards, `points_earned`, `minutes_earned`)."""
