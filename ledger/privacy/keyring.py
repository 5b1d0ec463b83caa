"""Each person's key (AES-256-GCM), kept in `personal_keys` wrapped under the master key.

A person's key is made the first time one of their personal fields is written, and destroyed
by their erasure: the row keeps only the time of the erasure, so no key is ever made for them
again and what was written under the old one cannot be read by anyone.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    DateTime,
    Engine,
    LargeBinary,
    String,
    column,
    insert,
    select,
    table,
    text,
)

from ledger.settings import UnsafeConfiguration

CHECK_SUBJECT = "00000000-0000-0000-0000-000000000000"  # its row proves the master key
_CHECK_PLAIN = b"linli personal-data master key"
NONCE_BYTES = 12
KEY_BYTES = 32
# The table as this module writes it (alembic owns its DDL; `projections.tables` reads it).
KEYS = table("personal_keys", column("subject_id", String), column("wrapped_key", LargeBinary),
             column("created_at", DateTime(timezone=True)))


class Erased:
    """The key of a person who was erased (or never had one written): nothing decrypts."""


ERASED = Erased()


class Keyring:
    """The persons' keys: made, unwrapped once and kept in memory, destroyed on erasure."""

    def __init__(self, engine: Engine, master_key: bytes) -> None:
        self.engine = engine
        self._master = AESGCM(master_key)
        self._keys: dict[str, AESGCM | Erased] = {}
        self._lock = threading.Lock()

    # --- the master key's check ------------------------------------------------------------

    def check_master(self) -> None:
        """Refuse a master key other than the one that wrapped this database's keys; on a
        database with none yet, record this one's check."""
        with self.engine.begin() as conn:
            found = conn.execute(text("SELECT wrapped_key FROM personal_keys "
                                      "WHERE subject_id = :s"), {"s": CHECK_SUBJECT}).scalar()
            if found is None:
                conn.execute(text("INSERT INTO personal_keys (subject_id, wrapped_key, "
                                  "created_at) VALUES (:s, :w, :t)"),
                             {"s": CHECK_SUBJECT, "w": self._wrap(CHECK_SUBJECT, _CHECK_PLAIN),
                              "t": datetime.now(UTC)})
                return
        try:
            self._unwrap(CHECK_SUBJECT, bytes(found))
        except InvalidTag:
            raise UnsafeConfiguration(
                "主密钥与这个数据库不符：个人信息无法解密，服务不启动。请使用写入这些数据时的主密钥文件"
                "（LINLI_MASTER_KEY_FILE）(the master key is not the one this database's "
                "personal data was written with)") from None

    # --- keys ------------------------------------------------------------------------------

    def key_for(self, subject: str, *, create: bool) -> AESGCM | Erased:
        """The person's key; made (and stored) when they have none and `create` is set."""
        key = self._keys.get(subject)
        if key is not None:
            return key
        if create:
            self.prepare([subject])
            return self._keys[subject]
        with self._lock, self.engine.connect() as conn:
            key = self._select(conn, [subject]).get(subject, ERASED)  # no row: nothing written
            self._keys[subject] = key
            return key

    def prepare(self, subjects: list[str]) -> None:
        """Make and store the keys of those of `subjects` without one, in one transaction
        (an import's members), and keep every one in memory."""
        wanted = [s for s in dict.fromkeys(subjects) if s not in self._keys]
        if not wanted:
            return
        with self._lock, self.engine.begin() as conn:
            found = self._select(conn, wanted)
            made: list[dict[str, object]] = []
            for subject in wanted:
                if subject not in found:
                    raw = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
                    made.append({"subject_id": subject,
                                 "wrapped_key": self._wrap(subject, raw),
                                 "created_at": datetime.now(UTC)})
                    found[subject] = AESGCM(raw)
            if made:  # SQLAlchemy's batches of many rows a statement
                conn.execute(insert(KEYS), made)
            self._keys.update(found)

    def warm(self) -> None:
        """Unwrap every person's key into memory at once (a rebuild reads them all)."""
        with self._lock, self.engine.connect() as conn:
            rows = conn.execute(text("SELECT subject_id, wrapped_key FROM personal_keys "
                                     "WHERE subject_id <> :s"), {"s": CHECK_SUBJECT}).all()
            for subject, wrapped in rows:
                self._keys[subject] = (ERASED if wrapped is None
                                       else AESGCM(self._unwrap(subject, bytes(wrapped))))

    def destroy(self, subject: str) -> bool:
        """Destroy the person's key (keeping when it was); whether there was one to destroy."""
        with self._lock, self.engine.begin() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA secure_delete = ON")
            now = datetime.now(UTC)
            done = conn.execute(text("UPDATE personal_keys SET wrapped_key = NULL, "
                                     "erased_at = :t WHERE subject_id = :s AND "
                                     "wrapped_key IS NOT NULL"), {"s": subject, "t": now})
            if not done.rowcount:
                conn.execute(text("INSERT INTO personal_keys (subject_id, wrapped_key, "
                                  "created_at, erased_at) SELECT :s, NULL, :t, :t WHERE NOT "
                                  "EXISTS (SELECT 1 FROM personal_keys WHERE subject_id = :s)"),
                             {"s": subject, "t": now})
            self._keys[subject] = ERASED
            return bool(done.rowcount)

    def rewrap(self, new_master: bytes) -> int:
        """Wrap every person's key (and the check) under `new_master` instead, in one
        transaction; how many keys. Erased persons stay erased: they have nothing to wrap."""
        replacement = AESGCM(new_master)
        with self._lock, self.engine.begin() as conn:
            rows = conn.execute(text("SELECT subject_id, wrapped_key FROM personal_keys "
                                     "WHERE wrapped_key IS NOT NULL")).all()
            for subject, wrapped in rows:
                raw = self._unwrap(subject, bytes(wrapped))
                nonce = os.urandom(NONCE_BYTES)
                conn.execute(text("UPDATE personal_keys SET wrapped_key = :w "
                                  "WHERE subject_id = :s"),
                             {"s": subject,
                              "w": nonce + replacement.encrypt(nonce, raw, subject.encode())})
        self._master = replacement
        return len(rows) - 1  # the check is not a person's

    def forget(self, subject: str) -> None:
        """Drop the person's key from memory (another process erased them)."""
        self._keys[subject] = ERASED

    # --- values ----------------------------------------------------------------------------

    @staticmethod
    def seal(key: AESGCM, subject: str, field: str, plain: bytes) -> bytes:
        """`plain` encrypted for the person's `field` (a fresh nonce in front)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + key.encrypt(nonce, plain, _aad(subject, field))

    @staticmethod
    def open(key: AESGCM, subject: str, field: str, sealed: bytes) -> bytes:
        """What `seal` encrypted; raises `InvalidTag` for anything else."""
        return key.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(subject, field))

    # --- storage ---------------------------------------------------------------------------

    def _select(self, conn: Any, subjects: list[str]) -> dict[str, AESGCM | Erased]:
        found: dict[str, AESGCM | Erased] = {}
        for start in range(0, len(subjects), 500):
            rows = conn.execute(select(KEYS.c.subject_id, KEYS.c.wrapped_key).where(
                KEYS.c.subject_id.in_(subjects[start:start + 500]))).all()
            for subject, wrapped in rows:
                found[subject] = (ERASED if wrapped is None
                                  else AESGCM(self._unwrap(subject, bytes(wrapped))))
        return found

    def _wrap(self, subject: str, raw: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._master.encrypt(nonce, raw, subject.encode())

    def _unwrap(self, subject: str, wrapped: bytes) -> bytes:
        return self._master.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:],
                                    subject.encode())


def _aad(subject: str, field: str) -> bytes:
    return f"{subject}/{field}".encode()
