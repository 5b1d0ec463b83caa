"""Baseline: what this PostgreSQL takes from raw psycopg, with no Linli above it.

    python -m bench.baseline_raw [--seconds 3]
"""

from __future__ import annotations

import threading
import time

import psycopg

from bench.args import add_seconds, parser_for
from bench.common import machine, scratch_database


def one_row_per_commit(url: str, seconds: float, connections: int) -> float:
    counts = [0] * connections
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        with psycopg.connect(url.replace("postgresql+psycopg2", "postgresql"),
                             autocommit=True) as conn:
            while time.monotonic() < deadline:
                conn.execute("INSERT INTO raw_rows (body) VALUES (%s)", (b"x" * 200,))
                counts[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def copy_rows(url: str, rows: int, per_transaction: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        for _ in range(rows // per_transaction):
            with conn.cursor() as cur, cur.copy("COPY raw_rows (body) FROM STDIN") as copy:
                for _ in range(per_transaction):
                    copy.write_row((b"x" * 200,))
            conn.commit()
    return rows / (time.perf_counter() - started)


def measure(seconds: float) -> dict[str, float]:
    with scratch_database("postgres") as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE raw_rows (id bigserial PRIMARY KEY, body bytea)")
        return {
            "raw commits/s, 1 connection": one_row_per_commit(url, seconds, 1),
            "raw commits/s, 16 connections": one_row_per_commit(url, seconds, 16),
            "raw rows/s, COPY 1,000 per transaction": copy_rows(url, 50_000, 1_000),
        }


def main() -> None:
    parser = parser_for(__doc__)
    add_seconds(parser, 3.0)
    args = parser.parse_args()
    print(f"# baseline_raw on {machine()}")
    for name, value in measure(args.seconds).items():
        print(f"{name}: {value:,.0f}")


if __name__ == "__main__":
    main()
