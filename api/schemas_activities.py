"""Request and response models of awards in bulk and of activities (活动签到)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool, field_validator, model_validator

from api.instants import Instant
from api.schemas import AwardOut, AwardTermsIn, In, Name, RuleCode, exactly_one_of
from ledger.limits import AWARD_BATCH_MAX, NAME_MAX_CHARS


class AwardBatchIn(AwardTermsIn):
    member_ids: list[UUID] = Field(min_length=1, max_length=AWARD_BATCH_MAX)

    @field_validator("member_ids")
    @classmethod
    def _each_once(cls, value: list[UUID]) -> list[UUID]:
        if len(set(value)) != len(value):
            raise ValueError("field-unique-members")
        return value


class AwardBatchItemOut(BaseModel):
    member_id: UUID
    status: int = Field(description="201, or the status of the problem that refused it")
    award: AwardOut | None = None
    problem: dict[str, Any] | None = None


class AwardBatchOut(BaseModel):
    items: list[AwardBatchItemOut]


class ApprovalBatchIn(In):
    award_ids: list[UUID] = Field(min_length=1, max_length=AWARD_BATCH_MAX,
                                  description="Pending awards to post, each on its own.")


    @field_validator("award_ids")
    @classmethod
    def _each_once(cls, value: list[UUID]) -> list[UUID]:
        if len(set(value)) != len(value):
            raise ValueError("field-unique-awards")
        return value


class ApprovalBatchItemOut(BaseModel):
    award_id: UUID
    status: int = Field(description="200, or the status of the problem that refused it")
    award: AwardOut | None = None
    problem: dict[str, Any] | None = None


class ApprovalBatchOut(BaseModel):
    items: list[ApprovalBatchItemOut]


# --- activities -----------------------------------------------------------------------------


class ActivityIn(In):
    community_id: UUID
    title: Name
    starts_at: Instant
    ends_at: Instant
    rule_code: RuleCode | None = None
    timebank: StrictBool = False
    place: str = Field("", max_length=NAME_MAX_CHARS)


class ActivityCreatedOut(BaseModel):
    id: UUID
    check_in_code: str


class AttendanceIn(In):
    model_config = exactly_one_of(("code",), ("member_id",))

    code: str | None = Field(None, min_length=1, max_length=64)
    member_id: UUID | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AttendanceIn:
        if (self.code is None) == (self.member_id is None):
            raise ValueError("field-code-or-member")
        return self


class AttendanceOut(BaseModel):
    activity_id: UUID
    member_id: UUID
    at: datetime


class AttendeeOut(BaseModel):
    member_id: UUID
    name: str
    checked_in_at: datetime
    checked_out_at: datetime | None = None
    minutes: int | None = None


class ActivityOut(BaseModel):
    id: UUID
    community_id: UUID
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    rule_code: str | None
    timebank: bool
    status: str
    check_in_code: str | None = Field(None, description="staff only")
    attendees: list[AttendeeOut] = []
    outcome: dict[str, Any] | None = Field(None, description="what closing it gave")


class ActivityListOut(BaseModel):
    items: list[ActivityOut]


class ClosingOut(BaseModel):
    attendees: int
    awards: int
    minutes_deposited: int
    unfinished: list[UUID]
    points_awarded: int = 0
