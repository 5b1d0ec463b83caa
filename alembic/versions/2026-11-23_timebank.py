"""Time bank: service orders, the service record, what communities owe each other.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_orders",
        sa.Column("service_request_id", sa.String(36), primary_key=True),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("requester_id", sa.String(36), nullable=False),
        sa.Column("volunteer_id", sa.String(36), nullable=True),
        sa.Column("service_type", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("minutes_estimate", sa.BigInteger, nullable=True),
        sa.Column("minutes", sa.BigInteger, nullable=True),
        sa.Column("stars", sa.BigInteger, nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("requested_position", sa.BigInteger, nullable=False),
    )
    op.create_index("service_orders_community_idx", "service_orders",
                    ["community_id", "status"])
    op.create_index("service_orders_requester_idx", "service_orders", ["requester_id"])
    op.create_index("service_orders_volunteer_idx", "service_orders", ["volunteer_id"])
    op.create_table(
        "service_deposits",
        sa.Column("deposit_id", sa.String(36), primary_key=True),
        sa.Column("volunteer_id", sa.String(36), nullable=False),
        sa.Column("community_id", sa.String(36), nullable=False),
        sa.Column("recipient_id", sa.String(36), nullable=True),
        sa.Column("service_type", sa.String(200), nullable=False),
        sa.Column("minutes", sa.BigInteger, nullable=False),
        sa.Column("donated", sa.BigInteger, nullable=False),
        sa.Column("stars", sa.BigInteger, nullable=True),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("service_request_id", sa.String(36), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index("service_deposits_volunteer_idx", "service_deposits",
                    ["volunteer_id", "position"])
    op.create_table(
        "timebank_interchange",
        sa.Column("interchange_id", sa.String(36), primary_key=True),
        sa.Column("first_id", sa.String(36), nullable=False),
        sa.Column("second_id", sa.String(36), nullable=False),
        sa.Column("due", sa.BigInteger, nullable=False),
        sa.Column("first_limit", sa.BigInteger, nullable=True),
        sa.Column("second_limit", sa.BigInteger, nullable=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_index("timebank_interchange_first_idx", "timebank_interchange", ["first_id"])
    op.create_index("timebank_interchange_second_idx", "timebank_interchange", ["second_id"])


def downgrade() -> None:
    op.drop_table("timebank_interchange")
    op.drop_table("service_deposits")
    op.drop_table("service_orders")
