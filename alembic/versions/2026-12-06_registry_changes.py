"""Registry changes and lists: members' status, grids' sort order, the merchants' register, and
the indexes of the members' prefix search.

On PostgreSQL the name and passbook number are indexed COLLATE "C" (bytewise, code point
order): a prefix is then one range of the index whatever the database's collation. Existing
members are active and existing grids sort 0, as before these changes existed. The merchants'
register is a view of its own (`merchants`): it starts at position 0 and catches up from the
log when Linli next runs (or at once: `linli rebuild merchants`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("registry_members", sa.Column("status", sa.String(16), nullable=False,
                                                server_default="active"))
    op.add_column("registry_grids", sa.Column("sort_order", sa.BigInteger, nullable=False,
                                              server_default="0"))
    if op.get_context().dialect.name == "postgresql":
        op.execute('CREATE INDEX registry_members_name_idx ON registry_members '
                   '(community_id, name COLLATE "C", passbook_no COLLATE "C")')
        op.execute('CREATE INDEX registry_members_passbook_idx ON registry_members '
                   '(community_id, passbook_no COLLATE "C")')
    else:
        op.create_index("registry_members_name_idx", "registry_members",
                        ["community_id", "name", "passbook_no"])
        op.create_index("registry_members_passbook_idx", "registry_members",
                        ["community_id", "passbook_no"])
    op.create_table(
        "registry_merchants",
        sa.Column("merchant_id", sa.String(36), primary_key=True),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("registry_merchants_community_idx", "registry_merchants",
                    ["community_id", "merchant_id"])


def downgrade() -> None:
    op.drop_table("registry_merchants")
    op.execute("DELETE FROM projection_tracking WHERE name = 'merchants'")
    op.drop_index("registry_members_passbook_idx", "registry_members")
    op.drop_index("registry_members_name_idx", "registry_members")
    with op.batch_alter_table("registry_grids") as batch:
        batch.drop_column("sort_order")
    with op.batch_alter_table("registry_members") as batch:
        batch.drop_column("status")
