"""The auditor's commands: `linli db roles`, `linli replay`, `linli export …`."""

from __future__ import annotations

from typing import Annotated

import typer

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


def register(cli: typer.Typer) -> None:
    cli.add_typer(db, name="db")
