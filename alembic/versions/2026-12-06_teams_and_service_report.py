"""Teams, the minutes their members deposited for them, and each service order's instants
(the service report): the view `services`. It starts at position 0 and catches up from the
log when Linli next runs (or at once: `linli rebuild services`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("team_id", sa.String(36), primary_key=True),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index("teams_community_idx", "teams", ["community_id"])
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.String(36), primary_key=True),
        sa.Column("member_id", sa.String(36), primary_key=True),
    )
    op.create_table(
        "team_minutes",
        sa.Column("deposit_id", sa.String(36), primary_key=True),
        sa.Column("team_id", sa.String(36), nullable=False),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("volunteer_id", sa.String(36), nullable=False),
        sa.Column("minutes", sa.BigInteger, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index("team_minutes_community_idx", "team_minutes",
                    ["community_id", "occurred_at"])
    op.create_table(
        "service_timings",
        sa.Column("service_request_id", sa.String(36), primary_key=True),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("team_id", sa.String(36), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stars", sa.BigInteger, nullable=True),
    )
    op.create_index("service_timings_community_idx", "service_timings",
                    ["community_id", "requested_at"])


def downgrade() -> None:
    for table in ("service_timings", "team_minutes", "team_members", "teams"):
        op.drop_table(table)
