"""Deterministic ids (uuid5) for aggregates that have a natural key."""

from __future__ import annotations

from uuid import UUID, uuid5

LINLI_NAMESPACE = UUID("6b1f5d1e-3c55-4c1a-9a51-6c696e6c6931")
DIRECTORY_ID = uuid5(LINLI_NAMESPACE, "directory")


def account_id(owner_id: UUID, asset: str) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"account:{owner_id}:{asset}")


def rule_id(community_id: UUID, code: str) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"rule:{community_id}:{code}")


def api_key_id(token_hash: str) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"api-key:{token_hash}")


def idempotency_record_id(principal_id: str, key: str) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"idempotency:{principal_id}:{key}")


def system_account(community_id: UUID, asset: str, purpose: str) -> str:
    """Name of a community's system account, e.g. `community:<id>:POINTS:issued`."""
    return f"community:{community_id}:{asset}:{purpose}"



def interchange_id(first: UUID, second: UUID) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"interchange:{first}:{second}")


def pool_id(community_id: UUID) -> UUID:
    """The owner id of a community's pool of donated minutes."""
    return uuid5(LINLI_NAMESPACE, f"pool:{community_id}")


def order_deposit_id(service_request_id: UUID) -> UUID:
    return uuid5(LINLI_NAMESPACE, f"deposit:{service_request_id}")
