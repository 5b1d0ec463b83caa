"""linli-client: a typed Python client of Linli's HTTP API, on httpx.

    from linli_client import LinliClient
    with LinliClient("https://linli.example", token="lnl_…") as linli:
        paid = linli.redeem(payment_code="…", points=15, description="大米5斤",
                            idempotency_key="till-1-receipt-0001")

Writes carry an Idempotency-Key (made for you when not given) and are retried with that same
key after a dropped connection, a timeout, 429 or 5xx: a retry is recognised by the server and
never applied twice. `verify_signature` checks a webhook delivery's `Linli-Signature`.
"""

from linli_client.client import LinliClient, RetryPolicy
from linli_client.errors import LinliError
from linli_client.models import (
    Balance,
    Delivery,
    Hold,
    PaymentCode,
    Redemption,
    Refund,
    Settlement,
    Webhook,
    WebhookEvent,
)
from linli_client.signatures import SIGNATURE_HEADER, parse_event, verify_signature

__all__ = [
    "Balance", "Delivery", "Hold", "LinliClient", "LinliError", "PaymentCode", "Redemption",
    "Refund", "RetryPolicy", "SIGNATURE_HEADER", "Settlement", "Webhook", "WebhookEvent",
    "parse_event", "verify_signature",
]
