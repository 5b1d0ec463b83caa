"""Request and response models of volunteer teams, the service catalogue and the service
report."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas import In, Minutes, Name, RuleCode
from api.schemas_reports import ServiceFiguresOut

ServiceCode = Annotated[str, Field(min_length=1, max_length=200,
                                   description="The service's code, e.g. 助餐, 日间照料.")]


class TeamIn(In):
    community_id: UUID
    name: Name


class TeamMemberIn(In):
    member_id: UUID


class TeamMemberOut(BaseModel):
    member_id: UUID
    name: str


class TeamOut(BaseModel):
    id: UUID
    community_id: UUID
    name: str
    members: list[TeamMemberOut]


class TeamsOut(BaseModel):
    items: list[TeamOut]


class ServiceIn(In):
    name: Name
    default_minutes: Minutes
    rule_code: RuleCode | None = Field(None, description="A rule of the rulebook that awards "
                                       "points for each service done.")


class ServiceOut(BaseModel):
    code: str
    name: str
    default_minutes: int
    rule_code: str | None


class ServicesOut(BaseModel):
    community_id: UUID
    items: list[ServiceOut]


class ServiceReportOut(ServiceFiguresOut):
    community_id: UUID
    period: str
