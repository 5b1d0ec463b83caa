"""Merchants: holds, and the next points due to expire on each balance.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("balances") as batch:
        batch.add_column(sa.Column("next_expiry_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_expiry_points", sa.BigInteger, nullable=False,
                                   server_default="0"))
    op.create_index("balances_next_expiry_idx", "balances", ["next_expiry_at"])
    op.create_table(
        "holds",
        sa.Column("hold_id", sa.String(36), primary_key=True),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("merchant_id", sa.String(36), nullable=False),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redemption_id", sa.String(36), nullable=True),
        sa.Column("captured", sa.BigInteger, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index("holds_due_idx", "holds", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_table("holds")
    op.drop_index("balances_next_expiry_idx", "balances")
    with op.batch_alter_table("balances") as batch:
        batch.drop_column("next_expiry_points")
        batch.drop_column("next_expiry_at")
