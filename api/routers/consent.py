"""A resident's means of consent at the till: payment codes (付款码), a PIN for those without a
phone, and sign-in links that put the resident's own token on their phone."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.bootstrap import Linli
from api.deps import (
    ActorDep,
    IdempotencyKey,
    LinliDep,
    ServedMember,
    StaffActor,
    StaffOrMember,
)
from api.idempotency import WriteDep, nothing, stored_answer
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
from ledger.domain.pins import hash_pin, pin_matches
from ledger.errors import IdempotencyKeyReused, NotASignInLink

router = APIRouter(prefix="/v1", tags=["consent at the till"])

PROBLEM = {"description": "Problem", "content": {"application/problem+json": {}}}
KEY_PREFIX = "key:"


@router.post("/members/{member_id}/payment-codes", status_code=201,
             response_model=PaymentCodeOut, responses={400: PROBLEM, 404: PROBLEM})
async def make_payment_code(
    member_id: UUID, request: Request, actor: StaffOrMember, member: ServedMember,
    linli: LinliDep, key: IdempotencyKey = None, body: PaymentCodeIn | None = None,
) -> Response:
    """A fresh payment code (◆ Idempotency-Key) for the member's own phone, or made by staff
    at the counter for a resident who stands there. It lives `LINLI_PAYMENT_CODE_SECONDS`
    and is consumed by the one redemption or hold that succeeds with it, through any server
    on the database. Codes are never in the log; the database keeps a code's digest while it
    lives (and, sealed, for a retry under its key)."""
    return await payment_code_response(linli, actor, member_id, member.community_id, key,
                                 request.url.path, body or PaymentCodeIn())


@router.put("/members/{member_id}/pin", status_code=204, responses={404: PROBLEM})
async def set_pin(member_id: UUID, body: PinIn, actor: StaffOrMember, _: ServedMember,
                  linli: LinliDep, write: WriteDep) -> Response:
    """Set or reset the member's 6-digit PIN, for a till to take with the passbook number
    (residents without a phone). Clears the count of wrong tries and any lock. Kept only as
    a slow salted hash; the event records who set it and when.

    A retry under the same Idempotency-Key answers 204 again and sets nothing if the member's
    PIN is still the one it sent; another PIN under that key is 422 `idempotency-key-reused`
    (the PIN is left out of the stored fingerprint, so it is compared with the hash)."""
    if write.key is not None and await stored_answer(
            linli, actor, write.key, method="PUT", path=write.path, body=body) is not None:
        if not await run_in_threadpool(_pin_is, linli, member_id, body.pin):
            raise IdempotencyKeyReused("idempotency-key-other-pin")
        return Response(status_code=204)
    pin_hash = await run_in_threadpool(hash_pin, body.pin)
    now = linli.clock()
    await run_in_threadpool(linli.pins.set, str(member_id), pin_hash, now)
    return await write.run(consent.record_pin_set(member_id, actor, now), nothing, body)


def _pin_is(linli: Linli, member_id: UUID, pin: str) -> bool:
    """Tell whether `pin` is the member's PIN now (slow by design: on a thread)."""
    pin_hash = linli.pins.hash_of(str(member_id))
    return pin_hash is not None and pin_matches(pin, pin_hash)


@router.post("/members/{member_id}/sign-in-links", status_code=201,
             response_model=SignInLinkOut, responses={404: PROBLEM})
async def make_sign_in_link(member_id: UUID, request: Request, actor: StaffActor,
                            _: ServedMember, linli: LinliDep, write: WriteDep,
                            body: SignInLinkIn | None = None) -> Response:
    """A fresh sign-in link for the member (shown as a QR code for their phone): a member
    token inside it. Every earlier link's token, and the tokens traded for them, stop
    working (a lost phone is signed out). A retry under the same Idempotency-Key makes no
    new link and answers without the token (shown once)."""
    page = f"{str(request.base_url).rstrip('/')}/web/signin"

    def out(link: access.SignInLink, token: str | None = None) -> SignInLinkOut:
        shown = link.token if token is None else token
        return SignInLinkOut(url=f"{page}#token={shown}" if shown else page,
                             member_id=link.member_id, expires_at=link.expires_at)

    answer = await write.run(access.make_sign_in_link(
        member_id, actor, linli.clock(), timedelta(hours=linli.settings.sign_in_link_hours)),
        out, body, shown_once=lambda link: out(link, ""))
    request.app.state.key_cache.clear()
    return answer


@router.post("/sign-in", status_code=201, response_model=SignedInOut,
             responses={409: PROBLEM})
async def sign_in(request: Request, actor: ActorDep, linli: LinliDep, write: WriteDep
                  ) -> Response:
    """Trade a sign-in link's token (the bearer) for the phone's own member token, which does
    not expire; the link's token stops working."""
    if actor.role is not Role.MEMBER or not actor.id.startswith(KEY_PREFIX):
        raise NotASignInLink("not-a-sign-in-link")
    answer = await write.run(
        access.sign_in(UUID(actor.id.removeprefix(KEY_PREFIX)), linli.clock()), _signed_in,
        shown_once=lambda issued: _signed_in(issued, ""))
    request.app.state.key_cache.clear()
    return answer


def _signed_in(issued: access.IssuedKey, token: str | None = None) -> SignedInOut:
    assert issued.member_id is not None
    return SignedInOut(token=issued.token if token is None else token,
                       member_id=issued.member_id)
