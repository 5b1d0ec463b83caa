"""Reports as CSV or XLSX: one table, the same rows in both.

The format comes from `?format=json|csv|xlsx`, or else from the Accept header.
CSV is UTF-8 with a byte-order mark, so spreadsheet programs read Chinese names correctly.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote

from fastapi import Request, Response

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {
    "description": "JSON by default; CSV or XLSX with ?format= or the Accept header",
    "content": {"text/csv": {}, XLSX_TYPE: {}},
}
"""The 200 answer of a route that exports (`responses={200: FORMATS}`)."""

Cell = str | int | float | None


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


@dataclass
class Sheet:
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def chosen_format(requested: Format | None, request: Request) -> Format:
    if requested is not None:
        return requested
    accept = request.headers.get("accept", "")
    if "spreadsheetml" in accept:
        return Format.XLSX
    if "text/csv" in accept:
        return Format.CSV
    return Format.JSON


def to_csv(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(sheet.columns)
    for row in sheet.rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(sheet: Sheet) -> bytes:
    from openpyxl import Workbook  # imported when asked for: it is not small

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet.title[:31])
    worksheet.append(sheet.columns)
    for row in sheet.rows:
        worksheet.append(row)
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
