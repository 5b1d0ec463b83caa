"""The counts a district's dashboard (街道) reads: residents registered per community and month
(`monthly_members`, kept by the view `registry`) and residents who banked minutes per community
and period (`volunteer_counts`, kept by the view `leaderboards`).

Both are filled here from the tables the views already hold (the registry's members, the
boards' totals), so the views go on from where they are; `linli rebuild registry leaderboards`
gives the same counts from the log.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    monthly_members = op.create_table(
        "monthly_members",
        sa.Column("community_id", sa.String(36), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("joined", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "volunteer_counts",
        sa.Column("community_id", sa.String(36), primary_key=True),
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("volunteers", sa.BigInteger, nullable=False),
    )
    op.execute(
        "INSERT INTO volunteer_counts (community_id, period, volunteers) "
        "SELECT community_id, period, COUNT(*) FROM leaderboard_totals "
        "WHERE grid_key = '' AND subject_kind = 'member' AND asset = 'MINUTES' AND earned > 0 "
        "GROUP BY community_id, period")
    # Months in each community's time zone: counted here, in Python, for both databases.
    conn = op.get_bind()
    zones = {row[0]: ZoneInfo(row[1]) for row in conn.execute(
        sa.text("SELECT community_id, time_zone FROM registry_communities"))}
    joined: dict[tuple[str, str], int] = {}
    for community_id, registered_at in conn.execute(
            sa.text("SELECT community_id, registered_at FROM registry_members")):
        if isinstance(registered_at, str):  # SQLite: naive UTC text
            registered_at = datetime.fromisoformat(registered_at)
        if registered_at.tzinfo is None:
            registered_at = registered_at.replace(tzinfo=UTC)
        zone = zones.get(community_id, ZoneInfo("Asia/Shanghai"))
        key = (community_id, f"{registered_at.astimezone(zone):%Y-%m}")
        joined[key] = joined.get(key, 0) + 1
    if joined:
        op.bulk_insert(monthly_members, [
            {"community_id": c, "month": month, "joined": count}
            for (c, month), count in sorted(joined.items())])


def downgrade() -> None:
    op.drop_table("volunteer_counts")
    op.drop_table("monthly_members")
