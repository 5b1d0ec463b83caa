"""Passbook lines gain when the deed was done (`occurred_at`) and whom it was with
(`counterparty`); pending awards are listed by rule.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("passbook_lines",
                  sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("passbook_lines",
                  sa.Column("counterparty", sa.Text, nullable=False, server_default=""))
    op.create_index("pending_awards_rule_idx", "pending_awards",
                    ["community_id", "rule_code", "position"])


def downgrade() -> None:
    op.drop_index("pending_awards_rule_idx", table_name="pending_awards")
    with op.batch_alter_table("passbook_lines") as batch:
        batch.drop_column("counterparty")
        batch.drop_column("occurred_at")
