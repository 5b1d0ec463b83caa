"""The API keys as a console lists them (never a token or its hash).

The view starts at position 0 and catches up from the log when Linli next runs (or at once:
`linli rebuild api_keys`).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(36), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("community_id", sa.String(36), nullable=True),
        sa.Column("merchant_id", sa.String(36), nullable=True),
        sa.Column("member_id", sa.String(36), nullable=True),
        sa.Column("sign_in_link", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked", sa.Boolean, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index("api_keys_community_idx", "api_keys", ["community_id", "position"])


def downgrade() -> None:
    op.drop_table("api_keys")
    op.execute("DELETE FROM projection_tracking WHERE name = 'api_keys'")
