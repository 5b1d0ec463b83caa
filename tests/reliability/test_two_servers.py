"""Two `linli serve` on one database, as behind a proxy: a payment code made through one is
taken through the other exactly once; the last points of many members raced through both while
one is killed come out exact, each key answered once whichever server answers it; and one
server at a time runs the periodic jobs, the other taking over when it dies."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.scenarios import populate_over_http
from harness.served import ADMIN_TOKEN, Served, run_cli
from tests.conftest import BACKENDS, backend_database
from tests.scenario import Town, auth, key, ok, problem_type

TIMEOUT = 30.0
TAKE_OVER_SECONDS = 10.0  # a kill to the other's first seal: a lock try (1 s) and a pass (1 s)


@dataclass
class Pair:
    """Two servers on one database."""

    database_url: str
    servers: tuple[Served, Served]

    def client(self, n: int) -> httpx.Client:
        return httpx.Client(base_url=self.servers[n].url, headers=auth(ADMIN_TOKEN),
                            timeout=TIMEOUT)


@pytest.fixture(scope="module", params=BACKENDS)
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Pair]:
    folder: Path = tmp_path_factory.mktemp("pair")
    env = {"LINLI_SEAL_INTERVAL_SECONDS": "1"}
    with backend_database(request.param, folder, "linli_p_", request) as url:
        servers = (Served(url, folder / "a.log", **env), Served(url, folder / "b.log", **env))
        try:
            with ThreadPoolExecutor(2) as starting:  # the database is migrated already
                list(starting.map(Served.start, servers))
            yield Pair(url, servers)
        finally:
            for served in servers:
                served.stop()


@pytest.fixture
def both(pair: Pair) -> Pair:
    """The pair with both servers up (a test before may have killed one)."""
    for served in pair.servers:
        if served.process is None or served.process.poll() is not None:
            served.start()
    return pair


def ready(served: Served) -> dict[str, Any]:
    body: dict[str, Any] = ok(httpx.get(f"{served.url}/readyz", timeout=TIMEOUT))
    return body


def sealed_through(http: httpx.Client) -> int:
    return int(ok(http.get("/v1/audit/verify"))["sealed_through"])


def redeem(http: httpx.Client, till: dict[str, str], member: str, idem: str) -> httpx.Response:
    """3 points of `member` at the till, under the Idempotency-Key `idem`."""
    return http.post("/v1/redemptions", json={"member_id": member, "points": 3,
                                              "description": "大米"},
                     headers={**till, "Idempotency-Key": idem})


def eventually(check: Any, seconds: float) -> Any:
    """`check()` once truthy, within `seconds`; fails the test otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)


class TestPaymentCodes:
    def test_a_code_made_through_one_server_is_taken_once_through_either(self, both: Pair
                                                                        ) -> None:
        with both.client(0) as a, both.client(1) as b:
            town = Town.standard(a, consent="payment_code")
            town.award(10)
            asked = {**town.member, **key()}
            code = ok(a.post(f"/v1/members/{town.member_id}/payment-codes", headers=asked), 201)
            again = ok(b.post(f"/v1/members/{town.member_id}/payment-codes", headers=asked), 201)
            holder = ok(b.post("/v1/till/holder", headers=town.merchant,
                               json={"payment_code": code["code"]}))

            def pay(http: httpx.Client) -> httpx.Response:
                return http.post("/v1/redemptions", headers={**town.merchant, **key()}, json={
                    "payment_code": code["code"], "points": 4, "description": "大米"})

            with ThreadPoolExecutor(2) as tills:
                answers = list(tills.map(pay, (a, b)))

            assert again == code  # the same key through the other server: the same code
            assert holder["points_available"] == 10
            statuses = sorted(r.status_code for r in answers)
            assert statuses == [201, 409], [r.text for r in answers]
            assert problem_type(next(r for r in answers if r.status_code == 409)) == (
                "payment-code-used")
            town.client = b
            assert town.balance()["points"] == 6


class TestJobs:
    def test_one_server_runs_the_jobs_and_the_other_takes_over_when_it_dies(self, both: Pair
                                                                          ) -> None:
        leaders = [ready(s)["leader"] for s in both.servers]
        assert sorted(leaders) == [False, True], leaders
        leader, other = (0, 1) if leaders[0] else (1, 0)
        with both.client(other) as http:
            town = Town.standard(http)
            town.award(5)  # written by the server that does not seal: sealed by the leader
            written = int(ready(both.servers[other])["last_write_position"])
            eventually(lambda: sealed_through(http) >= written, TAKE_OVER_SECONDS)

            both.servers[leader].kill()
            eventually(lambda: ready(both.servers[other])["leader"], TAKE_OVER_SECONDS)
            town.award(5)
            written = int(ready(both.servers[other])["last_write_position"])
            eventually(lambda: sealed_through(http) >= written, TAKE_OVER_SECONDS)

        both.servers[leader].start()
        assert ready(both.servers[leader])["leader"] is False
        assert ready(both.servers[other])["leader"] is True


class TestRaceAndKill:
    def test_the_last_points_raced_through_two_servers_while_one_is_killed(self, both: Pair
                                                                          ) -> None:
        """40 members with 10 points each; 6 keyed redemptions of 3 each, sent through both
        servers at once; one server killed midway, every request it left unanswered retried
        with its key through the other."""
        a, b = both.servers
        population = populate_over_http(a.url, members=40, merchants=2, points_each=10)
        rng = random.Random(37)
        plan = [(member, rng.choice(population.merchants), uuid.uuid4().hex)
                for member in population.members for _ in range(6)]
        rng.shuffle(plan)
        answers: dict[str, httpx.Response] = {}  # key -> its answer
        retried: set[str] = set()
        lock = threading.Lock()
        killed = threading.Event()
        at_a = [0]  # requests in flight to the server to be killed

        def send(http: httpx.Client, member: str, merchant: str, idem: str) -> httpx.Response:
            return redeem(http, population.tills[merchant], member, idem)

        def client(n: int) -> None:
            with httpx.Client(base_url=a.url, timeout=TIMEOUT) as to_a, \
                    httpx.Client(base_url=b.url, timeout=TIMEOUT) as to_b:
                for i, (member, merchant, idem) in enumerate(plan[n::12]):
                    first = to_a if (n + i) % 2 == 0 and not killed.is_set() else to_b
                    with lock:
                        at_a[0] += first is to_a
                    try:
                        response = send(first, member, merchant, idem)
                        answered = response.status_code < 500
                    except httpx.TransportError:
                        answered = False
                    finally:
                        with lock:
                            at_a[0] -= first is to_a
                    while not answered:  # the same key, through the survivor
                        with lock:
                            retried.add(idem)
                        try:
                            response = send(to_b, member, merchant, idem)
                            answered = response.status_code < 500
                        except httpx.TransportError:
                            time.sleep(0.05)
                    with lock:
                        answers[idem] = response

        def chaos() -> None:
            """kill -9 once half the keys are answered, while requests are in flight to it."""
            deadline = time.monotonic() + TIMEOUT
            while not (len(answers) >= len(plan) // 2 and at_a[0] >= 3):
                if time.monotonic() > deadline:
                    return
                time.sleep(0.001)
            a.kill()
            killed.set()

        killer = threading.Thread(target=chaos, daemon=True)
        killer.start()
        with ThreadPoolExecutor(12) as pool:
            list(pool.map(client, range(12)))
        killer.join(timeout=TIMEOUT)

        assert killed.is_set() and len(answers) == len(plan)
        with ThreadPoolExecutor(1) as verifier:  # beside the checks below, which write nothing
            verified = verifier.submit(run_cli, both.database_url, "verify")
            self.check(population, plan, answers, b)
        done = verified.result()
        assert done.returncode == 0, done.stdout + done.stderr
        assert retried, "the kill cut no request"
        print(f"two servers: {len(plan)} keyed redemptions, {len(retried)} retried through "
              "the survivor")

    @staticmethod
    def check(population: Any, plan: list[tuple[str, str, str]],
              answers: dict[str, httpx.Response], survivor: Served) -> None:
        """Each balance is 10 less 3 for each key answered 201, never below zero; each key
        answered again, through the survivor, as it was first."""
        spent: dict[str, int] = {}
        for member, _, idem in plan:
            response = answers[idem]
            assert response.status_code in (201, 409), response.text
            if response.status_code == 201:
                spent[member] = spent.get(member, 0) + 3
            else:
                assert problem_type(response) == "insufficient-balance", response.text
        with httpx.Client(base_url=survivor.url, timeout=TIMEOUT) as http:
            for member in population.members:
                balance = ok(http.get(f"/v1/members/{member}/balance",
                                      headers=population.auditor))["points"]
                assert balance == 10 - spent.get(member, 0) >= 0
            for member, merchant, idem in plan:  # each key answered once, by either server
                replay = redeem(http, population.tills[merchant], member, idem)
                assert (replay.status_code, replay.json()) == (
                    answers[idem].status_code, answers[idem].json()), idem
        assert all(spent.get(m, 0) == 9 for m in population.members)  # 3 of 6 could pay
