"""Reading an uploaded file as rows of cells: XLSX (streamed by openpyxl's read-only mode) or
CSV in UTF-8 (with or without BOM) or GB18030, as Excel in China saves it."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from ledger.errors import ImportFileRefused

Cell = str | int | float | date | datetime | None

CHUNK_BYTES = 1 << 20
XLSX_MAGIC = b"PK\x03\x04"
MAX_BYTES = 50 * 1024 * 1024  # the largest file an import takes (50 MB)


@dataclass(frozen=True)
class Source:
    """A file to import, on disk: where it is, its name, SHA-256, size and how to read it."""

    path: Path
    name: str
    digest: str
    size: int
    encoding: str | None  # None: XLSX

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        """Every row with its number as the spreadsheet shows it (the first row is 1)."""
        if self.encoding is None:
            return _xlsx_rows(self.path)
        return _csv_rows(self.path, self.encoding)


def open_source(path: Path, name: str | None = None) -> Source:
    """The file at `path` made ready to read; `ImportFileRefused` (in Chinese) for an empty
    file or a text in another encoding."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        head = file.read(4)
        file.seek(0)
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(chunk)
            size += len(chunk)
    if size == 0:
        raise ImportFileRefused("import-empty")
    if size > MAX_BYTES:
        from ledger.errors import ImportTooLarge

        raise ImportTooLarge("import-too-large", megabytes=MAX_BYTES // (1024 * 1024))
    encoding = None if head == XLSX_MAGIC else _text_encoding(path, head)
    return Source(path, name or path.name, digest.hexdigest(), size, encoding)


def _text_encoding(path: Path, head: bytes) -> str:
    """UTF-8 (its BOM skipped) if the whole file decodes as such, else GB18030; refuses any
    other (UTF-16 among them) or a text holding NUL."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileRefused("import-utf16")
    candidates = ["utf-8-sig"] if head.startswith(codecs.BOM_UTF8) else ["utf-8", "gb18030"]
    for encoding in candidates:
        with path.open("rb") as file:
            if _decodes(file, encoding):
                return encoding
    raise ImportFileRefused("import-encoding")


def _decodes(file: BinaryIO, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b""):
            if "\x00" in decoder.decode(chunk):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list[Cell]]]:
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as text:
        reader = csv.reader(text)
        try:
            yield from enumerate(reader, start=1)  # a new list each row
        except csv.Error:
            raise ImportFileRefused("import-csv-broken", line=reader.line_num) from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Cell]]]:
    from openpyxl import load_workbook

    with path.open("rb") as file:  # a file, not a name: openpyxl judges names by extension
        try:
            book = load_workbook(file, read_only=True, data_only=True)
        except Exception:  # a zip that is no workbook, or a broken one
            raise ImportFileRefused("import-xlsx-broken") from None
        try:
            sheet = book.worksheets[0]
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(row)
        finally:
            book.close()
