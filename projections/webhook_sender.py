"""The sender: delivers the webhook outbox, each subscription's deliveries one at a time in
log order, signed, retried with backoff, and gives up (disabling the subscription) after
`webhook_give_up_seconds` of failure.

It runs on threads of its own beside the projections (in their process, unless they run in
the server's) and only reads and updates the outbox: the write path never waits on a
receiver, and the server's process does not post. Giving up is written to
`webhook_give_ups`; the server's `GiveUps` turns each into the event that disables the
subscription (the writer is the only one that writes events).

A delivery is marked delivered only after its receiver answered 2xx, so a crash before the
record sends it again (at least once); a stop records first. One marked delivered is never
sent again unless asked (`redeliver`). With several servers on one database, one sender at a
time delivers (the one whose process holds the webhooks' lock, `ledger.leadership`); one that
loses the lock stops before its next post.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine

from ledger.errors import WebhookUrlRefused
from ledger.periodic import Periodic
from ledger.settings import Settings
from ledger.webhook_signing import HEADER, signature
from ledger.webhook_urls import check_webhook_url
from projections import webhook_store as store

log = logging.getLogger(__name__)

BATCH = 100  # deliveries of one subscription read at once
RECORD_EVERY = 50  # acknowledged deliveries recorded in one transaction
ERROR_MAX_CHARS = 300
USER_AGENT = "Linli-Webhooks/1"


class _Connections(threading.local):
    """Each sending thread's open connections, by scheme, host and port (kept alive)."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, str, int], http.client.HTTPConnection] = {}


class WebhookSender(Periodic):
    """Delivers what is due every `webhook_poll_seconds`."""

    thread_name = "linli-webhooks"

    def __init__(self, engine: Engine, settings: Settings,
                 clock: Callable[[], datetime]) -> None:
        super().__init__(settings.webhook_poll_seconds)
        self.engine, self.settings, self.clock = engine, settings, clock
        self._given_up: set[str] = set()  # until their give-up is done
        self._busy: set[str] = set()  # subscriptions being delivered to
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._connections = _Connections()
        self._stopping = threading.Event()

    def start(self) -> None:
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(self.settings.webhook_senders,
                                        thread_name_prefix="linli-webhook")
        super().start()

    def stop(self) -> None:
        self._stopping.set()
        super().stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def tick(self) -> None:
        self.run_once()

    def run_once(self) -> int:
        """Start delivering to each subscription with something due now and no delivery
        under way (a slow receiver holds up its own subscription only); returns how many
        were started. Without the pool (not started): delivers here, one after another."""
        due = store.due_webhooks(self.engine, self.clock(), 256)
        if self._pool is None:
            for webhook_id in due:
                self.deliver(webhook_id)
            return len(due)
        started = 0
        for webhook_id in due:
            with self._lock:
                if webhook_id in self._busy:
                    continue
                self._busy.add(webhook_id)
            self._pool.submit(self._deliver_then_free, webhook_id)
            started += 1
        return started

    def _deliver_then_free(self, webhook_id: str) -> None:
        delivered = 0
        try:
            delivered = self.deliver(webhook_id)
        except Exception:
            log.exception("webhook %s: a pass failed; trying again later", webhook_id)
        finally:
            with self._lock:
                self._busy.discard(webhook_id)
        if delivered:
            self.wake()  # more may have come meanwhile

    def deliver(self, webhook_id: str) -> int:
        """Send one subscription's due deliveries in order, until one fails. Acknowledged
        ones are recorded together (every `RECORD_EVERY`, before a failure is, and at the
        end): a crash sends at most those again, a stop none."""
        target = store.target(self.engine, webhook_id)
        if target is None or not target.active:
            self._given_up.discard(webhook_id)
            return 0
        if webhook_id in self._given_up:
            if store.giving_up(self.engine, webhook_id):
                return 0
            # Done, so the view has shown it disabled: active now, it was taken up again
            self._given_up.discard(webhook_id)
        acknowledged: list[tuple[str, int]] = []
        delivered = 0
        try:  # checked once a pass: a name that now resolves inward is refused
            check_webhook_url(target.url, allow_private=self.settings.webhook_allow_private)
            refusal = None
        except WebhookUrlRefused as refused:
            refusal = f"refused: {refused.key}"
        try:
            while not self._stopping.is_set():
                rows = store.pending(self.engine, webhook_id, BATCH)
                for row in rows:
                    if (row["next_attempt_at"] > self.clock() or self._stopping.is_set()
                            or not self.gate()):
                        return delivered
                    code = self._attempt(target, row, acknowledged, refusal)
                    if code is None:
                        return delivered
                    delivered += 1
                    if len(acknowledged) >= RECORD_EVERY:
                        self._record(acknowledged)
                if len(rows) < BATCH:
                    return delivered
                self._record(acknowledged)  # the next read must not see them pending
            return delivered
        finally:
            self._record(acknowledged)

    def _record(self, acknowledged: list[tuple[str, int]]) -> None:
        if acknowledged:
            store.record_delivered(self.engine, acknowledged, self.clock())
            acknowledged.clear()

    def _attempt(self, target: store.Target, row: dict[str, Any],
                 acknowledged: list[tuple[str, int]], refusal: str | None) -> int | None:
        """Post one delivery: its 2xx (kept in `acknowledged`), or None when it failed (and
        that is recorded, with the next try's instant or the giving up)."""
        started = self.clock()
        code, error = ((None, refusal) if refusal is not None
                       else self._post(target.url, target.secret, row["body"].encode("utf-8")))
        if code is not None and 200 <= code < 300:
            acknowledged.append((row["delivery_id"], code))
            return code
        self._record(acknowledged)
        ended = self.clock()
        attempts = row["attempts"] + 1
        first = row["first_attempt_at"] or started
        reason = error or f"HTTP {code}"
        if (ended - first).total_seconds() >= self.settings.webhook_give_up_seconds:
            store.record(self.engine, row["delivery_id"], status=store.FAILED,
                         attempts=attempts, first_attempt_at=first, last_attempt_at=ended,
                         response_code=code, error=reason)
            self._give_up(target.webhook_id, attempts, reason)
            return None
        delay = min(self.settings.webhook_retry_max_seconds,
                    self.settings.webhook_retry_first_seconds * 2 ** min(attempts - 1, 30))
        store.record(self.engine, row["delivery_id"], attempts=attempts,
                     first_attempt_at=first, last_attempt_at=ended,
                     next_attempt_at=ended + timedelta(seconds=delay), response_code=code,
                     error=reason)
        return None

    def _give_up(self, webhook_id: str, attempts: int, reason: str) -> None:
        log.warning("webhook %s: giving up after %d attempts (%s)", webhook_id, attempts, reason)
        self._given_up.add(webhook_id)
        text = (f"投递连续失败 {attempts} 次、超过 "
                f"{self.settings.webhook_give_up_seconds:g} 秒，已自动停用：{reason}")
        store.give_up(self.engine, webhook_id, text, self.clock())

    def _post(self, url: str, secret: str, body: bytes) -> tuple[int | None, str | None]:
        """The receiver's status code, or the error that kept it from answering."""
        parts = urlsplit(url)
        https = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if https else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   HEADER: signature(secret, int(time.time()), body)}
        slot = (parts.scheme, host, port)
        for fresh in (False, True):
            connection = self._connections.open.get(slot)
            if connection is None or fresh:
                if connection is not None:
                    connection.close()
                timeout = self.settings.webhook_timeout_seconds
                connection = (http.client.HTTPSConnection(host, port, timeout=timeout) if https
                              else http.client.HTTPConnection(host, port, timeout=timeout))
                self._connections.open[slot] = connection
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read(65536)
                if response.will_close:
                    connection.close()
                    del self._connections.open[slot]
                return response.status, None
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                connection.close()
                self._connections.open.pop(slot, None)
                if fresh:
                    return None, _said(e)
                # a kept-alive connection the receiver had closed: once more on a new one
            except (OSError, http.client.HTTPException) as e:
                connection.close()
                self._connections.open.pop(slot, None)
                return None, _said(e)
        return None, "unreachable"


def _said(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX_CHARS]


class GiveUps(Periodic):
    """In the server's process: disables each subscription the sender gave up on, through
    the writer (an event with the reason), every `interval_seconds`; `execute` says whether
    the views show it yet, and only then is the give-up forgotten (the sender waits on that)."""

    thread_name = "linli-webhook-give-ups"

    def __init__(self, engine: Engine, execute: Callable[[str, str], bool],
                 interval_seconds: float) -> None:
        super().__init__(interval_seconds)
        self.engine, self.execute = engine, execute

    def tick(self) -> None:
        for webhook_id, reason in store.given_up(self.engine):
            if self.execute(webhook_id, reason):
                store.forget_give_up(self.engine, webhook_id)
