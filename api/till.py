"""What a till's requests run, and how their answers are rendered: a redemption, a hold, and the
payment code a member's phone shows the till.

Both the routes (`api/routers/payments.py`, `api/routers/holds.py`, `api/routers/consent.py`)
and the till's fast path (`api/fastpath.py`) build their keyed commands here, so both answer
alike. A till names the
member by a payment code (found in memory, here, once `recalled` has brought one another server
made from the database), by passbook number and PIN (checked before, on a thread:
`pin_holder`), or by id where the community allows it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import require_role
from api.bootstrap import Linli
from api.deps import caught_up, merchant_of_key
from api.errors import ApiProblem
from api.idempotency import Keyed, checked_key, fingerprint, run_keyed, stored_answer
from api.ratelimit import RateLimiter
from api.schemas import AtTill, HoldIn, HoldOut, PaymentCodeOut, RedemptionIn, RedemptionOut
from ledger.actor import Actor, Role
from ledger.commands import merchants, points
from ledger.commands.merchants import HoldResult
from ledger.commands.points import Movement
from ledger.domain.consent import BY_MEMBER_ID, BY_PIN, Consent, typed_code
from ledger.domain.pins import pin_matches
from ledger.errors import DomainError, PinInvalid
from ledger.payment_codes import CodeKey, PaymentCode
from ledger.write.unit_of_work import UnitOfWork
from projections import lookups


def redemption_out(movement: Movement) -> RedemptionOut:
    """Renders a redemption's answer."""
    assert movement.member_id is not None and movement.merchant_id is not None
    return RedemptionOut(id=movement.id, member_id=movement.member_id,
                         merchant_id=movement.merchant_id, points=movement.points,
                         balance_after=movement.balance_after)


def hold_out(result: HoldResult) -> HoldOut:
    """Renders a hold's answer."""
    return HoldOut(id=result.id, status=result.status,  # type: ignore[arg-type]
                   member_id=result.member_id, merchant_id=result.merchant_id,
                   points=result.points, expires_at=result.expires_at,
                   redemption_id=result.redemption_id, captured=result.captured)


def redemption(linli: Linli, actor: Actor, body: RedemptionIn,
               pin_holder: UUID | None = None) -> Keyed:
    """Builds a redemption of the caller's merchant, keyed, with its rendering."""
    merchant_id = merchant_of_key(actor, "redeem")
    named = _named(linli, body, pin_holder)
    if isinstance(named, DomainError):
        return Keyed(_refused(named), redemption_out)
    member_id, consent = named
    return Keyed(points.redeem(merchant_id, member_id, body.points, body.description, actor,
                               now=linli.clock(), consent=consent), redemption_out)


def hold(linli: Linli, actor: Actor, body: HoldIn, pin_holder: UUID | None = None) -> Keyed:
    """Builds a hold for the caller's merchant, keyed, with its rendering."""
    merchant_id = merchant_of_key(actor, "hold points")
    named = _named(linli, body, pin_holder)
    if isinstance(named, DomainError):
        return Keyed(_refused(named), hold_out)
    member_id, consent = named
    return Keyed(merchants.place_hold(merchant_id, member_id, body.points,
                                      body.expires_in_seconds, actor, now=linli.clock(),
                                      consent=consent, description=body.description),
                 hold_out)


def payment_code_out(code: PaymentCode) -> PaymentCodeOut:
    """Renders a payment code's answer."""
    return PaymentCodeOut(code=code.code, member_id=code.member_id, expires_at=code.expires_at)


async def payment_code_response(linli: Linli, actor: Actor, member_id: UUID,
                                community_id: UUID, key: str | None, path: str,
                                body: BaseModel) -> Response:
    """Makes a payment code for the member (their own token, or staff at the counter) and
    answers with it once stored for every server; a retry under the same key, through any
    server, gets the same code (see `ledger.payment_codes`)."""
    require_role(actor, Role.STAFF, Role.MEMBER)
    made = await linli.payment_codes.issue_on(
        asyncio.get_running_loop(), member_id, community_id, linli.clock(), actor.id,
        CodeKey(actor.principal, checked_key(key), fingerprint("POST", path, body)))
    return Response(payment_code_out(made).model_dump_json(), status_code=201,
                    media_type="application/json")


async def recalled(linli: Linli, body: BaseModel) -> None:
    """Bring the payment code the till sent into this server's memory when another server
    made it (a lookup on a thread; a code known here costs nothing). What it finds wrong is
    left for `_named` to answer."""
    sent = getattr(body, "payment_code", None)
    if sent is None:
        return
    with contextlib.suppress(DomainError):
        code = typed_code(sent)
        if not linli.payment_codes.knows(code):
            await run_in_threadpool(linli.payment_codes.recall, code, linli.clock())


def _named(linli: Linli, body: AtTill, pin_holder: UUID | None
           ) -> tuple[UUID, Consent] | DomainError:
    """The member the till names, and how; or why the code names no one (answered from the
    writer, so that a retry of a request already done gets its first answer)."""
    if body.payment_code is not None:
        try:
            code = linli.payment_codes.find(typed_code(body.payment_code), linli.clock())
        except DomainError as error:
            return error
        return code.member_id, code.consent
    if pin_holder is not None:
        return pin_holder, BY_PIN
    assert body.member_id is not None, "a PIN is checked first, by pin_holder"
    return body.member_id, BY_MEMBER_ID


def _refused(error: DomainError) -> Callable[[UnitOfWork], Any]:
    def command(uow: UnitOfWork) -> Any:
        raise error

    return command


async def till_request(linli: Linli, actor: Actor, key: str | None, path: str, body: AtTill,
                       build: Callable[[Linli, Actor, Any, UUID | None], Keyed],
                       wrong_pins: RateLimiter) -> Response:
    """Answers a till's redemption or hold through the stack: a PIN is checked first (unless
    the request was done before under its key: a retry replays its first answer), then the
    command runs once per key."""
    key = checked_key(key)
    if body.pin is not None:
        replay = await stored_answer(linli, actor, key, method="POST", path=path, body=body)
        if replay is not None:
            return replay
    holder = await pin_holder(linli, actor, body, wrong_pins)
    await recalled(linli, body)
    return await run_keyed(linli, actor, key, method="POST", path=path, body=body,
                           keyed=build(linli, actor, body, holder))


async def pin_holder(linli: Linli, actor: Actor, body: AtTill,
                     wrong_pins: RateLimiter) -> UUID | None:
    """The member whose passbook number and PIN the till sent (None when it sent neither):
    the try is counted, and a wrong PIN refused, before anything is run. A merchant whose
    tills send too many wrong PINs (`wrong_pins`) waits before its next try."""
    if body.pin is None or body.passbook_no is None:
        return None
    merchant = str(merchant_of_key(actor, "redeem"))
    wait = wrong_pins.waiting(merchant)
    if wait is not None:
        raise ApiProblem(429, "rate-limited", "pin-tries-merchant",
                         headers={"Retry-After": str(wait)}, wait=wait)
    passbook_no, pin = body.passbook_no.strip(), body.pin

    def check() -> UUID:
        caught_up(linli)  # a member registered a moment ago is found
        found = lookups.member_by_passbook(linli.engine, passbook_no, str(actor.community_id))
        if found is None:
            raise PinInvalid("pin-wrong")
        now = linli.clock()
        counted = linli.pins.count_try(found["member_id"], now)
        if not pin_matches(pin, counted.pin_hash):  # slow by design: on a thread
            raise linli.pins.wrong(counted, now)
        linli.pins.right(counted)
        return UUID(found["member_id"])

    try:
        return await run_in_threadpool(check)
    except PinInvalid:
        wrong_pins.retry_after(merchant)  # spends one of the merchant's wrong PINs
        raise
