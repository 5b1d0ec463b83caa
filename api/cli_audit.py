"""The auditor's commands: `linli db roles`, `linli keys init`, `linli verify`, `linli audit
witness`, `linli replay`, `linli export …`."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO
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


keys = typer.Typer(help="The keys kept outside the database (docs/audit.md, docs/privacy.md).",
                   no_args_is_help=True)


@keys.command("init")
def keys_init(
    signing_key_file: Annotated[Path | None, typer.Option(
        help="Where to write the signing key (default: LINLI_SIGNING_KEY_FILE, else beside "
             "the SQLite database).")] = None,
    public_key: Annotated[Path | None, typer.Option(
        help="Also write the public key here, for auditors.")] = None,
) -> None:
    """Write the seal signing key, the event MAC key and the master key of personal data
    (mode 0600) where they are missing; an existing key is kept."""
    from ledger.keys import init_keys, key_paths, public_pem, read_signing_key
    from ledger.privacy.master_key import master_key_path, write_master_key

    settings = Settings()
    if signing_key_file is not None:
        settings = settings.model_copy(update={"signing_key_file": str(signing_key_file)})
    paths = key_paths(settings)
    if paths is None:
        typer.echo("name the file: --signing-key-file or LINLI_SIGNING_KEY_FILE", err=True)
        raise typer.Exit(2)
    signing, mac = paths
    written = init_keys(signing, mac)
    master = master_key_path(settings)
    assert master is not None  # beside the signing key when not configured
    if write_master_key(master):
        written.append(master)
    for path in (signing, mac, master):
        typer.echo(f"{'wrote' if path in written else 'kept'} {path}")
    if public_key is not None:
        public_key.write_text(public_pem(read_signing_key(signing).public_key()))
        typer.echo(f"wrote {public_key}")
    if settings.signing_key_file is None or signing_key_file is not None:
        typer.echo(f"serve with LINLI_SIGNING_KEY_FILE={signing}"
                   + (f" LINLI_MAC_KEY_FILE={mac}" if settings.mac_key_file else "")
                   + (f" LINLI_MASTER_KEY_FILE={master}" if settings.master_key_file else ""))


@keys.command("rotate-master")
def rotate_master(
    new_key_file: Annotated[Path, typer.Argument(
        help="Where to write the new master key (a file that does not exist yet).")],
) -> None:
    """Wrap every person's key under a new master key (stop the server first). The old key
    file then opens nothing: keep it only until the new one is backed up."""
    from ledger.privacy.master_key import read_master_key, write_master_key
    from ledger.privacy.opening import open_keyring

    settings = Settings()
    keyring = open_keyring(settings)
    try:
        if not write_master_key(new_key_file):
            typer.echo(f"{new_key_file} exists already: name a new file", err=True)
            raise typer.Exit(2)
        count = keyring.rewrap(read_master_key(new_key_file))
    finally:
        keyring.engine.dispose()
    typer.echo(f"wrapped {count} persons' keys under {new_key_file}; serve with "
               f"LINLI_MASTER_KEY_FILE={new_key_file}")


PublicKeyOption = Annotated[Path | None, typer.Option(
    "--public-key", help="Check the seals' signatures with this public key (PEM) only, "
                         "without the server's keys (the MAC of each event is then unchecked).")]


def verify(
    public_key: PublicKeyOption = None,
    witness: Annotated[Path | None, typer.Option(
        help="A file of witnessed seals (`linli audit witness`): the log must still hold "
             "each, unchanged.")] = None,
    since_witness: Annotated[bool, typer.Option(
        help="Check only what came after the last witnessed seal.")] = False,
) -> None:
    """Check every hash chain, MAC, checkpoint and signature, the snapshots, and the books
    against a replay; exit 1 naming the first bad event."""
    from api.bootstrap import open_linli
    from projections.runner import ProjectionRunner
    from projections.verify import Trust
    from projections.verify import verify as run
    from projections.verify_cli import print_report, progress_bar

    witnessed = _read_witness(witness) if witness is not None else ()
    if since_witness and not witnessed:
        typer.echo("--since-witness needs --witness FILE with a seal in it", err=True)
        raise typer.Exit(2)
    linli = open_linli(Settings(projection_worker="thread"), keys=public_key is None)
    assert isinstance(linli.projections, ProjectionRunner)
    try:
        trust = Trust.of(linli.app)
        if public_key is not None:
            from ledger.keys import read_public_key

            trust = Trust(None, read_public_key(public_key))
        trust = Trust(trust.mac_key, trust.public_key, witnessed, since_witness)
        if trust.public_key is not None:
            _check_witnessed(trust)
        linli.projections.catch_up()
        with progress_bar() as progress:
            report = run(linli.app, linli.engine, progress, trust=trust, chain_apart=True)
    finally:
        linli.close()
    if since_witness:
        typer.echo(f"checked only what came after the seal witnessed through position "
                   f"{witnessed[-1].position}")
    if not print_report(report):
        raise typer.Exit(1)


def _read_witness(path: Path) -> tuple[Any, ...]:
    """The seals of a witness file, one JSON object a line, in order."""
    import json

    from projections.chain_check import Witnessed

    seals = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            seals.append(Witnessed(int(item["position"]), str(item["hash"]),
                                   str(item["signature"])))
        except (ValueError, KeyError, TypeError):
            typer.echo(f"{path}:{number}: not a witnessed seal", err=True)
            raise typer.Exit(2) from None
    return tuple(sorted(seals, key=lambda w: w.position))


def _check_witnessed(trust: Any) -> None:
    """Refuse a witness file whose seals the public key did not sign."""
    from ledger.keys import seal_signature_ok

    for seal in trust.witnessed:
        if not seal_signature_ok(trust.public_key, seal.position, seal.hash, seal.signature):
            typer.echo(f"the witnessed seal through position {seal.position} is not signed "
                       "by this key", err=True)
            raise typer.Exit(1)


audit = typer.Typer(help="The auditor's record of the log.", no_args_is_help=True)


@audit.command("witness")
def witness(output: Output = None, public_key: PublicKeyOption = None) -> None:
    """Append the latest signed seal {position, hash, signature} to a file the auditor keeps
    (`linli verify --witness FILE` then proves nothing up to it changed)."""
    import json

    from eventsourcing.application import AggregateNotFoundError

    from ledger.application import open_ledger
    from ledger.domain.audit import AUDIT_LOG_ID
    from ledger.keys import read_public_key, seal_signature_ok

    app = open_ledger(Settings(), keys=public_key is None)
    try:
        public = (read_public_key(public_key) if public_key is not None
                  else app.keys.public)  # type: ignore[attr-defined]
        try:
            audit_log: Any = app.repository.get(AUDIT_LOG_ID)
        except AggregateNotFoundError:
            audit_log = None
    finally:
        app.close()
    if audit_log is None or not audit_log.signature:
        typer.echo("the log has no signed seal yet", err=True)
        raise typer.Exit(1)
    seal = {"position": audit_log.through_position, "hash": audit_log.log_hash,
            "signature": audit_log.signature}
    if not seal_signature_ok(public, seal["position"], seal["hash"], seal["signature"]):
        typer.echo("the latest seal's signature does not match the public key", err=True)
        raise typer.Exit(1)
    line = json.dumps(seal)
    if output is None:
        typer.echo(line)
        return
    with output.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
    typer.echo(f"witnessed the seal through position {seal['position']} in {output}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(db, name="db")
    cli.add_typer(keys, name="keys")
    cli.add_typer(audit, name="audit")
    cli.command("verify")(verify)
    cli.add_typer(export, name="export")
    cli.command("replay")(replay)
