"""Opening the personal data: the master key found and checked, the keyring given to the
application's mapper."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, text

from ledger.engines import sql_engine
from ledger.privacy.fields import CLASSES, PersonalCipher
from ledger.privacy.keyring import CHECK_SUBJECT, Keyring
from ledger.privacy.master_key import master_key_path, read_master_key, write_master_key
from ledger.settings import Settings, UnsafeConfiguration

log = logging.getLogger(__name__)


def keyring_engine(settings: Settings) -> Engine:
    """A small connection pool for the persons' keys."""
    return sql_engine(settings, pool_size=2, max_overflow=4)


def open_keyring(settings: Settings) -> Keyring:
    """The keyring under the configured master key, checked against the database. With no
    file configured, an embedded store's is made on first start, while no key is stored."""
    path = master_key_path(settings)
    if path is None:
        raise UnsafeConfiguration(
            "没有设置 LINLI_MASTER_KEY_FILE：请运行 `linli keys init` 并设置它 "
            "(the master key file is not set: run `linli keys init` and set LINLI_MASTER_KEY_FILE)")
    engine = keyring_engine(settings)
    try:
        if not path.exists() and not settings.master_key_file and not _holds_keys(engine):
            write_master_key(path)
            log.warning("made the master key file %s (mode 0600): back it up apart from the "
                        "database; without it no personal data can be read (docs/privacy.md)",
                        path)
        keyring = Keyring(engine, read_master_key(path))
        keyring.check_master()
    except Exception:
        engine.dispose()
        raise
    return keyring


def use_personal_data(app: Any, settings: Settings) -> Keyring:
    """Give the application's mapper the persons' keys: personal fields are encrypted in the
    events and snapshots it stores and decrypted in those it reads."""
    keyring = open_keyring(settings)
    app.keyring = keyring
    app.mapper.personal = PersonalCipher(keyring)
    app.mapper.personal_classes = CLASSES
    return keyring


def _holds_keys(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM personal_keys WHERE subject_id = :s"),
                            {"s": CHECK_SUBJECT}).first() is not None
