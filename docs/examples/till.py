"""A till on linli-client: take points by the resident's payment code, refund a returned item,
and check the webhooks Linli sends back.

    python docs/examples/till.py http://127.0.0.1:8000 MERCHANT_TOKEN PAYMENT_CODE

(`linli demo --sandbox` prints a merchant token and makes payment codes for its member.)
"""

from __future__ import annotations

import sys
import uuid

from linli_client import LinliClient, LinliError, parse_event


def sell(linli: LinliClient, payment_code: str, points: int, item: str) -> str:
    """Take `points` for `item`; returns the redemption's id. The receipt number is the
    Idempotency-Key: a till that lost the answer sends the sale again and is charged once."""
    receipt = f"till-1-{uuid.uuid4().hex[:12]}"
    try:
        paid = linli.redeem(payment_code=payment_code, points=points, description=item,
                            idempotency_key=receipt)
    except LinliError as refused:
        if refused.slug == "insufficient-balance":
            print("积分不足：", refused.detail)
        raise
    print(f"{item}: {paid.points} 积分，余额 {paid.balance_after}（{paid.id}）")
    return paid.id


def give_back(linli: LinliClient, redemption_id: str, points: int) -> int:
    """Refund part of a sale; returns the member's balance after it."""
    refund = linli.refund(redemption_id, points)
    return refund.balance_after


def on_webhook(secret: str, signature_header: str, body: bytes) -> str:
    """What a receiver does with one delivery: verify, then act on its kind (answer 2xx)."""
    event = parse_event(secret, signature_header, body)  # ValueError if forged
    return f"{event.type} #{event.position}: {event.data}"


def main(base_url: str, token: str, payment_code: str) -> None:
    with LinliClient(base_url, token) as linli:
        sold = sell(linli, payment_code, 15, "大米5斤")
        print("退一袋后余额：", give_back(linli, sold, 5))


if __name__ == "__main__":
    main(*sys.argv[1:4])
