"""Response models of leaderboards, households, the quarterly review and the dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from ledger.domain.assets import Asset


# --- leaderboards (公益达人榜) ---------------------------------------------------------------
class StandingOut(BaseModel):
    rank: int = Field(description="1, 2, 3… with no shared rank")
    subject_id: UUID = Field(description="a member id, a household id, or a team id")
    name: str = Field(description="in public views masked (张*明) and households named "
                                  "after their first listed member (张*明家)")
    earned: int
    community_id: UUID | None = Field(default=None, description=(
        "on a district's board: the subject's community"))


class LeaderboardOut(BaseModel):
    items: list[StandingOut]
    period: str
    community_id: UUID | None
    subject: Literal["member", "household", "team"]
    asset: Asset
    grid_id: UUID | None
    public: bool = Field(description="names masked and opted-out members left off")
    district_id: UUID | None = None


class DisplayChoiceOut(BaseModel):
    member_id: UUID
    opted_out: bool = Field(description="left off public leaderboards and reviews (公示)")


# --- households (家庭积分台账) ---------------------------------------------------------------
class HouseholdMemberOut(BaseModel):
    member_id: UUID
    name: str
    passbook_no: str
    points: int
    points_held: int
    points_earned: int
    minutes: int
    minutes_earned: int


class HouseholdBalanceOut(BaseModel):
    household_id: UUID
    points: int
    points_held: int
    points_available: int
    minutes: int
    points_earned: int
    minutes_earned: int
    members: list[HouseholdMemberOut]


class HouseholdPassbookLineOut(BaseModel):
    at: datetime
    kind: str
    amount: int
    balance_after: int = Field(description="the member's balance after this line")
    household_balance_after: int = Field(description="the household's balance after this line")
    reference: str
    description: str
    occurred_at: datetime = Field(description="when the deed was done (otherwise `at`)")
    counterparty: str = Field("", description="the shop, the other member, the activity")
    member_id: UUID = Field(description="whose line it is")
    name: str


class HouseholdPassbookOut(BaseModel):
    household_id: UUID
    asset: Asset
    items: list[HouseholdPassbookLineOut]
    next_cursor: str | None


# --- the quarterly review (季度积分评议) -----------------------------------------------------
class SummaryOut(BaseModel):
    points_earned: int
    banked_minutes: int
    banked_hours: float = Field(description="banked_minutes / 60, to one decimal")
    participants: int = Field(description="members who earned points or minutes")
    members: int = Field(description="members registered by the end of the quarter")
    participation_percent: float = Field(description="participants / members × 100, "
                                                     "to one decimal")


class RuleShareOut(BaseModel):
    rule_code: str
    name: str
    points: int
    awards: int
    previous_points: int
    change: int


class GridShareOut(BaseModel):
    grid_id: UUID | None = Field(description="null: members in no grid")
    name: str
    points: int
    previous_points: int
    change: int


class ServiceFiguresOut(BaseModel):
    """Service orders requested in a period (服务报表)."""

    requests: int
    completed: int
    rated: int
    satisfaction_percent: float | None = Field(
        description="Of the rated, the share rated 4–5 stars, one decimal (None: none rated).")
    median_dispatch_minutes: int | None = Field(description="Requested → dispatched.")
    median_completion_minutes: int | None = Field(description="Requested → completed.")


class ReviewOut(BaseModel):
    community_id: UUID
    quarter: str
    previous_quarter: str
    time_zone: str
    public: bool
    summary: SummaryOut
    previous: SummaryOut
    change: SummaryOut = Field(description="summary minus previous")
    top_members: list[StandingOut]
    top_households: list[StandingOut]
    points_by_rule: list[RuleShareOut]
    points_by_grid: list[GridShareOut]
    service: ServiceFiguresOut | None = Field(None, description="the quarter's service orders")
    previous_service: ServiceFiguresOut | None = None


# --- the dashboard --------------------------------------------------------------------------
class RuleMonthOut(BaseModel):
    rule_code: str
    name: str
    points: int
    awards: int


class MonthOut(BaseModel):
    month: str = Field(description="YYYY-MM, or YYYY for the year's total")
    points_issued: int
    points_redeemed: int
    points_refunded: int
    points_expired: int
    minutes_deposited: int
    minutes_withdrawn: int
    active_volunteers: int = Field(description="members who earned points or minutes")
    members: int = Field(description="members registered by the end of the month")
    by_rule: list[RuleMonthOut]
    postings_by_kind: dict[str, dict[str, int]] = Field(
        description="asset → posting kind → sum of members' postings (every kind)")


class DashboardOut(BaseModel):
    community_id: UUID
    year: int
    time_zone: str
    months: list[MonthOut]
    total: MonthOut
