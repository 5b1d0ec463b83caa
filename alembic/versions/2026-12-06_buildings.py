"""Households' buildings (楼栋) in the registry view: `registry_households.building_id`. No
building existed before, so no row needs one.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registry_households") as batch:
        batch.add_column(sa.Column("building_id", sa.String(36), nullable=True))
        batch.create_index("registry_households_building_idx", ["building_id"])


def downgrade() -> None:
    with op.batch_alter_table("registry_households") as batch:
        batch.drop_index("registry_households_building_idx")
        batch.drop_column("building_id")
