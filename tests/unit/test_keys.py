"""The key files: made beside an embedded database when none is configured, refused missing
on PostgreSQL, and what they sign and MAC."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ledger.chain import MAC_MAGIC, mac_ok, seal
from ledger.keys import init_keys, key_paths, load_keys, read_public_key, seal_signature_ok
from ledger.settings import Settings, UnsafeConfiguration


def test_an_embedded_store_makes_its_keys_beside_its_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'town.db'}", signing_key_file=None)

    keys = load_keys(settings)

    signing, mac = tmp_path / "town-signing.pem", tmp_path / "town-signing.mac"
    for path in (signing, mac):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keys(settings).mac == keys.mac  # made once, then read
    signature = keys.sign_seal(42, "ab" * 32)
    assert seal_signature_ok(read_public_key(signing), 42, "ab" * 32, signature)
    assert not seal_signature_ok(keys.public, 43, "ab" * 32, signature)


def test_postgresql_refuses_to_start_without_keys() -> None:
    settings = Settings(database_url="postgresql://linli@127.0.0.1/linli",
                        signing_key_file=None)

    assert key_paths(settings) is None
    with pytest.raises(UnsafeConfiguration, match="linli keys init"):
        load_keys(settings)


def test_a_configured_key_file_must_exist(tmp_path: Path) -> None:
    settings = Settings(database_url="postgresql://linli@127.0.0.1/linli",
                        signing_key_file=str(tmp_path / "absent.pem"))

    with pytest.raises(UnsafeConfiguration, match="does not exist"):
        load_keys(settings)


def test_init_keeps_a_key_already_there(tmp_path: Path) -> None:
    signing, mac = tmp_path / "k.pem", tmp_path / "k.mac"
    assert init_keys(signing, mac) == [signing, mac]
    before = mac.read_text()

    assert init_keys(signing, mac) == []
    assert mac.read_text() == before


def test_an_event_carries_the_mac_of_its_hash(tmp_path: Path) -> None:
    from uuid import uuid4

    from eventsourcing.persistence import StoredEvent

    signing, mac = tmp_path / "k.pem", tmp_path / "k.mac"
    init_keys(signing, mac)
    keys = load_keys(Settings(signing_key_file=str(signing)))
    stored, _ = seal(StoredEvent(uuid4(), 1, "t", b"{}"), bytes(32), keys.mac)

    assert stored.state[:4] == MAC_MAGIC and mac_ok(keys.mac, stored.state)
    assert not mac_ok(bytes(32), stored.state)
