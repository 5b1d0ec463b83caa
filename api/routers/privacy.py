"""Personal data (个人信息保护法): a member's erasure, their right of access, and the access log
(docs/privacy.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.access_log import PersonalReadsDep, reads_of
from api.deps import (
    AdminActor,
    AuditorActor,
    CaughtUp,
    LinliDep,
    PageLimit,
    StaffOrMember,
    load,
)
from api.erasure import erasure_command, finish_erasure
from api.idempotency import WriteDep
from api.listing import ListCursor
from api.personal_data import PersonalDataOut, personal_data, personal_data_html
from api.schemas import ReasonIn
from ledger.commands import registry
from ledger.domain.registry import ERASED_NAME, Community, Household, Member

router = APIRouter(prefix="/v1", tags=["personal data"])


class ErasureOut(BaseModel):
    member_id: UUID
    erased: bool = True
    household_id: UUID | None = Field(
        None, description="the household whose address went too (no one else lives there)")
    name: str = Field(ERASED_NAME, description="what every page now shows for the name")


@router.post("/members/{member_id}/erasure", response_model=ErasureOut)
def erase_member(member_id: UUID, body: ReasonIn, actor: AdminActor, linli: LinliDep,
                 write: WriteDep) -> object:
    """Erase a member's personal data (个人信息注销): their key is destroyed, so their name,
    address and birth date can never be read again; their points, minutes and history stay
    exact and show 「已注销居民」. Once only (409 `already-erased`)."""
    member = load(linli, Member, member_id)

    def render(erasure: registry.Erasure) -> ErasureOut:
        return ErasureOut(member_id=erasure.member_id, household_id=erasure.household_id,
                          name=ERASED_NAME)

    response = write.execute(erasure_command(linli, member, body.reason, actor), render, body)
    if response.status_code == 200:
        erased = ErasureOut.model_validate_json(bytes(response.body))
        finish_erasure(linli, member_id, erased.household_id)
    return response


@router.get("/members/{member_id}/personal-data", response_model=PersonalDataOut,
            responses={200: {"content": {"text/html": {}}}})
def get_personal_data(member_id: UUID, actor: StaffOrMember, linli: CaughtUp,
                      reads: PersonalReadsDep,
                      format: Annotated[Literal["json", "html"], Query(
                          description="html: a printable page")] = "json") -> object:
    """Everything held about the member, in Chinese (个人信息查阅): for the member, or staff
    of their community (logged)."""
    member = load(linli, Member, member_id)
    actor.check_community(member.community_id, "member", member_id)
    actor.check_member(member_id, "member", member_id)
    community = load(linli, Community, member.community_id)
    household = (load(linli, Household, member.household_id)
                 if member.household_id is not None else None)
    reads.record("全部个人信息", [member_id], member.community_id)
    found = personal_data(linli.engine, member, community, household, linli.clock())
    if format == "html":
        return HTMLResponse(personal_data_html(found, member.passbook_no))
    return found


class AccessOut(BaseModel):
    id: int
    read_at: datetime
    actor_id: str
    actor_role: str
    community_id: UUID | None
    member_id: UUID | None = Field(description="empty for a bulk export's own line")
    route: str
    what: str = Field(description="what was shown, in Chinese (姓名、住址……)")
    rows: int = Field(description="members shown: 1, or an export's count")


class AccessLogOut(BaseModel):
    items: list[AccessOut]
    next_cursor: str | None


@router.get("/audit/access-log", response_model=AccessLogOut)
def access_log(actor: AuditorActor, linli: LinliDep,
               member_id: UUID | None = None, limit: PageLimit = 50,
               cursor: ListCursor = None) -> AccessLogOut:
    """Who read whose personal data, when and where, newest first (auditors of the
    community, admins)."""
    before = int(cursor) if cursor and cursor.isdigit() else None
    rows, next_before = reads_of(linli.engine, member_id=str(member_id) if member_id else None,
                                 communities=actor.scope_ids(), limit=limit, before=before)
    return AccessLogOut(items=[AccessOut(
        id=r["read_id"], read_at=r["read_at"], actor_id=r["actor_id"],
        actor_role=r["actor_role"],
        community_id=UUID(r["community_id"]) if r["community_id"] else None,
        member_id=UUID(r["member_id"]) if r["member_id"] else None, route=r["route"],
        what=r["what"], rows=r["rows"]) for r in rows],
        next_cursor=str(next_before) if next_before is not None else None)
