"""Volunteer service certificates (志愿服务记录证明): printed by those who may see the member,
checked by anyone (no token, rate-limited per client address)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from api.deps import ActorDep, CaughtUp, LinliDep, VisibleMember, load
from api.errors import ApiProblem
from api.ratelimit import RateLimiter
from ledger.domain.registry import Community, Member
from ledger.errors import NotFound
from ledger.privacy.masking import masked
from projections.certificates import check, issue, parse_code, ratings
from web.papers import render_html

router = APIRouter(prefix="/v1", tags=["certificates"])

CHECKS_PER_SECOND, CHECKS_BURST = 1.0, 10  # per client address


class CertificateCheckOut(BaseModel):
    number: str
    valid: bool
    member_id: UUID | None
    name: str | None
    minutes_earned: int | None


class CertificateVerifyOut(BaseModel):
    valid: bool
    number: str | None = None
    issued_at: datetime | None = None  # the instant the certified record stands at
    name: str | None = None  # masked: 张*明
    minutes: int | None = None  # service minutes certified
    issuer: str | None = None  # the issuing community


def verify_url(request: Request, full_code: str) -> str:
    """The public address that checks a certificate's code."""
    return f"{str(request.base_url).rstrip('/')}/v1/certificates/verify?code={full_code}"


@router.get("/members/{member_id}/certificate", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}}})
def get_certificate(
    member_id: UUID,
    member: VisibleMember,
    linli: LinliDep,
    request: Request,
    version: Annotated[int | None, Query(ge=1, description="As of this account version")] = None,
) -> HTMLResponse:
    """A print-ready certificate (A4) of the member's volunteer service, with a serial number
    and a QR code of its public verification address."""
    community = load(linli, Community, member.community_id)
    certificate = issue(linli.app, member, community, version)
    if certificate is None:
        raise NotFound("no-minutes-to-certify")
    return HTMLResponse(render_html(certificate, verify_url(request, certificate.full_code),
                                    ratings(linli.engine, member.id)))


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    limiter = getattr(state, "certificate_checks", None)
    if limiter is None:
        limiter = state.certificate_checks = RateLimiter(CHECKS_PER_SECOND, CHECKS_BURST)
    return limiter


@router.get("/certificates/verify", response_model=CertificateVerifyOut)
def verify_certificate_code(
    request: Request,
    linli: CaughtUp,
    code: Annotated[str, Query(min_length=1, max_length=80,
                               description="the code printed on the certificate, with or "
                                           "without dashes, in either case")],
) -> CertificateVerifyOut:
    """Whether a certificate is genuine: no token needed; a few checks a second per client
    address."""
    client = request.client.host if request.client else "unknown"
    wait = _limiter(request).retry_after(client)
    if wait is not None:
        raise ApiProblem(429, "rate-limited", "verify-too-often",
                         headers={"Retry-After": str(wait)}, wait=wait)
    parsed = parse_code(code)
    if parsed is None:
        return CertificateVerifyOut(valid=False)
    number, checked = parsed
    valid, member_id = check(linli.app, linli.engine, number, checked)
    if not valid or member_id is None:
        return CertificateVerifyOut(valid=False)
    member = load(linli, Member, member_id)
    community = load(linli, Community, member.community_id)
    certificate = issue(linli.app, member, community, int(number.rpartition("-")[2]))
    if certificate is None:
        return CertificateVerifyOut(valid=False)
    return CertificateVerifyOut(valid=True, number=number, issued_at=certificate.as_of,
                                name=masked(certificate.name),
                                minutes=certificate.service_minutes, issuer=community.name)


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
    certificate = issue(linli.app, member, community, version)
    return CertificateCheckOut(number=number, valid=True, member_id=member_id,
                               name=member.name,
                               minutes_earned=certificate.minutes_earned if certificate else 0)
