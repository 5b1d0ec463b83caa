"""Redemptions through real HTTP (`linli serve` in its own process, driven by wrk).

Populates `--members` members on a scratch database, starts `linli serve`, and has wrk send
keyed redemptions of 1 point to random members from `--connections` connections. Prints
throughput, latency p50/p99 and the server's peak memory, beside two baselines of the same
run: the same server with one command per transaction (naive), and raw psycopg commits.
The community lets its tills name members (`redemption_consent: member_id`).

`--by payment_code` or `--by both`: redemptions by payment code (each with a code made
beforehand, not timed), alone or taking turns with redemptions by member id on one server,
and the issuing of the codes: see `bench/consent.py`.

    python -m bench.http [--backend postgres|sqlite] [--members 10000] [--seconds 10]
    python -m bench.http --by both [--issuer member|staff] [--rounds 4]

Needs wrk (`apt-get install wrk`).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx

from bench.args import add_backend, add_members, add_rounds, add_seconds, parser_for
from bench.baseline_raw import measure as raw_baseline
from bench.common import (
    ADMIN,
    cpu_seconds,
    machine,
    machine_busy_seconds,
    open_bench,
    populate,
    postgres_cpu_seconds,
    postgres_wal_bytes,
    rss_mb,
    scratch_database,
)
from ledger import ids
from ledger.actor import Role
from ledger.application import open_ledger
from ledger.commands import access
from ledger.domain.accounts import Account
from ledger.domain.assets import Asset
from ledger.settings import Settings, is_postgres_url, postgres_conninfo

LUA = """
local members = {%(members)s}
local token = "%(token)s"
local counter = 0
local threads = 0
function setup(thread)
  -- each thread's own global `id`, so that no two threads send the same key
  thread:set("id", threads)
  threads = threads + 1
end
function request()
  counter = counter + 1
  local member = members[math.random(#members)]
  local body = '{"member_id":"' .. member .. '","points":1,"description":"bench"}'
  return wrk.format("POST", "/v1/redemptions", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "%(run)s-" .. id .. "-" .. counter,
  }, body)
end
local shown = 0
function response(status, headers, body)
  if status ~= 201 and shown < %(show)d then
    shown = shown + 1
    io.write(status .. " " .. body .. "\\n")
  end
end
"""


@dataclass(frozen=True)
class Load:
    """What wrk saw in one run."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    served: int
    server_cpu_ms: float  # CPU per redemption answered: the server process
    projection_cpu_ms: float  # and its projection process
    database_cpu_ms: float  # PostgreSQL's processes (0 on SQLite: it is in the server)
    wrk_cpu_ms: float  # the load generator's
    wal_kb: float  # the PostgreSQL server's WAL per redemption answered (on PostgreSQL)
    # The machine's CPU spent by other processes than those above, as a share of all its
    # cores' time during the load: how busy the rest of a shared machine kept it.
    others_share: float = 0.0

    @property
    def total_cpu_ms(self) -> float:
        return (self.server_cpu_ms + self.projection_cpu_ms + self.database_cpu_ms
                + self.wrk_cpu_ms)


@dataclass(frozen=True)
class Loads:
    """A fresh server's first run (its caches cold), then a second run (warm)."""

    cold: Load
    warm: Load
    peak_rss_mb: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise ValueError(f"wrk printed a latency of {text!r}")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


@dataclass(frozen=True)
class Till:
    """What the load needs: the members to redeem from and the merchant's key."""

    members: list[str]
    token: str
    merchant_id: UUID
    database: str | None = None  # its name on PostgreSQL: the CPU of its backends is counted

    def points_taken(self, url: str) -> int:
        """The merchant's balance, read from the event store: one point per redemption."""
        app = open_ledger(Settings(database_url=url))
        try:
            account: object = app.repository.get(
                ids.account_id(self.merchant_id, Asset.POINTS.value))
            assert isinstance(account, Account)
            return account.balance
        finally:
            app.close()


@contextmanager
def linli_serve(url: str, *, batch_max: int = 256, code: Path | None = None,
                extra_env: dict[str, str] | None = None,
                ) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`linli serve` on `url` (the code of the tree `code`, else this one's), once it is ready:
    the process and its base URL. `extra_env`: more of its settings (LINLI_…)."""
    port = _free_port()
    env = {**os.environ, "LINLI_DATABASE_URL": url, "LINLI_RATE_LIMIT_PER_SECOND": "1e9",
           "LINLI_RATE_LIMIT_BURST": "1000000000", "LINLI_BATCH_MAX_COMMANDS": str(batch_max),
           **(extra_env or {})}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    linli = shutil.which("linli") or str(Path(sys.executable).with_name("linli"))
    server = subprocess.Popen([linli, "serve", "--port", str(port)], env=env, cwd=code,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("linli serve did not come up")
            time.sleep(0.2)
        yield server, base
    finally:
        server.terminate()
        server.wait(timeout=60)


def drive(url: str, till: Till, *, seconds: float, connections: int, batch_max: int) -> Loads:
    """Start `linli serve` on `url` and load it with wrk; check every 201 was stored."""
    before = till.points_taken(url)
    with linli_serve(url, batch_max=batch_max) as (server, base):
        cold = run_wrk(till, base, server.pid, seconds=seconds, connections=connections)
        warm = run_wrk(till, base, server.pid, seconds=seconds, connections=connections)
        rss = rss_mb(server.pid, "VmHWM")
    stored = till.points_taken(url) - before
    answered = cold.served + warm.served
    if stored < answered:  # more may be stored: answers still on the way at the end
        raise RuntimeError(f"{answered} redemptions answered, {stored} stored")
    return Loads(cold, warm, rss)


def run_wrk(till: Till, base: str, server_pid: int, *, seconds: float, connections: int) -> Load:
    """One run of wrk, with Idempotency-Keys no other run sends."""
    return measure_wrk(LUA % {"members": ",".join(f'"{m}"' for m in till.members),
                              "token": till.token, "run": time.time_ns(), "show": SHOW},
                       base, server_pid, seconds=seconds, connections=connections,
                       database=till.database)


SHOW = 3 if os.environ.get("BENCH_VERBOSE") else 0  # how many refusals wrk's script prints
WRK_THREADS = 2


def measure_wrk(lua: str, base: str, server_pid: int, *, seconds: float,
                connections: int, database: str | None = None) -> Load:
    """One run of wrk with the script `lua`, measured: its answers and the CPU each cost
    (PostgreSQL's: its own processes and the backends of `database`, else all)."""
    cpu_before = cpu_seconds(server_pid)
    database_before = postgres_cpu_seconds(database)
    wal_before = postgres_wal_bytes()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before, started = machine_busy_seconds(), time.monotonic()
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua)
        script.flush()
        run = subprocess.run(["wrk", "--latency", f"-t{WRK_THREADS}", f"-c{connections}",
                              f"-d{seconds:g}s", "-s", script.name, base],
                             capture_output=True, text=True, check=True)
    busy, elapsed = machine_busy_seconds() - busy_before, time.monotonic() - started
    cpu_after = cpu_seconds(server_pid)
    database_cpu = postgres_cpu_seconds(database) - database_before
    wal = postgres_wal_bytes() - wal_before if wal_before else 0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk's, once it has ended
    wrk = (children.ru_utime + children.ru_stime
           - children_before.ru_utime - children_before.ru_stime)
    if run.stderr:  # wrk falls back to `GET /` when the script fails: never measure that
        raise RuntimeError(f"wrk: {run.stderr}")
    out = run.stdout
    if os.environ.get("BENCH_VERBOSE"):
        print(out)

    def found(pattern: str) -> str:
        match = re.search(pattern, out, re.M)
        if match is None:
            raise RuntimeError(f"wrk printed no {pattern!r}: {out}")
        return match.group(1)

    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    non_2xx = int(bad.group(1)) if bad else 0
    served = int(found(r"(\d+) requests in")) - non_2xx
    server_ms, projection_ms = (1000 * (after - before) / max(1, served)
                                for before, after in zip(cpu_before, cpu_after, strict=True))
    ours = sum(after - before for before, after in zip(cpu_before, cpu_after, strict=True))
    others = max(0.0, busy - ours - database_cpu - wrk) / ((os.cpu_count() or 1) * elapsed)
    return Load(float(found(r"Requests/sec:\s+([\d.]+)")), _ms(found(r"^\s+50%\s+(\S+)")),
                _ms(found(r"^\s+99%\s+(\S+)")), non_2xx, served, server_ms, projection_ms,
                1000 * database_cpu / max(1, served), 1000 * wrk / max(1, served),
                wal / 1024 / max(1, served), others if busy else 0.0)


def prepare(url: str, members: int) -> Till:
    linli = open_bench(url)
    try:
        _, merchant, member_ids = populate(linli, members=members, points_each=1_000)
        token = linli.writer.execute(access.issue_api_key(
            Role.MERCHANT, community_id=None, merchant_id=merchant, member_id=None,  # type: ignore[arg-type]
            label="bench till", by=ADMIN)).token
        linli.read_your_writes()
    finally:
        linli.close()
    return Till([str(m) for m in member_ids], token, merchant,  # type: ignore[arg-type]
                postgres_conninfo(url).get("dbname") if is_postgres_url(url) else None)


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "postgres")
    add_members(parser, 10_000)
    add_seconds(parser, 10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--by", choices=["member_id", "payment_code", "both"], default="member_id",
        help="how the tills name the member: by member_id (a fresh server loaded cold, then "
             "warm, beside one command a transaction), or by payment code, or both taking "
             "turns on one server, with the issuing of the codes (see bench/consent.py)")
    parser.add_argument("--issuer", choices=["staff", "member"], default="member",
                        help="--by payment_code|both: whose key asks for the codes: the "
                             "community's staff key, or each member's own")
    add_rounds(parser, 4)
    parser.add_argument("--warm-seconds", type=float, default=4.0,
                        help="--by payment_code|both: each kind's warm-up load")
    parser.add_argument("--server-env", action="append", default=[], metavar="LINLI_NAME=VALUE",
                        help="--by payment_code|both: a setting of the server (repeatable), "
                             "e.g. LINLI_API_KEY_CACHE_SECONDS=600")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="--by payment_code|both: py-spy samples the server during each "
                             "timed load into DIR (sum them up with `python -m bench.profile`)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench.http needs wrk: apt-get install wrk")
    print(f"# http on {machine()}")
    if args.by != "member_id":
        from bench import consent  # it builds on this module

        with scratch_database(args.backend) as url:
            figures = consent.run(url, members=args.members, by=args.by, issuer=args.issuer,
                                  rounds=args.rounds, seconds=args.seconds,
                                  warm_seconds=args.warm_seconds,
                                  connections=args.connections, profile=args.profile,
                                  server_env=dict(setting.split("=", 1)
                                                  for setting in args.server_env))
        consent.report(figures)
        return
    cores = os.cpu_count() or 1
    with scratch_database(args.backend) as url:
        till = prepare(url, args.members)
        runs = {"group commit": 256, "naive (1 per transaction)": 1}
        for name, batch_max in runs.items():
            loads = drive(url, till, seconds=args.seconds,
                          connections=args.connections, batch_max=batch_max)
            for phase, load in (("cold", loads.cold), ("warm", loads.warm)):
                wal = (f"WAL {load.wal_kb:.1f} KB a redemption; "
                       if args.backend == "postgres" else "")
                print(f"{args.backend} {name}, {phase}: "
                      f"{load.requests_per_second:,.0f} redemptions/s, "
                      f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
                      f"non-2xx {load.non_2xx}; {wal}CPU per redemption: server "
                      f"{load.server_cpu_ms:.2f} ms, projections {load.projection_cpu_ms:.2f} ms"
                      f", database {load.database_cpu_ms:.2f} ms, wrk {load.wrk_cpu_ms:.2f} ms"
                      f" = {load.total_cpu_ms:.2f} ms: {cores} cores allow at most "
                      f"{cores * 1000 / load.total_cpu_ms:,.0f}/s, the server's one process "
                      f"(one GIL, so about one core) {1000 / load.server_cpu_ms:,.0f}/s; "
                      f"other processes {100 * load.others_share:.0f}% of the cores")
            print(f"{args.backend} {name}: server peak RSS {loads.peak_rss_mb:.0f} MB "
                  "(with its projection process)")
    if args.backend == "postgres":
        raw = raw_baseline(min(args.seconds, 3.0))
        print(", ".join(f"{k}: {v:,.0f}" for k, v in raw.items()))


if __name__ == "__main__":
    main()
