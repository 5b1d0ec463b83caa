"""A group's snapshots inserted by the same call as its events: one round trip, not two.

`linli_insert_events` with four more arrays (the snapshots' ids, versions, topics and states)
inserts them into `linli_snapshots`, then does what the eight-argument function does, in the
same transaction: the writer's thread waits on the database once a group. A snapshot already
there is left as it is (a snapshot is a cache; it must never fail the group's commit).
PostgreSQL only; the eight-argument function stays for servers not yet upgraded.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION linli_insert_events(
            ids uuid[], versions bigint[], topics text[], states bytea[],
            read_ids uuid[], read_versions bigint[], lock_timeout text, channel text,
            snapshot_ids uuid[], snapshot_versions bigint[], snapshot_topics text[],
            snapshot_states bytea[])
        RETURNS SETOF bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
        BEGIN
            INSERT INTO linli_snapshots (originator_id, originator_version, topic, state)
                SELECT * FROM unnest(snapshot_ids, snapshot_versions, snapshot_topics,
                                     snapshot_states)
                ON CONFLICT DO NOTHING;
            RETURN QUERY SELECT * FROM linli_insert_events(
                ids, versions, topics, states, read_ids, read_versions, lock_timeout, channel);
        END
        $$
    """)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION linli_insert_events(uuid[], bigint[], text[], bytea[], "
                   "uuid[], bigint[], text, text, uuid[], bigint[], text[], bytea[])")
