"""The master key: 32 random bytes (64 hex digits) in a file outside the database
(`LINLI_MASTER_KEY_FILE`, written mode 0600 by `linli keys init`). It wraps every person's key.

With no file configured, it is kept beside the seal signing key (`ledger.keys.key_paths`): for
the embedded (SQLite) store, beside its database file, made on first start while the database
holds no person's key yet.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from ledger.settings import Settings, UnsafeConfiguration

log = logging.getLogger(__name__)

MASTER_KEY_BYTES = 32


def master_key_path(settings: Settings) -> Path | None:
    """The master key file as configured, else beside the signing key; None without either."""
    if settings.master_key_file:
        return Path(settings.master_key_file)
    from ledger.keys import key_paths

    paths = key_paths(settings)
    if paths is None:
        return None
    signing = paths[0]
    return signing.with_name(signing.stem.removesuffix("-signing") + "-master.key")


def write_master_key(path: Path) -> bool:
    """Write a new master key at `path` (mode 0600) unless one is there; whether it wrote."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under another name, then linked into place: a process starting at the
    # same moment finds either no file or the whole key, and never two keys.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_bytes(MASTER_KEY_BYTES).hex() + "\n")
        os.link(draft, path)
    except FileExistsError:
        return False
    finally:
        draft.unlink(missing_ok=True)
    return True


def read_master_key(path: Path) -> bytes:
    """The key in `path`; refuses a file that holds none. A file others may read is logged."""
    if not path.exists():
        raise UnsafeConfiguration(
            f"主密钥文件 {path} 不存在：个人信息无法解密，服务不启动。请恢复该文件，或在新库上运行 "
            f"`linli keys init`（the master key file {path} does not exist）")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("主密钥文件 %s 其他用户可读（权限 %o）：请执行 chmod 600 %s "
                    "(the master key file is readable by others)", path, mode & 0o777, path)
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        key = b""
    if len(key) != MASTER_KEY_BYTES:
        raise UnsafeConfiguration(f"{path} 不是主密钥（应为 64 位十六进制数字）"
                                  f"(not a master key: 64 hex digits)")
    return key
