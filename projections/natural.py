"""Natural order of names: numbers in them, Arabic (12) or Chinese (十二, 两), compare as
numbers, so 第二网格 comes before 第十网格 and 2栋 before 10栋."""

from __future__ import annotations

import re

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
          "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000}
RUN = re.compile(r"[0-9]+|[零〇一二两三四五六七八九十百千万]+")


def chinese_number(text: str) -> int:
    """十二 -> 12, 二十 -> 20, 一百零五 -> 105, 三〇一 -> 301 (digits read one by one)."""
    if not any(c in UNITS for c in text):
        return int("".join(str(DIGITS[c]) for c in text))
    total = section = digit = 0
    for c in text:
        if c in DIGITS:
            digit = DIGITS[c]
        elif c == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        else:
            section += (digit or 1) * UNITS[c]
            digit = 0
    return total + section + digit


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key for `name`: its text in code point order, its numbers by value."""
    key: list[tuple[int, int | str]] = []
    at = 0
    for run in RUN.finditer(name):
        if run.start() > at:
            key.append((1, name[at:run.start()]))
        text = run.group()
        key.append((0, int(text) if text.isdigit() else chinese_number(text)))
        at = run.end()
    if at < len(name):
        key.append((1, name[at:]))
    return tuple(key)
