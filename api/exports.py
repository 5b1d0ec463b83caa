"""Reports as CSV or XLSX: one table, the same rows in both, in the reader's language.

The format comes from `?format=json|csv|xlsx`, or else from the Accept header; the words
(headers, kinds) from Accept-Language (Chinese unless English is asked for; `ledger/messages.py`
`WORDS`). Instants are the community's: in CSV, RFC 3339 with its UTC offset; in XLSX, Excel
date-times in its time zone. CSV is UTF-8 with a byte-order mark, so Excel reads Chinese names
correctly. XLSX has a bold, frozen header row, columns wide enough for their text, and its
totals rows in bold.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request, Response

from api import language
from ledger import messages

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {
    "description": "JSON by default; CSV or XLSX with ?format= or the Accept header",
    "content": {"text/csv": {}, XLSX_TYPE: {}},
}
"""The 200 answer of a route that exports (`responses={200: FORMATS}`)."""

Cell = str | int | float | datetime | date | None
DATE_TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
WIDTH_MAX = 60


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


@dataclass
class Sheet:
    """A table: its title, its columns (keys of `messages.WORDS`, or words as they are), its
    rows, the time zone its instants are shown in, and how many of its last rows are totals."""

    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    time_zone: str = "Asia/Shanghai"
    totals: int = 0


def word(key: str) -> str:
    """A word in the reader's language (a kind, a section, a header)."""
    return messages.word(key, language.current())


def chosen_format(requested: Format | None, request: Request) -> Format:
    if requested is not None:
        return requested
    accept = request.headers.get("accept", "")
    if "spreadsheetml" in accept:
        return Format.XLSX
    if "text/csv" in accept:
        return Format.CSV
    return Format.JSON


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _headers(sheet: Sheet) -> list[str]:
    return [word(column) for column in sheet.columns]


def to_csv(sheet: Sheet) -> bytes:
    zone = _zone(sheet.time_zone)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_headers(sheet))
    for row in sheet.rows:
        writer.writerow([
            "" if cell is None
            else cell.astimezone(zone).isoformat(timespec="seconds")
            if isinstance(cell, datetime) else cell
            for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def _width(value: object) -> int:
    """Columns a value takes in Excel: wide (CJK) characters count two."""
    text = value if isinstance(value, str) else (
        "2026-12-06 08:50:02" if isinstance(value, datetime) else str(value))
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def to_xlsx(sheet: Sheet) -> bytes:
    from openpyxl import Workbook  # imported when asked for: it is not small
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    zone = _zone(sheet.time_zone)
    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet.title[:31].translate({ord(c): " " for c in "[]:*?/\\"})
    headers = _headers(sheet)
    worksheet.append(headers)
    widths = [_width(h) for h in headers]
    bold = Font(bold=True)
    first_total = len(sheet.rows) - sheet.totals
    for index, row in enumerate(sheet.rows):
        cells: list[Cell] = [
            cell.astimezone(zone).replace(tzinfo=None) if isinstance(cell, datetime) else cell
            for cell in row]
        worksheet.append(cells)
        for column, value in enumerate(cells):
            if value is not None and column < len(widths):
                widths[column] = max(widths[column], _width(value))
            if isinstance(value, datetime):
                worksheet.cell(row=index + 2, column=column + 1).number_format = \
                    DATE_TIME_FORMAT
            if index >= first_total:
                worksheet.cell(row=index + 2, column=column + 1).font = bold
    for cell in worksheet[1]:
        cell.font = bold
    worksheet.freeze_panes = "A2"
    for column, width in enumerate(widths, start=1):
        worksheet.column_dimensions[get_column_letter(column)].width = min(width + 2, WIDTH_MAX)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export(sheet: Sheet, chosen: Format, filename: str) -> Response:
    """The sheet as a downloadable file (`filename` without its extension)."""
    if chosen is Format.CSV:
        body, media_type = to_csv(sheet), CSV_TYPE
    else:
        body, media_type = to_xlsx(sheet), XLSX_TYPE
    name = f"{filename}.{chosen.value}"
    disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": disposition})
