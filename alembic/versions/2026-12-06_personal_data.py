"""Personal data: each person's key, wrapped under the master key (and when it was destroyed),
and the log of reads of personal data.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_keys",
        sa.Column("subject_id", sa.String(36), primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "personal_data_reads",
        sa.Column("read_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("community_id", sa.String(36), nullable=True),
        sa.Column("member_id", sa.String(36), nullable=True),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
    )
    op.create_index("personal_data_reads_member_idx", "personal_data_reads",
                    ["member_id", "read_id"])
    op.create_index("personal_data_reads_community_idx", "personal_data_reads",
                    ["community_id", "read_id"])


def downgrade() -> None:
    op.drop_index("personal_data_reads_community_idx", "personal_data_reads")
    op.drop_index("personal_data_reads_member_idx", "personal_data_reads")
    op.drop_table("personal_data_reads")
    op.drop_table("personal_keys")
