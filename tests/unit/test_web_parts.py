"""The pages' pure parts: both languages say everything, charts scale to whole numbers."""

from __future__ import annotations

import re

from web.charts import Series, bar_chart
from web.i18n import MESSAGES, chosen_lang


def test_both_languages_have_every_word() -> None:
    assert set(MESSAGES["zh"]) == set(MESSAGES["en"])
    assert all(MESSAGES["zh"].values()) and all(MESSAGES["en"].values())


def test_chinese_unless_english_is_asked_for() -> None:
    assert chosen_lang(None, None) == "zh"
    assert chosen_lang("fr", None) == "zh"
    assert chosen_lang(None, "en") == "en"
    assert chosen_lang("zh", "en") == "zh"


def test_a_chart_has_whole_number_ticks_and_bars_in_proportion() -> None:
    svg = bar_chart("积分", ["1月", "2月"], [Series("发放", [30, 15]), Series("兑换", [0, 3])])
    ticks = [int(t) for t in re.findall(r'text-anchor="end"[^>]*>(\d+)</text>', svg)]
    assert ticks == [0, 10, 20, 30, 40]
    heights = [float(h) for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" '
                                            r'height="([\d.]+)"', svg)]
    assert heights[0] == 2 * heights[2] > 0 and heights[1] == 0  # 30 vs 15; nothing redeemed
    assert "<title>1月 发放 30</title>" in svg


def test_an_empty_year_still_draws_a_scale() -> None:
    svg = bar_chart("时间", ["1月"], [Series("存入", [0])])
    assert [int(t) for t in re.findall(r'text-anchor="end"[^>]*>(\d+)</text>', svg)] == [
        0, 1, 2, 3, 4]


def test_an_empty_year_says_so_when_asked_instead_of_blank_axes() -> None:
    svg = bar_chart("时间", ["1月"], [Series("存入", [0])], empty="这一年还没有数据")
    assert 'class="chart-empty"' in svg and "这一年还没有数据" in svg
    assert re.findall(r'text-anchor="end"[^>]*>(\d+)</text>', svg) == []  # no empty scale


def test_a_narrow_chart_is_drawn_at_its_width_with_short_month_labels() -> None:
    months = [f"{m}月" for m in range(1, 13)]
    svg = bar_chart("积分", months, [Series("发放", [1] * 12)], width=330)
    assert 'viewBox="0 0 330 300"' in svg
    assert ">12</text>" in svg and ">12月</text>" not in svg
    wide = bar_chart("积分", months, [Series("发放", [1] * 12)], width=900)
    assert ">12月</text>" in wide
    assert 'viewBox="0 0 320 300"' in bar_chart("x", ["1月"], [Series("a", [1])], width=10)
