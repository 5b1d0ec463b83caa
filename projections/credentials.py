"""The residents' PINs in `member_pins`: setting one, and counting the tries at the till.

A try is counted (and the lock checked) in one statement before the PIN is compared, so any
number of tries sent at once get no more than the allowed wrong ones; a right PIN clears the
count, the last allowed wrong one locks the PIN for a while.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, case, delete, insert, or_, select, update

from ledger.domain.pins import LOCKED_FOR, WRONG_TRIES_BEFORE_LOCK
from ledger.errors import PinInvalid, PinLocked
from projections.tables import member_pins


@dataclass(frozen=True)
class PinTry:
    """A counted try: the stored hash to compare with, and which wrong try this would be."""

    member_id: str
    pin_hash: str
    tries: int


class PinStore:
    """The PINs of every community's members."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def set(self, member_id: str, pin_hash: str, now: datetime) -> None:
        """Store a new PIN's hash; clears the count of wrong tries and any lock."""
        with self.engine.begin() as conn:
            conn.execute(delete(member_pins).where(member_pins.c.member_id == member_id))
            conn.execute(insert(member_pins).values(member_id=member_id, pin_hash=pin_hash,
                                                    wrong_tries=0, locked_until=None,
                                                    set_at=now))

    def hash_of(self, member_id: str) -> str | None:
        """The member's PIN hash, or None when it has none (counts no try)."""
        with self.engine.connect() as conn:
            found: str | None = conn.execute(
                select(member_pins.c.pin_hash).where(member_pins.c.member_id == member_id)
            ).scalar()
        return found

    def count_try(self, member_id: str, now: datetime) -> PinTry:
        """Count a try; refuses one while the PIN is locked, or when there is no PIN."""
        column = member_pins.c
        lock_over = and_(column.locked_until.is_not(None), column.locked_until <= now)
        statement = (
            update(member_pins)
            .where(column.member_id == member_id,
                   or_(column.locked_until.is_(None), column.locked_until <= now))
            .values(wrong_tries=case((lock_over, 1), else_=column.wrong_tries + 1),
                    locked_until=None)
            .returning(column.pin_hash, column.wrong_tries)
        )
        with self.engine.begin() as conn:
            row = conn.execute(statement).first()
            if row is None:
                locked = conn.execute(select(column.locked_until)
                                      .where(column.member_id == member_id)).first()
        if row is None:
            if locked is None:
                raise PinInvalid("pin-not-set")
            raise PinLocked("pin-locked", tries=WRONG_TRIES_BEFORE_LOCK, minutes=_minutes())
        if row.wrong_tries > WRONG_TRIES_BEFORE_LOCK:  # tries sent at once, past the limit
            self._lock(member_id, now)
            raise PinLocked("pin-locked", tries=WRONG_TRIES_BEFORE_LOCK, minutes=_minutes())
        return PinTry(member_id, row.pin_hash, row.wrong_tries)

    def right(self, counted: PinTry) -> None:
        """The try was right: the count starts again."""
        with self.engine.begin() as conn:
            conn.execute(update(member_pins).where(member_pins.c.member_id == counted.member_id)
                         .values(wrong_tries=0))

    def wrong(self, counted: PinTry, now: datetime) -> PinInvalid:
        """The try was wrong: the last allowed one locks the PIN. Returns the refusal."""
        left = WRONG_TRIES_BEFORE_LOCK - counted.tries
        if left <= 0:
            self._lock(counted.member_id, now)
            return PinInvalid("pin-now-locked", tries=WRONG_TRIES_BEFORE_LOCK,
                              minutes=_minutes())
        return PinInvalid("pin-tries-left", left=left, minutes=_minutes())

    def _lock(self, member_id: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(member_pins).where(member_pins.c.member_id == member_id)
                         .values(locked_until=now + LOCKED_FOR))


def _minutes() -> int:
    return int(LOCKED_FOR.total_seconds() // 60)


