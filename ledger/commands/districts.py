"""Districts (街道): registering one, taking communities in, agreements with other districts,
and the net settlement of what communities owe each other (通存通兑) for a period."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from uuid import UUID

from ledger.actor import Actor
from ledger.domain.districts import (
    District,
    DistrictAgreement,
    DistrictRegister,
    DistrictSettlement,
    months_over,
    period_months,
)
from ledger.domain.registry import Community
from ledger.domain.timebank import Interchange
from ledger.errors import InvalidRequest, NotFound, NothingToSettle
from ledger.write.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class DistrictOut:
    id: UUID
    name: str
    communities: list[tuple[UUID, str]]  # id and name
    partners: list[UUID]


def _out(uow: UnitOfWork, district: District) -> DistrictOut:
    return DistrictOut(district.id, district.name,
                       [(c, uow.get(Community, c).name) for c in district.communities],
                       list(district.partners))


def check_district(by: Actor, district_id: UUID) -> None:
    """Refuse (as not found) a district outside the actor's grant: another district's staff,
    or a community's."""
    if by.community_id is not None or (by.district_id is not None
                                       and by.district_id != district_id):
        raise NotFound("not-found", thing="district")


def register_district(name: str, by: Actor) -> Callable[[UnitOfWork], DistrictOut]:
    def command(uow: UnitOfWork) -> DistrictOut:
        district = District.register(name, by)
        register = uow.find(DistrictRegister, DistrictRegister.create_id())
        if register is None:
            register = DistrictRegister()
            uow.add(register)
        register.add(district.id, by)
        uow.add(district)
        return _out(uow, district)

    return command


def add_community(district_id: UUID, community_id: UUID, by: Actor
                  ) -> Callable[[UnitOfWork], DistrictOut]:
    """Take a community into a district; one already in a district (even this one) is
    refused, and nothing changes."""

    def command(uow: UnitOfWork) -> DistrictOut:
        check_district(by, district_id)
        district = uow.get(District, district_id)
        community = uow.get(Community, community_id)
        community.join_district(district_id, by)
        district.add_community(community_id, by)
        return _out(uow, district)

    return command


@dataclass(frozen=True)
class AgreementOut:
    id: UUID
    district_id: UUID
    other_district_id: UUID
    credit_limit_minutes: int  # what the other district's communities may owe this one's
    other_credit_limit_minutes: int  # what this district's may owe the other's
    owes_minutes: int  # what this district's communities owe the other's now, net


def make_agreement(district_id: UUID, other_district_id: UUID, credit_limit_minutes: int,
                   by: Actor) -> Callable[[UnitOfWork], AgreementOut]:
    """Agree to 通存通兑 with another district, letting its communities owe this district's
    up to `credit_limit_minutes` (the other district sets the limit of the other way)."""

    def command(uow: UnitOfWork) -> AgreementOut:
        check_district(by, district_id)
        if credit_limit_minutes < 0:
            raise InvalidRequest("negative-limit")
        district = uow.get(District, district_id)
        other = uow.get(District, other_district_id)
        if other.id == district.id:
            raise InvalidRequest("agreement-own-district")
        agreement = uow.find(DistrictAgreement,
                             DistrictAgreement.create_id(district_id, other_district_id))
        if agreement is None:
            agreement = DistrictAgreement.make(district_id, other_district_id, by)
            uow.add(agreement)
        agreement.set_limit(district_id, credit_limit_minutes, by)
        district.note_partner(other.id, by)
        other.note_partner(district.id, by)
        return AgreementOut(agreement.id, district_id, other_district_id,
                            agreement.limit_for(other_district_id),
                            agreement.limit_for(district_id), agreement.owed_by(district_id))

    return command


def serving_scope(uow: UnitOfWork, home: Community, serving: Community
                  ) -> DistrictAgreement | None:
    """Check that `serving`'s staff may withdraw minutes of `home`'s members: the same
    district, or districts with an agreement (returned, to record the care in). Not found
    otherwise: the member is outside the serving community's scope."""
    if home.district_id is None or serving.district_id is None:
        raise NotFound("not-found", thing="member")
    if home.district_id == serving.district_id:
        return None
    agreement = uow.find(DistrictAgreement,
                         DistrictAgreement.create_id(home.district_id, serving.district_id))
    if agreement is None:
        raise NotFound("not-found", thing="member")
    return agreement


@dataclass(frozen=True)
class SettlementOut:
    id: UUID
    district_id: UUID
    period: str
    lines: list[dict[str, object]]
    pairs: list[dict[str, object]]


def settlement_out(settlement: DistrictSettlement) -> SettlementOut:
    return SettlementOut(settlement.id, settlement.district_id, settlement.period,
                         list(settlement.lines), list(settlement.pairs))


def settle(district_id: UUID, period: str, by: Actor, now: datetime
           ) -> Callable[[UnitOfWork], SettlementOut]:
    """Net what the communities of the district (and of districts it has agreements with)
    owe each other for care recorded in `period` into one line per community against the
    district's clearing account; every pair's position for the period goes back to zero.

    A period not over yet, one overlapping a settled one, or one with nothing owed is
    refused (`nothing-to-settle`), and nothing changes."""

    def command(uow: UnitOfWork) -> SettlementOut:
        check_district(by, district_id)
        district = uow.get(District, district_id)
        months = period_months(period)
        if not months_over(months, now, district.time_zone):
            raise NothingToSettle("period-not-over", period=period)
        district.check_unsettled(months)
        outside: dict[UUID, UUID] = {}  # a partner district's community -> its district
        for partner_id in district.partners:
            for community_id in uow.get(District, partner_id).communities:
                outside[community_id] = partner_id
        ours = list(district.communities)
        pairs = [*combinations(ours, 2), *((a, b) for a in ours for b in outside)]
        due: list[tuple[Interchange, int]] = []
        for a, b in pairs:
            interchange = uow.find(Interchange, Interchange.create_id(a, b))
            if interchange is not None and interchange.due_in(months):
                due.append((interchange, interchange.due_in(months)))
        if not due:
            raise NothingToSettle("nothing-in-period", period=period)
        settlement_id = DistrictSettlement.create_id(district_id, period)
        net: dict[UUID, int] = defaultdict(int, dict.fromkeys(ours, 0))
        pair_lines: list[dict[str, object]] = []
        across: dict[UUID, int] = defaultdict(int)  # what we owe each partner district
        for interchange, minutes in due:
            interchange.settle(settlement_id, months, by)
            debtor, creditor = ((interchange.first, interchange.second) if minutes > 0
                                else (interchange.second, interchange.first))
            net[debtor] += abs(minutes)
            net[creditor] -= abs(minutes)
            pair_lines.append({"debtor_id": str(debtor), "creditor_id": str(creditor),
                               "minutes": abs(minutes)})
            if debtor in outside:
                across[outside[debtor]] -= abs(minutes)
            elif creditor in outside:
                across[outside[creditor]] += abs(minutes)
        for partner_id, owed in across.items():
            agreement = uow.get(DistrictAgreement,
                                DistrictAgreement.create_id(district_id, partner_id))
            agreement.settle(settlement_id, owed if agreement.first == district_id else -owed,
                             by)
        lines: list[dict[str, object]] = [
            {"community_id": str(c), "district_id": str(outside.get(c, district_id)),
             "net_minutes": minutes} for c, minutes in net.items()]
        assert sum(int(str(line["net_minutes"])) for line in lines) == 0
        settlement = DistrictSettlement(
            district_id=district_id, period=period, months=months, lines=lines,
            pairs=pair_lines, actor_id=by.id, actor_role=by.role_value)
        uow.add(settlement)
        district.mark_settled(settlement.id, period, months, by)
        return settlement_out(settlement)

    return command
