"""Request and response models of districts (街道): their communities, agreements between
districts, net settlements, the dashboard and the redemption guarantee."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas import In, Name
from ledger.limits import CREDIT_LIMIT_MAX_MINUTES

Period = Annotated[str, Field(max_length=8, pattern=r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$",
                              description="a year (2026), a quarter (2026-Q4) or a month "
                              "(2026-11), in the district's time zone")]


class DistrictIn(In):
    name: Name


class DistrictCommunityIn(In):
    community_id: UUID


class DistrictCommunityOut(BaseModel):
    id: UUID
    name: str


class DistrictOut(BaseModel):
    id: UUID
    name: str
    communities: list[DistrictCommunityOut]
    partners: list[UUID] = Field(default_factory=list,
                                 description="districts it has an agreement with")


class DistrictsOut(BaseModel):
    items: list[DistrictOut]


class AgreementIn(In):
    other_district_id: UUID
    credit_limit_minutes: int = Field(ge=0, le=CREDIT_LIMIT_MAX_MINUTES, description=(
        "how many minutes the other district's communities may owe this one's, net"))


class AgreementOut(BaseModel):
    id: UUID
    district_id: UUID
    other_district_id: UUID
    credit_limit_minutes: int = Field(description="what the other district may owe this one")
    other_credit_limit_minutes: int = Field(description=(
        "what this district may owe the other (0 until the other district sets it)"))
    owes_minutes: int = Field(description="what this district owes the other now, net")


class SettlementIn(In):
    period: Period


class SettlementLineOut(BaseModel):
    community_id: UUID
    district_id: UUID
    net_minutes: int = Field(description="positive: the community pays the district's clearing "
                             "account; negative: it is paid")


class SettlementPairOut(BaseModel):
    debtor_id: UUID
    creditor_id: UUID
    minutes: int


class SettlementOut(BaseModel):
    id: UUID
    district_id: UUID
    period: str
    lines: list[SettlementLineOut]
    pairs: list[SettlementPairOut]


class SettlementsOut(BaseModel):
    items: list[SettlementOut]


class PositionOut(BaseModel):
    community_id: UUID
    net_minutes: int = Field(description="what the community owes its partners now, net "
                             "(negative: is owed)")
    owes: dict[str, int] = Field(description="per partner community")


class PositionsOut(BaseModel):
    items: list[PositionOut]


class FiguresOut(BaseModel):
    month: str
    members: int
    volunteers: int
    minutes_deposited: int
    minutes_withdrawn: int
    points_issued: int
    points_redeemed: int


class CommunityFiguresOut(BaseModel):
    community_id: UUID
    name: str
    months: list[FiguresOut]
    total: FiguresOut


class DistrictDashboardOut(BaseModel):
    district_id: UUID
    year: int
    time_zone: str
    communities: list[CommunityFiguresOut]
    months: list[FiguresOut]
    total: FiguresOut


class GuaranteeLineOut(BaseModel):
    community_id: UUID
    name: str
    owed_minutes: int = Field(description="the minutes the community's residents hold")
    holders: int
    reserve_minutes: int = Field(description="the community's pool (公益池)")


class GuaranteeOut(BaseModel):
    district_id: UUID
    items: list[GuaranteeLineOut]
    owed_minutes: int
    reserve_minutes: int
    coverage_percent: float | None = Field(description="reserve ÷ owed, one decimal "
                                           "(none when nothing is owed)")
