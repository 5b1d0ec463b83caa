"""Request (`...In`, extra fields forbidden) and response (`...Out`) models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from api.instants import Instant
from ledger.actor import Role
from ledger.domain.assets import Asset
from ledger.limits import (
    ADJUSTMENT_MAX,
    CAP_MAX_POINTS,
    MINUTES_MAX,
    MINUTES_MIN,
    NAME_MAX_CHARS,
    POINTS_MAX,
    POINTS_MIN,
    QUANTITY_MAX,
    RULE_POINTS_MAX,
    TEXT_MAX_CHARS,
)

Points = Annotated[int, Field(strict=True, ge=POINTS_MIN, le=POINTS_MAX)]
Minutes = Annotated[int, Field(strict=True, ge=MINUTES_MIN, le=MINUTES_MAX)]
Quantity = Annotated[int, Field(strict=True, ge=1, le=QUANTITY_MAX)]
Cap = Annotated[int, Field(strict=True, ge=1, le=CAP_MAX_POINTS)]
# Names are trimmed (spaces, full-width ones too) before their length is checked: a name of
# three spaces is empty, 422.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                        max_length=NAME_MAX_CHARS)]
Text = Annotated[str, Field(max_length=TEXT_MAX_CHARS)]
Reason = Annotated[str, Field(min_length=1, max_length=TEXT_MAX_CHARS)]
RuleCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def exactly_one_of(*ways: tuple[str, ...]) -> ConfigDict:
    """A model's config whose JSON Schema says what its validator enforces: exactly one of
    `ways` is given, each way a set of fields given together and not null."""
    return ConfigDict(json_schema_extra={"oneOf": [
        {"required": list(way), "properties": {name: {"not": {"type": "null"}} for name in way}}
        for way in ways]})


# --- access ---------------------------------------------------------------------------------
class ApiKeyIn(In):
    role: Literal["admin", "staff", "merchant", "member", "auditor", "district_staff",
                  "district_auditor"]
    community_id: UUID | None = None
    district_id: UUID | None = Field(None, description="A district's key: its district.")
    merchant_id: UUID | None = None
    member_id: UUID | None = None
    label: Text = ""
    expires_at: Instant | None = Field(
        default=None, description="The key stops working then (401); none: it does not expire.")


class ApiKeyOut(BaseModel):
    id: UUID
    token: str = Field(description="Shown once; only its hash is stored.")
    role: Role
    community_id: UUID | None
    merchant_id: UUID | None
    member_id: UUID | None
    label: str
    expires_at: datetime | None = None
    district_id: UUID | None = None


class ApiKeyRow(BaseModel):
    """A key as listed: never its token or its hash."""

    id: UUID
    role: Role
    label: str
    community_id: UUID | None
    merchant_id: UUID | None
    member_id: UUID | None
    sign_in_link: bool = Field(description="Made for a sign-in link (or traded for one).")
    created_at: datetime
    expires_at: datetime | None
    revoked: bool


class ApiKeysOut(BaseModel):
    items: list[ApiKeyRow]
    next_cursor: str | None


# --- registry -------------------------------------------------------------------------------
class CommunityIn(In):
    name: Name
    time_zone: Annotated[str, Field(max_length=64)] = "Asia/Shanghai"


class GridOut(BaseModel):
    id: UUID
    name: str
    sort_order: int = 0


class CommunityOut(BaseModel):
    id: UUID
    name: str
    time_zone: str
    grids: list[GridOut]


class GridIn(In):
    name: Name


class HouseholdIn(In):
    community_id: UUID
    grid_id: UUID | None = None
    address: Name
    building_id: UUID | None = Field(None, description="Its building (楼栋); brings the "
                                     "building's grid.")


class HouseholdOut(BaseModel):
    personal_subject: ClassVar[str] = "id"  # whose personal data a keyed answer shows
    id: UUID
    community_id: UUID
    grid_id: UUID | None
    address: str
    building_id: UUID | None = None


class MemberIn(In):
    community_id: UUID
    name: Name
    household_id: UUID | None = None
    grid_id: UUID | None = None


class MemberOut(BaseModel):
    personal_subject: ClassVar[str] = "id"  # whose personal data a keyed answer shows
    id: UUID
    community_id: UUID
    name: str
    household_id: UUID | None
    grid_id: UUID | None
    passbook_no: str
    status: str = Field(default="active", description='"active", "moved_out" or "deceased"')


class MerchantIn(In):
    community_id: UUID
    name: Name


class MerchantOut(BaseModel):
    id: UUID
    community_id: UUID
    name: str
    status: str = Field(default="active", description='"active" or "closed"')


# --- rulebook -------------------------------------------------------------------------------
class RuleIn(In):
    name: Name
    points: Annotated[int, Field(strict=True, ge=1, le=RULE_POINTS_MAX)]
    unit: Literal["each", "hour"]
    daily_cap: Cap | None = None
    monthly_cap: Cap | None = None
    requires_approval: StrictBool = False


class RuleOut(BaseModel):
    code: str
    version: int
    name: str
    points: int
    unit: str
    daily_cap: int | None
    monthly_cap: int | None
    requires_approval: bool
    effective_at: datetime | None = Field(
        None, description="when this version took effect (null: from the start)")
    retired: bool = False


class RulesOut(BaseModel):
    items: list[RuleOut]


# --- points ---------------------------------------------------------------------------------
class AwardTermsIn(In):
    """What an award gives, under which rule and when: the part one award and a batch share."""

    rule_code: RuleCode
    quantity: Quantity | SkipJsonSchema[None] = None
    minutes: Minutes | SkipJsonSchema[None] = None
    occurred_at: Instant | None = None
    note: Text = ""

    @field_validator("quantity", "minutes", mode="before")
    @classmethod
    def _given_means_a_number(cls, value: object) -> object:
        if value is None:
            raise ValueError("field-whole-or-absent")
        return value


class AwardIn(AwardTermsIn):
    member_id: UUID


class AwardOut(BaseModel):
    id: UUID
    member_id: UUID
    rule_code: str
    rule_version: int
    status: Literal["posted", "pending", "rejected", "reversed"]
    points: int
    occurred_at: datetime
    reason: str | None = None
    requested_points: int | None = Field(
        None, description="what the rule gave before a cap cut it (null: recorded before "
        "this was kept)")
    capped: bool = Field(False, description="true where a cap cut the points")
    reversed_points: int = Field(0, description="points taken back so far")


class ReasonIn(In):
    reason: Reason


class ReversalIn(In):
    reason: Reason
    points: Points | None = Field(None, description="a part of the award (default: all that "
                                  "is left of it)")
    allow_debt: StrictBool = Field(False, description=(
        "take back points already spent: the member's balance goes below zero and later "
        "earnings repay it first"))


Pin = Annotated[str, Field(pattern=r"^[0-9]{6}$", min_length=6, max_length=6,
                           description="6 digits")]


class AtTill(In):
    """How a till names the member: the member's payment code, their passbook number and PIN,
    or (where the community's policy allows it) their id. Exactly one of these."""

    model_config = exactly_one_of(("member_id",), ("payment_code",), ("passbook_no", "pin"))

    member_id: UUID | None = None
    payment_code: Annotated[str | None, Field(max_length=64, description=(
        "the 18 digits of the member's payment code (付款码); spaces and hyphens are "
        "ignored"))] = None
    passbook_no: Annotated[str | None, Field(min_length=1, max_length=32)] = None
    pin: Pin | None = None

    @model_validator(mode="after")
    def _one_way(self) -> AtTill:
        ways = ((self.member_id is not None) + (self.payment_code is not None)
                + (self.passbook_no is not None or self.pin is not None))
        if ways != 1:
            raise ValueError("field-one-way")
        if (self.passbook_no is None) != (self.pin is None):
            raise ValueError("field-pin-with-passbook")
        return self


class RedemptionIn(AtTill):
    points: Points
    description: Text = ""


class RedemptionOut(BaseModel):
    id: UUID
    member_id: UUID
    merchant_id: UUID
    points: int
    balance_after: int


class RefundIn(In):
    points: Points


class RefundOut(BaseModel):
    id: UUID
    redemption_id: UUID
    points: int
    balance_after: int


class AdjustmentIn(In):
    model_config = exactly_one_of(("member_id",), ("merchant_id",))

    member_id: UUID | None = None
    merchant_id: UUID | None = None
    asset: Asset
    amount: Annotated[int, Field(strict=True, ge=-ADJUSTMENT_MAX, le=ADJUSTMENT_MAX)]
    reason: Reason


class AdjustmentOut(BaseModel):
    id: UUID
    member_id: UUID | None
    merchant_id: UUID | None
    asset: Asset
    amount: int
    balance_after: int


# --- reads ----------------------------------------------------------------------------------
class BalanceOut(BaseModel):
    member_id: UUID
    points: int
    points_held: int
    points_available: int
    minutes: int
    points_earned: int
    minutes_earned: int
    minutes_pending: int = Field(0, description="Minutes of completed services waiting for "
                                 "a rating or confirmation (not yet in `minutes`).")
    points_expiring_next: int = Field(0, description="Points due to expire next.")
    points_expiring_at: datetime | None = Field(None, description="When they expire.")
    as_of: datetime


class PassbookLineOut(BaseModel):
    at: datetime
    occurred_at: datetime = Field(description=(
        "when the deed was done (an award's or a deposit's occurred_at); otherwise `at`"))
    kind: str
    amount: int
    balance_after: int
    reference: str
    description: str
    counterparty: str = Field("", description=(
        "the other side: the shop, the other member of a gift (转赠), the activity"))


class PassbookOut(BaseModel):
    member_id: UUID
    asset: Asset
    items: list[PassbookLineOut]
    next_cursor: str | None


# --- merchants ------------------------------------------------------------------------------
class HoldIn(AtTill):
    points: Points
    description: Text = Field("", description="what is bought; the capture's redemption "
                              "carries it to the statement and the passbook")
    expires_in_seconds: Annotated[int, Field(strict=True, ge=1, le=7 * 24 * 3600)] = 600


class HoldOut(BaseModel):
    id: UUID
    status: Literal["held", "captured", "voided", "expired"]
    member_id: UUID
    merchant_id: UUID
    points: int
    expires_at: datetime
    redemption_id: UUID | None = None
    captured: int = 0


class CaptureIn(In):
    points: Points | None = None


class CaptureOut(BaseModel):
    id: UUID
    status: Literal["captured"]
    redemption_id: UUID
    points: int
    balance_after: int


class PolicyIn(In):
    points_expiry: Literal["never", "months_after_earning", "end_of_nth_year"] = "never"
    n: Annotated[int, Field(strict=True, ge=0, le=120)] = 0
    daily_redemption_limit_points: Points | None = None
    redemption_consent: Literal["payment_code", "member_id"] = Field(
        default="payment_code", description=(
            "what a till needs to take a member's points: the member's payment code (or "
            "passbook number and PIN), or (member_id) naming the member is enough"))
    award_approval: Literal["any_staff", "another_staff"] = Field(
        default="any_staff", description=(
            "who may approve an award waiting for approval: any staff member, or only "
            "another than the one who recorded it (四眼原则)"))


class PolicyOut(BaseModel):
    community_id: UUID
    points_expiry: str
    n: int
    daily_redemption_limit_points: int | None
    redemption_consent: Literal["payment_code", "member_id"]
    award_approval: Literal["any_staff", "another_staff"] = "any_staff"


# --- consent at the till --------------------------------------------------------------------
class PaymentCodeIn(In):
    """Nothing to send: the code is for the member of the path."""


class PaymentCodeOut(BaseModel):
    code: str = Field(description="18 digits, shown as a QR code and as digits")
    member_id: UUID
    expires_at: datetime


class PinIn(In):
    pin: Pin


class SignInLinkIn(In):
    """Nothing to send: the link is for the member of the path."""


class SignInLinkOut(BaseModel):
    url: str = Field(description="the sign-in page with a fresh member token (for a QR code)")
    member_id: UUID
    expires_at: datetime


class SignedInOut(BaseModel):
    token: str = Field(description="the phone's own member token; the link's stops working")
    member_id: UUID


class StatementLineOut(BaseModel):
    at: datetime
    kind: str
    points: int
    balance_after: int
    reference: str
    description: str
    counterparty: str = Field("", description="the member (masked name)")


class StatementTotals(BaseModel):
    redeemed: int
    refunded: int
    settled: int
    adjusted: int
    unsettled: int


class StatementOut(BaseModel):
    merchant_id: UUID
    opening_balance: int = Field(description="Unsettled points before `from`.")
    items: list[StatementLineOut]
    totals: StatementTotals = Field(
        description="Over the whole period: unsettled = opening_balance + redeemed − refunded "
                    "− settled + adjusted.")
    next_cursor: str | None


class SettlementIn(In):
    """Empty: a settlement takes everything unsettled."""


class SettlementOut(BaseModel):
    id: UUID
    merchant_id: UUID
    points: int


# --- registry changes (PATCH: only the fields sent change) -----------------------------------
class MemberPatch(In):
    name: Name | SkipJsonSchema[None] = None
    household_id: UUID | None = Field(None, description="null: the member leaves its household")
    grid_id: UUID | None = Field(None, description="null: no grid")
    birth_date: date | SkipJsonSchema[None] = None
    status: Literal["active", "moved_out", "deceased"] | SkipJsonSchema[None] = None
    reason: Text = ""

    @model_validator(mode="after")
    def _no_nulls(self) -> MemberPatch:
        for name in ("name", "birth_date", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"field-not-null:{name}")
        if self.birth_date is not None and self.birth_date > date.today():
            raise ValueError("field-birth-date-future")
        return self


class HouseholdPatch(In):
    address: Name | SkipJsonSchema[None] = None
    grid_id: UUID | None = Field(None, description="null: no grid")
    building_id: UUID | None = Field(None, description="null: no building; a building brings "
                                     "its grid")
    reason: Text = ""

    @model_validator(mode="after")
    def _no_nulls(self) -> HouseholdPatch:
        if "address" in self.model_fields_set and self.address is None:
            raise ValueError("field-not-null:address")
        return self


class MerchantPatch(In):
    name: Name | SkipJsonSchema[None] = None
    status: Literal["active", "closed"] | SkipJsonSchema[None] = None
    reason: Text = ""

    @model_validator(mode="after")
    def _no_nulls(self) -> MerchantPatch:
        for name in ("name", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"field-not-null:{name}")
        return self


class GridPatch(In):
    name: Name | SkipJsonSchema[None] = None
    sort_order: Annotated[int, Field(strict=True, ge=-1_000_000,
                                     le=1_000_000)] | SkipJsonSchema[None] = None
    reason: Text = ""

    @model_validator(mode="after")
    def _no_nulls(self) -> GridPatch:
        for name in ("name", "sort_order"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"field-not-null:{name}")
        return self


class MemberDetailOut(MemberOut):
    birth_date: date | None = None


class CommunityItemOut(BaseModel):
    id: UUID
    name: str
    time_zone: str


class CommunityListOut(BaseModel):
    items: list[CommunityItemOut]
    next_cursor: str | None


class GridListOut(BaseModel):
    items: list[GridOut]
    next_cursor: str | None


class HouseholdListOut(BaseModel):
    items: list[HouseholdOut]
    next_cursor: str | None


class MerchantListOut(BaseModel):
    items: list[MerchantOut]
    next_cursor: str | None
