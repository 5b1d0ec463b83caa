"""Shared pieces: the machine's description, scratch databases, percentiles, set-up helpers."""

from __future__ import annotations

import os
import platform
import re
import statistics
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from api.bootstrap import Linli, open_linli
from api.gc_tuning import tune_gc
from harness.populate import ADMIN as ADMIN
from harness.populate import populate as populate
from ledger.settings import Settings

# The benchmarks' databases are scratch ones: one pair of keys for the run, in a temporary
# folder (a tree from before the keys has no `ledger.keys`, and needs none).
if "LINLI_SIGNING_KEY_FILE" not in os.environ:
    try:
        from ledger.keys import init_keys
    except ImportError:
        pass
    else:
        _KEYS = Path(tempfile.mkdtemp(prefix="linli-bench-keys-")) / "signing.pem"
        init_keys(_KEYS, _KEYS.with_suffix(".mac"))
        os.environ["LINLI_SIGNING_KEY_FILE"] = str(_KEYS)

POSTGRES_URL = os.environ.get(
    "LINLI_BENCH_POSTGRES_URL",
    os.environ.get("LINLI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)


def machine() -> str:
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    pg = "?"
    try:
        with _admin() as conn:
            pg = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    except Exception:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"PostgreSQL {pg}, {datetime.now(UTC):%Y-%m-%d %H:%M}Z")


def _admin() -> psycopg.Connection:
    return _admin_of(POSTGRES_URL)


def _admin_of(address: str) -> psycopg.Connection:
    url = make_url(address)
    return psycopg.connect(host=url.host or "127.0.0.1", port=url.port or 5432,
                           user=url.username or "postgres", password=url.password or None,
                           dbname=url.database or "postgres", autocommit=True)


@contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A new empty database URL for `backend` ("sqlite" or "postgres"), dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    name = f"linli_bench_{uuid.uuid4().hex[:10]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def vacuum(url: str) -> None:
    """On PostgreSQL, VACUUM the whole database: what autovacuum would do in time."""
    if make_url(url).get_backend_name() == "postgresql":
        with _admin_of(url) as conn:
            conn.execute("VACUUM")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process and its children (the projection worker), in MB:
    `VmRSS` now, or `VmHWM` at its peak."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0
    for process in [pid, *map(int, children)]:
        status = Path(f"/proc/{process}/status").read_text()
        total += int(re.search(rf"{field}:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return total / 1024


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system) used so far by a process and by its children (the projection
    worker), in seconds: robust where throughput is noisy, on a shared machine."""
    def used(process: int) -> float:
        return _cpu(Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1])

    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return used(pid), sum(used(int(child)) for child in children)


def _cpu(stat_after_name: str, ended: bool = False) -> float:
    """User + system seconds from the fields of /proc/PID/stat after the process's name: the
    process's own, or (`ended`) those of its children that ended."""
    fields = stat_after_name.split()
    at = 13 if ended else 11
    return (int(fields[at]) + int(fields[at + 1])) / os.sysconf("SC_CLK_TCK")


_CLIENT = re.compile(r"\(\d+\)|\[local\]")  # a backend's title names its client's address


def postgres_cpu_seconds(database: str | None = None) -> float:
    """CPU time used so far by every PostgreSQL process on this machine (its server is local
    here), and by those that ended (a backend whose connection closed: its server counts
    it), in seconds; 0 where none can be read. With `database`, the running backends of other
    databases are left out (on a shared machine, other work's), the server's own processes
    (WAL writer, checkpointer, …) kept."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, fields = stat.read_text().split(" (", 1)[1].split(")", 1)
            if name != "postgres":
                continue
            total += _cpu(fields, ended=True)
            if database is not None:
                title = (stat.parent / "cmdline").read_bytes().decode(errors="replace")
                if _CLIENT.search(title) and f" {database} " not in title:
                    continue
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        total += _cpu(fields)
    return total


def machine_busy_seconds() -> float:
    """CPU time every process on the machine has used so far (all cores, user + system +
    interrupts), in seconds, from /proc/stat; 0 where it cannot be read."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def postgres_wal_bytes() -> int:
    """Where the local PostgreSQL server's WAL is now, in bytes (its whole cluster: every
    database's writes); 0 where it cannot be asked."""
    try:
        with _admin() as conn:
            return int(conn.execute(  # type: ignore[index]
                "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')").fetchone()[0])
    except Exception:
        return 0


def checkpoint() -> None:
    """A CHECKPOINT of the local PostgreSQL server: the first change to each page after it
    writes the whole page to the WAL."""
    with _admin() as conn:
        conn.execute("CHECKPOINT")


def backends(choice: str) -> list[str]:
    """The backends a `--backend` of postgres, sqlite or both names."""
    return ["postgres", "sqlite"] if choice == "both" else [choice]


def percentile(samples: Sequence[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary_ms(samples: Sequence[float]) -> str:
    return (f"p50 {percentile(samples, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(samples, 0.99) * 1000:.1f} ms, "
            f"mean {statistics.fmean(samples) * 1000:.1f} ms")


def open_bench(url: str, **overrides: object) -> Linli:
    """A running Linli as `linli serve` runs it (the projections in a child process, the GC
    tuned)."""
    chosen: dict[str, object] = {"projection_worker": "process", **overrides}
    linli = open_linli(Settings(database_url=url, **chosen))  # type: ignore[arg-type]
    tune_gc()
    linli.start()
    return linli
