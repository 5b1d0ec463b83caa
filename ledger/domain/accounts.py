"""Accounts: a member's or merchant's balance of one asset, changed only by postings."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.assets import EARNING_KINDS, Asset, OwnerKind, PostingKind
from ledger.errors import CapReached, InsufficientBalance
from ledger.limits import CAP_HISTORY_DAYS


class Account(Aggregate):
    """One owner's balance of one asset.

    Every posting names its counter account, so a transaction's postings sum to zero:
    the counter is either another Account (which gets its own posting) or a community's
    system account (kept by the projections). `cap_usage` counts points awarded per rule
    per day and month, pending awards included, so caps hold under concurrency.
    """

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

    @classmethod
    def open(cls, owner_id: UUID, kind: OwnerKind, community_id: UUID, asset: Asset,
             by: Actor) -> Account:
        return cls(owner_id=owner_id, owner_kind=kind.value, community_id=community_id,
                   asset=asset.value, actor_id=by.id, actor_role=by.role.value)

    @property
    def available(self) -> int:
        return self.balance - self.held

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
    ) -> None:
        """Move `amount` (signed) into this account, refusing an overdraft."""
        assert isinstance(amount, int) and amount != 0, amount
        if amount < 0 and not allow_negative and self.available + amount < 0:
            raise InsufficientBalance(
                f"available {self.asset.lower()} {self.available} is less than {-amount}"
            )
        earned_delta = amount if kind in EARNING_KINDS else 0
        cap_delta = 0 if cap_already_reserved else (amount if kind in EARNING_KINDS else 0)
        self._posted(
            amount=amount,
            kind=kind.value,
            transaction_id=transaction_id,
            counter_account=counter_account,
            description=description,
            reference=reference,
            balance_after=self.balance + amount,
            earned_after=self.earned + earned_delta,
            cap_keys=list(cap_keys or []),
            cap_delta=cap_delta,
            actor_id=by.id,
            actor_role=by.role.value,
        )
        assert allow_negative or amount > 0 or self.available >= 0

    def cap_room(self, keys_and_caps: list[tuple[str, int]]) -> int | None:
        """Points still allowed under every (key, cap) pair; None when nothing caps them."""
        room: int | None = None
        for key, cap in keys_and_caps:
            left = max(0, cap - self.cap_usage.get(key, 0))
            room = left if room is None else min(room, left)
        if room == 0:
            raise CapReached("the rule's cap for this period is already reached")
        return room

    def reserve_cap(self, *, award_id: UUID, cap_keys: list[str], points: int, by: Actor) -> None:
        """Count a pending award against the caps until it is approved or rejected."""
        self._cap_changed(award_id=award_id, cap_keys=cap_keys, cap_delta=points,
                          actor_id=by.id, actor_role=by.role.value)

    def release_cap(self, *, award_id: UUID, cap_keys: list[str], points: int, by: Actor) -> None:
        self._cap_changed(award_id=award_id, cap_keys=cap_keys, cap_delta=-points,
                          actor_id=by.id, actor_role=by.role.value)

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
    ) -> None:
        self.balance = balance_after
        self.earned = earned_after
        self._apply_cap_delta(cap_keys, cap_delta)

    @event("CapChanged")
    def _cap_changed(
        self, award_id: UUID, cap_keys: list[str], cap_delta: int, actor_id: str, actor_role: str
    ) -> None:
        self._apply_cap_delta(cap_keys, cap_delta)

    def _apply_cap_delta(self, cap_keys: list[str], cap_delta: int) -> None:
        if not cap_keys or not cap_delta:
            return
        for key in cap_keys:
            if cap_delta < 0 and key not in self.cap_usage:
                continue  # usage of a period already forgotten stays forgotten
            self.cap_usage[key] = self.cap_usage.get(key, 0) + cap_delta
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


def _key_last_day(key: str) -> date:
    """The last day a cap key counts for: its day, or the last day of its month."""
    _, period, when = key.rsplit("|", 2)
    if period == "D":
        return date.fromisoformat(when)
    first = date.fromisoformat(f"{when}-01")
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
