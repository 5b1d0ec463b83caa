"""Request and response bodies of webhooks and notices."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas import In

EventKind = Literal[
    "redemption.created", "redemption.refunded",
    "hold.captured", "hold.voided", "hold.expired",
    "settlement.created",
    "award.posted", "award.reversed",
    "points.expiring",
    "service_request.dispatched", "service_request.completed", "service_request.rated",
    "reminder",
]


class WebhookIn(In):
    url: str = Field(min_length=1, max_length=500, description="http(s) URL on a public address")
    events: list[EventKind] = Field(max_length=20, description="At least one.")
    secret: str | None = Field(default=None, min_length=16, max_length=200,
                               description="Signs each delivery; made for you when omitted.")
    community_id: UUID | None = Field(default=None, description="Admin: the community.")
    merchant_id: UUID | None = Field(
        default=None, description="Staff or admin: a merchant of the community (its events "
        "only). A merchant's own key always subscribes the merchant.")


class WebhookOut(BaseModel):
    id: UUID
    url: str
    events: list[str]
    community_id: UUID
    merchant_id: UUID | None
    status: Literal["active", "disabled"] = "active"
    disabled_reason: str | None = None
    created_at: datetime | None = None


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signs the deliveries; in the answer that made it only "
                        "(a retry under the same Idempotency-Key answers it empty).")


class WebhooksOut(BaseModel):
    items: list[WebhookOut]
    next_cursor: str | None = None


class DeliveryOut(BaseModel):
    id: str
    webhook_id: str
    event_id: str
    kind: str
    position: int
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    response_code: int | None
    error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None


class DeliveriesOut(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class WebhookPatch(In):
    url: str | None = Field(default=None, min_length=1, max_length=500)
    events: list[EventKind] | None = Field(default=None, min_length=1, max_length=20)
    status: Literal["active", "disabled"] | None = Field(
        default=None, description="`active` takes up a disabled subscription (its pending "
        "deliveries are sent); `disabled` pauses it.")


class NoticeOut(BaseModel):
    id: str
    member_id: str
    kind: str
    text: str
    created_at: datetime


class NoticesOut(BaseModel):
    items: list[NoticeOut]
    next_cursor: str | None
