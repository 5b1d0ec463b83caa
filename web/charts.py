"""Bar charts as SVG, drawn on the server from the dashboard's monthly figures."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH = 640
HEIGHT = 300
LEFT = 56
RIGHT = 12
TOP = 40
BOTTOM = 36
COLOURS = ("#1f5f99", "#b3541e", "#2e7d32")
TEXT = "#1a1a1a"


@dataclass(frozen=True)
class Series:
    label: str
    values: list[int]


TICKS = 4


def _nice_step(value: int) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ whose TICKS steps reach `value`: whole-number ticks."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if power * factor * TICKS >= value:
                return power * factor
        power *= 10


MIN_WIDTH = 320
MAX_WIDTH = 1200
FONT = 13
LABEL_ROOM = 30  # the least width a month's label needs at FONT px


def bar_chart(title: str, labels: list[str], series: list[Series], width: int = WIDTH,
              empty: str | None = None) -> str:
    """Grouped bars, one group per label, with a scale and a legend; integers only. Drawn
    `width` units wide (the width it is shown at, so its text keeps FONT px); labels too long
    for their group lose a trailing 月; with every value 0 and `empty` given, the chart says
    `empty` across its plot instead of drawing an empty scale."""
    width = max(MIN_WIDTH, min(MAX_WIDTH, width))
    values = [v for s in series for v in s.values]
    step = _nice_step(max([1, *values]))
    top_value = step * TICKS
    plot_w, plot_h = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(1, len(labels))
    bar_w = group_w * 0.8 / max(1, len(series))
    short = group_w < LABEL_ROOM + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {HEIGHT}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    nothing = empty is not None and not any(values)
    for tick in range(TICKS + 1) if not nothing else ():
        value = step * tick
        y = TOP + plot_h - plot_h * tick / TICKS
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#d0d0d0"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="{FONT}" fill="{TEXT}">{value}</text>')
    if nothing:
        parts.append(f'<text x="{width / 2:.1f}" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
                     f'font-size="{FONT + 3}" fill="{TEXT}" class="chart-empty">'
                     f"{escape(empty or '')}</text>")
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{TOP + plot_h}" '
                     f'y2="{TOP + plot_h}" stroke="#6b6b6b"/>')
    for i, label in enumerate(labels):
        x0 = LEFT + group_w * i + group_w * 0.1
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else 0
            h = plot_h * value / top_value
            if not nothing:
                parts.append(
                    f'<rect x="{x0 + bar_w * j:.1f}" y="{TOP + plot_h - h:.1f}" '
                    f'width="{bar_w:.1f}" height="{h:.1f}" fill="{COLOURS[j % len(COLOURS)]}">'
                    f"<title>{escape(label)} {escape(s.label)} {value}</title></rect>")
        shown = label.removesuffix("月") if short else label
        parts.append(f'<text x="{LEFT + group_w * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 18}" '
                     f'text-anchor="middle" font-size="{FONT}" fill="{TEXT}">'
                     f"{escape(shown)}</text>")
    legend_step = (width - LEFT) / max(1, len(series))
    for j, s in enumerate(series):
        x = LEFT + j * min(120.0, legend_step)
        parts.append(f'<rect x="{x:.1f}" y="12" width="14" height="14" '
                     f'fill="{COLOURS[j % len(COLOURS)]}"/>')
        parts.append(f'<text x="{x + 20:.1f}" y="24" font-size="{FONT + 1}" fill="{TEXT}">'
                     f"{escape(s.label)}</text>")
    parts.append("</svg>")
    return "".join(parts)
