"""The write path: commands run on one writer thread and are committed in groups.

- `unit_of_work`: what a command reads and changes (`UnitOfWork`), and `Reading`, a command
  naming what it will read. Commands import this module only.
- `keyed`: keyed requests (`Idempotency`), done once, their first response replayed.
- `cache`: `AggregateCache`, the aggregates in memory and the size policy.
- `group_store`: where a group's events go, one implementation a database.
- `bridge`: the submissions, and waking the event loops that wait on them.
- `prefetch`: the thread that loads what event loops' requests will read.
- `writer`: `Writer`, the group commit and its retry plan.

The writer's thread is what limits throughput, so the path keeps a few habits, each for the
CPU it saves on every command:

- Queues are `queue.SimpleQueue`s: a `put` and a `get` in C, where `queue.Queue`'s are Python
  under a condition (about a microsecond a command, on the writer's thread and the
  submitter's).
- A group's events go straight to the event store (`ChainedEventStore.store` and `send`), not
  through `Application.save`, which adds a runtime protocol check of each event and nothing
  the writer needs (a sixth of the writer's CPU).
- The library's `_pending_events` and `_version` attributes are read, not their properties:
  each property is a Python call, three an aggregate a command.
- `AggregateCache.holds`, asked for each stream a group writes, is the dict's own
  `__contains__`.
"""
