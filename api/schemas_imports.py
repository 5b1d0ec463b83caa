"""Request and response models of imports (`/v1/imports`)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel


class ImportProblemOut(BaseModel):
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str  # the header of the column, as the file wrote it ("" for the row as a whole)
    detail: str  # in Chinese


class ImportOut(BaseModel):
    id: UUID
    rows: int
    accepted: int
    rejected: int
    problems: list[ImportProblemOut]
