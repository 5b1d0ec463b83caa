"""Aggregates of the ledger. Commands check first and only then trigger events."""
