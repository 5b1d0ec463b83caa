"""Idempotency records: the first response to a keyed request, stored with its effects."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from ledger import ids
from ledger.domain.base import LedgerAggregate


class IdempotencyRecord(LedgerAggregate):
    """Saved in the same transaction as the command it answers, so a key acts at most once."""

    @staticmethod
    def create_id(principal_id: str, key: str) -> UUID:
        return ids.idempotency_record_id(principal_id, key)

    @event("Recorded")
    def __init__(
        self, principal_id: str, key: str, fingerprint: str, status_code: int, body: str
    ) -> None:
        self.principal_id = principal_id
        self.key = key
        self.fingerprint = fingerprint
        self.status_code = status_code
        self.body = body


class PersonalIdempotencyRecord(IdempotencyRecord):
    """A record whose response shows a person's personal data (a registration, a correction):
    its body is encrypted under `subject_id`'s key in the log (`ledger.privacy`)."""

    @event("Recorded")
    def __init__(  # type: ignore[override]
        self, principal_id: str, key: str, fingerprint: str, status_code: int, body: str,
        subject_id: str,
    ) -> None:
        super().__init__(principal_id=principal_id, key=key, fingerprint=fingerprint,
                         status_code=status_code, body=body)
        self.subject_id = subject_id
