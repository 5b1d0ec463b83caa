"""Accessibility basics on every page at a phone's 360 px: the language, a label on every
input, enough contrast for the text, no sideways scrolling; and the English switch."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenario import Town

# Every visible text element's colour against the first opaque background behind it.
CONTRAST = """
() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (node) => {
    for (let n = node; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const worst = [];
  const texts = "h1, h2, h3, p, li, label, a, button, span, small, code, figcaption";
  for (const node of document.querySelectorAll(texts)) {
    const style = getComputedStyle(node);
    const own = [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
    if (!own || style.visibility === "hidden" || node.getClientRects().length === 0) continue;
    const a = lum(rgb(style.color).slice(0, 3)), b = lum(background(node));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) worst.push(`${node.tagName}#${node.id}.${node.className} ${ratio.toFixed(2)}`);
  }
  return worst;
}
"""

UNLABELLED = """
() => [...document.querySelectorAll("input, select, textarea")]
  .filter((i) => i.type !== "hidden" && i.labels.length === 0 && !i.getAttribute("aria-label"))
  .map((i) => i.outerHTML)
"""

PAGES = {"signin": None, "volunteer": "member", "till": "merchant", "staff": "staff",
         "screen": "member", "card": "staff"}


@pytest.mark.parametrize("name", list(PAGES))
def test_the_page_is_accessible_at_360_px(name: str, town: Town, browse: Any) -> None:
    role = PAGES[name]
    token = town.tokens[role] if role else None
    query = f"?member_id={town.member_id}" if name == "card" else ""
    page = browse(token, f"/web/{name}{query}", width=360, height=740)

    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(CONTRAST) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    main_text = page.evaluate("getComputedStyle(document.querySelector('main')).fontSize")
    assert float(main_text.removesuffix("px")) >= 18  # large type for elderly readers


def test_the_english_switch_changes_the_words_and_the_language(town: Town,
                                                               browse: Any) -> None:
    page = browse(town.tokens["member"], "/web/volunteer")
    assert page.inner_text("#lines-title") == "积分存折"
    page.click("#switch-lang")
    page.wait_for_selector("html[lang=en]")
    page.wait_for_selector("body[data-ready=true]")
    assert page.inner_text("#lines-title") == "Passbook"
    page.goto(page.url.split("?")[0])  # the choice is remembered
    assert page.get_attribute("html", "lang") == "en"
