"""Linli's ledger: the domain model (aggregates and events) and the application services."""
