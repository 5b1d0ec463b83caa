"""Print-ready HTML for the papers a community prints: A4 pages, Chinese fonts, a table of
lines split into pages of `LINES_PER_PAGE`."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import segno

LINES_PER_PAGE = 40

PRINT_CSS = """
@page { size: A4; margin: 12mm 15mm 12mm 15mm; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "PingFang SC",
       "Microsoft YaHei", sans-serif; font-size: 10pt; color: #000; margin: 0 auto;
       max-width: 180mm; }
h1 { text-align: center; font-size: 18pt; letter-spacing: .3em; margin: 0 0 2mm; }
h2 { font-size: 11pt; margin: 2mm 0 1mm; }
p { margin: 1mm 0; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { border: .3mm solid #444; padding: 0 1.5mm; height: 4.2mm; line-height: 4mm;
         font-size: 8.5pt; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
th { background: #eee; }
.n { text-align: right; font-variant-numeric: tabular-nums; }
.page-break { break-before: page; page-break-before: always; }
.meta { display: flex; justify-content: space-between; font-size: 9pt; }
.foot { margin-top: 3mm; display: flex; justify-content: space-between; align-items: flex-end; }
.qr svg { width: 24mm; height: 24mm; display: block; }
.part { margin: 1.5mm 0 0; font-size: 10pt; }
.small { font-size: 8pt; color: #333; }
.kv th { width: 55mm; text-align: left; font-weight: normal; }
.kv td { white-space: normal; height: auto; }
@media screen { body { padding: 10mm; } }
"""

e = html.escape


def document(title: str, body: str, lang: str = "zh-CN") -> str:
    """A whole print-ready page."""
    return (f'<!doctype html>\n<html lang="{e(lang)}"><head><meta charset="utf-8">'
            f"<title>{e(title)}</title><style>{PRINT_CSS}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def table_pages(headers: Sequence[str], rows: Sequence[Sequence[object]],
                numeric: Iterable[int] = (), widths: Sequence[str] = (),
                per_page: int = LINES_PER_PAGE) -> str:
    """The rows as tables of at most `per_page` rows, each after the first on a new page,
    each with the header row; columns in `numeric` aligned right."""
    right = set(numeric)
    cols = "".join(f'<col style="width:{w}">' for w in widths)
    head = "<tr>" + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr>"
    chunks = [rows[i:i + per_page] for i in range(0, len(rows), per_page)] or [[]]
    tables = []
    for index, chunk in enumerate(chunks):
        lines = "".join(
            "<tr>" + "".join(f'<td{" class=n" if i in right else ""}>{e(str(v))}</td>'
                             for i, v in enumerate(row)) + "</tr>" for row in chunk)
        css = ' class="page-break"' if index else ""
        tables.append(f"<table{css}><colgroup>{cols}</colgroup>{head}{lines}</table>")
    return "\n".join(tables)


def qr_svg(text: str) -> str:
    """An inline SVG QR code of `text`."""
    return str(segno.make(text, error="m").svg_inline(border=4, omitsize=True))


def hours(minutes: int, lang: str = "zh") -> str:
    """Minutes in hours and minutes: 2小时30分钟 / 2 h 30 min."""
    h, m = divmod(minutes, 60)
    if lang == "en":
        return f"{h} h {m} min" if h and m else (f"{h} h" if h else f"{m} min")
    return f"{h}小时{m}分钟" if h and m else (f"{h}小时" if h else f"{m}分钟")
