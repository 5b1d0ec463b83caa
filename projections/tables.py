"""The read-model tables. One definition serves SQLite and PostgreSQL; alembic owns the DDL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on both backends (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

tracking = Table(
    "projection_tracking",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

balances = Table(
    "balances",
    metadata,
    Column("account_id", String(200), primary_key=True),
    Column("owner_id", String(36), nullable=True),
    Column("owner_kind", String(16), nullable=False),
    Column("community_id", String(36), nullable=False),
    Column("asset", String(8), nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("earned", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=True),
    Column("next_expiry_at", UtcDateTime(), nullable=True),
    Column("next_expiry_points", BigInteger, nullable=False, server_default="0"),
    Index("balances_owner_idx", "owner_id", "asset"),
    Index("balances_next_expiry_idx", "next_expiry_at"),
)

holds = Table(
    "holds",
    metadata,
    Column("hold_id", String(36), primary_key=True),
    Column("member_id", String(36), nullable=False),
    Column("merchant_id", String(36), nullable=False),
    Column("community_id", String(36), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("redemption_id", String(36), nullable=True),
    Column("captured", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("holds_due_idx", "status", "expires_at"),
)

passbook_lines = Table(
    "passbook_lines",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("account_id", String(36), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("earned_after", BigInteger, nullable=False),
    Column("transaction_id", String(36), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("description", Text, nullable=False),
    Column("actor_id", String(100), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=True),  # the deed's instant; null: `at`
    Column("counterparty", Text, nullable=False, server_default=""),
    Index("passbook_account_idx", "account_id", "position"),
)


# --- the registry read model (view "registry") ----------------------------------------------
registry_communities = Table(
    "registry_communities",
    metadata,
    Column("community_id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("registered_at", UtcDateTime(), nullable=False),
)

registry_grids = Table(
    "registry_grids",
    metadata,
    Column("grid_id", String(36), primary_key=True),
    Column("community_id", String(36), nullable=False),
    Column("name", String(200), nullable=False),
    Column("sort_order", BigInteger, nullable=False, server_default="0"),
    Index("registry_grids_community_idx", "community_id"),
)

registry_households = Table(
    "registry_households",
    metadata,
    Column("household_id", String(36), primary_key=True),
    Column("community_id", String(36), nullable=False),
    Column("grid_id", String(36), nullable=True),
    Column("address", String(200), nullable=False),
    Column("registered_at", UtcDateTime(), nullable=False),
    Column("building_id", String(36), nullable=True),
    Index("registry_households_community_idx", "community_id"),
    Index("registry_households_building_idx", "building_id"),
)

registry_members = Table(
    "registry_members",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("community_id", String(36), nullable=False),
    Column("name", String(200), nullable=False),
    Column("household_id", String(36), nullable=True),
    Column("grid_id", String(36), nullable=True),
    Column("passbook_no", String(32), nullable=False),
    Column("opted_out", Boolean, nullable=False),
    Column("registered_at", UtcDateTime(), nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("registry_members_community_idx", "community_id", "registered_at"),
    Index("registry_members_household_idx", "household_id", "position"),
    Column("status", String(16), nullable=False, server_default="active"),
    # Prefix searches and pages in name or passbook order: on PostgreSQL both texts are
    # indexed (and compared) bytewise, COLLATE "C", whatever the database's collation.
    Index("registry_members_name_idx", "community_id", "name", "passbook_no"),
    Index("registry_members_passbook_idx", "community_id", "passbook_no"),
)

registry_merchants = Table(
    "registry_merchants",
    metadata,
    Column("merchant_id", String(36), primary_key=True),
    Column("community_id", String(36), nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Index("registry_merchants_community_idx", "community_id", "merchant_id"),
)

registry_rules = Table(
    "registry_rules",
    metadata,
    Column("rule_id", String(36), primary_key=True),
    Column("community_id", String(36), nullable=False),
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("version", BigInteger, nullable=False),
    Index("registry_rules_community_idx", "community_id", "code"),
)

# --- leaderboards and monthly figures (view "leaderboards") ---------------------------------
leaderboard_accounts = Table(
    "leaderboard_accounts",
    metadata,
    Column("account_id", String(36), primary_key=True),
    Column("member_id", String(36), nullable=False),
    Column("community_id", String(36), nullable=False),
    Column("asset", String(8), nullable=False),
    Column("earned", BigInteger, nullable=False),
)

earning_occurrences = Table(
    "earning_occurrences",
    metadata,
    Column("transaction_id", String(36), primary_key=True),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("rule_code", String(64), nullable=True),
)

leaderboard_pending = Table(
    "leaderboard_pending",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("account_id", String(36), nullable=False),
    Column("transaction_id", String(36), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("earned_delta", BigInteger, nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

leaderboard_totals = Table(
    "leaderboard_totals",
    metadata,
    Column("community_id", String(36), primary_key=True),
    Column("grid_key", String(36), primary_key=True),
    Column("subject_kind", String(16), primary_key=True),
    Column("asset", String(8), primary_key=True),
    Column("period", String(8), primary_key=True),
    Column("subject_id", String(36), primary_key=True),
    Column("earned", BigInteger, nullable=False),
    Column("reached_position", BigInteger, nullable=False),
)
# A ranking is one range scan of this index: highest earned first, earlier reach first.
Index("leaderboard_rank_idx", leaderboard_totals.c.community_id, leaderboard_totals.c.grid_key,
      leaderboard_totals.c.subject_kind, leaderboard_totals.c.asset, leaderboard_totals.c.period,
      leaderboard_totals.c.earned.desc(), leaderboard_totals.c.reached_position)

monthly_postings = Table(
    "monthly_postings",
    metadata,
    Column("community_id", String(36), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("asset", String(8), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    Column("postings", BigInteger, nullable=False),
)

monthly_rule_points = Table(
    "monthly_rule_points",
    metadata,
    Column("community_id", String(36), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("rule_code", String(64), primary_key=True),
    Column("points", BigInteger, nullable=False),
    Column("awards", BigInteger, nullable=False),
)

# Counts a district's dashboard (街道) reads, so that its reads do not grow with the members:
# residents registered per community and month, in the community's time zone (the view
# `registry`); and residents who banked minutes in a period (all, YYYY, YYYY-Qn, YYYY-MM, as
# the boards count it: members with minutes earned in it on the whole community's board; the
# view `leaderboards`).
monthly_members = Table(
    "monthly_members",
    metadata,
    Column("community_id", String(36), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("joined", BigInteger, nullable=False),
)

volunteer_counts = Table(
    "volunteer_counts",
    metadata,
    Column("community_id", String(36), primary_key=True),
    Column("period", String(8), primary_key=True),
    Column("volunteers", BigInteger, nullable=False),
)

# --- awards waiting for approval --------------------------------------------------------------
pending_awards = Table(
    "pending_awards",
    metadata,
    Column("award_id", String(36), primary_key=True),
    Column("community_id", String(36), nullable=False),
    Column("member_id", String(36), nullable=False),
    Column("rule_code", String(64), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("quantity", BigInteger, nullable=True),
    Column("minutes", BigInteger, nullable=True),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("note", Text, nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("pending_awards_community_idx", "community_id", "position"),
    Index("pending_awards_rule_idx", "community_id", "rule_code", "position"),
)

# --- the time bank ----------------------------------------------------------------------------
service_orders = Table(
    "service_orders",
    metadata,
    Column("service_request_id", String(36), primary_key=True),
    Column("community_id", String(36), nullable=False),
    Column("requester_id", String(36), nullable=False),
    Column("volunteer_id", String(36), nullable=True),
    Column("service_type", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("minutes_estimate", BigInteger, nullable=True),
    Column("minutes", BigInteger, nullable=True),
    Column("stars", BigInteger, nullable=True),
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("requested_position", BigInteger, nullable=False),  # stable order for paging
    Index("service_orders_community_idx", "community_id", "status"),
    Index("service_orders_requester_idx", "requester_id"),
    Index("service_orders_volunteer_idx", "volunteer_id"),
)

service_deposits = Table(
    "service_deposits",
    metadata,
    Column("deposit_id", String(36), primary_key=True),
    Column("volunteer_id", String(36), nullable=False),
    Column("community_id", String(36), nullable=False),
    Column("recipient_id", String(36), nullable=True),
    Column("service_type", String(200), nullable=False),
    Column("minutes", BigInteger, nullable=False),
    Column("donated", BigInteger, nullable=False),
    Column("stars", BigInteger, nullable=True),
    Column("team", String(200), nullable=True),
    Column("service_request_id", String(36), nullable=True),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("service_deposits_volunteer_idx", "volunteer_id", "position"),
)

timebank_interchange = Table(
    "timebank_interchange",
    metadata,
    Column("interchange_id", String(36), primary_key=True),
    Column("first_id", String(36), nullable=False),
    Column("second_id", String(36), nullable=False),
    Column("due", BigInteger, nullable=False),  # what first owes second
    Column("first_limit", BigInteger, nullable=True),  # what first lets second owe it
    Column("second_limit", BigInteger, nullable=True),
    Column("position", BigInteger, nullable=False),
    Index("timebank_interchange_first_idx", "first_id"),
    Index("timebank_interchange_second_idx", "second_id"),
)

# Not a read model: the residents' PINs, as slow salted hashes, kept apart from the log (whose
# events every auditor reads) and never rebuilt from it. A try is counted before the PIN is
# checked, so tries sent at once cannot pass the limit.
member_pins = Table(
    "member_pins",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("pin_hash", Text, nullable=False),
    Column("wrong_tries", BigInteger, nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),
    Column("set_at", UtcDateTime(), nullable=False),
)

# Not a read model: the payment codes alive now, so that every server on the database knows a
# code another made (`ledger.payment_codes`). A code's digest, never the code: a code asked for
# under an idempotency key is kept sealed for a retry under that key to open.
payment_codes = Table(
    "payment_codes",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("member_id", String(36), nullable=False),
    Column("community_id", String(36), nullable=False),
    Column("made_by", Text, nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("kept_until", UtcDateTime(), nullable=False),
    Column("key_digest", String(64), nullable=True, unique=True),
    Column("fingerprint", String(64), nullable=True),
    Column("sealed", String(16), nullable=True),
    Index("payment_codes_kept_until_idx", "kept_until"),
)

# --- API keys ---------------------------------------------------------------------------------
# Never a token or its hash: what a console lists to revoke.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(36), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("label", Text, nullable=False),
    Column("community_id", String(36), nullable=True),
    Column("merchant_id", String(36), nullable=True),
    Column("member_id", String(36), nullable=True),
    Column("sign_in_link", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("revoked", Boolean, nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("api_keys_community_idx", "community_id", "position"),
)

# --- teams and the service report (view "services") ----------------------------------------
teams = Table(
    "teams",
    metadata,
    Column("team_id", String(36), primary_key=True),
    Column("community_id", String(36), nullable=False),
    Column("name", String(200), nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("teams_community_idx", "community_id"),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team_id", String(36), primary_key=True),
    Column("member_id", String(36), primary_key=True),
)

team_minutes = Table(  # minutes deposited for orders a team's member took for the team
    "team_minutes",
    metadata,
    Column("deposit_id", String(36), primary_key=True),
    Column("team_id", String(36), nullable=False),
    Column("community_id", String(36), nullable=False),
    Column("volunteer_id", String(36), nullable=False),
    Column("minutes", BigInteger, nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("team_minutes_community_idx", "community_id", "occurred_at"),
)

service_timings = Table(  # each order's instants, for the service report
    "service_timings",
    metadata,
    Column("service_request_id", String(36), primary_key=True),
    Column("community_id", String(36), nullable=False),
    Column("team_id", String(36), nullable=True),
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("dispatched_at", UtcDateTime(), nullable=True),  # the first dispatch
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("stars", BigInteger, nullable=True),
    Index("service_timings_community_idx", "community_id", "requested_at"),
)

# --- webhooks ---------------------------------------------------------------------------------
# The subscriptions as the log has them (the view `webhooks`, rebuilt from the log).
webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(36), primary_key=True),
    Column("community_id", String(36), nullable=False),
    Column("merchant_id", String(36), nullable=True),
    Column("url", Text, nullable=False),
    Column("kinds", Text, nullable=False),  # JSON list
    Column("created_at", UtcDateTime(), nullable=False),
    Column("disabled_reason", Text, nullable=True),
    Column("deleted", Boolean, nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("webhooks_community_idx", "community_id"),
)

# What the later events of a redemption, hold, award or service order need to be routed:
# the community and merchant of the aggregate (part of the view `webhooks`).
webhook_subjects = Table(
    "webhook_subjects",
    metadata,
    Column("subject_id", String(36), primary_key=True),
    Column("community_id", String(36), nullable=False),
    Column("merchant_id", String(36), nullable=True),
    Column("member_id", String(36), nullable=True),
)

# Not a read model: each subscription's signing secret, kept out of the log.
webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("webhook_id", String(36), primary_key=True),
    Column("secret", Text, nullable=False),
)

# Not a read model: the outbox. The view `webhooks` adds a row per event and subscription in
# the transaction that moves its tracking position (so each row once); the sender delivers
# them and records each attempt's outcome here. A rebuild never adds rows again.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(36), primary_key=True),
    Column("webhook_id", String(36), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(12), nullable=False),  # pending, delivered, failed
    Column("attempts", BigInteger, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("first_attempt_at", UtcDateTime(), nullable=True),
    Column("last_attempt_at", UtcDateTime(), nullable=True),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("response_code", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
    Index("webhook_deliveries_order_idx", "webhook_id", "position"),
    Index("webhook_deliveries_pending_idx", "status", "webhook_id", "position"),
)

# Not a read model: subscriptions the sender gave up on, until the server disables them.
webhook_give_ups = Table(
    "webhook_give_ups",
    metadata,
    Column("webhook_id", String(36), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)

# Not a read model: reminders for residents kept for staff to print or read out (共享广播),
# and which expiries were already announced.
notices = Table(
    "notices",
    metadata,
    Column("notice_id", String(36), primary_key=True),
    Column("community_id", String(36), nullable=False),
    Column("member_id", String(36), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("notices_community_idx", "community_id", "created_at"),
)

# --- personal data (docs/privacy.md) ---------------------------------------------------------
# Not a read model: each person's key, wrapped under the master key (outside the database);
# erasure leaves only when the key was destroyed (`ledger.privacy.keyring`).
personal_keys = Table(
    "personal_keys",
    metadata,
    Column("subject_id", String(36), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("erased_at", UtcDateTime(), nullable=True),
)

# Not a read model: every read of personal data by staff, merchants and auditors, one row a
# member read (and one a bulk export, `member_id` empty, `rows` how many it gave).
personal_data_reads = Table(
    "personal_data_reads",
    metadata,
    Column("read_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("read_at", UtcDateTime(), nullable=False),
    Column("actor_id", String(100), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("community_id", String(36), nullable=True),
    Column("member_id", String(36), nullable=True),
    Column("route", Text, nullable=False),
    Column("what", Text, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Index("personal_data_reads_member_idx", "member_id", "read_id"),
    Index("personal_data_reads_community_idx", "community_id", "read_id"),
)
