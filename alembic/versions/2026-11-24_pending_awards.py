"""Awards waiting for approval as a read model (the list was a scan of every award event).

The view starts at position 0 and catches up from the log when Linli next runs (or at once:
`linli rebuild pending_awards`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_awards",
        sa.Column("award_id", sa.String(36), primary_key=True),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("rule_code", sa.String(64), nullable=False),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=True),
        sa.Column("minutes", sa.BigInteger, nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index("pending_awards_community_idx", "pending_awards",
                    ["community_id", "position"])


def downgrade() -> None:
    op.drop_table("pending_awards")
    op.execute("DELETE FROM projection_tracking WHERE name = 'pending_awards'")
