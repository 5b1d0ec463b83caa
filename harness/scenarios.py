"""The reliability scenarios, sized by their callers: CI-sized in the tests, long in the soaks.

Each returns figures and a list of problems (empty when every invariant held).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from eventsourcing.utils import get_topic
from sqlalchemy import create_engine, func, select

from harness.served import ADMIN_TOKEN, Served, run_cli, terminate_backends
from ledger.application import open_ledger
from ledger.domain.redemptions import Redemption
from ledger.settings import Settings
from projections.tables import balances, tracking

TIMEOUT = httpx.Timeout(30.0)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MADE = get_topic(Redemption.Made)  # type: ignore[attr-defined]
START_POINTS = 1_000


@dataclass
class Figures:
    """What a scenario did and what went wrong (nothing, when it passes)."""

    seconds: float = 0.0
    requests: int = 0
    operations: int = 0
    retries: int = 0
    kills: int = 0
    terminations: int = 0
    audits: int = 0
    slowest_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def line(self, name: str) -> str:
        return (f"{name}: {self.seconds:.0f} s, {self.requests} requests, {self.operations} "
                f"operations, {self.retries} retries, {self.kills} kill -9, "
                f"{self.terminations} pg_terminate_backend, {self.audits} audits, slowest "
                f"{self.slowest_seconds:.2f} s, failures {len(self.problems)}")


@dataclass
class Population:
    """A community's members and merchants, with a till's key for each merchant."""

    community_id: str
    members: list[str]
    merchants: list[str]
    tills: dict[str, dict[str, str]]  # merchant id -> auth header
    auditor: dict[str, str]


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


def populate_over_http(url: str, members: int, merchants: int,
                       points_each: int = START_POINTS) -> Population:
    """A community whose members each hold `points_each` points, and merchants with tills."""
    with httpx.Client(base_url=url, headers=ADMIN, timeout=TIMEOUT) as http:
        cid = _ok(http.post("/v1/communities", json={"name": "湖滨社区"}), 201)["id"]
        _ok(http.put(f"/v1/communities/{cid}/policy", json={"redemption_consent": "member_id"}))
        _ok(http.put(f"/v1/communities/{cid}/rules/GIFT",
                     json={"name": "志愿服务", "points": 1, "unit": "each"}))
        member_ids = []
        for n in range(members):
            mid = _ok(http.post("/v1/members", json={"community_id": cid, "name": f"居民{n}"}),
                      201)["id"]
            left = points_each
            while left:
                quantity = min(left, 1_000)
                _ok(http.post("/v1/awards", json={"member_id": mid, "rule_code": "GIFT",
                                                  "quantity": quantity}), 201)
                left -= quantity
            member_ids.append(mid)
        tills = {}
        for n in range(merchants):
            sid = _ok(http.post("/v1/merchants", json={"community_id": cid,
                                                       "name": f"商户{n}"}), 201)["id"]
            token = _ok(http.post("/v1/api-keys", json={"role": "merchant",
                                                        "merchant_id": sid}), 201)["token"]
            tills[sid] = {"Authorization": f"Bearer {token}"}
        auditor = _ok(http.post("/v1/api-keys", json={"role": "auditor",
                                                      "community_id": cid}), 201)["token"]
    return Population(cid, member_ids, list(tills), tills, {"Authorization": f"Bearer {auditor}"})


def retryable(response: httpx.Response) -> bool:
    """No definite answer yet: a 5xx, or the same key still running (before a crash)."""
    if response.status_code >= 500 or response.status_code == 429:
        return True
    return response.status_code == 409 and "idempotency-key-in-flight" in response.text


def send_until_definite(http: httpx.Client, path: str, body: dict[str, Any],
                        headers: dict[str, str], figures: Figures,
                        deadline: float) -> httpx.Response:
    """POST with one Idempotency-Key until the answer is definite (a retry is the same key)."""
    headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    while True:
        figures.requests += 1
        try:
            response = http.post(path, json=body, headers=headers)
            if not retryable(response):
                return response
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"no definite answer for {path} before the deadline")
        figures.retries += 1
        time.sleep(0.05)


def redemption_ids(database_url: str) -> list[str]:
    """The id of every Redemption.Made event in the store, duplicates kept."""
    app = open_ledger(Settings(database_url=database_url))
    try:
        found, position = [], 0
        while batch := app.recorder.select_notifications(position, 1_000, topics=[MADE],
                                                         inclusive_of_start=False):
            found += [str(app.mapper.to_domain_event(n).originator_id) for n in batch]
            position = batch[-1].id
        return found
    finally:
        app.close()


def _chaos(served: Served, figures: Figures, stop: threading.Event, rng: random.Random,
           faults: list[str], progress: Callable[[], int], total: int) -> None:
    """Kill -9 the server (and restart it) or cut its connections, spread over the run.

    Fault i comes once about i/(n+1) of the requests are answered, plus a random few
    milliseconds, so every fault lands while clients are sending, on any machine's speed.
    """
    for n, fault in enumerate(faults, start=1):
        while progress() < n * total // (len(faults) + 1):
            if stop.wait(0.01):
                figures.kills = served.kills
                return
        time.sleep(rng.uniform(0.0, 0.05))
        if fault == "terminate":
            figures.terminations += terminate_backends(served.database_url) > 0
        else:
            served.kill()
            served.start()
    figures.kills = served.kills


def crash_and_retry(served: Served, *, redemptions: int, clients: int, seed: int,
                    kills: int, terminations: int, limit_seconds: float = 600.0) -> Figures:
    """Keyed redemptions while the server is killed and its connections cut; then check.

    `terminations` (pg_terminate_backend) apply on PostgreSQL only.
    """
    figures = Figures()
    if not served.database_url.startswith("postgresql"):
        terminations = 0
    # Enough for every planned redemption (at most 5 points each): a refusal is a failure.
    points_each = max(START_POINTS, 5 * redemptions // 8)
    population = populate_over_http(served.url, members=8, merchants=2, points_each=points_each)
    rng = random.Random(seed)
    plan = [(rng.choice(population.members), rng.choice(population.merchants), rng.randint(1, 5))
            for _ in range(redemptions)]
    answers: list[tuple[str, str, int, httpx.Response]] = []
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + limit_seconds

    def client(share: list[tuple[str, str, int]]) -> None:
        with httpx.Client(base_url=served.url, timeout=TIMEOUT) as http:
            for member, merchant, points in share:
                response = send_until_definite(
                    http, "/v1/redemptions",
                    {"member_id": member, "points": points, "description": "大米"},
                    population.tills[merchant], figures, deadline)
                with lock:
                    answers.append((member, merchant, points, response))

    stop = threading.Event()
    faults = ["kill"] * kills + ["terminate"] * terminations
    rng.shuffle(faults)
    chaos = threading.Thread(target=_chaos, args=(served, figures, stop, rng, faults,
                                                  lambda: len(answers), redemptions),
                             daemon=True)
    chaos.start()
    try:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client, [plan[i::clients] for i in range(clients)]))
    finally:
        stop.set()
        chaos.join()
    figures.seconds = time.monotonic() - started
    figures.operations = len(answers)

    # Every answer is definite; a 2xx names its redemption; anything else moved nothing.
    succeeded = {r.json()["id"]: (m, p) for m, _, p, r in answers if r.status_code == 201}
    refused = [r for *_, r in answers if r.status_code != 201]
    for response in refused:
        figures.problems.append(f"refused: {response.status_code} {response.text[:200]}")
    stored = redemption_ids(served.database_url)
    if len(stored) != len(set(stored)):
        figures.problems.append("a redemption was stored twice")
    if set(stored) != set(succeeded):
        figures.problems.append(f"{len(set(stored) - set(succeeded))} stored redemptions never "
                                f"got a 2xx; {len(set(succeeded) - set(stored))} 2xx not stored")
    spent: dict[str, int] = {}
    for member, points in succeeded.values():
        spent[member] = spent.get(member, 0) + points
    with httpx.Client(base_url=served.url, headers=ADMIN, timeout=TIMEOUT) as http:
        for member in population.members:
            balance = _ok(http.get(f"/v1/members/{member}/balance"))["points"]
            if balance != points_each - spent.get(member, 0):
                figures.problems.append(f"member {member}: balance {balance}, expected "
                                        f"{points_each - spent.get(member, 0)}")
    figures.problems += verify_problems(served)
    return figures


def verify_problems(served: Served) -> list[str]:
    """`linli verify` on the served database (call it when the clients are done)."""
    done = run_cli(served.database_url, "verify")
    if done.returncode != 0:
        return [f"linli verify exit {done.returncode}: {done.stdout} {done.stderr}"[-2000:]]
    return []


def audit(database_url: str, community_id: str, total: int) -> tuple[int, list[str]]:
    """One auditor read of every member and merchant balance at one event position."""
    engine = create_engine(Settings(database_url=database_url).sqlalchemy_url,
                           isolation_level="REPEATABLE READ"
                           if database_url.startswith("postgresql") else "SERIALIZABLE")
    try:
        with engine.begin() as conn:  # one snapshot: the position and the rows agree
            position = conn.execute(select(tracking.c.position)
                                    .where(tracking.c.name == "balances")).scalar_one()
            c = balances.c
            owned = (c.community_id == community_id, c.asset == "POINTS",
                     c.owner_kind.in_(["member", "merchant"]))
            summed = conn.execute(select(func.coalesce(func.sum(c.balance), 0))
                                  .where(*owned)).scalar_one()
            lowest = conn.execute(select(func.min(c.balance)).where(*owned)).scalar_one()
    finally:
        engine.dispose()
    problems = []
    if summed != total:
        problems.append(f"at position {position}: balances sum to {summed}, not {total}")
    if lowest is not None and lowest < 0:
        problems.append(f"at position {position}: a balance is {lowest}")
    return position, problems


def bank(served: Served, *, clients: int, seconds: float, seed: int, members: int = 6,
         merchants: int = 3) -> Figures:
    """Jepsen's bank: points move between members and merchants; the total never changes."""
    figures = Figures()
    population = populate_over_http(served.url, members=members, merchants=merchants,
                                    points_each=50)
    total = 50 * members
    # The audits start once the views hold all the population's points (a read waits for them).
    with httpx.Client(base_url=served.url, timeout=TIMEOUT) as http:
        _ok(http.get(f"/v1/members/{population.members[-1]}/balance", headers=population.auditor))
    started = time.monotonic()
    stop_at = started + seconds
    made: list[tuple[str, str, int]] = []  # (redemption id, merchant id, points left)
    lock = threading.Lock()

    def client(n: int) -> None:
        rng = random.Random(seed * 1_000 + n)
        with httpx.Client(base_url=served.url, timeout=TIMEOUT) as http:
            while time.monotonic() < stop_at:
                with lock:
                    refundable = [m for m in made if m[2] > 0]
                if refundable and rng.random() < 0.45:
                    rid, merchant, left = rng.choice(refundable)
                    points = rng.randint(1, left)
                    response = send_until_definite(
                        http, f"/v1/redemptions/{rid}/refunds", {"points": points},
                        population.tills[merchant], figures, stop_at + 60)
                    if response.status_code == 201:
                        with lock:
                            index = next(i for i, m in enumerate(made) if m[0] == rid)
                            made[index] = (rid, merchant, made[index][2] - points)
                else:
                    merchant = rng.choice(population.merchants)
                    response = send_until_definite(
                        http, "/v1/redemptions",
                        {"member_id": rng.choice(population.members),
                         "points": rng.randint(1, 20), "description": "米面油"},
                        population.tills[merchant], figures, stop_at + 60)
                    if response.status_code == 201:
                        with lock:
                            made.append((response.json()["id"], merchant,
                                         response.json()["points"]))
                if response.status_code not in (201, 409):
                    figures.problems.append(f"{response.status_code} {response.text[:200]}")
                elif response.status_code == 409 and not any(
                        slug in response.text for slug in
                        ("insufficient-balance", "refund-exceeds-redemption")):
                    figures.problems.append(f"409 {response.text[:200]}")
                figures.operations += 1

    def auditor() -> None:
        while time.monotonic() < stop_at:
            _, problems = audit(served.database_url, population.community_id, total)
            figures.problems.extend(problems)
            figures.audits += 1
            time.sleep(0.05)

    with ThreadPoolExecutor(clients + 1) as pool:
        futures = [pool.submit(client, n) for n in range(clients)] + [pool.submit(auditor)]
        for future in futures:
            future.result()
    figures.seconds = time.monotonic() - started
    with httpx.Client(base_url=served.url, timeout=TIMEOUT) as http:
        seen = sum(_ok(http.get(f"/v1/members/{m}/balance", headers=population.auditor))["points"]
                   for m in population.members)
        for sid in population.merchants:
            statement = _ok(http.get(f"/v1/merchants/{sid}/statement", headers=population.auditor))
            seen += statement["totals"]["unsettled"]
    if seen != total:
        figures.problems.append(f"the auditor's API reads sum to {seen}, not {total}")
    figures.problems += verify_problems(served)
    return figures


def hot_account(served: Served, *, clients: int, rounds: int,
                within_seconds: float) -> Figures:
    """`clients` tills on one member at once, `rounds` times: each answer comes quickly."""
    figures = Figures()
    population = populate_over_http(served.url, members=1, merchants=clients,
                                    points_each=clients * rounds * 2)
    member = population.members[0]
    barrier = threading.Barrier(clients)
    slowest: list[float] = []

    def till(merchant: str) -> None:
        with httpx.Client(base_url=served.url, timeout=TIMEOUT) as http:
            for _ in range(rounds):
                barrier.wait()
                began = time.monotonic()
                response = send_until_definite(
                    http, "/v1/redemptions",
                    {"member_id": member, "points": 2, "description": "大米"},
                    population.tills[merchant], figures, began + within_seconds)
                slowest.append(time.monotonic() - began)
                if response.status_code != 201:
                    figures.problems.append(f"{response.status_code} {response.text[:200]}")
                figures.operations += 1

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(till, population.merchants))
    figures.seconds = time.monotonic() - started
    figures.slowest_seconds = max(slowest)
    if figures.slowest_seconds > within_seconds:
        figures.problems.append(f"a request took {figures.slowest_seconds:.1f} s")
    with httpx.Client(base_url=served.url, headers=ADMIN, timeout=TIMEOUT) as http:
        balance = _ok(http.get(f"/v1/members/{member}/balance"))["points"]
    if balance != clients * rounds * 2 - 2 * (figures.operations - len(figures.problems)):
        figures.problems.append(f"final balance {balance} is not exact")
    return figures


