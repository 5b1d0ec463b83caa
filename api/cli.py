"""The `linli` command."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from ledger.settings import Settings

cli = typer.Typer(help="Linli (邻里): points bank and volunteer time bank.",
                  no_args_is_help=True, add_completion=False)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    access_log: Annotated[bool, typer.Option(
        help="Log every request (a reverse proxy in front usually does).")] = False,
    forwarded_allow_ips: Annotated[str | None, typer.Option(
        help="Addresses of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto "
             "are believed (comma-separated, or '*'). Default: none; the client address is "
             "the connection's.")] = None,
) -> None:
    """Run the API and the projection workers (migrating the schema first)."""
    import uvicorn

    from api.app import create_app
    from api.bootstrap import open_linli
    from api.gc_tuning import FullCollection, tune_gc
    from api.http_protocol import OneWriteHttpProtocol

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    if "LINLI_PROJECTION_WORKER" not in os.environ:  # the server's own default
        settings = settings.model_copy(update={"projection_worker": "process"})
    # Opened here, before the server: a missing or wrong key is refused in one line (`main`)
    linli = open_linli(settings)
    app = create_app(linli=linli)
    tune_gc()
    if settings.gc_full_collection_seconds > 0:
        FullCollection(settings.gc_full_collection_seconds).start()
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=access_log,
                http=OneWriteHttpProtocol, proxy_headers=forwarded_allow_ips is not None,
                forwarded_allow_ips=forwarded_allow_ips or "")


@cli.command()
def migrate() -> None:
    """Bring the database's schema to the latest migration (alembic upgrade head)."""
    from projections.schema import migrate as run

    run(Settings())
    typer.echo("schema is at the latest migration")


@cli.command()
def demo(
    sandbox: Annotated[bool, typer.Option(
        help="Instead: a sandbox for a merchant's developer (a community of its own, a "
             "resident with points whose key makes payment codes, and your own merchant "
             "key); a new one each time.")] = False,
) -> None:
    """Fill the database with a demo community modelled on 116社区 (prints tokens to try)."""
    from api.bootstrap import open_linli
    from ledger.demo import build_demo
    from ledger.sandbox import build_sandbox

    linli = open_linli(Settings())
    try:
        linli.start()
        if sandbox:
            lines = build_sandbox(linli.writer, now=linli.clock()).lines()
        else:
            lines = build_demo(linli.writer, now=linli.clock()).lines()
        linli.read_your_writes()
    finally:
        linli.close()
    for line in lines:
        typer.echo(line)


@cli.command()
def rebuild(
    names: Annotated[list[str] | None, typer.Argument(help="Projections (default: all).")] = None,
) -> None:
    """Rebuild projections from the event store."""
    from api.bootstrap import open_linli
    from projections.runner import ProjectionRunner

    linli = open_linli(Settings(projection_worker="thread"))
    assert isinstance(linli.projections, ProjectionRunner)
    try:
        replayed = linli.projections.rebuild(names or None)
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    finally:
        linli.close()
    typer.echo(f"rebuilt {', '.join(names or [v.name for v in linli.projections.views])} "
               f"from {replayed} events")


members = typer.Typer(help="Residents' personal data (docs/privacy.md).", no_args_is_help=True)
cli.add_typer(members, name="members")


@members.command("erase")
def erase_member(
    member_id: Annotated[str, typer.Argument(help="The member's id.")],
    reason: Annotated[str, typer.Option(help="Why (the resident's request, its date).")],
) -> None:
    """Erase a member's personal data (个人信息注销): their key is destroyed, their name reads
    「已注销居民」 everywhere; points, minutes and history stay."""
    import getpass
    from uuid import UUID

    from eventsourcing.application import AggregateNotFoundError

    from api.bootstrap import open_linli
    from api.erasure import erasure_command, finish_erasure
    from ledger.actor import Actor, Role
    from ledger.domain.registry import Member
    from ledger.errors import DomainError

    linli = open_linli(Settings(projection_worker="thread"))
    try:
        linli.start()
        member: Member = linli.app.repository.get(UUID(member_id))
        by = Actor(f"cli:{getpass.getuser()}", Role.ADMIN)
        erasure = linli.writer.execute(erasure_command(linli, member, reason, by))
        finish_erasure(linli, erasure.member_id, erasure.household_id)
    except AggregateNotFoundError:
        typer.echo(f"linli: 没有这个居民：{member_id}", err=True)
        raise typer.Exit(1) from None
    except DomainError as error:
        typer.echo(f"linli: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        linli.close()
    typer.echo(f"已注销 {member_id} 的个人信息" + (
        f"（及其住户 {erasure.household_id} 的地址）" if erasure.household_id else ""))


from api import cli_audit  # noqa: E402  (its commands join `cli`)

cli_audit.register(cli)

from api import cli_imports  # noqa: E402  (`linli import`)

cli_imports.register(cli)


def main() -> None:
    try:
        cli()
    except Exception as error:  # a clear line, not a traceback, for configuration errors
        from ledger.settings import UnsafeConfiguration

        if isinstance(error, UnsafeConfiguration):
            typer.echo(f"linli: {error}", err=True)
            sys.exit(2)
        raise
