"""`linli import FILE --kind … --community … [--dry-run]`: a spreadsheet imported from the
command line, beside a running `linli serve` on the same database if need be."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from ledger.settings import Settings

# Accounts an import keeps in memory, unless LINLI_CACHE_MAX_AGGREGATES says otherwise: an
# account holds a lot for each award, so after a long history it weighs tens of kilobytes.
IMPORT_CACHE_AGGREGATES = 2_000
# Chunks of rows queued for the writer at once: a group's events weigh while it is stored.
IMPORT_IN_FLIGHT = 4
# One lane: a second lane's process would hold as much again (its accounts, and the pages of
# this process's memory it writes to after the fork).
IMPORT_LANES = 1


@contextmanager
def _progress_bar() -> Iterator[object | None]:
    """A progress bar over rows on stderr when it is a terminal, else nothing."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task("检查", total=None)

        def advance(phase: str, done: int, total: int | None) -> None:
            bar.update(task, description=phase, completed=done, total=total)

        yield advance


def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="A CSV (UTF-8 or GB18030) or XLSX file.")],
    kind: Annotated[str, typer.Option(
        help="members, awards or opening_balances.")],
    community: Annotated[UUID, typer.Option(help="The community's id.")],
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Check only: list every problem, post nothing.")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the answer as the API gives it.")] = False,
) -> None:
    """Import residents, historical awards or opening balances from a spreadsheet: checked
    whole, then each row posted once (the same file again posts nothing). Exits 1 when a
    row has a problem."""
    from api.bootstrap import open_linli
    from ledger.actor import Actor, Role
    from ledger.errors import DomainError, ImportHasProblems
    from ledger.imports.columns import Kind
    from ledger.imports.run import Answer, run_import
    from ledger.imports.source import open_source
    from projections.runner import ProjectionRunner

    try:
        chosen = Kind(kind)
    except ValueError:
        typer.echo("--kind 应当是 members、awards 或 opening_balances", err=True)
        raise typer.Exit(2) from None
    settings = Settings(projection_worker="thread", warm_up_seconds=0)
    if "LINLI_CACHE_MAX_AGGREGATES" not in os.environ:  # a long import: bounded memory
        settings = settings.model_copy(update={"cache_max_aggregates": IMPORT_CACHE_AGGREGATES})
    linli = open_linli(settings)
    assert isinstance(linli.projections, ProjectionRunner)
    by = Actor(id=f"cli:{getpass.getuser()}", role=Role.ADMIN)
    try:
        linli.projections.catch_up()  # the registry the rows name residents by
        linli.writer.start()
        with _progress_bar() as progress:
            answer: Answer | None = run_import(
                linli, open_source(file), chosen, community, dry_run=dry_run, by=by,
                progress=progress, in_flight=IMPORT_IN_FLIGHT,  # type: ignore[arg-type]
                lanes=IMPORT_LANES)
        linli.writer.stop()  # the views follow: the server's projections, or the next run's
    except ImportHasProblems as error:
        _print({"rows": None, "problems": error.problems}, error.detail, as_json)
        raise typer.Exit(1) from None
    except DomainError as error:
        typer.echo(f"{error.title}：{error.detail}", err=True)
        raise typer.Exit(1) from None
    finally:
        linli.close()
    assert answer is not None
    _print(answer.as_dict(), _summary(answer), as_json)
    if answer.rejected:
        raise typer.Exit(1)


def _summary(answer: object) -> str:
    from ledger.imports.run import Answer

    assert isinstance(answer, Answer)
    what = ("预检" if answer.dry_run else "此文件以前已导入，结果如下" if answer.replayed
            else "导入完成")
    return (f"{what}：共 {answer.rows} 行，可导入 {answer.accepted} 行，有错误 {answer.rejected} 行"
            if answer.dry_run else
            f"{what}：共 {answer.rows} 行，已导入 {answer.accepted} 行，"
            f"未导入 {answer.rejected} 行")


def _print(answer: dict[str, object], summary: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    typer.echo(summary)
    problems = answer.get("problems") or []
    assert isinstance(problems, list)
    for problem in problems:
        column = f"“{problem['column']}”列" if problem["column"] else ""
        typer.echo(f"第 {problem['row']} 行{column}：{problem['detail']}", err=True)


def register(cli: typer.Typer) -> None:
    cli.command("import")(import_file)
