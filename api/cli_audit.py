"""The auditor's commands: `linli db roles`, `linli replay`, `linli export …`."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO
from uuid import UUID

import typer

from ledger.application import LedgerApp
from ledger.settings import Settings

db = typer.Typer(help="Database administration.", no_args_is_help=True)


@db.command("roles")
def roles(
    app_role: Annotated[str, typer.Option(help="Role of the serving process.")] = "linli_app",
    auditor_role: Annotated[str | None, typer.Option(
        help="Also a read-only role for auditors.")] = None,
    password: Annotated[str | None, typer.Option(help="Password of the new roles.")] = None,
    apply: Annotated[bool, typer.Option(
        help="Run the script on LINLI_DATABASE_URL (as the tables' owner).")] = False,
) -> None:
    """Print (or --apply) the SQL that makes a PostgreSQL role unable to UPDATE, DELETE or
    TRUNCATE stored events."""
    from projections.roles import roles_sql

    try:
        script = roles_sql(app_role, auditor_role, password)
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    if not apply:
        typer.echo(script, nl=False)
        return
    settings = Settings()
    if not settings.is_postgres:
        typer.echo("roles are for PostgreSQL; SQLite has none", err=True)
        raise typer.Exit(2)
    import psycopg

    with psycopg.connect(settings.database_url) as conn:  # one transaction, committed
        conn.execute(script.encode())
    typer.echo(f"role {app_role} may read, insert events and keep the read models")




export = typer.Typer(help="Export the ledger for an auditor's own tools.", no_args_is_help=True)


class JournalFormat(StrEnum):
    BEANCOUNT = "beancount"
    HLEDGER = "hledger"


Output = Annotated[Path | None, typer.Option("--output", "-o", help="File (default: stdout).")]
FromDate = Annotated[datetime | None, typer.Option(
    "--from", help="First day (UTC) or instant included.")]
ToDate = Annotated[datetime | None, typer.Option(
    "--to", help="Day (UTC) or instant no longer included.")]


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
    else:
        with path.open("w", encoding="utf-8", newline="") as out:
            yield out


@contextmanager
def _ledger() -> Iterator[LedgerApp]:
    from ledger.application import open_ledger

    app = open_ledger(Settings())
    try:
        yield app
    finally:
        app.close()


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@export.command("journal")
def export_journal(
    format: Annotated[JournalFormat, typer.Option(help="Journal format.")] = (
        JournalFormat.BEANCOUNT),
    start: FromDate = None,
    end: ToDate = None,
    output: Output = None,
) -> None:
    """The ledger as a plain-text journal (beancount or hledger), from the event store."""
    from projections.journal import read_books, write_beancount, write_hledger

    with _ledger() as app:
        books, transactions = read_books(app)
    write = write_beancount if format is JournalFormat.BEANCOUNT else write_hledger
    with _output(output) as out:
        write(out, books, transactions, _utc(start), _utc(end))


@export.command("ledger")
def export_ledger(start: FromDate = None, end: ToDate = None, output: Output = None) -> None:
    """Every posting recorded in the period, as CSV, from the event store."""
    from projections.journal import LEDGER_COLUMNS, ledger_rows

    with _ledger() as app, _output(output) as out:
        writer = csv.writer(out)
        writer.writerow(LEDGER_COLUMNS)
        writer.writerows(ledger_rows(app, _utc(start), _utc(end)))


@export.command("passbook")
def export_passbook(
    owner_id: Annotated[UUID, typer.Argument(help="A member's or merchant's id.")],
    asset: Annotated[str, typer.Option(help="POINTS or MINUTES.")] = "POINTS",
    start: FromDate = None,
    end: ToDate = None,
    output: Output = None,
) -> None:
    """One passbook (or a merchant's account) as CSV, oldest line first."""
    from ledger.ids import account_id
    from projections.journal import LEDGER_COLUMNS, ledger_rows

    wanted = {str(account_id(owner_id, asset.upper()))}
    with _ledger() as app, _output(output) as out:
        writer = csv.writer(out)
        writer.writerow(LEDGER_COLUMNS)
        writer.writerows(ledger_rows(app, _utc(start), _utc(end), wanted))


def replay(
    until: Annotated[datetime, typer.Option(help="RFC 3339 instant (UTC if no offset).")],
) -> None:
    """Every account's balance as of an instant, replayed from the event store."""
    from projections.journal import read_books

    with _ledger() as app:
        books, _ = read_books(app, _utc(until))
    typer.echo("account_id\towner_kind\towner_id\tcommunity_id\tasset\tbalance")
    for book in sorted(books.values(), key=lambda b: (b.community_id, b.owner_kind,
                                                       b.owner_id, b.asset)):
        typer.echo(f"{book.account_id}\t{book.owner_kind}\t{book.owner_id}\t"
                   f"{book.community_id}\t{book.asset}\t{book.balance}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(db, name="db")
    cli.add_typer(export, name="export")
    cli.command("replay")(replay)
