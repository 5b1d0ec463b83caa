"""What a till's two requests run, and how their answers are rendered: a redemption and a hold.

Both the routes (`api/routers/payments.py`, `api/routers/holds.py`) and the till's fast path
(`api/fastpath.py`) build their keyed commands here, so both answer alike.
"""

from __future__ import annotations

from api.bootstrap import Linli
from api.deps import merchant_of_key
from api.idempotency import Keyed
from api.schemas import HoldIn, HoldOut, RedemptionIn, RedemptionOut
from ledger.actor import Actor
from ledger.commands import merchants, points
from ledger.commands.merchants import HoldResult
from ledger.commands.points import Movement


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


def redemption(linli: Linli, actor: Actor, body: RedemptionIn) -> Keyed:
    """Builds a redemption of the caller's merchant, keyed, with its rendering."""
    merchant_id = merchant_of_key(actor, "redeem")
    return Keyed(points.redeem(merchant_id, body.member_id, body.points, body.description,
                               actor, now=linli.clock()), redemption_out)


def hold(linli: Linli, actor: Actor, body: HoldIn) -> Keyed:
    """Builds a hold for the caller's merchant, keyed, with its rendering."""
    merchant_id = merchant_of_key(actor, "hold points")
    return Keyed(merchants.place_hold(merchant_id, body.member_id, body.points,
                                      body.expires_in_seconds, actor, now=linli.clock()),
                 hold_out)
