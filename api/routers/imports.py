"""Imports (导入): a community's residents, historical awards or opening balances from a
spreadsheet (CSV or XLSX), checked by a dry run, then posted once."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import LinliDep, StaffActor
from api.errors import domain_problem, render_problem
from api.schemas_imports import ImportOut
from ledger.errors import ImportHasProblems, ImportTooLarge
from ledger.imports.columns import Kind
from ledger.imports.run import Answer, run_import
from ledger.imports.source import MAX_BYTES, open_source

router = APIRouter(prefix="/v1/imports", tags=["imports"])

FILE_BODY = {"content": {"text/csv": {"schema": {"type": "string", "format": "binary"}},
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
                             {"schema": {"type": "string", "format": "binary"}}},
             "required": True}


async def _spool(request: Request) -> Path:
    """The request's body in a temporary file, read as a stream; `ImportTooLarge` past
    50 MB, declared or sent."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise ImportTooLarge("import-too-large", megabytes=MAX_BYTES // (1024 * 1024))
    handle, name = tempfile.mkstemp(prefix="linli-import-")
    path = Path(name)
    size = 0
    try:
        with os.fdopen(handle, "wb") as file:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise ImportTooLarge("import-too-large", megabytes=MAX_BYTES // (1024 * 1024))
                file.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _response(answer: Answer) -> JSONResponse:
    body = ImportOut.model_validate(answer.as_dict()).model_dump(mode="json")
    return JSONResponse(body, status_code=200 if answer.dry_run or answer.replayed else 201)


@router.post("", response_model=ImportOut, status_code=201, openapi_extra={
    "requestBody": FILE_BODY})
async def create_import(
    request: Request, actor: StaffActor, linli: LinliDep,
    kind: Annotated[Kind, Query(description="members, awards or opening_balances")],
    community_id: UUID,
    dry_run: Annotated[bool, Query(description="check only: every problem, nothing posted"
                                   )] = False,
    file_name: Annotated[str, Query(max_length=200)] = "",
) -> JSONResponse:
    """Take in a CSV (UTF-8, with or without BOM, or GB18030) or XLSX file of `kind`: a dry run
    answers 200 with every problem by row and column (in Chinese); a real run refuses the
    whole file when any row has a problem (422 `import-has-problems`, nothing posted), else
    posts every row, marked imported, and answers 201. The same bytes again: 200 with the
    first import's answer."""
    actor.check_community(community_id, "community", community_id)  # before any byte is read
    path = await _spool(request)
    try:
        def work() -> Answer:
            linli.read_your_writes()  # the registry it checks names against is up to date
            source = open_source(path, file_name or None)
            return run_import(linli, source, kind, community_id, dry_run=dry_run, by=actor)

        answer = await run_in_threadpool(work)
    except ImportHasProblems as error:
        status, body = domain_problem(error)
        return render_problem({**body, "problems": error.problems}, status)
    finally:
        path.unlink(missing_ok=True)
    return _response(answer)
