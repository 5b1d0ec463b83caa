"""How `linli verify` shows its work: a progress bar on a terminal, then the report."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from projections.verify import Progress, Report


@contextmanager
def progress_bar() -> Iterator[Progress | None]:
    """A progress bar over log positions on stderr when it is a terminal, else nothing."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("verifying", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=True) as bar:
        task = bar.add_task("events", total=None)

        def advance(position: int, last: int) -> None:
            bar.update(task, completed=position, total=last)

        yield advance


def print_report(report: Report) -> bool:
    """Print the report (problems on stderr, the first first); whether it is clean."""
    typer.echo(f"checked {report.events_checked} events, {report.accounts_checked} accounts, "
               f"{report.checkpoints} checkpoints, {report.snapshots_rebuilt} snapshots "
               "against the aggregates their events rebuild")
    if report.checkpoints:
        typer.echo(f"sealed through position {report.sealed_through}: log hash "
                   f"{report.sealed_hash}")
    if report.unsealed_events:
        typer.echo(f"{report.unsealed_events} events after the last checkpoint")
    for problem in report.problems:
        typer.echo(f"PROBLEM: {problem}", err=True)
    if not report.ok:
        return False
    typer.echo("ok")
    return True
