"""Hostile input, generated: schemathesis against our own OpenAPI on a real `linli serve`.

Every operation gets generated requests, valid and invalid, then stateful sequences (ids
from one response fed to the next call). Every check runs — no 5xx, responses and their
status codes and content types as documented, invalid input refused, auth enforced, Allow
headers right — except `positive_data_acceptance`: our rules go beyond what a JSON Schema can
say (exactly one of member_id and merchant_id, a known time zone, `1.0` is not an amount, a
period like 2026-Q4), so schema-valid requests are rightly refused 422. Examples per operation
are bounded to keep CI short; `bench/soak_schemathesis.py` runs more, on both backends.
"""

from __future__ import annotations

from harness.schemathesis import run_schemathesis


class TestSchemathesis:
    def test_no_5xx_and_no_schema_violation(self, shared_served, tmp_path):
        # The coverage phase (every boundary of every field, ~1,400 requests) is the slow one:
        # CI runs it on PostgreSQL; the soak runs everything on both backends.
        phases = "fuzzing,stateful"
        if shared_served.database_url.startswith("postgresql"):
            phases = "examples,coverage,fuzzing,stateful"
        done = run_schemathesis(shared_served, examples=4, report=tmp_path / "junit.xml",
                                phases=phases)

        assert done.returncode == 0, done.stdout[-6000:]
        assert "Stateful" in done.stdout
        assert "Server error" not in done.stdout
