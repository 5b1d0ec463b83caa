"""`LinliClient`: the calls a till and a merchant's back office make, with safe retries."""

from __future__ import annotations

import dataclasses
import secrets
import time
import uuid
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

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
    build,
)

RETRIED_STATUSES = frozenset({429, 502, 503, 504})
IN_FLIGHT = "idempotency-key-in-flight"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a call is tried again: `attempts` in all, waiting `first_seconds`
    then twice as long each time up to `max_seconds` (or the server's `Retry-After`)."""

    attempts: int = 5
    first_seconds: float = 0.2
    max_seconds: float = 5.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after is not None and retry_after.isdigit():
            return min(float(retry_after), self.max_seconds)
        return float(min(self.max_seconds, self.first_seconds * 2 ** (attempt - 1)))


class LinliClient:
    """A client of one Linli server with one bearer token (a till's merchant key, staff's…)."""

    def __init__(self, base_url: str, token: str, *, timeout_seconds: float = 10.0,
                 retry: RetryPolicy | None = None, language: str = "zh-CN",
                 transport: httpx.BaseTransport | None = None) -> None:
        self.retry = retry or RetryPolicy()
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout_seconds, transport=transport,
            headers={"Authorization": f"Bearer {token}", "Accept-Language": language})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LinliClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # --- the till -------------------------------------------------------------------------
    def payment_code(self, member_id: str, *, idempotency_key: str | None = None
                     ) -> PaymentCode:
        """A payment code of the member (their own token, or staff at the counter)."""
        return build(PaymentCode, self._write("POST", f"/v1/members/{member_id}/payment-codes",
                                              None, idempotency_key))

    def redeem(self, *, points: int, description: str, payment_code: str | None = None,
               member_id: str | None = None, passbook_no: str | None = None,
               pin: str | None = None, idempotency_key: str | None = None) -> Redemption:
        """Take `points` from the member who showed `payment_code` (or passbook and PIN)."""
        body = _given(points=points, description=description, payment_code=payment_code,
                      member_id=member_id, passbook_no=passbook_no, pin=pin)
        return build(Redemption, self._write("POST", "/v1/redemptions", body, idempotency_key))

    def refund(self, redemption_id: str, points: int, *, idempotency_key: str | None = None
               ) -> Refund:
        return build(Refund, self._write("POST", f"/v1/redemptions/{redemption_id}/refunds",
                                         {"points": points}, idempotency_key))

    def hold(self, *, points: int, payment_code: str | None = None,
             member_id: str | None = None, expires_in_seconds: int | None = None,
             idempotency_key: str | None = None) -> Hold:
        body = _given(points=points, payment_code=payment_code, member_id=member_id,
                      expires_in_seconds=expires_in_seconds)
        return build(Hold, self._write("POST", "/v1/holds", body, idempotency_key))

    def capture(self, hold_id: str, points: int | None = None, *,
                idempotency_key: str | None = None) -> Hold:
        return build(Hold, self._write("POST", f"/v1/holds/{hold_id}/capture",
                                       _given(points=points), idempotency_key))

    def void(self, hold_id: str, *, idempotency_key: str | None = None) -> Hold:
        return build(Hold, self._write("POST", f"/v1/holds/{hold_id}/void", None,
                                       idempotency_key))

    def balance(self, member_id: str) -> Balance:
        return build(Balance, self._read(f"/v1/members/{member_id}/balance"))

    def settle(self, merchant_id: str, *, idempotency_key: str | None = None) -> Settlement:
        return build(Settlement, self._write("POST", f"/v1/merchants/{merchant_id}/settlements",
                                             {}, idempotency_key))

    # --- webhooks -------------------------------------------------------------------------
    def subscribe(self, url: str, events: list[str], *, secret: str | None = None,
                  community_id: str | None = None, merchant_id: str | None = None,
                  idempotency_key: str | None = None) -> Webhook:
        """A webhook subscription with its `secret`. The secret is made here when not given:
        the server shows a secret in its first answer only, and a retry after a lost answer
        gets it blank."""
        secret = secret or "whsec_" + secrets.token_urlsafe(32)
        body = _given(url=url, events=events, secret=secret, community_id=community_id,
                      merchant_id=merchant_id)
        made = build(Webhook, self._write("POST", "/v1/webhooks", body, idempotency_key))
        return dataclasses.replace(made, secret=secret)

    def webhooks(self) -> list[Webhook]:
        return [build(Webhook, item) for item in self._read("/v1/webhooks")["items"]]

    def deliveries(self, webhook_id: str, *, status: str | None = None, limit: int = 50
                   ) -> list[Delivery]:
        params: dict[str, Any] = _given(status=status, limit=limit)
        answer = self._read(f"/v1/webhooks/{webhook_id}/deliveries", params)
        return [build(Delivery, item) for item in answer["items"]]

    def redeliver(self, webhook_id: str, delivery_id: str, *,
                  idempotency_key: str | None = None) -> Delivery:
        return build(Delivery, self._write(
            "POST", f"/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", None,
            idempotency_key))

    def unsubscribe(self, webhook_id: str, *, idempotency_key: str | None = None) -> None:
        self._write("DELETE", f"/v1/webhooks/{webhook_id}", None, idempotency_key)

    # --- sending --------------------------------------------------------------------------
    def _read(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._send("GET", path, None, params, {})

    def _write(self, method: str, path: str, body: Any, idempotency_key: str | None) -> Any:
        """A write, under one Idempotency-Key for every try (a fresh one when not given)."""
        key = idempotency_key or uuid.uuid4().hex
        return self._send(method, path, body, None, {"Idempotency-Key": key})

    def _send(self, method: str, path: str, body: Any, params: dict[str, Any] | None,
              headers: dict[str, str]) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(method, path, json=body, params=params,
                                              headers=headers)
            except httpx.TransportError as error:  # the request may or may not have arrived
                if attempt >= self.retry.attempts:
                    raise LinliError(None, message=f"{type(error).__name__}: {error}") from error
                time.sleep(self.retry.delay(attempt))
                continue
            if response.status_code < 400:
                return response.json() if response.content else None
            problem = _problem(response)
            again = (response.status_code in RETRIED_STATUSES or response.status_code >= 500
                     or str(problem.get("type", "")).endswith(IN_FLIGHT))
            if not again or attempt >= self.retry.attempts:
                raise LinliError(response.status_code, problem)
            time.sleep(self.retry.delay(attempt, response.headers.get("Retry-After")))


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        parsed = response.json()
    except ValueError:
        return {"detail": response.text[:200]}
    return parsed if isinstance(parsed, dict) else {"detail": str(parsed)}
