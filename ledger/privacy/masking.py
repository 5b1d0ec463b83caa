"""Names as those who may not see them whole are shown them (脱敏)."""

from __future__ import annotations

from ledger.domain.registry import ERASED_NAME


def masked(name: str) -> str:
    """A name masked for a shop's statement or public display (公示): 张小明 -> 张*明, 张三 ->
    张*, 张 -> *; an erased member reads 「已注销居民」 whoever looks."""
    name = name.strip()
    if name == ERASED_NAME:
        return name
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" + name[-1]
