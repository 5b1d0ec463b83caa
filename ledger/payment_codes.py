"""The payment codes (付款码) alive now: in the serving process's memory, and in a table every
server on the database reads (`CodeStore`), so a code made through one server is taken at a
till talking to another.

A code is made for one member and lives `lifetime`; the member's account, not this book,
records that it was consumed (see `ledger.domain.consent`), so a code is consumed exactly once
however many tills send it, through however many servers. Making one writes nothing to the log
(a resident's page makes one a minute while it is open). The store keeps the code's digest
(what a posting records of it), never the code: a till's code not in memory is looked up by
its digest.

A code is made with an idempotency key: the same key with the same request gets the same code
again, a different request under it is refused, for `KEYS_KEPT` (or, in memory, until
`KEYS_MAX` newer keys push it out), through any server: the store keeps the key's digest and
the code sealed under a pad only the servers' secret and that key make, so only a retry under
the key opens it.

Codes to store are sent by threads of their own in groups (one transaction for all the codes
asked for meanwhile, a few transactions under way at once, not waiting for the disk on
PostgreSQL: a code lost in a crash is asked for again); a code is answered once stored. Rows
past keeping are deleted by `sweep`, a job one server runs at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import queue
import secrets
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, Protocol
from uuid import UUID

from ledger.domain.consent import Consent, code_digest, new_code
from ledger.errors import IdempotencyKeyReused, PaymentCodeInvalid
from ledger.periodic import Periodic

log = logging.getLogger(__name__)

KEYS_KEPT = timedelta(hours=24)
KEYS_MAX = 500_000
STORE_BATCH = 512  # codes stored in one transaction at most
STORE_THREADS = 4  # transactions of codes under way at once (each waits on the database)
SWEEP_SECONDS = 60.0
ISSUE_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class PaymentCode:
    """A live code: whose it is, who made it (the member's phone, or staff at the counter)
    and until when."""

    code: str
    member_id: UUID
    community_id: UUID
    made_by: str
    expires_at: datetime

    @cached_property
    def consent(self) -> Consent:
        """The consent a redemption with this code is given with (its digest made once)."""
        return Consent.by_code(code_digest(self.code), self.expires_at, self.made_by)


@dataclass(frozen=True)
class CodeKey:
    """The idempotency key a code is asked for with: whose, which, and the request's hash."""

    principal: str
    key: str
    fingerprint: str

    @cached_property
    def digest(self) -> str:
        """What the store keeps of the key: its principal and key, hashed."""
        return hashlib.sha256(f"{self.principal}\0{self.key}".encode()).hexdigest()


@dataclass(frozen=True)
class StoredCode:
    """What the store keeps of a code: its digest, never the code (but sealed for a retry
    under its key), and the row's end."""

    digest: str
    member_id: UUID
    community_id: UUID
    made_by: str
    expires_at: datetime
    kept_until: datetime
    key_digest: str | None = None
    fingerprint: str | None = None
    sealed: str | None = None


class CodeStore(Protocol):
    """The table of codes every server on the database reads."""

    def add(self, codes: Sequence[StoredCode]) -> set[str]:
        """Store the codes in one transaction; the digests of those stored (one whose key is
        stored already, by another process, is not)."""
        ...

    def by_digest(self, digest: str) -> StoredCode | None:
        """The code with this digest, if stored."""
        ...

    def by_key(self, key_digest: str) -> StoredCode | None:
        """The code made under this key, if stored."""
        ...

    def forget(self, now: datetime) -> int:
        """Delete the rows kept until `now` or before; how many."""
        ...


@dataclass(frozen=True)
class _Keyed:
    key: CodeKey
    made: PaymentCode
    made_at: datetime


class _Answer(Protocol):
    def set_result(self, result: PaymentCode) -> None: ...
    def set_exception(self, exception: BaseException) -> None: ...


class _OnLoop:
    """An event loop's future answered from a storing thread: the outcome is kept, and a
    group's outcomes are handed to the loop in one call (one wake-up a group, not a code)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[PaymentCode] = loop.create_future()
        self.outcome: tuple[bool, Any] = (False, RuntimeError("not answered"))

    def set_result(self, result: PaymentCode) -> None:
        self.outcome = (True, result)

    def set_exception(self, exception: BaseException) -> None:
        self.outcome = (False, exception)

    def settle(self) -> None:
        """On the loop: answer the future (unless its request was cancelled)."""
        if not self.future.done():
            ok, value = self.outcome
            if ok:
                self.future.set_result(value)
            else:
                self.future.set_exception(value)


def _settle_all(answers: list[_OnLoop]) -> None:
    for answer in answers:
        answer.settle()


@dataclass(frozen=True)
class _Pending:
    made: PaymentCode
    key: CodeKey | None
    row: StoredCode
    now: datetime
    answer: _Answer


class PaymentCodeBook:
    """Makes codes and finds them again while they live; thread-safe. Without a store, the
    codes live in this process only."""

    def __init__(self, lifetime: timedelta, store: CodeStore | None = None,
                 secret: bytes | None = None) -> None:
        self.lifetime = lifetime
        self.store = store
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._codes: dict[str, PaymentCode] = {}
        self._by_expiry: deque[PaymentCode] = deque()  # in the order made: expiring first
        self._keys: dict[tuple[str, str], _Keyed] = {}
        self._keys_in_order: deque[_Keyed] = deque()
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self.sweep = CodeSweep(self)

    def issue(self, member_id: UUID, community_id: UUID, now: datetime, made_by: str,
              key: CodeKey | None = None) -> Future[PaymentCode]:
        """A fresh code for the member, living from `now`, once stored; for a retry under the
        same `key` (through this server or another), the first one again (refused if the
        request differs)."""
        answer: Future[PaymentCode] = Future()
        self._issue(member_id, community_id, now, made_by, key, answer)
        return answer

    def issue_on(self, loop: asyncio.AbstractEventLoop, member_id: UUID, community_id: UUID,
                 now: datetime, made_by: str, key: CodeKey | None = None
                 ) -> asyncio.Future[PaymentCode]:
        """`issue` for the event loop `loop` (called on it): the future to await."""
        answer = _OnLoop(loop)
        if self._issue(member_id, community_id, now, made_by, key, answer):
            answer.settle()
        return answer.future

    def _issue(self, member_id: UUID, community_id: UUID, now: datetime, made_by: str,
               key: CodeKey | None, answer: _Answer) -> bool:
        """Answer at once (True) or queue the code to be stored (False)."""
        with self._lock:
            self._forget(now)
            earlier = self._keys.get((key.principal, key.key)) if key is not None else None
            if earlier is not None:
                if key is not None and earlier.key.fingerprint != key.fingerprint:
                    answer.set_exception(IdempotencyKeyReused("idempotency-key-reused"))
                else:
                    answer.set_result(earlier.made)
                return True
            code = new_code()
            while code in self._codes:  # one in 10^17 a draw: no two live codes alike
                code = new_code()
            made = PaymentCode(code, member_id, community_id, made_by,
                               (now + self.lifetime).replace(microsecond=0))
            if self.store is None:
                self._publish(made, key, now)
                answer.set_result(made)
                return True
            self._ensure_thread()
        self._queue.put(_Pending(made, key, self._row(made, key, now), now, answer))
        return False

    def make(self, member_id: UUID, community_id: UUID, now: datetime, made_by: str,
             key: CodeKey | None = None) -> PaymentCode:
        """`issue`, waited for."""
        return self.issue(member_id, community_id, now, made_by, key).result(
            timeout=ISSUE_WAIT_SECONDS)

    def find(self, code: str, now: datetime) -> PaymentCode:
        """The live code, from memory; refuses one unknown here or expired."""
        found = self._codes.get(code)
        if found is None or found.expires_at <= now:
            raise PaymentCodeInvalid("payment-code-invalid")
        return found

    def knows(self, code: str) -> bool:
        """Whether the code is in this process's memory (live or not)."""
        return code in self._codes

    def recall(self, code: str, now: datetime) -> PaymentCode:
        """The live code, from memory or else from the store (another server made it: it is
        kept in memory from now on); refuses one unknown or expired."""
        try:
            return self.find(code, now)
        except PaymentCodeInvalid:
            if self.store is None:
                raise
        row = self.store.by_digest(code_digest(code))
        if row is None or row.expires_at <= now:
            raise PaymentCodeInvalid("payment-code-invalid")
        made = PaymentCode(code, row.member_id, row.community_id, row.made_by, row.expires_at)
        with self._lock:
            if code not in self._codes:
                self._codes[code] = made
                self._by_expiry.append(made)
        return made

    def forget_stored(self, now: datetime) -> int:
        """Delete the stored rows past keeping; how many."""
        return 0 if self.store is None else self.store.forget(now)

    def close(self) -> None:
        """Stop the storing threads (once the codes asked for are stored)."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout=30)

    def __len__(self) -> int:
        return len(self._codes)

    # --- storing ---------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        """Start the storing threads (under the lock)."""
        if not self._threads:
            self._threads = [threading.Thread(target=self._store_loop, name=f"linli-codes-{n}",
                                              daemon=True) for n in range(STORE_THREADS)]
            for thread in self._threads:
                thread.start()

    def _row(self, made: PaymentCode, key: CodeKey | None, now: datetime) -> StoredCode:
        digest = made.consent.code_digest
        assert digest is not None
        if key is None:
            return StoredCode(digest, made.member_id, made.community_id, made.made_by,
                              made.expires_at, made.expires_at)
        sealed = format(int(made.code) ^ self._pad(key), "016x")
        return StoredCode(digest, made.member_id, made.community_id, made.made_by,
                          made.expires_at, max(made.expires_at, now + KEYS_KEPT),
                          key.digest, key.fingerprint, sealed)

    def _pad(self, key: CodeKey) -> int:
        """64 bits only the servers' secret and this key make (one key, one code): keyed
        BLAKE2b, a MAC."""
        mac = hashlib.blake2b(f"linli/payment-code/v1\0{key.digest}".encode(),
                              key=self._secret[:64], digest_size=8)
        return int.from_bytes(mac.digest(), "big")

    def _store_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < STORE_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # after this batch
                    break
                batch.append(more)
            self._store(batch)

    def _store(self, batch: list[_Pending]) -> None:
        try:
            self._answer(batch)
        finally:
            on_loops: dict[asyncio.AbstractEventLoop, list[_OnLoop]] = {}
            for pending in batch:
                if isinstance(pending.answer, _OnLoop):
                    on_loops.setdefault(pending.answer.loop, []).append(pending.answer)
            for loop, answers in on_loops.items():
                with contextlib.suppress(RuntimeError):  # a loop closed: nobody waits
                    loop.call_soon_threadsafe(_settle_all, answers)

    def _answer(self, batch: list[_Pending]) -> None:
        assert self.store is not None
        try:
            stored = self.store.add([p.row for p in batch])
        except Exception as error:
            log.warning("payment codes: storing %d failed", len(batch), exc_info=True)
            for pending in batch:
                pending.answer.set_exception(error)
            return
        for pending in batch:
            try:
                if pending.row.digest in stored:
                    with self._lock:
                        self._publish(pending.made, pending.key, pending.now)
                    pending.answer.set_result(pending.made)
                else:
                    pending.answer.set_result(self._made_before(pending))
            except Exception as error:
                pending.answer.set_exception(error)

    def _made_before(self, pending: _Pending) -> PaymentCode:
        """The code stored first under the pending one's key (by another process, or by
        this one moments ago); refused if the request differs."""
        assert self.store is not None
        key = pending.key
        row = None if key is None else self.store.by_key(key.digest)
        if key is None or row is None or row.sealed is None:
            raise RuntimeError("a payment code was drawn twice; ask again")
        if row.fingerprint != key.fingerprint:
            raise IdempotencyKeyReused("idempotency-key-reused")
        made = PaymentCode(str(int(row.sealed, 16) ^ self._pad(key)), row.member_id,
                           row.community_id, row.made_by, row.expires_at)
        with self._lock:
            known = self._keys.get((key.principal, key.key))
            if known is not None:
                return known.made
            self._publish(made, key, pending.now)
        return made

    def _publish(self, made: PaymentCode, key: CodeKey | None, now: datetime) -> None:
        """Keep the code (and its key) in memory; under the lock."""
        if made.code not in self._codes:
            self._codes[made.code] = made
            self._by_expiry.append(made)
        if key is not None and (key.principal, key.key) not in self._keys:
            keyed = _Keyed(key, made, now)
            self._keys[(key.principal, key.key)] = keyed
            self._keys_in_order.append(keyed)

    def _forget(self, now: datetime) -> None:
        """Forget the codes expired, and the keys past keeping."""
        while self._by_expiry and self._by_expiry[0].expires_at <= now:
            self._codes.pop(self._by_expiry.popleft().code, None)
        keys = self._keys_in_order
        while keys and (len(keys) >= KEYS_MAX or keys[0].made_at + KEYS_KEPT <= now):
            oldest = keys.popleft().key
            del self._keys[(oldest.principal, oldest.key)]


class CodeSweep(Periodic):
    """Deletes the stored codes past keeping, every `SWEEP_SECONDS` (one server of several)."""

    thread_name = "linli-code-sweep"

    def __init__(self, book: PaymentCodeBook, interval_seconds: float = SWEEP_SECONDS) -> None:
        super().__init__(interval_seconds)
        self.book = book
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def tick(self) -> None:
        self.book.forget_stored(self.clock())
