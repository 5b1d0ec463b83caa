"""`GET /metrics`: what an operator's Prometheus scrapes, through the real app."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.scenario import Town, auth, ok


def scrape(client, headers: dict[str, str] | None = None) -> dict[str, float]:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {sample.name: sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


class TestMetrics:
    def test_count_what_the_writer_committed_and_where_the_views_are(self, client):
        world = Town.standard(client)
        world.award(100)
        before = scrape(client)

        for points in (10, 20, 30):
            ok(world.redeem(points), 201)
        ok(client.get(f"/v1/members/{world.member_id}/balance", headers=world.auditor))
        after = scrape(client)

        grew = {name: after[name] - before[name] for name in before if name.endswith("_total")}
        assert grew["linli_writer_commands_total"] == 3
        assert 1 <= grew["linli_writer_groups_total"] <= 3
        # a redemption: the member's and the merchant's postings, the redemption, its key
        assert grew["linli_writer_events_total"] == 12
        assert grew["linli_writer_store_seconds_total"] > 0
        assert 0 < grew["linli_writer_cpu_seconds_total"] < 5
        assert grew["linli_writer_failed_attempts_total"] == 0
        assert after["linli_writer_position"] == after["linli_projections_position"] > 0
        assert after["linli_projections_behind_events"] == 0
        assert after["linli_writer_cached_aggregates"] >= 4

    def test_are_for_an_admin_or_an_auditor_of_every_community(self, client):
        world = Town.standard(client)
        whole = world.token(role="auditor")

        assert scrape(client, whole)["linli_writer_commands_total"] > 0
        for role in (world.auditor, world.staff, world.merchant, world.member):
            refused = client.get("/metrics", headers=role)
            assert refused.status_code == 403
            assert refused.headers["content-type"] == "application/problem+json"
        unknown = client.get("/metrics", headers=auth("not-a-token"))
        assert unknown.status_code == 401
