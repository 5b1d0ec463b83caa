"""Writes through HTTP while the database fails under them: its primary killed and restarted,
or (on a Patroni cluster) killed and replaced by its synchronous standby.

Keyed redemptions and awards go to `linli serve` from several clients; each is sent again with
its key until the answer is definite. Meanwhile `fail` is called a few times, spread over the
run. Afterwards every write answered 201 is in the log exactly once, nothing unanswered is,
balances equal what was acknowledged, no answer was a 500, every 503 said when to retry, and
`linli verify` passes.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from eventsourcing.utils import get_topic

from harness.scenarios import (
    TIMEOUT,
    Population,
    populate_over_http,
    retryable,
    verify_problems,
)
from harness.served import ADMIN_TOKEN, Served
from ledger.application import open_ledger
from ledger.domain.awards import Award
from ledger.domain.redemptions import Redemption
from ledger.settings import Settings

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CREATED = {get_topic(Redemption.Made): "redemption",  # type: ignore[attr-defined]
           get_topic(Award.Recorded): "award"}  # type: ignore[attr-defined]
START_POINTS = 5_000


@dataclass
class FailoverFigures:
    """What the run did, how the failures looked to clients, and what went wrong (nothing,
    when it passes)."""

    seconds: float = 0.0
    writes: int = 0  # definite answers
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0
    # seconds from each failure to the first 201 of a write first sent after it
    recoveries: list[float] = field(default_factory=list)
    # the longest time without any 201 around each failure, seconds: how long writes stalled
    stalls: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def line(self, name: str) -> str:
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        recovered = ", ".join(f"{r:.1f}" for r in self.recoveries)
        stalled = ", ".join(f"{r:.1f}" for r in self.stalls)
        return (f"{name}: {self.seconds:.0f} s, {self.writes} writes ({self.requests} requests:"
                f" {shown}), {self.failures} failures, first 201 after each: {recovered} s, "
                f"writes stalled {stalled} s, problems {len(self.problems)}")


@dataclass
class _Run:
    """The clients' shared state."""

    figures: FailoverFigures
    deadline: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    failed_at: list[float] = field(default_factory=list)
    ok_at: list[float] = field(default_factory=list)  # when each 201 came
    # (kind, member, points, id) of each write answered 201
    answered: list[tuple[str, str, int, str]] = field(default_factory=list)

    def record(self, response: httpx.Response | None, first_sent: float) -> None:
        with self.lock:
            self.figures.requests += 1
            if response is None:
                self.figures.statuses[0] += 1  # no answer: the connection was cut
                return
            self.figures.statuses[response.status_code] += 1
            if response.status_code == 500:
                self.figures.problems.append(f"500: {response.text[:300]}")
            if response.status_code == 503 and not response.headers.get("retry-after"):
                self.figures.problems.append(f"503 without Retry-After: {response.text[:200]}")
            # The first write sent after the failure and answered 201: the service is back.
            if response.status_code == 201:
                self.ok_at.append(time.monotonic())
            if response.status_code == 201 and len(self.figures.recoveries) < len(
                    self.failed_at) and first_sent > self.failed_at[-1]:
                self.figures.recoveries.append(time.monotonic() - self.failed_at[-1])


def _definite(http: httpx.Client, run: _Run, path: str, body: dict[str, Any],
              headers: dict[str, str]) -> httpx.Response:
    """POST with one Idempotency-Key until the answer is definite (`retryable` says which are
    not), each try recorded, waiting what a 503's Retry-After asks (capped: a test's time)."""
    headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    first_sent = time.monotonic()
    while True:
        response: httpx.Response | None
        try:
            response = http.post(path, json=body, headers=headers)
        except httpx.TransportError:
            response = None
        run.record(response, first_sent)
        if response is not None and not retryable(response):
            return response
        if time.monotonic() > run.deadline:
            raise TimeoutError(f"no definite answer for {path} before the deadline")
        retry_after = response.headers.get("retry-after") if response is not None else None
        time.sleep(min(float(retry_after or 0.1), 0.5))


def stored_writes(database_url: str) -> list[tuple[str, str]]:
    """(kind, id) of every redemption and award created in the log, duplicates kept."""
    app = open_ledger(Settings(database_url=database_url))
    try:
        found, position = [], 0
        while batch := app.recorder.select_notifications(position, 1_000, topics=list(CREATED),
                                                         inclusive_of_start=False):
            found += [(CREATED[n.topic], str(n.originator_id)) for n in batch]
            position = batch[-1].id
        return found
    finally:
        app.close()


def writes_through_failures(served: Served, fail: Callable[[], None],
                            recover: Callable[[], None] = lambda: None, *, failures: int,
                            writes: int, clients: int, seed: int,
                            database_url: str | None = None,
                            limit_seconds: float = 300.0) -> FailoverFigures:
    """Keyed redemptions and awards from `clients` clients, at least `writes` of them, while
    the database is failed (`fail()`, which returns once it is down) and `recover()`ed,
    `failures` times, each after `writes / (failures + 1)` answered writes and the last
    followed by as many; then the checks (see the module). `database_url` is where to read
    the log afterwards (the served one by default)."""
    figures = FailoverFigures()
    population = populate_over_http(served.url, members=8, merchants=2,
                                    points_each=START_POINTS)
    before = set(stored_writes(database_url or served.database_url))  # the starting points
    rng = random.Random(seed)
    started = time.monotonic()
    run = _Run(figures, started + limit_seconds)
    # The run in phases of `step` writes: steady, then each failure followed by `step` writes
    # once it is recovered from (so each failure lands in a running load and is got over).
    step = max(1, writes // (failures + 1))
    phase_ends = [step]  # the writes count at which the current phase ends
    done = threading.Event()  # every failure made and recovered from, the last phase run

    def client(n: int) -> None:
        own = random.Random(seed * 1_000 + n)
        with httpx.Client(base_url=served.url, timeout=TIMEOUT) as http:
            while not done.is_set():
                kind = own.choice(["redemption", "award"])
                member, points = own.choice(population.members), own.randint(1, 5)
                if kind == "redemption":
                    response = _definite(http, run, "/v1/redemptions",
                                         {"member_id": member, "points": points,
                                          "description": "大米"},
                                         population.tills[own.choice(population.merchants)])
                else:
                    response = _definite(http, run, "/v1/awards",
                                         {"member_id": member, "rule_code": "GIFT",
                                          "quantity": points}, ADMIN)
                with run.lock:
                    if response.status_code == 201:
                        run.answered.append((kind, member, points, response.json()["id"]))
                    else:
                        figures.problems.append(
                            f"{kind}: {response.status_code} {response.text[:200]}")
                    figures.writes += 1

    def until_phase_ends() -> None:
        while figures.writes < phase_ends[-1] and time.monotonic() < run.deadline:
            time.sleep(0.01)

    def chaos() -> None:
        try:
            for _ in range(failures):
                until_phase_ends()
                time.sleep(rng.uniform(0.0, 0.05))
                fail()
                with run.lock:
                    run.failed_at.append(time.monotonic())
                figures.failures += 1
                recover()
                phase_ends.append(figures.writes + step)
            until_phase_ends()
        finally:
            done.set()

    chaos_thread = threading.Thread(target=chaos, daemon=True)
    chaos_thread.start()
    try:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client, range(clients)))
    finally:
        done.set()
        chaos_thread.join()
    figures.seconds = time.monotonic() - started
    figures.stalls = _stalls(run.ok_at, run.failed_at)
    figures.problems += _check(served, population, run.answered, before,
                               database_url or served.database_url)
    return figures


def _check(served: Served, population: Population, answered: list[tuple[str, str, int, str]],
           before: set[tuple[str, str]], database_url: str) -> list[str]:
    """Every 201 stored once and nothing else; balances as acknowledged; verify passes."""
    problems = []
    stored = [write for write in stored_writes(database_url) if write not in before]
    if len(stored) != len(set(stored)):
        problems.append("a write was stored twice")
    acknowledged = {(kind, ident) for kind, _, _, ident in answered}
    if lost := acknowledged - set(stored):
        problems.append(f"{len(lost)} acknowledged writes are not in the log")
    if unanswered := set(stored) - acknowledged:
        problems.append(f"{len(unanswered)} writes in the log never got a 201")
    expected = dict.fromkeys(population.members, START_POINTS)
    for kind, member, points, _ in answered:
        expected[member] += points if kind == "award" else -points
    with httpx.Client(base_url=served.url, headers=ADMIN, timeout=TIMEOUT) as http:
        for member, points in expected.items():
            response = http.get(f"/v1/members/{member}/balance")
            balance = response.json().get("points") if response.status_code == 200 else None
            if balance != points:
                problems.append(f"member {member}: balance {balance}, expected {points}")
    return problems + verify_problems(served)


def _stalls(ok_at: list[float], failed_at: list[float]) -> list[float]:
    """For each failure, the longest gap between 201s from it to the next failure."""
    stalls = []
    for n, start in enumerate(failed_at):
        end = failed_at[n + 1] if n + 1 < len(failed_at) else float("inf")
        times = [start, *(t for t in sorted(ok_at) if start < t < end)]
        stalls.append(max(b - a for a, b in zip(times, times[1:], strict=False))
                      if len(times) > 1 else 0.0)
    return stalls
