"""What webhooks cost and how late they come (`linli serve` in its own process, driven by wrk).

One server, one merchant whose subscription to `redemption.created` is switched on and off
between rounds (PATCH status): wrk sends keyed redemptions of 1 point in rounds taking turns,
without and with the webhook, and the cost is how much fewer redemptions/s the server answered
with it (best round of each). Then a paced load of `--rate` redemptions/s with the webhook on,
where each delivery's lag is the receiver's clock at arrival minus the event's `created_at`
(the same machine's clock). Every redemption made with the webhook on must arrive exactly once.

The receiver is a small HTTP server in this process answering 200 at once.

    python -m bench.webhooks [--backend postgres|sqlite] [--members 2000] [--seconds 8]
                             [--rounds 2] [--rate 500]
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from bench.args import add_backend, add_members, add_rounds, add_seconds, parser_for
from bench.common import machine, percentile, scratch_database
from bench.http import Load, linli_serve, prepare, run_wrk

PACED_THREADS = 16


class Arrivals:
    """What the receiver got: each event's id and its lag in seconds."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: list[str] = []
        self.lags: list[float] = []

    def count(self) -> int:
        with self.lock:
            return len(self.ids)


@contextmanager
def receiver() -> Iterator[tuple[str, Arrivals]]:
    arrivals = Arrivals()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            arrived = time.time()
            event = json.loads(body)
            lag = arrived - datetime.fromisoformat(event["created_at"]).timestamp()
            with arrivals.lock:
                arrivals.ids.append(event["id"])
                arrivals.lags.append(lag)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", arrivals
    finally:
        server.shutdown()
        server.server_close()


def paced(base: str, token: str, members: list[str], *, rate: float, seconds: float) -> int:
    """Send `rate` redemptions a second for `seconds` from a few threads; returns how many
    were answered 201."""
    answered = [0] * PACED_THREADS
    start = time.monotonic() + 0.1
    interval = PACED_THREADS / rate

    def send(n: int) -> None:
        with httpx.Client(base_url=base, timeout=10) as client:
            k = 0
            while (due := start + n * interval / PACED_THREADS + k * interval) < start + seconds:
                time.sleep(max(0.0, due - time.monotonic()))
                response = client.post("/v1/redemptions", json={
                    "member_id": members[(n + k * PACED_THREADS) % len(members)],
                    "points": 1, "description": "bench"}, headers={
                    "Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex})
                answered[n] += response.status_code == 201
                k += 1

    threads = [threading.Thread(target=send, args=(n,)) for n in range(PACED_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(answered)


def wait_for(arrivals: Arrivals, count: int, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while arrivals.count() < count and time.monotonic() < deadline:
        time.sleep(0.05)


def main() -> None:
    parser = parser_for(__doc__)
    add_backend(parser, "postgres")
    add_members(parser, 2_000)
    add_seconds(parser, 8.0)
    add_rounds(parser, 2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=500.0,
                        help="redemptions/s of the paced load whose delivery lag is measured")
    args = parser.parse_args()
    print(f"# webhooks on {machine()}")
    with scratch_database(args.backend) as url, receiver() as (hook_url, arrivals):
        till = prepare(url, args.members)
        env = {"LINLI_WEBHOOK_ALLOW_PRIVATE": "true"}
        with linli_serve(url, extra_env=env) as (server, base), \
                httpx.Client(base_url=base, timeout=30,
                             headers={"Authorization": f"Bearer {till.token}"}) as http:
            made = http.post("/v1/webhooks", json={"url": hook_url,
                                                   "events": ["redemption.created"]})
            made.raise_for_status()
            webhook = made.json()["id"]
            loads: dict[bool, list[Load]] = {False: [], True: []}
            expected = 0
            for _ in range(args.rounds):
                for on in (False, True):
                    http.patch(f"/v1/webhooks/{webhook}",
                               json={"status": "active" if on else "disabled"}
                               ).raise_for_status()
                    load = run_wrk(till, base, server.pid, seconds=args.seconds,
                                   connections=args.connections)
                    loads[on].append(load)
                    expected += load.served if on else 0
                    print(f"{args.backend} webhooks {'on ' if on else 'off'}: "
                          f"{load.requests_per_second:,.0f} redemptions/s, p50 "
                          f"{load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, non-2xx "
                          f"{load.non_2xx}; server CPU {load.server_cpu_ms:.2f} ms, "
                          f"projections {load.projection_cpu_ms:.2f} ms a redemption")
                    wait_for(arrivals, expected)  # the next round starts with an empty outbox
            off = max(x.requests_per_second for x in loads[False])
            on_best = max(x.requests_per_second for x in loads[True])
            print(f"{args.backend}: webhooks on for every redemption cost "
                  f"{100 * (1 - on_best / off):.1f}% of HTTP redemptions/s "
                  f"({on_best:,.0f} vs {off:,.0f}, best of {args.rounds} rounds each)")

            before = arrivals.count()
            with arrivals.lock:
                arrivals.lags.clear()
            sent = paced(base, till.token, till.members, rate=args.rate, seconds=args.seconds)
            wait_for(arrivals, before + sent)
            with arrivals.lock:
                lags = sorted(arrivals.lags)
                ids = list(arrivals.ids)
            expected += sent
            print(f"{args.backend} paced {sent / args.seconds:,.0f} redemptions/s: delivery "
                  f"lag p50 {1000 * percentile(lags, 0.5):.0f} ms, p99 "
                  f"{1000 * percentile(lags, 0.99):.0f} ms, max {1000 * lags[-1]:.0f} ms "
                  f"({len(lags)} deliveries)")
        duplicates = len(ids) - len(set(ids))
        print(f"{args.backend}: {len(ids)} deliveries of {expected} redemptions made with the "
              f"webhook on, {duplicates} sent twice")
        if duplicates or len(set(ids)) < expected:  # more: answers on the way when wrk ended
            sys.exit("a redemption made with the webhook on was not delivered exactly once")


if __name__ == "__main__":
    main()
