"""The keys kept outside the database: the event MAC key and the seal signing key.

- The signing key (`LINLI_SIGNING_KEY_FILE`): an Ed25519 private key, PEM (PKCS #8). It signs
  every checkpoint (seal); its public key (`GET /v1/audit/public-key`) checks them.
- The MAC key (`LINLI_MAC_KEY_FILE`; by default beside the signing key, its name ending in
  `.mac`): 32 random bytes as 64 hex digits. Every stored event carries HMAC-SHA256(key, its
  chain hash); every snapshot an HMAC of its stream, version, head hash and payload.

Both are written with mode 0600 by `linli keys init`. With neither configured, an embedded
(SQLite) store keeps them beside its database file, made on first use; PostgreSQL refuses to
start without them unless `LINLI_DEV_KEYS` lets it keep them in the working directory.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from eventsourcing.application import AggregateNotFoundError

from ledger.domain.audit import AUDIT_LOG_ID
from ledger.settings import Settings, UnsafeConfiguration

log = logging.getLogger(__name__)

MAC_KEY_BYTES = 32
SEAL_SIGNATURE_DOMAIN = b"linli/seal-signature/v1\x00"
SIGNING_KEY_NAME = "linli-signing.pem"


def seal_message(through_position: int, log_hash_hex: str) -> bytes:
    """The bytes a seal's signature covers: its last position and its log hash (which chains
    every earlier seal, so one signature vouches for the whole log up to that position)."""
    return SEAL_SIGNATURE_DOMAIN + struct.pack(">q", through_position) + bytes.fromhex(
        log_hash_hex)


@dataclass(frozen=True)
class Keys:
    """The MAC key and the signing key, loaded."""

    mac: bytes
    signing: Ed25519PrivateKey

    def sign_seal(self, through_position: int, log_hash_hex: str) -> str:
        """The seal's Ed25519 signature, in hex."""
        return self.signing.sign(seal_message(through_position, log_hash_hex)).hex()

    @property
    def public(self) -> Ed25519PublicKey:
        return self.signing.public_key()

    def public_pem(self) -> str:
        return public_pem(self.public)


def public_pem(key: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo): what `linli verify --public-key` reads."""
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def seal_signature_ok(public: Ed25519PublicKey, through_position: int, log_hash_hex: str,
                      signature_hex: str) -> bool:
    """Whether `signature_hex` is the signing key's signature of that seal."""
    try:
        public.verify(bytes.fromhex(signature_hex), seal_message(through_position, log_hash_hex))
    except (InvalidSignature, ValueError):
        return False
    return True


def mac_of(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of `message` under `key`."""
    return hmac.digest(key, message, hashlib.sha256)


def key_paths(settings: Settings) -> tuple[Path, Path] | None:
    """(signing key file, MAC key file) as configured or defaulted; None when there is no
    default (PostgreSQL without `LINLI_SIGNING_KEY_FILE` or `LINLI_DEV_KEYS`)."""
    if settings.signing_key_file:
        signing = Path(settings.signing_key_file)
    else:
        if settings.sqlite_path is not None:
            database = Path(settings.sqlite_path).resolve()
            signing = database.with_name(f"{database.stem}-signing.pem")
        elif settings.dev_keys:
            signing = Path(SIGNING_KEY_NAME).resolve()
        else:
            return None
    mac = Path(settings.mac_key_file) if settings.mac_key_file else signing.with_suffix(".mac")
    return signing, mac


def init_keys(signing_path: Path, mac_path: Path) -> list[Path]:
    """Write whichever of the two key files is missing (mode 0600); the paths written. A key
    already there is kept: replacing one would make the stored events unverifiable."""
    written: list[Path] = []
    if not signing_path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        _write_private(signing_path, pem)
        written.append(signing_path)
    if not mac_path.exists():
        _write_private(mac_path, (secrets.token_bytes(MAC_KEY_BYTES).hex() + "\n").encode())
        written.append(mac_path)
    return written


def _write_private(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(content)


def load_keys(settings: Settings) -> Keys:
    """The configured keys. With none configured, an embedded store's are made beside its
    database file on first use (and logged); PostgreSQL's must exist (`linli keys init`)."""
    paths = key_paths(settings)
    if paths is None:
        raise UnsafeConfiguration(
            "LINLI_SIGNING_KEY_FILE is not set: run `linli keys init` and set it (or "
            "LINLI_DEV_KEYS=true to keep keys in the working directory, for development)")
    signing_path, mac_path = paths
    made_here = not settings.signing_key_file
    if made_here:
        for path in init_keys(signing_path, mac_path):
            log.warning("made the key file %s (mode 0600): back it up apart from the "
                        "database (docs/audit.md)", path)
    for path in (signing_path, mac_path):
        if not path.exists():
            raise UnsafeConfiguration(f"key file {path} does not exist: run `linli keys init`")
    return Keys(read_mac_key(mac_path), read_signing_key(signing_path))


def read_mac_key(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        key = b""
    if len(key) != MAC_KEY_BYTES:
        raise UnsafeConfiguration(f"{path} does not hold a MAC key (64 hex digits)")
    return key


def read_signing_key(path: Path) -> Ed25519PrivateKey:
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise UnsafeConfiguration(f"{path} does not hold an Ed25519 private key")
    return key


def read_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (or the public half of a private key file)."""
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        private = load_pem_private_key(data, password=None)
        if isinstance(private, Ed25519PrivateKey):
            return private.public_key()
    key = load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} does not hold an Ed25519 public key")
    return key


def use_keys(app: Any, keys: Keys) -> None:
    """Give the application its keys: events and snapshots are MACed and checked, seals
    signed, and events stored before the keys accepted where the first signed seal says."""
    app.keys = keys  # type: ignore[attr-defined]
    app.events.mac_key = keys.mac  # type: ignore[attr-defined]
    app.events.legacy_through = lambda: legacy_boundary(app)  # type: ignore[attr-defined]
    if app.snapshots is not None:
        app.snapshots.mac_key = keys.mac
        app.snapshots.events_recorder = app.recorder


def legacy_boundary(app: Any) -> int | None:
    """The last position of events stored before the keys, as the first signed checkpoint
    recorded it; None while there is none."""
    try:
        audit_log: Any = app.repository.get(AUDIT_LOG_ID)
    except AggregateNotFoundError:
        return None
    found: int | None = getattr(audit_log, "legacy_through", None)
    return found
