"""Limits on everything that comes in (TigerBeetle style: a bound for every quantity)."""

from typing import Final

POINTS_MIN: Final = 1
POINTS_MAX: Final = 1_000_000
MINUTES_MIN: Final = 1
MINUTES_MAX: Final = 1_440
QUANTITY_MAX: Final = 1_000
TEXT_MAX_CHARS: Final = 500
NAME_MAX_CHARS: Final = 200
ADJUSTMENT_MAX: Final = 1_000_000
RULE_POINTS_MAX: Final = 100_000
CAP_MAX_POINTS: Final = 10_000_000
BACKDATE_MAX_DAYS: Final = 90
# Cap usage is kept this long after the newest period an award counted in: longer than the
# backdating limit plus a month, so a period still open to backdated awards is never forgotten.
CAP_HISTORY_DAYS: Final = BACKDATE_MAX_DAYS + 35
PAGE_DEFAULT: Final = 50
PAGE_MAX: Final = 500
BODY_MAX_BYTES: Final = 64 * 1024
STORAGE_CAP_MAX_MINUTES: Final = 10_000_000
CREDIT_LIMIT_MAX_MINUTES: Final = 10_000_000
AUTO_CONFIRM_DAYS_MAX: Final = 365
AGE_MAX_YEARS: Final = 150

AWARD_BATCH_MAX: Final = 500  # members in one POST /v1/awards/batch
ACTIVITY_EARLY_CHECK_IN_MINUTES: Final = 30  # how long before an activity's start one may check in
ACTIVITY_MAX_HOURS: Final = 24  # an activity's longest span
