"""Districts (街道): communities grouped for 通存通兑, agreements between districts, and the
net settlement of what the communities owe each other for a period."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import event

from ledger import ids
from ledger.actor import Actor
from ledger.domain.base import LedgerAggregate
from ledger.errors import CreditLimitReached, InvalidRequest, NothingToSettle

DISTRICT_TIME_ZONE = "Asia/Shanghai"


class DistrictRegister(LedgerAggregate):
    """The deployment's list of districts, in the order they were registered."""

    @staticmethod
    def create_id() -> UUID:
        return ids.DISTRICT_REGISTER_ID

    @event("Opened")
    def __init__(self) -> None:
        self.districts: list[UUID] = []

    def add(self, district_id: UUID, by: Actor) -> None:
        self._added(district_id=district_id, actor_id=by.id, actor_role=by.role_value)

    @event("DistrictAdded")
    def _added(self, district_id: UUID, actor_id: str, actor_role: str) -> None:
        self.districts = [*self.districts, district_id]


class District(LedgerAggregate):
    """A district (街道): the communities it holds, the districts it has agreements with, and
    the months it has settled."""

    @staticmethod
    def create_id() -> UUID:
        return ids.new_id()

    @event("Registered")
    def __init__(self, name: str, time_zone: str, actor_id: str, actor_role: str) -> None:
        self.name = name
        self.time_zone = time_zone
        self.communities: list[UUID] = []
        self.partners: list[UUID] = []
        self.settled_months: list[str] = []
        self.settlements: list[UUID] = []

    @classmethod
    def register(cls, name: str, by: Actor, time_zone: str = DISTRICT_TIME_ZONE) -> District:
        return cls(name=name, time_zone=time_zone, actor_id=by.id, actor_role=by.role_value)

    def add_community(self, community_id: UUID, by: Actor) -> None:
        """Take a community in (its own `Community.join_district` says it is in none yet)."""
        if community_id not in self.communities:
            self._community_added(community_id=community_id, actor_id=by.id,
                                  actor_role=by.role_value)

    @event("CommunityAdded")
    def _community_added(self, community_id: UUID, actor_id: str, actor_role: str) -> None:
        self.communities = [*self.communities, community_id]

    def note_partner(self, other_id: UUID, by: Actor) -> None:
        if other_id not in self.partners:
            self._partner_noted(other_id=other_id, actor_id=by.id, actor_role=by.role_value)

    @event("PartnerNoted")
    def _partner_noted(self, other_id: UUID, actor_id: str, actor_role: str) -> None:
        self.partners = [*self.partners, other_id]

    def check_unsettled(self, months: list[str]) -> None:
        """Refuse a period that overlaps one settled before."""
        settled = sorted(set(months) & set(self.settled_months))
        if settled:
            raise NothingToSettle("settlement-overlaps", months="、".join(settled))

    def mark_settled(self, settlement_id: UUID, period: str, months: list[str],
                     by: Actor) -> None:
        self.check_unsettled(months)
        self._settled(settlement_id=settlement_id, period=period, months=months,
                      actor_id=by.id, actor_role=by.role_value)

    @event("PeriodSettled")
    def _settled(self, settlement_id: UUID, period: str, months: list[str], actor_id: str,
                 actor_role: str) -> None:
        self.settled_months = [*self.settled_months, *months]
        self.settlements = [*self.settlements, settlement_id]


class DistrictAgreement(LedgerAggregate):
    """Two districts' agreement to 通存通兑: each lets the other owe it up to a limit in
    minutes (none set: nothing). `due` is what `first`'s communities owe `second`'s, net
    (negative: what `second`'s owe `first`'s), the pair ordered by id."""

    @staticmethod
    def create_id(first: UUID, second: UUID) -> UUID:
        return ids.district_agreement_id(first, second)

    @event("Made")
    def __init__(self, first: UUID, second: UUID, actor_id: str, actor_role: str) -> None:
        self.first = first
        self.second = second
        self.due = 0
        self.limits: dict[str, int] = {}

    @classmethod
    def make(cls, a: UUID, b: UUID, by: Actor) -> DistrictAgreement:
        if a == b:
            raise InvalidRequest("agreement-own-district")
        first, second = sorted((a, b), key=str)
        return cls(first=first, second=second, actor_id=by.id, actor_role=by.role_value)

    def owed_by(self, debtor: UUID) -> int:
        return self.due if debtor == self.first else -self.due

    def limit_for(self, debtor: UUID) -> int:
        """How much the other district lets `debtor` owe it (0 until it says)."""
        creditor = self.second if debtor == self.first else self.first
        return self.limits.get(str(creditor), 0)

    def set_limit(self, creditor: UUID, limit: int, by: Actor) -> None:
        if limit < 0:
            raise InvalidRequest("negative-limit")
        self._limit_set(creditor=creditor, limit=limit, actor_id=by.id,
                        actor_role=by.role_value)

    @event("LimitSet")
    def _limit_set(self, creditor: UUID, limit: int, actor_id: str, actor_role: str) -> None:
        self.limits = {**self.limits, str(creditor): limit}

    def record_care(self, debtor: UUID, minutes: int, withdrawal_id: UUID, by: Actor) -> None:
        """A member of `debtor`'s district received `minutes` of care in the other one."""
        after = self.owed_by(debtor) + minutes
        limit = self.limit_for(debtor)
        if minutes > 0 and after > limit:
            raise CreditLimitReached("district-credit-limit", after=after, limit=limit)
        self._care_recorded(debtor=debtor, minutes=minutes, withdrawal_id=withdrawal_id,
                            due_after=after if debtor == self.first else -after,
                            actor_id=by.id, actor_role=by.role_value)

    @event("CareRecorded")
    def _care_recorded(self, debtor: UUID, minutes: int, withdrawal_id: UUID, due_after: int,
                       actor_id: str, actor_role: str) -> None:
        self.due = due_after

    def settle(self, settlement_id: UUID, minutes_first_owed: int, by: Actor) -> None:
        """Take a settled amount (what `first` owed, net) off what is due."""
        if minutes_first_owed:
            self._settled(settlement_id=settlement_id, minutes=minutes_first_owed,
                          due_after=self.due - minutes_first_owed, actor_id=by.id,
                          actor_role=by.role_value)

    @event("Settled")
    def _settled(self, settlement_id: UUID, minutes: int, due_after: int, actor_id: str,
                 actor_role: str) -> None:
        self.due = due_after


class DistrictSettlement(LedgerAggregate):
    """A district's net settlement of a period: each community's net against the district's
    clearing account (`lines`: positive, it pays; negative, it is paid) and what each pair of
    communities had owed (`pairs`). Its id derives from the district and period."""

    @staticmethod
    def create_id(district_id: UUID, period: str) -> UUID:
        return ids.district_settlement_id(district_id, period)

    @event("Made")
    def __init__(self, district_id: UUID, period: str, months: list[str],
                 lines: list[dict[str, Any]], pairs: list[dict[str, Any]], actor_id: str,
                 actor_role: str) -> None:
        self.district_id = district_id
        self.period = period
        self.months = months
        self.lines = lines
        self.pairs = pairs


# --- periods ----------------------------------------------------------------------------------
def period_months(period: str) -> list[str]:
    """The months ("2026-11") of a period: a year "2026", a quarter "2026-Q4" or a month
    "2026-11"; InvalidRequest for anything else."""
    match = re.fullmatch(r"(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?", period)
    if match is None or not 2000 <= int(match.group(1)) <= 2999:
        raise InvalidRequest("period-invalid", period=period)
    year = int(match.group(1))
    if match.group(2):
        first = (int(match.group(2)) - 1) * 3 + 1
        return [f"{year:04d}-{m:02d}" for m in range(first, first + 3)]
    if match.group(3):
        return [f"{year:04d}-{match.group(3)}"]
    return [f"{year:04d}-{m:02d}" for m in range(1, 13)]


def month_key(instant: datetime, time_zone: str = DISTRICT_TIME_ZONE) -> str:
    """The month an instant falls in, in `time_zone`."""
    return f"{instant.astimezone(ZoneInfo(time_zone)):%Y-%m}"


def months_over(months: list[str], now: datetime, time_zone: str = DISTRICT_TIME_ZONE) -> bool:
    """Whether the last of `months` has ended at `now`."""
    return max(months) < month_key(now, time_zone)
