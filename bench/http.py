"""Redemptions through real HTTP (`linli serve` in its own process, driven by wrk).

Populates `--members` members on a scratch database, starts `linli serve`, and has wrk send
keyed redemptions of 1 point to random members from `--connections` connections. Prints
throughput, latency p50/p99 and the server's peak memory, beside two baselines of the same
run: the same server with one command per transaction (naive), and raw psycopg commits.

    python -m bench.http [--backend postgres|sqlite] [--members 10000] [--seconds 10]

Needs wrk (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.baseline_raw import measure as raw_baseline
from bench.common import ADMIN, machine, open_bench, populate, scratch_database
from ledger.actor import Role
from ledger.commands import access

LUA = """
local members = {%(members)s}
local token = "%(token)s"
local counter = 0
local id = 0
local threads = 0
function setup(thread)
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
    io.write(status .. " " .. body .. "\n")
  end
end
"""


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
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


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def drive(url: str, members: list[str], token: str, *, seconds: float, connections: int,
          batch_max: int) -> Load:
    """Start `linli serve` on `url` and load it with wrk."""
    port = _free_port()
    env = {**os.environ, "LINLI_DATABASE_URL": url, "LINLI_RATE_LIMIT_PER_SECOND": "1e9",
           "LINLI_RATE_LIMIT_BURST": "1000000000", "LINLI_BATCH_MAX_COMMANDS": str(batch_max)}
    linli = shutil.which("linli") or str(Path(sys.executable).with_name("linli"))
    server = subprocess.Popen([linli, "serve", "--port", str(port)], env=env,
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
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(LUA % {"members": ",".join(f'"{m}"' for m in members),
                                "token": token, "run": f"{batch_max}-{time.time_ns()}",
                                "show": 3 if os.environ.get("BENCH_VERBOSE") else 0})
        out = subprocess.run(
            ["wrk", "--latency", "-t2", f"-c{connections}", f"-d{seconds:g}s", "-s",
             script.name, base], capture_output=True, text=True, check=True).stdout
        os.unlink(script.name)
        if os.environ.get("BENCH_VERBOSE"):
            print(out)
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
        p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        return Load(rate, p50, p99, int(bad.group(1)) if bad else 0, _peak_rss_mb(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=60)


def prepare(url: str, members: int) -> tuple[list[str], str]:
    linli = open_bench(url)
    try:
        _, merchant, member_ids = populate(linli, members=members, points_each=1_000)
        token = linli.writer.execute(access.issue_api_key(
            Role.MERCHANT, community_id=None, merchant_id=merchant, member_id=None,  # type: ignore[arg-type]
            label="bench till", by=ADMIN)).token
        linli.read_your_writes()
    finally:
        linli.close()
    return [str(m) for m in member_ids], token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench.http needs wrk: apt-get install wrk")
    print(f"# http on {machine()}")
    with scratch_database(args.backend) as url:
        members, token = prepare(url, args.members)
        runs = {"group commit": 256, "naive (1 per transaction)": 1}
        for name, batch_max in runs.items():
            load = drive(url, members, token, seconds=args.seconds,
                         connections=args.connections, batch_max=batch_max)
            print(f"{args.backend} {name}: {load.requests_per_second:,.0f} redemptions/s, "
                  f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
                  f"non-2xx {load.non_2xx}, server peak RSS {load.peak_rss_mb:.0f} MB")
    if args.backend == "postgres":
        raw = raw_baseline(min(args.seconds, 3.0))
        print(", ".join(f"{k}: {v:,.0f}" for k, v in raw.items()))


if __name__ == "__main__":
    main()
