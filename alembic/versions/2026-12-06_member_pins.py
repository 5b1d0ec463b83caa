"""The residents' PINs (for redemptions at the till without a phone), as slow salted hashes,
with their count of wrong tries and their lock.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_pins",
        sa.Column("member_id", sa.String(36), primary_key=True),
        sa.Column("pin_hash", sa.Text, nullable=False),
        sa.Column("wrong_tries", sa.BigInteger, nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("member_pins")
