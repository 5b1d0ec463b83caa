"""Checking a webhook delivery: `Linli-Signature: t=UNIX,v1=HEX`, HEX the hex HMAC-SHA256 of
`t` + "." + the body, keyed with the subscription's secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from linli_client.models import WebhookEvent, build

SIGNATURE_HEADER = "Linli-Signature"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance_seconds: int = 300,
                     now: float | None = None) -> bool:
    """Whether `header` signs `body` with `secret`, sent within `tolerance_seconds` of now."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    macs = [v for k, v in parts if k == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamps[0])) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode(), f"{stamps[0]}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, mac) for mac in macs)


def parse_event(secret: str, header: str, body: bytes) -> WebhookEvent:
    """The delivered event, once its signature holds (ValueError otherwise)."""
    if not verify_signature(secret, header, body):
        raise ValueError("the Linli-Signature does not verify")
    return build(WebhookEvent, json.loads(body))
