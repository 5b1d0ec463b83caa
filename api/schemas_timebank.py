"""Request and response models of the time bank (时间银行) and service orders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from api.instants import Day, Instant
from api.schemas import In, Minutes, Name, Reason, RuleCode, Text, exactly_one_of
from ledger.limits import (
    AGE_MAX_YEARS,
    AUTO_CONFIRM_DAYS_MAX,
    CREDIT_LIMIT_MAX_MINUTES,
    STORAGE_CAP_MAX_MINUTES,
)

ServiceType = Annotated[str, Field(min_length=1, max_length=200,
                                   description="What was done, e.g. 助餐, 陪诊, 理发.")]
OrderStatus = Literal["requested", "dispatched", "accepted", "completed", "rated",
                      "under_review", "confirmed", "dismissed", "cancelled"]


# --- movements ------------------------------------------------------------------------------
class DepositIn(In):
    volunteer_id: UUID
    recipient_id: UUID | None = None
    minutes: Minutes
    service_type: ServiceType
    occurred_at: Instant | None = None
    team: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="The volunteer team (团队) the service was given as, if any.")


class DepositOut(BaseModel):
    id: UUID
    volunteer_id: UUID
    minutes: int
    balance_after: int
    donated: int = Field(description="Minutes over the storage cap, given to the pool.")
    points_awarded: int = Field(description="Points from the community's service rule.")


class WithdrawalIn(In):
    model_config = exactly_one_of(("member_id",), ("passbook_no",))

    member_id: UUID | None = Field(None, description="The member, or give `passbook_no`.")
    passbook_no: str | None = Field(None, max_length=32, description=(
        "The member's passbook number (积分存折号), e.g. at another community's counter (通兑)."))
    minutes: Minutes
    service_type: ServiceType
    provider_id: UUID | None = Field(
        None, description="The volunteer who gave the care (another community's: 通存通兑).")
    service_request_id: UUID | None = None
    serving_community_id: UUID | None = Field(None, description=(
        "The community whose service the member received (通兑); by default the caller's "
        "own, or the member's for an admin or a district's staff."))

    @model_validator(mode="after")
    def _one_member(self) -> WithdrawalIn:
        if (self.member_id is None) == (self.passbook_no is None):
            raise ValueError("field-member-or-passbook")
        return self


class WithdrawalOut(BaseModel):
    id: UUID
    member_id: UUID
    minutes: int
    balance_after: int
    serving_community_id: UUID | None = None


class TransferIn(In):
    from_member_id: UUID
    to_member_id: UUID
    minutes: Minutes


class TransferOut(BaseModel):
    id: UUID
    from_member_id: UUID
    to_member_id: UUID
    minutes: int
    balance_after: int


class DonationIn(In):
    member_id: UUID
    minutes: Minutes


class AllocationIn(In):
    community_id: UUID
    member_id: UUID
    minutes: Minutes
    reason: Reason


class MovementOut(BaseModel):
    id: UUID
    member_id: UUID
    minutes: int
    balance_after: int


# --- settings -------------------------------------------------------------------------------
class TimeBankPolicyIn(In):
    storage_cap_minutes: Annotated[
        int, Field(strict=True, ge=1, le=STORAGE_CAP_MAX_MINUTES)] | None = None
    over_cap: Literal["refuse", "donate"] = "refuse"
    gift_recipients: Literal["anyone", "relatives"] = "anyone"
    withdraw_min_age: Annotated[int, Field(strict=True, ge=1, le=AGE_MAX_YEARS)] | None = None
    team_minutes_donate_only: bool = False
    auto_confirm_days: Annotated[
        int, Field(strict=True, ge=1, le=AUTO_CONFIRM_DAYS_MAX)] | None = 7
    service_rule_code: RuleCode | None = None


class TimeBankPolicyOut(BaseModel):
    community_id: UUID
    storage_cap_minutes: int | None
    over_cap: str
    gift_recipients: str
    withdraw_min_age: int | None
    team_minutes_donate_only: bool
    auto_confirm_days: int | None
    service_rule_code: str | None


class PartnerLimitIn(In):
    credit_limit_minutes: Annotated[
        int, Field(strict=True, ge=0, le=CREDIT_LIMIT_MAX_MINUTES)] | None = Field(
        description="How many minutes the partner's members may owe us (null: no limit).")


class PositionOut(BaseModel):
    partner_id: UUID
    owes: int = Field(description="What we owe the partner in minutes (negative: it owes us).")
    partner_allows: int | None = Field(description="How much the partner lets us owe it.")
    we_allow: int | None = Field(description="How much we let the partner owe us.")


class TimeBankOut(BaseModel):
    community_id: UUID
    pool_minutes: int
    positions: list[PositionOut]


class RelativeIn(In):
    relative_id: UUID
    relation: Annotated[str, Field(min_length=1, max_length=50,
                                   description="e.g. 子女, 配偶, 父母")]


class BirthDateIn(In):
    birth_date: Day


# --- service orders -------------------------------------------------------------------------
class ServiceRequestIn(In):
    requester_id: UUID
    service_type: ServiceType
    description: Text = ""
    minutes_estimate: Minutes | None = None


class DispatchIn(In):
    model_config = exactly_one_of(("volunteer_id",), ("team_id",))

    volunteer_id: UUID | None = None
    team_id: UUID | None = Field(None, description="A team of the order's community instead "
                                 "of a volunteer: the first of its members to accept takes it.")

    @model_validator(mode="after")
    def _one_way(self) -> DispatchIn:
        if (self.volunteer_id is None) == (self.team_id is None):
            raise ValueError("field-volunteer-or-team")
        return self


class CompleteIn(In):
    minutes: Minutes


class RateIn(In):
    stars: Annotated[int, Field(strict=True, ge=1, le=5)]
    comment: Text = ""


class ConfirmIn(In):
    minutes: Minutes | None = Field(None, description="Verified minutes (default: as completed).")


class StepOut(BaseModel):
    status: OrderStatus
    at: datetime
    actor: str
    role: str
    detail: dict[str, Any] = Field(default_factory=dict)


class ServiceRequestOut(BaseModel):
    id: UUID
    status: OrderStatus
    community_id: UUID
    requester_id: UUID
    volunteer_id: UUID | None
    service_type: str
    description: str
    minutes_estimate: int | None
    minutes: int | None
    stars: int | None
    history: list[StepOut]
    team_id: UUID | None = None


class ServiceRequestRow(BaseModel):
    id: UUID
    status: OrderStatus
    community_id: UUID
    requester_id: UUID
    volunteer_id: UUID | None
    service_type: str
    minutes_estimate: int | None
    minutes: int | None
    stars: int | None
    requested_at: datetime
    updated_at: datetime
    description: str = ""
    requester_name: str = Field("", description="who asked for the service")
    requester_address: str = Field("", description="where: the requester's household address")


class ServiceRequestsOut(BaseModel):
    items: list[ServiceRequestRow]
    next_cursor: str | None


class ServiceRecordLine(BaseModel):
    id: UUID
    occurred_at: datetime
    recipient_id: UUID | None
    recipient_name: str | None
    service_type: str
    minutes: int
    stars: int | None
    team: str | None
    service_request_id: UUID | None


class ServiceRecordOut(BaseModel):
    member_id: UUID
    name: Name
    services: int
    minutes: int
    items: list[ServiceRecordLine]
    next_cursor: str | None
