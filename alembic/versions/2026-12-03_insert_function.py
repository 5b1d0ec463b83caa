"""The event store's insert as one function call: one statement and one round trip a group.

`linli_insert_events` does in one call what `ledger.pg_recorder.GroupInsertRecorder` did in a
pipeline of five statements and a transaction: take the table lock (so the log's order is the
order of commits), refuse a group whose reads went stale, notify, insert the events, and give
back their notification ids. Called alone on an autocommit connection, its statement is its
transaction. PostgreSQL only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION linli_insert_events(
            ids uuid[], versions bigint[], topics text[], states bytea[],
            read_ids uuid[], read_versions bigint[], lock_timeout text, channel text)
        RETURNS SETOF bigint LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
        BEGIN
            PERFORM set_config('lock_timeout', lock_timeout, true);
            LOCK TABLE linli_events IN EXCLUSIVE MODE;
            IF EXISTS (SELECT 1 FROM unnest(read_ids, read_versions) AS r(id, v)
                       WHERE EXISTS (SELECT 1 FROM linli_events e
                                     WHERE e.originator_id = r.id
                                     AND e.originator_version > r.v)) THEN
                RAISE unique_violation USING
                    MESSAGE = 'an aggregate this group read was changed meanwhile';
            END IF;
            PERFORM pg_notify(channel, '');
            RETURN QUERY
                INSERT INTO linli_events (originator_id, originator_version, topic, state)
                SELECT * FROM unnest(ids, versions, topics, states)
                RETURNING notification_id;
        END
        $$
    """)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION linli_insert_events(uuid[], bigint[], text[], bytea[], "
                   "uuid[], bigint[], text, text)")
