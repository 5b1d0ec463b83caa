"""`GET /metrics`: the write path and the projections, in Prometheus's text format.

Read from the live counters at each scrape (nothing is added to the path of a request). The
average group is `rate(linli_writer_commands_total) / rate(linli_writer_groups_total)`, the
average insert `rate(linli_writer_store_seconds_total) / rate(linli_writer_groups_total)`;
`rate(linli_writer_cpu_seconds_total)` near 1 means the writer's thread is saturated.
The figures span every community, so an admin or an auditor not scoped to one may read them.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.bootstrap import Linli
from api.deps import LinliDep, WholeLedgerAuditor

router = APIRouter(tags=["health"])


class LinliCollector(Collector):
    """The writer's and the projections' figures of one running Linli."""

    def __init__(self, linli: Linli) -> None:
        self.linli = linli

    def collect(self) -> Iterator[Metric]:
        writer, projections = self.linli.writer, self.linli.projections
        counters = [
            ("groups", "Groups of commands committed, each in one transaction",
             writer.batches_committed),
            ("commands", "Commands committed", writer.commands_committed),
            ("events", "Events stored", writer.events_committed),
            ("store_seconds", "Wall time of the committed groups' inserts (sent to answered)",
             writer.store_seconds),
            ("cpu_seconds", "CPU time of the writer's thread running groups: near one second "
             "a second, the writer is what limits the throughput", writer.cpu_seconds),
            ("failed_attempts", "Attempts to commit a group (or a command alone) that failed "
             "and were run again: another process wrote first, or a key was used before",
             writer.attempts_failed),
        ]
        for name, documentation, value in counters:
            yield CounterMetricFamily(f"linli_writer_{name}", documentation, value=value)
        position = projections.position
        gauges = [
            ("linli_writer_position", "Log position of this process's last write",
             writer.last_position),
            ("linli_projections_position", "Log position every view holds", position),
            ("linli_projections_behind_events", "Events this process wrote that the views "
             "do not hold yet", max(0, writer.last_position - position)),
            ("linli_writer_cached_aggregates", "Aggregates the writer keeps in memory",
             writer.cached_aggregates),
            ("linli_leader", "1 while this process runs the periodic jobs (sealer, sweeper, "
             "reminders): one process of those on the database at a time",
             int(self.linli.leading)),
        ]
        if (replica := self.linli.replica) is not None:
            gauges += [
                ("linli_replica_position", "Log position every view holds on the read replica, "
                 "as last read", replica.position),
                ("linli_replica_reads", "Reads of the views served by the replica",
                 replica.reads),
                ("linli_replica_fallbacks", "Reads the replica was too far behind for (or out "
                 "of reach): served by the primary", replica.fallbacks),
            ]
        for name, documentation, value in gauges:
            yield GaugeMetricFamily(name, documentation, value=value)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(actor: WholeLedgerAuditor, linli: LinliDep) -> Response:
    """The write path's and the projections' figures since the process started."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LinliCollector(linli))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
