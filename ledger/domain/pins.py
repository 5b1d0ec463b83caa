"""PINs for residents without a phone: six digits, kept only as a slow salted hash (scrypt),
locked for a while after too many wrong tries in a row."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

WRONG_TRIES_BEFORE_LOCK = 5
LOCKED_FOR = timedelta(minutes=15)
# scrypt's cost: 16 MiB of memory and some tens of milliseconds a try, so that guessing the
# million PINs from a stolen hash takes hours, not a moment.
_N, _R, _P = 2**14, 8, 1
_SCHEME = "scrypt"


def hash_pin(pin: str) -> str:
    """The PIN's hash with its salt and cost, as stored: `scrypt$N$r$p$salt$hash`."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join((_SCHEME, str(_N), str(_R), str(_P), _b64(salt), _b64(digest)))


def pin_matches(pin: str, stored: str) -> bool:
    """Whether `pin` is the PIN `stored` was made from (in constant time)."""
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != _SCHEME:
        return False
    tried = hashlib.scrypt(pin.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                           dklen=len(_unb64(digest)))
    return hmac.compare_digest(tried, _unb64(digest))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))
