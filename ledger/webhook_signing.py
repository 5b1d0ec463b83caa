"""The signature of a webhook delivery, as Stripe signs its own.

`Linli-Signature: t=UNIX,v1=HEX`, where HEX is the lowercase hex HMAC-SHA256 of the bytes
`t` (ASCII decimal) + `.` + the request body, keyed with the subscription's secret (its UTF-8
bytes). A receiver recomputes it, compares in constant time, and refuses a `t` too far from
its own clock (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "Linli-Signature"
SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value for `body` sent at `timestamp` (Unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: int,
           tolerance_seconds: int = TOLERANCE_SECONDS) -> bool:
    """Whether `header` signs `body` with `secret` within `tolerance_seconds` of `now`."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for name, value in fields if name == "t"]
    macs = [value for name, value in fields if name == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance_seconds:
        return False
    expected = signature(secret, int(stamps[0]), body).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, mac) for mac in macs)
