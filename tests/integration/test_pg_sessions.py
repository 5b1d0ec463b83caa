"""Every PostgreSQL connection Linli opens runs its session without JIT: the event store's
pool (from its first connection) and the read models' engine."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from api.bootstrap import Linli

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

# The prefetch's query (`ledger.store._events_since`), which JIT compiled on a long log.
EVENTS_AFTER = ("SELECT k.id, e.originator_version FROM unnest(%s::uuid[], %s::bigint[]) "
                "AS k(id, v) CROSS JOIN LATERAL (SELECT originator_version FROM linli_events "
                "WHERE originator_id = k.id AND originator_version > k.v "
                "ORDER BY originator_version) AS e")


def test_no_query_is_jit_compiled_however_costly_its_estimate(linli: Linli) -> None:
    datastore: Any = linli.app.recorder.datastore  # type: ignore[attr-defined]
    with datastore.get_connection() as conn, conn.cursor() as cursor:
        assert cursor.execute("SHOW jit").fetchone()["jit"] == "off"
        if cursor.execute("SELECT pg_jit_available() AS yes").fetchone()["yes"]:
            cursor.execute("SET jit_above_cost = 0")  # every plan is past the threshold
            plan = [row["QUERY PLAN"] for row in cursor.execute(
                "EXPLAIN (ANALYZE) " + EVENTS_AFTER, ([uuid.uuid4()], [0]))]
            cursor.execute("RESET jit_above_cost")
            assert plan and not any("JIT" in line for line in plan), plan
    with linli.engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar() == "off"
