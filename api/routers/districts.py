"""Districts (街道): registering one and its communities, agreements between districts,
net settlements of what communities owe each other (通存通兑) with a statement per community,
the dashboard across communities, what each community owes now, and the redemption
guarantee."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from api.deps import (
    ActorDep,
    AdminActor,
    IdempotencyKey,
    LinliDep,
    StaffDistrict,
    StaffOrAuditorDistrict,
    caught_up,
    load,
)
from api.exports import FORMATS, Cell, Format, Sheet, chosen_format, export, word
from api.idempotency import Keyed, WriteDep, run_keyed
from api.schemas_districts import (
    AgreementIn,
    AgreementOut,
    CommunityFiguresOut,
    DistrictCommunityIn,
    DistrictCommunityOut,
    DistrictDashboardOut,
    DistrictIn,
    DistrictOut,
    DistrictsOut,
    FiguresOut,
    GuaranteeLineOut,
    GuaranteeOut,
    PositionOut,
    PositionsOut,
    SettlementIn,
    SettlementLineOut,
    SettlementOut,
    SettlementPairOut,
    SettlementsOut,
)
from ledger.actor import Role
from ledger.commands import districts
from ledger.domain.districts import District, DistrictRegister, DistrictSettlement
from ledger.errors import NotFound
from projections import districts as district_views
from projections.periods import YEAR_MAX, YEAR_MIN

router = APIRouter(prefix="/v1/districts", tags=["districts"])

FormatQuery = Annotated[Format | None, Query(alias="format", description="json, csv or xlsx "
                                             "(else the Accept header decides)")]


def _district_out(linli: LinliDep, district: District) -> DistrictOut:
    caught_up(linli)
    ids = [str(c) for c in district.communities]
    names = district_views.community_names(linli.engine, ids)
    return DistrictOut(id=district.id, name=district.name, communities=[
        DistrictCommunityOut(id=UUID(c), name=names.get(c, "")) for c in ids],
        partners=list(district.partners))


@router.post("", status_code=201, response_model=DistrictOut)
def create_district(body: DistrictIn, actor: AdminActor, linli: LinliDep, write: WriteDep
                    ) -> Response:
    """A district (admin); communities join it one by one."""
    return write.execute(districts.register_district(body.name, actor), _written, body)


def _written(d: districts.DistrictOut) -> DistrictOut:
    return DistrictOut(id=d.id, name=d.name, communities=[
        DistrictCommunityOut(id=c, name=name) for c, name in d.communities],
        partners=d.partners)


@router.get("", response_model=DistrictsOut)
def list_districts(actor: ActorDep, linli: LinliDep) -> DistrictsOut:
    """Every district for an admin (or an auditor of every community); a district's staff and
    auditors their own; nothing for others."""
    if actor.district_id is not None:
        return DistrictsOut(items=[_district_out(linli, load(linli, District,
                                                             actor.district_id))])
    if actor.scoped or actor.role not in (Role.ADMIN, Role.AUDITOR):
        return DistrictsOut(items=[])
    try:
        register = load(linli, DistrictRegister, DistrictRegister.create_id())
    except NotFound:
        return DistrictsOut(items=[])
    return DistrictsOut(items=[_district_out(linli, load(linli, District, i))
                               for i in register.districts])


@router.get("/{district_id}", response_model=DistrictOut)
def get_district(district: StaffOrAuditorDistrict, linli: LinliDep) -> DistrictOut:
    return _district_out(linli, district)


@router.post("/{district_id}/communities", response_model=DistrictOut)
def add_community(district_id: UUID, body: DistrictCommunityIn, request: Request,
                  actor: AdminActor, linli: LinliDep, write: WriteDep) -> Response:
    """Take a community into the district (admin); a community already in a district → 409
    `community-in-district`. The district's keys reach it at once."""
    answer = write.execute(districts.add_community(district_id, body.community_id, actor),
                           _written, body)
    request.app.state.key_cache.clear()  # the district's keys now reach one more community
    return answer


@router.post("/{district_id}/agreements", status_code=201, response_model=AgreementOut)
def make_agreement(body: AgreementIn, district: StaffDistrict, actor: ActorDep,
                   write: WriteDep) -> Response:
    """Agree to 通存通兑 with another district (its staff, or an admin): the other district's
    communities may owe this one's up to `credit_limit_minutes`; the other district sets the
    limit of the other way (0 until it does). Again: a new limit."""
    return write.execute(districts.make_agreement(
        district.id, body.other_district_id, body.credit_limit_minutes, actor),
        lambda a: AgreementOut(**vars(a)), body)


def _settlement_out(s: districts.SettlementOut) -> SettlementOut:
    return SettlementOut(
        id=s.id, district_id=s.district_id, period=s.period,
        lines=[SettlementLineOut.model_validate(line) for line in s.lines],
        pairs=[SettlementPairOut.model_validate(pair) for pair in s.pairs])


@router.post("/{district_id}/settlements", status_code=201, response_model=SettlementOut)
async def settle(body: SettlementIn, request: Request, district: StaffDistrict,
                 actor: ActorDep, linli: LinliDep, key: IdempotencyKey = None) -> Response:
    """Net every community's position for a period that is over (◆ Idempotency-Key): one line
    per community against the district's clearing account, and every pair's position for the
    period back to zero. Nothing owed, a period not over, or one overlapping a settled one
    → 409 `nothing-to-settle`."""
    return await run_keyed(
        linli, actor, key, method="POST", path=request.url.path, body=body,
        keyed=Keyed(districts.settle(district.id, body.period, actor, now=linli.clock()),
                    _settlement_out))


@router.get("/{district_id}/settlements", response_model=SettlementsOut)
def list_settlements(district: StaffOrAuditorDistrict, linli: LinliDep) -> SettlementsOut:
    """The district's settlements, oldest first."""
    return SettlementsOut(items=[
        _settlement_out(districts.settlement_out(load(linli, DistrictSettlement, s)))
        for s in district.settlements])


@router.get("/{district_id}/settlements/{settlement_id}/statement",
            response_model=SettlementOut, responses={200: FORMATS})
def settlement_statement(
    settlement_id: UUID, district: StaffOrAuditorDistrict, linli: LinliDep, request: Request,
    community_id: UUID | None = None, output: FormatQuery = None,
) -> SettlementOut | Response:
    """A settlement as JSON; as CSV or XLSX (in the reader's language, Chinese by default)
    the statement of one community (`community_id`: what it pays or is paid, partner by
    partner, and its net), or of every community."""
    settlement = load(linli, DistrictSettlement, settlement_id)
    if settlement.district_id != district.id:
        raise NotFound("not-found", thing="districtsettlement")
    chosen = chosen_format(output, request)
    out = _settlement_out(districts.settlement_out(settlement))
    if chosen is Format.JSON:
        return out
    caught_up(linli)
    ids = {str(line.community_id) for line in out.lines}
    names = district_views.community_names(linli.engine, sorted(ids))
    wanted = [str(community_id)] if community_id is not None else sorted(
        ids, key=lambda c: names.get(c, c))
    if community_id is not None and str(community_id) not in ids:
        raise NotFound("not-found", thing="community")
    sheet = Sheet(f"{district.name} {word('district_statement')} {out.period}",
                  ["period", "community", "partner_community", "minutes_payable",
                   "minutes_receivable", "net_minutes"], totals=len(wanted))
    totals: list[list[Cell]] = []
    for community in wanted:
        for pair in out.pairs:
            debtor, creditor = str(pair.debtor_id), str(pair.creditor_id)
            if community == debtor:
                sheet.rows.append([out.period, names.get(community, community),
                                   names.get(creditor, creditor), pair.minutes, 0, None])
            elif community == creditor:
                sheet.rows.append([out.period, names.get(community, community),
                                   names.get(debtor, debtor), 0, pair.minutes, None])
        net = next(line.net_minutes for line in out.lines if str(line.community_id) == community)
        totals.append([out.period, names.get(community, community), word("clearing_account"),
                       max(net, 0), max(-net, 0), net])
    sheet.rows.extend(totals)
    return export(sheet, chosen, f"settlement-{out.period}")


@router.get("/{district_id}/positions", response_model=PositionsOut)
def get_positions(district: StaffOrAuditorDistrict, linli: LinliDep) -> PositionsOut:
    """What each community of the district owes its partners now, per partner and net."""
    caught_up(linli)
    ids = [str(c) for c in district.communities]
    owes = district_views.positions(linli.engine, ids)
    return PositionsOut(items=[PositionOut(community_id=UUID(c),
                                           net_minutes=sum(owes[c].values()), owes=owes[c])
                               for c in ids])


def _figures(f: district_views.Figures) -> FiguresOut:
    return FiguresOut(month=f.month, members=f.members, volunteers=f.volunteers,
                      minutes_deposited=f.minutes_deposited,
                      minutes_withdrawn=f.minutes_withdrawn, points_issued=f.points_issued,
                      points_redeemed=f.points_redeemed)


DISTRICT_FIGURES = ["members", "volunteers", "minutes_deposited", "minutes_withdrawn",
                    "points_issued", "points_redeemed"]


@router.get("/{district_id}/dashboard", response_model=DistrictDashboardOut,
            responses={200: FORMATS})
def get_dashboard(
    district: StaffOrAuditorDistrict, linli: LinliDep, request: Request,
    year: Annotated[int, Query(ge=YEAR_MIN, le=YEAR_MAX)], output: FormatQuery = None,
) -> DistrictDashboardOut | Response:
    """Members, volunteers who banked minutes, minutes banked and used, points issued and
    redeemed: per community and month, and the district's; as JSON, CSV or XLSX (charts:
    `/web/charts/district.svg`)."""
    chosen = chosen_format(output, request)
    caught_up(linli)
    ids = [str(c) for c in district.communities]
    figures = district_views.ANSWERS.get(
        ("dashboard", str(linli.engine.url), *ids, year), linli.projections.position,
        lambda: district_views.dashboard(linli.engine, ids, year, district.time_zone))
    dashboard = DistrictDashboardOut(
        district_id=district.id, year=year, time_zone=figures.time_zone,
        communities=[CommunityFiguresOut(community_id=UUID(c.community_id), name=c.name,
                                         months=[_figures(m) for m in c.months],
                                         total=_figures(c.total))
                     for c in figures.communities],
        months=[_figures(m) for m in figures.months], total=_figures(figures.total))
    if chosen is Format.JSON:
        return dashboard
    sheet = Sheet(f"{district.name} {year} {word('district_dashboard')}",
                  ["community", "month", *DISTRICT_FIGURES], time_zone=district.time_zone,
                  totals=13)
    for community in dashboard.communities:
        for month in [*community.months, community.total]:
            values = month.model_dump()
            sheet.rows.append([community.name, month.month,
                               *(values[f] for f in DISTRICT_FIGURES)])
    for month in [*dashboard.months, dashboard.total]:
        values = month.model_dump()
        sheet.rows.append([district.name, month.month, *(values[f] for f in DISTRICT_FIGURES)])
    return export(sheet, chosen, f"district-dashboard-{year}")


@router.get("/{district_id}/guarantee", response_model=GuaranteeOut)
def get_guarantee(district: StaffOrAuditorDistrict, linli: LinliDep) -> GuaranteeOut:
    """The redemption guarantee (兑付保障): the minutes each community's residents hold,
    against its pool (公益池), and the district's coverage."""
    caught_up(linli)
    lines = district_views.guarantee(linli.engine, [str(c) for c in district.communities])
    owed = sum(line.owed_minutes for line in lines)
    reserve = sum(line.reserve_minutes for line in lines)
    return GuaranteeOut(
        district_id=district.id,
        items=[GuaranteeLineOut(community_id=UUID(line.community_id), name=line.name,
                                owed_minutes=line.owed_minutes, holders=line.holders,
                                reserve_minutes=line.reserve_minutes) for line in lines],
        owed_minutes=owed, reserve_minutes=reserve,
        coverage_percent=round(100 * reserve / owed, 1) if owed else None)
