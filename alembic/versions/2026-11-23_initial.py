"""Initial schema: the event store (PostgreSQL), projection tracking, balances, passbooks.

On PostgreSQL these are exactly the tables `eventsourcing.postgres` 9.5.6 would create for the
application named "Linli" (which runs with CREATE_TABLE off). On SQLite the event store's own
tables are made by `eventsourcing.sqlite`; the read models are made here on both.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

AUTOVACUUM = (
    "WITH (autovacuum_enabled = true, autovacuum_vacuum_threshold = 100000000, "
    "autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 1000, "
    "autovacuum_analyze_scale_factor = 0.01)"
)


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "DO $$ BEGIN CREATE TYPE stored_event_uuid AS (originator_id uuid, "
            "originator_version bigint, topic text, state bytea); "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        op.execute(
            "CREATE TABLE linli_events (originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, topic text, state bytea, "
            "notification_id bigserial, PRIMARY KEY (originator_id, originator_version)) "
            + AUTOVACUUM
        )
        op.execute(
            "CREATE UNIQUE INDEX linli_events_notification_id_idx "
            "ON linli_events (notification_id ASC)"
        )
        op.execute(
            "CREATE TABLE linli_snapshots (originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, topic text, state bytea, "
            "PRIMARY KEY (originator_id, originator_version)) " + AUTOVACUUM
        )

    op.create_table(
        "projection_tracking",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "balances",
        sa.Column("account_id", sa.String(200), primary_key=True),
        sa.Column("owner_id", sa.String(36), nullable=True),
        sa.Column("owner_kind", sa.String(16), nullable=False),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("asset", sa.String(8), nullable=False),
        sa.Column("balance", sa.BigInteger, nullable=False),
        sa.Column("held", sa.BigInteger, nullable=False),
        sa.Column("earned", sa.BigInteger, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("balances_owner_idx", "balances", ["owner_id", "asset"])
    op.create_table(
        "passbook_lines",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("balance_after", sa.BigInteger, nullable=False),
        sa.Column("earned_after", sa.BigInteger, nullable=False),
        sa.Column("transaction_id", sa.String(36), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
    )
    op.create_index("passbook_account_idx", "passbook_lines", ["account_id", "position"])


def downgrade() -> None:
    op.drop_table("passbook_lines")
    op.drop_table("balances")
    op.drop_table("projection_tracking")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TABLE linli_snapshots")
        op.execute("DROP TABLE linli_events")
        op.execute("DROP TYPE stored_event_uuid")
