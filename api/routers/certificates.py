"""Volunteer service certificates (志愿服务记录证明) and their verification."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from api.deps import ActorDep, CaughtUp, LinliDep, VisibleMember, load
from ledger.domain.registry import Community, Member
from ledger.errors import NotFound
from projections.certificates import check, issue, render_html

router = APIRouter(prefix="/v1", tags=["certificates"])


class CertificateCheckOut(BaseModel):
    number: str
    valid: bool
    member_id: UUID | None
    name: str | None
    minutes_earned: int | None


@router.get("/members/{member_id}/certificate", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}}})
def get_certificate(
    member_id: UUID,
    member: VisibleMember,
    linli: LinliDep,
    version: Annotated[int | None, Query(ge=1, description="As of this account version")] = None,
) -> HTMLResponse:
    """A printable certificate of the member's time-bank minutes, with a verification code."""
    community = load(linli, Community, member.community_id)
    certificate = issue(linli.app, member, community.name, version)
    if certificate is None:
        raise NotFound("no-minutes-to-certify")
    return HTMLResponse(render_html(certificate, f"{community.name}（邻里 Linli）"))


@router.get("/certificates/{number}/verify", response_model=CertificateCheckOut)
def verify_certificate(
    number: str,
    actor: ActorDep,
    linli: CaughtUp,
    code: Annotated[str, Query(min_length=1, max_length=64)],
) -> CertificateCheckOut:
    """Whether a certificate's code matches the chain; any token may ask."""
    valid, member_id = check(linli.app, linli.engine, number[:64], code)
    if not valid or member_id is None:
        return CertificateCheckOut(number=number, valid=False, member_id=None, name=None,
                                   minutes_earned=None)
    member = load(linli, Member, member_id)
    community = load(linli, Community, member.community_id)
    version = int(number.rpartition("-")[2])
    certificate = issue(linli.app, member, community.name, version)
    return CertificateCheckOut(number=number, valid=True, member_id=member_id,
                               name=member.name,
                               minutes_earned=certificate.minutes_earned if certificate else 0)
