"""Request and response models of the care roster (关爱对象), wishes (微心愿) and proposals
(民意 → 民生清单)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from api.instants import Instant
from api.schemas import In, Minutes, Name, Text
from ledger.limits import TEXT_MAX_CHARS

CareCategory = Literal["独居", "高龄", "残疾", "困难"]
# Trimmed, then 1–500 characters: an empty text says nothing.
Said = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                        max_length=TEXT_MAX_CHARS)]


# --- care ------------------------------------------------------------------------------------
class CareIn(In):
    categories: list[CareCategory] = Field(min_length=1, max_length=4)
    observer_member_id: UUID = Field(description="The resident's observer (专属观察员), a "
                                     "member of the same community.")
    visit_every_days: int = Field(strict=True, ge=1, le=365)


class VisitIn(In):
    note: Text = ""
    occurred_at: Instant | None = None
    minutes: Minutes | None = Field(None, description="How long the visit took; the catalogue's "
                                    "default minutes of 探访 otherwise.")


class VisitOut(BaseModel):
    occurred_at: datetime
    note: str
    visitor_member_id: UUID | None
    actor: str
    role: str


class CareOut(BaseModel):
    personal_subject: ClassVar[str] = "member_id"  # whose personal data a keyed answer shows
    member_id: UUID
    name: str
    categories: list[str]
    observer_member_id: UUID
    observer_name: str
    visit_every_days: int
    since: datetime
    last_visit_at: datetime | None
    due_at: datetime
    overdue_days: int = Field(description="Whole days past `due_at` (0 when not yet due).")
    visits: list[VisitOut] = Field(description="The latest visits, newest first.")


class LoggedVisitOut(CareOut):
    minutes_deposited: int


class CareListOut(BaseModel):
    items: list[CareOut]


# --- wishes ----------------------------------------------------------------------------------
WishStatus = Literal["open", "claimed", "fulfilled"]


class WishIn(In):
    member_id: UUID = Field(description="Whose wish it is (the member's own token, or staff).")
    text: Said


class ClaimIn(In):
    member_id: UUID | None = Field(None, description="The volunteer (staff only; a member's "
                                   "token claims for itself).")


class WishOut(BaseModel):
    personal_subject: ClassVar[str] = "member_id"  # whose personal data a keyed answer shows
    id: UUID
    community_id: UUID
    member_id: UUID | None = Field(description="Shown to staff and to the wisher only.")
    name: str = Field(description="The wisher's name; masked (张*明) for other residents.")
    text: str
    status: WishStatus
    posted_at: datetime
    claimer_member_id: UUID | None
    claimer_name: str | None
    claimed_at: datetime | None
    fulfilled_at: datetime | None
    points: int = Field(description="Points the claimer earned under the WISH rule.")


class WishesOut(BaseModel):
    items: list[WishOut]
    next_cursor: int | None = None


# --- proposals -------------------------------------------------------------------------------
ProposalStatus = Literal["submitted", "listed", "in_progress", "done", "declined"]
ProposalKind = Literal["proposal", "complaint"]


class ProposalIn(In):
    community_id: UUID
    text: Said
    kind: ProposalKind = Field("proposal", description="A proposal (建议) or a complaint (诉求).")
    building_id: UUID | None = None
    member_id: UUID | None = Field(None, description="Whose it is: a member's token posts its "
                                   "own; staff name the member.")


class ProposalPatch(In):
    status: Literal["listed", "in_progress", "done", "declined"] | None = None
    priority: int | None = Field(None, strict=True, ge=1, le=3,
                                 description="1 most urgent, 3 least.")
    reply: Text | None = Field(None, description="What the resident reads.")
    award_rule_code: str | None = Field(
        None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
        description="An adopted proposal (金点子) earns its author this rule's points, once.")


class ProposalStepOut(BaseModel):
    status: str
    at: datetime


class ProposalOut(BaseModel):
    personal_subject: ClassVar[str] = "member_id"  # whose personal data a keyed answer shows
    id: UUID
    community_id: UUID
    member_id: UUID | None = Field(description="Shown to staff and to the author only.")
    name: str = Field(description="The author; masked (张*明) for other residents.")
    kind: ProposalKind
    text: str
    building_id: UUID | None
    status: ProposalStatus
    priority: int | None
    reply: str
    posted_at: datetime
    updated_at: datetime
    points: int
    award_status: str | None = None
    history: list[ProposalStepOut]


class ProposalsOut(BaseModel):
    items: list[ProposalOut]
    next_cursor: int | None = None


# --- buildings -------------------------------------------------------------------------------
class BuildingIn(In):
    name: Name
    grid_id: UUID
    leader_member_id: UUID | None = Field(None, description="The building's leader (楼栋长).")


class BuildingPatch(In):
    leader_member_id: UUID | None = Field(description="The new leader; null: none.")


class BuildingOut(BaseModel):
    personal_subject: ClassVar[str] = "leader_member_id"  # whose personal data a keyed answer shows
    id: UUID
    community_id: UUID
    name: str
    grid_id: UUID
    leader_member_id: UUID | None
    leader_name: str | None = None


class BuildingsOut(BaseModel):
    items: list[BuildingOut]


class BuildingHouseholdOut(BaseModel):
    household_id: UUID
    address: str
    points: int
    points_earned: int
    minutes: int
    minutes_earned: int


class BuildingLedgerOut(BuildingOut):
    households: list[BuildingHouseholdOut]
    points: int
    points_earned: int
    minutes: int
    minutes_earned: int
