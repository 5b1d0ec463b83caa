"""Periods in a community's time zone, and names masked for public display."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.privacy.masking import masked
from projections.periods import Quarter, is_period, keys_for, zone

SHANGHAI = zone("Asia/Shanghai")


class TestPeriods:
    def test_an_instant_counts_in_its_local_month_quarter_and_year(self):
        last_minute = datetime(2026, 12, 31, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
        midnight = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 00:00 on 1 January
        assert keys_for(last_minute, SHANGHAI) == ("all", "2026", "2026-Q4", "2026-12")
        assert keys_for(midnight, SHANGHAI) == ("all", "2027", "2027-Q1", "2027-01")
        assert keys_for(midnight, zone("UTC")) == ("all", "2026", "2026-Q4", "2026-12")

    @pytest.mark.parametrize("text", ["all", "2026", "2026-Q1", "2026-Q4", "2026-01", "2026-12"])
    def test_periods(self, text):
        assert is_period(text)

    @pytest.mark.parametrize("text", ["", "ALL", "26", "2026-Q0", "2026-Q5", "2026-00",
                                      "2026-13", "2026-1", "1999", "2026-11-01", "2026 "])
    def test_not_periods(self, text):
        assert not is_period(text)

    def test_quarters(self):
        q1 = Quarter.parse("2027-Q1")
        assert q1.previous() == Quarter(2026, 4)
        assert Quarter.parse("2026-Q3").previous().key == "2026-Q2"
        assert q1.months == ["2027-01", "2027-02", "2027-03"]
        start, end = Quarter(2026, 4).bounds(SHANGHAI)
        assert (start.astimezone(UTC), end.astimezone(UTC)) == (
            datetime(2026, 9, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC))
        for text in ("2026-Q5", "2026Q1", "2026-11"):
            with pytest.raises(ValueError):
                Quarter.parse(text)


class TestMasking:
    @pytest.mark.parametrize(("name", "shown"), [
        ("张小明", "张*明"), ("张三", "张*"), ("欧阳娜娜", "欧*娜"), ("王", "*"), ("", "*"),
        (" 李四 ", "李*"), ("John Smith", "J*h"), ("已注销居民", "已注销居民"),
    ])
    def test_keeps_the_first_and_last_character(self, name, shown):
        assert masked(name) == shown
