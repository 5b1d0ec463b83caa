"""What the API answers, as typed, frozen dataclasses (fields beyond these are ignored)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


def _instant(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def build(cls: type[T], data: dict[str, Any]) -> T:
    """An instance of the dataclass `cls` from a JSON object (instants parsed)."""
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    values = {}
    for name, field in known.items():
        if name in data:
            value = data[name]
            values[name] = _instant(value) if "datetime" in str(field.type) else value
    return cls(**values)


@dataclass(frozen=True)
class PaymentCode:
    code: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Redemption:
    id: str
    member_id: str
    merchant_id: str
    points: int
    balance_after: int


@dataclass(frozen=True)
class Refund:
    id: str
    points: int
    balance_after: int


@dataclass(frozen=True)
class Hold:
    id: str
    status: str
    expires_at: datetime | None = None
    redemption_id: str | None = None


@dataclass(frozen=True)
class Balance:
    member_id: str
    points: int
    points_held: int
    points_available: int
    minutes: int


@dataclass(frozen=True)
class Settlement:
    points: int


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    events: list[str]
    community_id: str
    merchant_id: str | None = None
    status: str = "active"
    disabled_reason: str | None = None
    secret: str | None = None  # only in the answer that made it


@dataclass(frozen=True)
class Delivery:
    id: str
    webhook_id: str
    event_id: str
    kind: str
    position: int
    status: str  # pending, delivered, failed
    attempts: int
    response_code: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """One delivery's body: `type` is its kind (`redemption.created`, …)."""

    id: str
    type: str
    created_at: datetime | None
    community_id: str
    merchant_id: str | None
    data: dict[str, Any]
    position: int = 0
