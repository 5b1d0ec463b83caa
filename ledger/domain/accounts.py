"""Accounts: a member's or merchant's balance of one asset, changed only by postings."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain import lots
from ledger.domain.assets import EARNING_KINDS, Asset, OwnerKind, PostingKind
from ledger.domain.base import LedgerAggregate
from ledger.domain.consent import Consent
from ledger.errors import CapReached, InsufficientBalance, PaymentCodeUsed, RedemptionLimitReached
from ledger.limits import CAP_HISTORY_DAYS

REDEMPTION_DAYS_KEPT = 7
# A consumed code is remembered this long past its expiry: longer than any code lives.
CODES_KEPT = timedelta(days=1)
# The enums' values as plain strings, which postings compare against.
_MEMBER, _POINTS = OwnerKind.MEMBER.value, Asset.POINTS.value
_EARNING = frozenset(k.value for k in EARNING_KINDS)


# The lots `post` worked out (the lots before, the changes, the lots after), which `_posted`
# takes when it applies those very changes to those very lots (it is called at once, by the
# same thread; a replay's objects are others): each posting's lots made once. A tuple
# replaced whole, so a thread reads one posting's or another's, never a mix.
_applied: tuple[list[lots.Lot], list[lots.Change], list[lots.Lot]] = ([], [], [])

# The message that says an account is short, by its owner's kind and its asset.
_SHORT = {("member", "POINTS"): "member-points-short",
          ("member", "MINUTES"): "member-minutes-short",
          ("merchant", "POINTS"): "merchant-unsettled-short",
          ("pool", "MINUTES"): "pool-short"}


class Account(LedgerAggregate):
    """One owner's balance of one asset.

    Every posting names its counter account, so a transaction's postings sum to zero:
    the counter is either another Account (which gets its own posting) or a community's
    system account (kept by the projections). `cap_usage` counts points awarded per rule
    per day and month, pending awards included, so caps hold under concurrency.

    A member's points account also keeps `lots` (see `ledger.domain.lots`): what it holds by
    expiry instant, spent earliest-expiring first; `holds`: points a till has authorised and
    not yet captured (`held` in total); and `redeemed_by_day` for the daily redemption limit.
    A member's minutes account keeps `restricted`: minutes earned by a team where the
    community lets such minutes only be donated.
    """

    restricted: int = 0  # a class default: accounts stored before it existed have none
    # Payment codes consumed (digest -> expiry), kept while they live; None until the first.
    codes_used: dict[str, str] | None = None

    @staticmethod
    def create_id(owner_id: UUID, asset: str) -> UUID:
        return ids.account_id(owner_id, asset)

    @event("Opened")
    def __init__(
        self,
        owner_id: UUID,
        owner_kind: str,
        community_id: UUID,
        asset: str,
        actor_id: str,
        actor_role: str,
    ) -> None:
        self.owner_id = owner_id
        self.owner_kind = owner_kind
        self.community_id = community_id
        self.asset = asset
        self.balance = 0
        self.held = 0
        self.earned = 0
        self.cap_usage: dict[str, int] = {}
        self.lots: list[lots.Lot] = []
        self.holds: dict[str, int] = {}
        self.redeemed_by_day: dict[str, int] = {}

    @classmethod
    def open(cls, owner_id: UUID, kind: OwnerKind, community_id: UUID, asset: Asset,
             by: Actor) -> Account:
        return cls(owner_id=owner_id, owner_kind=kind.value, community_id=community_id,
                   asset=asset.value, actor_id=by.id, actor_role=by.role_value)

    @property
    def available(self) -> int:
        return self.balance - self.held

    @property
    def spendable(self) -> int:
        """What may be withdrawn or given away: available, less donate-only minutes."""
        return self.available - self.restricted

    @property
    def tracks_lots(self) -> bool:
        return self.owner_kind == _MEMBER and self.asset == _POINTS

    # --- commands -----------------------------------------------------------------------
    def post(
        self,
        *,
        amount: int,
        kind: PostingKind,
        transaction_id: UUID,
        counter_account: str,
        by: Actor,
        description: str = "",
        reference: str = "",
        allow_negative: bool = False,
        cap_keys: list[str] | None = None,
        cap_already_reserved: bool = False,
        new_lots: list[lots.Change] | None = None,
        take_first: str | None = None,
        redeemed_on: str | None = None,
        restricted_delta: int = 0,
        consent: Consent | None = None,
        counterparty: str = "",
        occurred_at: datetime | None = None,
        imported_from: str | None = None,
    ) -> list[lots.Change]:
        """Move `amount` (signed) into this account, refusing an overdraft (unless
        `allow_negative`).

        A credit becomes `new_lots` (default: one never-expiring lot named after the
        transaction), after repaying any overdraft; a debit spends lot `take_first`, then the
        earliest-expiring. A debit given with a payment code consumes it. `counterparty` names
        the other side for the passbook (a shop, a member, an activity); `occurred_at` is when
        the deed was done, where it differs from the recording; `imported_from` the import's row
        it was taken in from. Returns the lot changes, as recorded on the event.
        """
        assert isinstance(amount, int) and amount != 0, amount
        given = self._consent_given(consent)
        if amount < 0 and not allow_negative and self.available + amount < 0:
            raise InsufficientBalance(_SHORT.get((self.owner_kind, self.asset), "balance-short"),
                                      available=self.available, asked=-amount)
        changes = self._lot_changes(amount, transaction_id, new_lots, take_first)
        after = lots.apply(self.lots, changes)
        global _applied
        _applied = (self.lots, changes, after)  # for `_posted`, applying the same changes
        next_at, next_points = lots.next_expiry(after)
        kind_value = kind._value_  # the value itself, not through the `value` property
        earned_delta = amount if kind_value in _EARNING else 0
        cap_delta = 0 if cap_already_reserved else earned_delta
        # `trigger_event` directly, with every field by name; `_posted` still applies it.
        self.trigger_event(
            self.Posted,  # type: ignore[attr-defined]
            amount=amount,
            kind=kind_value,
            transaction_id=transaction_id,
            counter_account=counter_account,
            description=description,
            reference=reference,
            balance_after=self.balance + amount,
            earned_after=self.earned + earned_delta,
            cap_keys=list(cap_keys or []),
            cap_delta=cap_delta,
            actor_id=by.id,
            actor_role=by.role_value,
            lot_changes=changes,
            next_expiry_at=next_at,
            next_expiry_points=next_points,
            redeemed_on=redeemed_on,
            restricted_delta=restricted_delta,
            consent=given,
            counterparty=counterparty,
            occurred_at=occurred_at.isoformat() if occurred_at is not None else None,
            imported_from=imported_from,
        )
        assert allow_negative or amount > 0 or self.available >= 0
        return changes

    def _consent_given(self, consent: Consent | None) -> list[str] | None:
        """The consent as an event records it (None for v1's member id); refuses a code
        already consumed."""
        if consent is None:
            return None
        if consent.code_digest is not None and consent.code_digest in (self.codes_used or {}):
            raise PaymentCodeUsed("payment-code-used")
        return consent.as_event()

    def _use_consent(self, consent: list[str] | None) -> None:
        """Remember a consumed code until it expires (forgetting those long expired)."""
        if not consent or len(consent) < 3:
            return
        _, digest, expires_at, *_ = consent
        horizon = (datetime.fromisoformat(expires_at) - CODES_KEPT).isoformat()
        self.codes_used = {d: at for d, at in (self.codes_used or {}).items() if at >= horizon}
        self.codes_used[digest] = expires_at

    def _lot_changes(
        self, amount: int, transaction_id: UUID, new_lots: list[lots.Change] | None,
        take_first: str | None,
    ) -> list[lots.Change]:
        if not self.tracks_lots:
            return []
        if amount < 0:
            return lots.take(self.lots, -amount, take_first)
        given = [list(c) for c in (new_lots or [[str(transaction_id), amount, None]])]
        assert sum(c[1] for c in given) == amount, (given, amount)
        debt = max(0, -self.balance)  # an overdraft an auditor allowed is repaid first
        for change in given:
            repaid = min(debt, change[1])
            change[1] -= repaid
            debt -= repaid
        return [c for c in given if c[1] > 0]

    def expire(self, now: datetime, *, counter_account: str, by: Actor) -> int:
        """Expire every lot whose instant has come (never points a till holds)."""
        due = lots.due(self.lots, now)
        amount = min(-sum(c[1] for c in due), self.available)
        if amount <= 0:
            return 0
        self.post(amount=-amount, kind=PostingKind.EXPIRY, transaction_id=ids.new_id(),
                  counter_account=counter_account, by=by, description="积分到期",
                  reference=f"expiry:{now.date().isoformat()}")
        return amount

    def check_redemption_limit(self, points: int, day: str, limit: int | None) -> None:
        if limit is None:
            return
        left = limit - self.redeemed_by_day.get(day, 0)
        if points > left:
            raise RedemptionLimitReached("redemption-limit", left=max(left, 0), limit=limit,
                                         day=day)

    # --- holds ----------------------------------------------------------------------------
    def place_hold(self, hold_id: UUID, points: int, by: Actor,
                   consent: Consent | None = None) -> None:
        given = self._consent_given(consent)
        if points > self.available:
            raise InsufficientBalance("member-points-short", available=self.available,
                                      asked=points)
        self._hold_placed(hold_id=str(hold_id), points=points, held_after=self.held + points,
                          actor_id=by.id, actor_role=by.role_value, consent=given)

    def release_hold(self, hold_id: UUID, reason: str, by: Actor) -> int:
        points = self.holds.get(str(hold_id), 0)
        if points:
            self._hold_released(hold_id=str(hold_id), points=points, reason=reason,
                                held_after=self.held - points, actor_id=by.id,
                                actor_role=by.role_value)
        return points

    @event("HoldPlaced")
    def _hold_placed(
        self, hold_id: str, points: int, held_after: int, actor_id: str, actor_role: str,
        consent: list[str] | None = None,
    ) -> None:
        self.holds[hold_id] = points
        self.held = held_after
        self._use_consent(consent)

    @event("HoldReleased")
    def _hold_released(
        self, hold_id: str, points: int, reason: str, held_after: int, actor_id: str,
        actor_role: str,
    ) -> None:
        del self.holds[hold_id]
        self.held = held_after

    def cap_room(self, keys_and_caps: list[tuple[str, int]]) -> int | None:
        """Points still allowed under every (key, cap) pair; None when nothing caps them."""
        room: int | None = None
        for key, cap in keys_and_caps:
            left = max(0, cap - self.cap_usage.get(key, 0))
            room = left if room is None else min(room, left)
        if room == 0:
            raise CapReached("cap-reached")
        return room

    def reserve_cap(self, *, award_id: UUID, cap_keys: list[str], points: int, by: Actor) -> None:
        """Count a pending award against the caps until it is approved or rejected."""
        self._cap_changed(award_id=award_id, cap_keys=cap_keys, cap_delta=points,
                          actor_id=by.id, actor_role=by.role_value)

    def release_cap(self, *, award_id: UUID, cap_keys: list[str], points: int, by: Actor) -> None:
        self._cap_changed(award_id=award_id, cap_keys=cap_keys, cap_delta=-points,
                          actor_id=by.id, actor_role=by.role_value)

    # --- events ---------------------------------------------------------------------------
    @event("Posted")
    def _posted(
        self,
        amount: int,
        kind: str,
        transaction_id: UUID,
        counter_account: str,
        description: str,
        reference: str,
        balance_after: int,
        earned_after: int,
        cap_keys: list[str],
        cap_delta: int,
        actor_id: str,
        actor_role: str,
        lot_changes: list[Any] | None = None,
        next_expiry_at: str | None = None,
        next_expiry_points: int = 0,
        redeemed_on: str | None = None,
        restricted_delta: int = 0,
        consent: list[str] | None = None,
        counterparty: str = "",
        occurred_at: str | None = None,
        imported_from: str | None = None,
    ) -> None:
        self.balance = balance_after
        if consent is not None:
            self._use_consent(consent)
        if restricted_delta:
            self.restricted += restricted_delta
        self.earned = earned_after
        self._apply_cap_delta(cap_keys, cap_delta)
        if lot_changes:
            applied = _applied
            self.lots = (applied[2] if applied[0] is self.lots and applied[1] is lot_changes
                         else lots.apply(self.lots, lot_changes))
        if redeemed_on is not None:
            self.redeemed_by_day[redeemed_on] = self.redeemed_by_day.get(redeemed_on, 0) - amount
            horizon = (date.fromisoformat(redeemed_on)
                       - timedelta(days=REDEMPTION_DAYS_KEPT)).isoformat()
            for day in [d for d in self.redeemed_by_day if d < horizon]:
                del self.redeemed_by_day[day]

    @event("CapChanged")
    def _cap_changed(
        self, award_id: UUID, cap_keys: list[str], cap_delta: int, actor_id: str, actor_role: str
    ) -> None:
        self._apply_cap_delta(cap_keys, cap_delta)

    def _apply_cap_delta(self, cap_keys: list[str], cap_delta: int) -> None:
        if not cap_keys or not cap_delta:
            return
        added = False
        for key in cap_keys:
            used = self.cap_usage.get(key)
            if used is None:
                if cap_delta < 0:
                    continue  # usage of a period already forgotten stays forgotten
                added, used = True, 0
            self.cap_usage[key] = used + cap_delta
        if not added:  # the horizon is where the posting that added these keys left it
            return
        # Forget usage of periods long past, so the state (and its snapshots) stay small.
        # The horizon lies beyond the backdating limit, so no period still open to awards
        # is ever forgotten.
        newest = max(_key_last_day(k) for k in cap_keys)
        horizon = newest - timedelta(days=CAP_HISTORY_DAYS)
        for key in [k for k in self.cap_usage if _key_last_day(k) < horizon]:
            del self.cap_usage[key]


def cap_keys_for(rule_code: str, day: date) -> tuple[str, str]:
    """Keys under which an award on `day` counts: (daily key, monthly key)."""
    return f"{rule_code}|D|{day.isoformat()}", f"{rule_code}|M|{day:%Y-%m}"


@lru_cache(maxsize=8_192)  # a few keys a rule a day: parsing one costs ten look-ups
def _key_last_day(key: str) -> date:
    """The last day a cap key counts for: its day, or the last day of its month."""
    _, period, when = key.rsplit("|", 2)
    if period == "D":
        return date.fromisoformat(when)
    first = date.fromisoformat(f"{when}-01")
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
