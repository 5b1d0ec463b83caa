"""Leaderboards (公益达人榜), the registry read model with opt-outs, monthly report figures.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    # --- registry ----------------------------------------------------------------------------
    op.create_table(
        "registry_communities",
        sa.Column("community_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("registered_at", AT, nullable=False),
    )
    op.create_table(
        "registry_grids",
        sa.Column("grid_id", sa.String(36), primary_key=True),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_index("registry_grids_community_idx", "registry_grids", ["community_id"])
    op.create_table(
        "registry_households",
        sa.Column("household_id", sa.String(36), primary_key=True),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("grid_id", sa.String(36), nullable=True),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("registered_at", AT, nullable=False),
    )
    op.create_index("registry_households_community_idx", "registry_households",
                    ["community_id"])
    op.create_table(
        "registry_members",
        sa.Column("member_id", sa.String(36), primary_key=True),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("household_id", sa.String(36), nullable=True),
        sa.Column("grid_id", sa.String(36), nullable=True),
        sa.Column("passbook_no", sa.String(32), nullable=False),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("registered_at", AT, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index("registry_members_community_idx", "registry_members",
                    ["community_id", "registered_at"])
    op.create_index("registry_members_household_idx", "registry_members",
                    ["household_id", "position"])
    op.create_table(
        "registry_rules",
        sa.Column("rule_id", sa.String(36), primary_key=True),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_index("registry_rules_community_idx", "registry_rules", ["community_id", "code"])

    # --- leaderboards and monthly figures ------------------------------------------------------
    op.create_table(
        "leaderboard_accounts",
        sa.Column("account_id", sa.String(36), primary_key=True),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("asset", sa.String(8), nullable=False),
        sa.Column("earned", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "earning_occurrences",
        sa.Column("transaction_id", sa.String(36), primary_key=True),
        sa.Column("occurred_at", AT, nullable=False),
        sa.Column("rule_code", sa.String(64), nullable=True),
    )
    op.create_table(
        "leaderboard_pending",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("transaction_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("earned_delta", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", AT, nullable=False),
    )
    op.create_table(
        "leaderboard_totals",
        sa.Column("community_id", sa.String(36), primary_key=True),
        sa.Column("grid_key", sa.String(36), primary_key=True),
        sa.Column("subject_kind", sa.String(16), primary_key=True),
        sa.Column("asset", sa.String(8), primary_key=True),
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("subject_id", sa.String(36), primary_key=True),
        sa.Column("earned", sa.BigInteger, nullable=False),
        sa.Column("reached_position", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "leaderboard_rank_idx", "leaderboard_totals",
        ["community_id", "grid_key", "subject_kind", "asset", "period", sa.text("earned DESC"),
         "reached_position"],
    )
    op.create_table(
        "monthly_postings",
        sa.Column("community_id", sa.String(36), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("asset", sa.String(8), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("postings", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "monthly_rule_points",
        sa.Column("community_id", sa.String(36), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("rule_code", sa.String(64), primary_key=True),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("awards", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("monthly_rule_points", "monthly_postings", "leaderboard_totals",
                  "leaderboard_pending", "earning_occurrences", "leaderboard_accounts",
                  "registry_rules", "registry_members", "registry_households",
                  "registry_grids", "registry_communities"):
        op.drop_table(table)
    op.execute("DELETE FROM projection_tracking WHERE name IN ('registry', 'leaderboards')")
