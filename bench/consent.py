"""Consent at the till through HTTP: redemptions by payment code beside redemptions by member id
on one server in one run, and the issuing of payment codes (`bench.http --by …`).

One community of `--members` members and one `linli serve` (its codes living an hour, so none
expires during the run). Loads take turns, a round reversing the order of the one before
(A B, B A, …), so the machine's drift weighs on each alike:

- *by member_id* (A): the community's policy set to `redemption_consent: member_id`, wrk sends
  keyed redemptions of 1 point naming random members, as `bench.http` always has;
- *by payment code* (B): the policy set back to `payment_code` (a new community's), wrk sends
  keyed redemptions of 1 point, each with a code of its own, made beforehand.

The codes of two rounds' loads by code are made before the two rounds, then a warm-up load
by member id, so the four loads of A B B A follow one another with nothing between them and
what making the codes left in the server's caches weighs on neither kind. They are made
through the same server (codes live in its memory) by wrk: keyed
`POST /v1/members/{id}/payment-codes` for random members, with each member's own key
(`--issuer member`, as the members' phones ask) or the community's staff key. Those loads
are timed too: the rate of issuing codes. Every 201 redemption is checked in the event store
at the end.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx

from bench.common import ADMIN, open_bench, populate
from bench.http import SHOW, WRK_THREADS, Load, Till, linli_serve, measure_wrk, run_wrk
from ledger.actor import Role
from ledger.commands import access

CODE_SECONDS = 3600  # LINLI_PAYMENT_CODE_SECONDS of the server: no code expires in a run

# Keyed redemptions, each with a code of its own: thread `id` of `threads` takes every
# `threads`-th line of the file of codes. A thread out of codes sends one of 18 zeros, refused
# (counted as a non-2xx, so the load is not taken).
REDEEM_BY_CODE = """
local token = "%(token)s"
local threads_total = %(threads)d
local counter = 0
local threads = 0
local codes = {}
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  local n = 0
  for line in io.lines("%(codes)s") do
    if n %% threads_total == id then codes[#codes + 1] = line end
    n = n + 1
  end
end
function request()
  counter = counter + 1
  local code = codes[counter] or "000000000000000000"
  local body = '{"payment_code":"' .. code .. '","points":1,"description":"bench"}'
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

# Keyed requests for a code for random members, by the key beside each member in the file of
# issuers (a line: member id, a space, token); each thread writes the codes it is given to its
# own file, `codes` followed by the thread's number.
ISSUE = """
local threads = 0
local counter = 0
local members = {}
local tokens = {}
local out
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  for line in io.lines("%(issuers)s") do
    local member, token = string.match(line, "^(%%S+) (%%S+)$")
    members[#members + 1] = member
    tokens[#tokens + 1] = token
  end
  out = io.open("%(codes)s" .. id, "w")
end
function request()
  counter = counter + 1
  local i = math.random(#members)
  return wrk.format("POST", "/v1/members/" .. members[i] .. "/payment-codes", {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "%(run)s-" .. id .. "-" .. counter,
  }, "{}")
end
local shown = 0
function response(status, headers, body)
  if status == 201 then
    local code = string.match(body, '"code"%%s*:%%s*"(%%d+)"')
    if code then
      out:write(code, "\\n")
      out:flush()
    end
  elseif shown < %(show)d then
    shown = shown + 1
    io.write(status .. " " .. body .. "\\n")
  end
end
"""


@dataclass(frozen=True)
class Counter:
    """The community's till, its staff's key, and who makes its members' codes."""

    till: Till
    community_id: UUID
    staff_token: str
    issuers: list[tuple[str, str]]  # (member id, the key that makes its codes)


def prepare(url: str, members: int, issuer: str) -> Counter:
    """A community of `members` members holding 1,000 points each, with a merchant's till key,
    a staff key, and with `issuer` "member" a key for each member."""
    linli = open_bench(url)
    try:
        community, merchant, member_ids = populate(linli, members=members, points_each=1_000)
        writer = linli.writer
        till_token = writer.execute(access.issue_api_key(
            Role.MERCHANT, community_id=None, merchant_id=merchant,  # type: ignore[arg-type]
            member_id=None, label="bench till", by=ADMIN)).token
        staff_token = writer.execute(access.issue_api_key(
            Role.STAFF, community_id=community, merchant_id=None,  # type: ignore[arg-type]
            member_id=None, label="bench counter", by=ADMIN)).token
        if issuer == "member":
            futures = [writer.submit(access.issue_api_key(
                Role.MEMBER, community_id=None, merchant_id=None, member_id=m,  # type: ignore[arg-type]
                label="bench phone", by=ADMIN)) for m in member_ids]
            issuers = [(str(m), f.result().token) for m, f in zip(member_ids, futures,
                                                                  strict=True)]
        else:
            issuers = [(str(m), staff_token) for m in member_ids]
        linli.read_your_writes()
    finally:
        linli.close()
    till = Till([str(m) for m in member_ids], till_token, merchant)  # type: ignore[arg-type]
    return Counter(till, community, staff_token, issuers)  # type: ignore[arg-type]


def set_consent(base: str, counter: Counter, consent: str) -> None:
    """The community's `redemption_consent`, the rest of its policy kept (PUT replaces it)."""
    path = f"/v1/communities/{counter.community_id}/policy"
    with httpx.Client(base_url=base, timeout=30,
                      headers={"Authorization": f"Bearer {counter.staff_token}"}) as http:
        policy = http.get(path).raise_for_status().json()
        policy.pop("community_id", None)
        answer = http.put(path, json={**policy, "redemption_consent": consent})
        answer.raise_for_status()
        assert answer.json()["redemption_consent"] == consent, answer.text


def issue(counter: Counter, base: str, server_pid: int, folder: Path, *, seconds: float,
          connections: int) -> tuple[Load, list[str]]:
    """One timed load of requests for codes: what wrk saw, and the codes made."""
    issuers = folder / "issuers"
    if not issuers.exists():
        issuers.write_text("".join(f"{m} {t}\n" for m, t in counter.issuers))
    made = folder / f"made-{time.time_ns()}-"
    load = measure_wrk(ISSUE % {"issuers": issuers, "codes": made, "run": time.time_ns(),
                                "show": SHOW},
                       base, server_pid, seconds=seconds, connections=connections)
    codes = [line for n in range(WRK_THREADS)
             for line in Path(f"{made}{n}").read_text().split()]
    if load.non_2xx:
        raise RuntimeError(f"{load.non_2xx} requests for a code refused (BENCH_VERBOSE=1 "
                           "shows some)")
    return load, codes


def redeem_by_code(counter: Counter, codes: list[str], base: str, server_pid: int,
                   folder: Path, *, seconds: float, connections: int) -> Load:
    """One timed load of redemptions, each with one of `codes` (made beforehand)."""
    listed = folder / f"codes-{time.time_ns()}"
    listed.write_text("".join(f"{code}\n" for code in codes))
    load = measure_wrk(REDEEM_BY_CODE % {"token": counter.till.token, "threads": WRK_THREADS,
                                         "codes": listed, "run": time.time_ns(),
                                         "show": SHOW},
                       base, server_pid, seconds=seconds, connections=connections)
    if load.non_2xx:
        ran_out = load.served + load.non_2xx >= len(codes) // WRK_THREADS
        raise RuntimeError(f"{load.non_2xx} redemptions by code refused"
                           + (f": {len(codes)} codes were too few, a thread ran out"
                              if ran_out else " (BENCH_VERBOSE=1 shows some)"))
    return load


@dataclass
class Figures:
    """Every timed load of a run, by kind."""

    by_member_id: list[Load]
    by_code: list[Load]
    issuing: list[Load]


@contextmanager
def sampled(pid: int, seconds: float, into: Path | None) -> Iterator[list[Load]]:
    """With `into`, py-spy samples the process `pid` (its threads apart, only while they hold
    the GIL) for `seconds` into that file, as raw folded stacks, and the load appended to the
    list yielded leaves its answers beside it (`.json`); else nothing."""
    loads: list[Load] = []
    if into is None:
        yield loads
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    sampler = subprocess.Popen([spy, "record", "-p", str(pid), "-d", f"{math.ceil(seconds)}",
                                "-r", "250", "-t", "-g", "-f", "raw", "-o", str(into)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield loads
    finally:
        sampler.wait(timeout=seconds + 60)
    into.with_suffix(".json").write_text(json.dumps({"served": sum(x.served for x in loads)}))


def run(url: str, *, members: int, by: str, issuer: str, rounds: int, seconds: float,
        warm_seconds: float, connections: int, profile: Path | None = None,
        server_env: dict[str, str] | None = None) -> Figures:
    """Loads of each kind `by` names ("member_id", "payment_code" or "both"), taking turns
    on one server; prints each as it ends. With `profile`, py-spy samples the server during
    each timed load into a file there (`bench.profile` sums them up). `server_env`: more
    settings of the server."""
    counter = prepare(url, members, issuer)
    kinds = {"both": ["member_id", "payment_code"]}.get(by, [by])
    before = counter.till.points_taken(url)
    with tempfile.TemporaryDirectory() as scratch, \
            linli_serve(url, extra_env={"LINLI_PAYMENT_CODE_SECONDS": str(CODE_SECONDS),
                                        **(server_env or {})}) as (server, base):
        turns = _Turns(counter, base, server.pid, Path(scratch), connections, profile)
        for kind in kinds:  # warm-ups, not counted
            if kind == "payment_code":
                turns.make_codes(1, warm_seconds, warming=True)
            turns.load(kind, warm_seconds, warming=True)
        for round_ in range(rounds):
            if round_ % 2 == 0 and "payment_code" in kinds:
                # The codes of this round's and the next's loads by code, made before either,
                # so that the loads of A B B A follow one another with nothing between them;
                # then a load not counted, so that what making them left in the server's
                # caches weighs on neither kind.
                turns.make_codes(min(2, rounds - round_), seconds, warming=False)
                turns.load("member_id", warm_seconds, warming=True)
            for kind in kinds if round_ % 2 == 0 else reversed(kinds):
                turns.load(kind, seconds, warming=False)
    stored = counter.till.points_taken(url) - before
    answered = sum(turns.answered)
    if stored < answered:  # more may be stored: answers still on the way at the end
        raise RuntimeError(f"{answered} redemptions answered, {stored} stored")
    print(f"checked in the event store: {answered:,} redemptions answered 201, {stored:,} "
          "stored", flush=True)
    return turns.figures


class _Turns:
    """The loads of one run on one server, and the codes made for those to come."""

    def __init__(self, counter: Counter, base: str, server_pid: int, folder: Path,
                 connections: int, profile: Path | None) -> None:
        self.counter = counter
        self.base = base
        self.server_pid = server_pid
        self.folder = folder
        self.connections = connections
        self.profile = profile
        self.figures = Figures([], [], [])
        self.answered: list[int] = []  # redemptions answered 201, each load's
        self.rates: list[float] = []  # requests a second of each redemption load so far
        self.bounds: list[float] = []  # and the rate the cores allow at its CPU a request
        self.codes: list[list[str]] = []  # made for the loads by code to come, one list each

    def _sample(self, name: str, warming: bool) -> Path | None:
        if self.profile is None or warming:
            return None
        self.profile.mkdir(parents=True, exist_ok=True)
        return self.profile / f"{len(list(self.profile.glob('*.txt'))) + 1:02d}-{name}.txt"

    def make_codes(self, loads: int, seconds: float, warming: bool) -> None:
        """Codes for the next `loads` loads by code, `seconds` each: more than the fastest
        load so far could take, and than the cores allow at the least CPU a request seen."""
        fastest = max([*self.rates, *self.bounds], default=6_000.0)
        each = math.ceil(1.2 * fastest * seconds) + 1_000
        made: list[str] = []
        while len(made) < loads * each:
            with sampled(self.server_pid, seconds, self._sample("issuing", warming)) as loads_:
                load, more = issue(self.counter, self.base, self.server_pid, self.folder,
                                   seconds=seconds, connections=self.connections)
                loads_.append(load)
            made += more
            if not warming:
                self.figures.issuing.append(load)
            _print("warm-up, " if warming else "", "issuing codes", load)
        self.codes += [made[n * each:(n + 1) * each] for n in range(loads)]

    def load(self, kind: str, seconds: float, warming: bool) -> None:
        """One load of redemptions of `kind`, the community's policy set for it."""
        if kind == "member_id":
            set_consent(self.base, self.counter, "member_id")
            with sampled(self.server_pid, seconds,
                         self._sample("by-member-id", warming)) as loads:
                done = run_wrk(self.counter.till, self.base, self.server_pid, seconds=seconds,
                               connections=self.connections)
                loads.append(done)
            if not warming:
                self.figures.by_member_id.append(done)
            what = "by member_id"
        else:
            set_consent(self.base, self.counter, "payment_code")
            codes = self.codes.pop(0)
            with sampled(self.server_pid, seconds, self._sample("by-code", warming)) as loads:
                done = redeem_by_code(self.counter, codes, self.base, self.server_pid,
                                      self.folder, seconds=seconds,
                                      connections=self.connections)
                loads.append(done)
            if not warming:
                self.figures.by_code.append(done)
            what = f"by payment code ({len(codes):,} codes made for it)"
        self.rates.append(done.requests_per_second)
        self.bounds.append((os.cpu_count() or 1) * 1000 / done.total_cpu_ms)
        self.answered.append(done.served)
        _print("warm-up, " if warming else "", what, done)


def _print(prefix: str, what: str, load: Load) -> None:
    print(f"{prefix}{what}: {load.requests_per_second:,.0f}/s, p50 {load.p50_ms:.1f} ms, "
          f"p99 {load.p99_ms:.1f} ms, non-2xx {load.non_2xx}; CPU a request: server "
          f"{load.server_cpu_ms:.3f} ms, projections {load.projection_cpu_ms:.3f} ms, database "
          f"{load.database_cpu_ms:.3f} ms, wrk {load.wrk_cpu_ms:.3f} ms; other processes "
          f"{100 * load.others_share:.0f}% of the cores", flush=True)


def _median(loads: Iterable[Load], figure: str) -> float:
    return statistics.median(getattr(load, figure) for load in loads)


def report(figures: Figures) -> None:
    """Each kind's medians, and by code against by member id."""
    for name, loads in (("by member_id", figures.by_member_id),
                        ("by payment code", figures.by_code),
                        ("issuing codes", figures.issuing)):
        if loads:
            rates = ", ".join(f"{load.requests_per_second:,.0f}" for load in loads)
            print(f"{name}: median {_median(loads, 'requests_per_second'):,.0f}/s ({rates}), "
                  f"p50 {_median(loads, 'p50_ms'):.1f} ms, p99 {_median(loads, 'p99_ms'):.1f} "
                  f"ms (worst {max(load.p99_ms for load in loads):.1f}), server CPU a request "
                  f"{_median(loads, 'server_cpu_ms'):.3f} ms, in all "
                  f"{_median(loads, 'total_cpu_ms'):.3f} ms")
    if figures.by_member_id and figures.by_code:
        ratios = [code.requests_per_second / by_id.requests_per_second
                  for by_id, code in zip(figures.by_member_id, figures.by_code, strict=False)]
        print("by payment code ÷ by member_id, medians: "
              f"throughput ×{_ratio(figures, 'requests_per_second')}, "
              f"p99 ×{_ratio(figures, 'p99_ms')}, server CPU a redemption "
              f"×{_ratio(figures, 'server_cpu_ms')}, in all ×{_ratio(figures, 'total_cpu_ms')}; "
              "throughput round by round " + ", ".join(f"×{r:.2f}" for r in ratios))


def _ratio(figures: Figures, figure: str) -> str:
    return f"{_median(figures.by_code, figure) / _median(figures.by_member_id, figure):.2f}"
