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


def bar_chart(title: str, labels: list[str], series: list[Series]) -> str:
    """Grouped bars, one group per label, with a scale and a legend; integers only."""
    step = _nice_step(max([1, *(v for s in series for v in s.values)]))
    top_value = step * TICKS
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(1, len(labels))
    bar_w = group_w * 0.8 / max(1, len(series))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for tick in range(TICKS + 1):
        value = step * tick
        y = TOP + plot_h - plot_h * tick / TICKS
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#d0d0d0"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
                     f'fill="{TEXT}">{value}</text>')
    for i, label in enumerate(labels):
        x0 = LEFT + group_w * i + group_w * 0.1
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else 0
            h = plot_h * value / top_value
            parts.append(
                f'<rect x="{x0 + bar_w * j:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{COLOURS[j % len(COLOURS)]}">'
                f"<title>{escape(label)} {escape(s.label)} {value}</title></rect>")
        parts.append(f'<text x="{LEFT + group_w * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 18}" '
                     f'text-anchor="middle" font-size="12" fill="{TEXT}">{escape(label)}</text>')
    for j, s in enumerate(series):
        x = LEFT + j * 120
        parts.append(f'<rect x="{x}" y="12" width="14" height="14" '
                     f'fill="{COLOURS[j % len(COLOURS)]}"/>')
        parts.append(f'<text x="{x + 20}" y="24" font-size="14" fill="{TEXT}">'
                     f"{escape(s.label)}</text>")
    parts.append("</svg>")
    return "".join(parts)
