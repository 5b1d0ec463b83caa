"""The payment codes alive now, for every server on the database to know a code another made:
each code's digest (never the code), whose it is, who made it, until when; and for a code asked
for under an idempotency key, the key's digest, the request's fingerprint and the code sealed
for a retry under that key.

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_codes",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("made_by", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kept_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_digest", sa.String(64), nullable=True, unique=True),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("sealed", sa.String(16), nullable=True),
    )
    op.create_index("payment_codes_kept_until_idx", "payment_codes", ["kept_until"])


def downgrade() -> None:
    op.drop_index("payment_codes_kept_until_idx", table_name="payment_codes")
    op.drop_table("payment_codes")
