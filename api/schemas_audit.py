"""Response models of the audit endpoints: the events feed and verify."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ActorOut(BaseModel):
    id: str
    role: str


class EventOut(BaseModel):
    position: int = Field(description="Position in the log (notification id); gaps happen.")
    stream_id: str
    version: int
    type: str = Field(description="Aggregate and event, e.g. Account.Posted")
    topic: str
    occurred_at: datetime | None
    recorded_at: datetime | None
    actor: ActorOut | None
    data: dict[str, Any]
    hash: str | None = Field(description="SHA-256 of the event (hex); see docs/audit.md")
    prev_hash: str | None = Field(description="hash of the stream's previous event")
    withheld: list[str] = Field(
        default_factory=list, max_length=8,
        description="Fields of the stored event left out of `data` (an API key's "
                    "`token_hash`); `hash` is the stored event's, fields included")


class EventsOut(BaseModel):
    items: list[EventOut]
    next_after: int = Field(description="Pass as `after` for the next page (same when empty)")


class ProblemOut(BaseModel):
    problem: str
    position: int | None
    stream_id: str | None
    version: int | None
    message: str


class VerifyOut(BaseModel):
    ok: bool
    scope: str = Field(description='"all", or the id of the community whose streams and '
                                   "accounts the problems are about (a community's auditor)")
    events_checked: int
    accounts_checked: int
    checkpoints: int
    sealed_through: int
    sealed_hash: str
    unsealed_events: int
    problems: list[ProblemOut]
