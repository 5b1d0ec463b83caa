"""Who is paying at the till, before anything is taken: the resident's masked name and the
points they can spend, named by payment code, passbook number and PIN, or (where the community
allows it) member id. Reads only: the code stays usable for the redemption."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.bootstrap import Linli
from api.deps import LinliDep, MerchantActor, caught_up, load, merchant_of_key
from api.schemas import AtTill
from api.till import pin_holder
from ledger.actor import Actor
from ledger.domain.assets import Asset
from ledger.domain.consent import ConsentKind, typed_code
from ledger.domain.registry import Community
from ledger.errors import NotFound, PaymentCodeInvalid
from ledger.privacy.masking import masked
from projections import lookups, queries

router = APIRouter(prefix="/v1", tags=["points"])

PROBLEM = {"description": "Problem", "content": {"application/problem+json": {}}}


class TillHolderOut(BaseModel):
    name: str = Field(description="the resident's name, masked (王*英)")
    passbook_no: str
    points_available: int = Field(description="points the resident can spend now")


@router.post("/till/holder", response_model=TillHolderOut,
             responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 429: PROBLEM})
async def till_holder(body: AtTill, request: Request, actor: MerchantActor,
                      linli: LinliDep) -> TillHolderOut:
    """The resident a till's payment code, passbook number and PIN, or member id names, for the
    till to show before it charges. Nothing is written and the code is not used up; a PIN try
    counts as at a redemption."""
    merchant_of_key(actor, "look up who is paying")
    holder = await pin_holder(linli, actor, body, request.app.state.wrong_pins)
    return await run_in_threadpool(_holder, linli, actor, body, holder)


def _holder(linli: Linli, actor: Actor, body: AtTill, holder: UUID | None) -> TillHolderOut:
    """The named resident's masked name, passbook number and available points."""
    caught_up(linli)
    if body.payment_code is not None:
        code = linli.payment_codes.recall(typed_code(body.payment_code), linli.clock())
        if code.community_id != actor.community_id:
            raise PaymentCodeInvalid("payment-code-invalid")
        member_id = code.member_id
    elif holder is not None:
        member_id = holder
    else:
        assert body.member_id is not None  # AtTill names the member exactly one way
        member_id = body.member_id
    found = lookups.member_by_id(linli.engine, str(member_id))
    if found is None or found["community_id"] != str(actor.community_id):
        raise NotFound("not-found", thing="member")
    if body.member_id is not None:
        community = load(linli, Community, UUID(found["community_id"]))
        community.check_consent(ConsentKind.MEMBER_ID, actor.role)
    balance = queries.account_balance(linli.engine, member_id, Asset.POINTS)
    return TillHolderOut(name=masked(found["name"]), passbook_no=found["passbook_no"],
                         points_available=balance.balance - balance.held)
