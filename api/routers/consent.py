"""A resident's means of consent at the till: payment codes (付款码), a PIN for those without a
phone, and sign-in links that put the resident's own token on their phone."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import (
    ActorDep,
    IdempotencyKey,
    LinliDep,
    ServedMember,
    StaffActor,
    StaffOrMember,
)
from api.schemas import (
    PaymentCodeIn,
    PaymentCodeOut,
    PinIn,
    SignedInOut,
    SignInLinkIn,
    SignInLinkOut,
)
from api.till import payment_code_response
from ledger.actor import Role
from ledger.commands import access, consent
from ledger.domain.pins import hash_pin
from ledger.errors import NotASignInLink

router = APIRouter(prefix="/v1", tags=["consent at the till"])

PROBLEM = {"description": "Problem", "content": {"application/problem+json": {}}}
KEY_PREFIX = "key:"


@router.post("/members/{member_id}/payment-codes", status_code=201,
             response_model=PaymentCodeOut, responses={400: PROBLEM, 404: PROBLEM})
def make_payment_code(
    member_id: UUID, request: Request, actor: StaffOrMember, member: ServedMember,
    linli: LinliDep, key: IdempotencyKey = None, body: PaymentCodeIn | None = None,
) -> Response:
    """A fresh payment code (◆ Idempotency-Key) for the member's own phone, or made by staff
    at the counter for a resident who stands there. It lives `LINLI_PAYMENT_CODE_SECONDS`
    and is consumed by the one redemption or hold that succeeds with it. Codes are kept in
    the serving process's memory, never in the log."""
    return payment_code_response(linli, actor, member_id, member.community_id, key,
                                 request.url.path, body or PaymentCodeIn())


@router.put("/members/{member_id}/pin", status_code=204, responses={404: PROBLEM})
async def set_pin(member_id: UUID, body: PinIn, actor: StaffOrMember, _: ServedMember,
                  linli: LinliDep) -> Response:
    """Set or reset the member's 6-digit PIN, for a till to take with the passbook number
    (residents without a phone). Clears the count of wrong tries and any lock. Kept only as
    a slow salted hash; the event records who set it and when."""
    pin_hash = await run_in_threadpool(hash_pin, body.pin)
    now = linli.clock()
    await run_in_threadpool(linli.pins.set, str(member_id), pin_hash, now)
    await linli.writer.run(consent.record_pin_set(member_id, actor, now))
    return Response(status_code=204)


@router.post("/members/{member_id}/sign-in-links", status_code=201,
             response_model=SignInLinkOut, responses={404: PROBLEM})
async def make_sign_in_link(member_id: UUID, request: Request, actor: StaffActor,
                            _: ServedMember, linli: LinliDep,
                            body: SignInLinkIn | None = None) -> SignInLinkOut:
    """A fresh sign-in link for the member (shown as a QR code for their phone): a member
    token inside it. Every earlier link's token, and the tokens traded for them, stop
    working (a lost phone is signed out)."""
    link = await linli.writer.run(access.make_sign_in_link(
        member_id, actor, linli.clock(), timedelta(hours=linli.settings.sign_in_link_hours)))
    request.app.state.key_cache.clear()
    url = f"{str(request.base_url).rstrip('/')}/web/signin#token={link.token}"
    return SignInLinkOut(url=url, member_id=link.member_id, expires_at=link.expires_at)


@router.post("/sign-in", status_code=201, response_model=SignedInOut,
             responses={409: PROBLEM})
async def sign_in(request: Request, actor: ActorDep, linli: LinliDep) -> SignedInOut:
    """Trade a sign-in link's token (the bearer) for the phone's own member token, which does
    not expire; the link's token stops working."""
    if actor.role is not Role.MEMBER or not actor.id.startswith(KEY_PREFIX):
        raise NotASignInLink("这个令牌不是登录链接里的，无需换取")
    issued = await linli.writer.run(
        access.sign_in(UUID(actor.id.removeprefix(KEY_PREFIX)), linli.clock()))
    request.app.state.key_cache.clear()
    assert issued.member_id is not None
    return SignedInOut(token=issued.token, member_id=issued.member_id)
