"""The touches a worker holds: claim, release, the lease heartbeat, the reaper.

A lease is how the database knows a worker is alive; the :class:`_Heartbeat` thread
pushes it while the worker works, and the reaper turns the 'sending' touches of a worker
that is gone into 'unknown' (never re-sent).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from api import draft_expiry, ledger
from api.dispatch import claim as claims
from api.dispatch.options import ACTOR, LOST_REASON, UNKNOWN_ADVICE
from api.dispatch.stats import Outcome
from api.idempotency import keys as idempotency_keys
from api.privacy import retention

if TYPE_CHECKING:
    from api.dispatch.worker import Worker

log = logging.getLogger("touchbase.dispatch")


class LeaseMixin:
    """Claims and leases of a :class:`~api.dispatch.worker.Worker`."""

    def claim(self, limit: int | None = None) -> list[int]:
        ids = claims.claim(
            self.engine,
            self.id,
            self.clock(),
            self.options.lease_delta,
            limit or self.options.batch,
        )
        with self._held_lock:
            self._held.update(ids)
        self.stats.claimed += len(ids)
        return ids

    def held(self) -> list[int]:
        with self._held_lock:
            return sorted(self._held)

    def _drop(self, touch_id: int) -> None:
        with self._held_lock:
            self._held.discard(touch_id)

    def release(self, ids: Iterable[int]) -> int:
        ids = list(ids)
        if not ids:
            return 0
        try:
            count = claims.release(self.engine, self.id, ids)
        except SQLAlchemyError:
            log.exception("could not release %d touches; their leases will expire", len(ids))
            count = 0
        for touch_id in ids:
            self._drop(touch_id)
        self.stats.released += count
        if count:
            log.info(
                "released %d claimed touches",
                count,
                extra={"touchbase": {"event": "released", "count": count, "worker": self.id}},
            )
        return count

    def release_held(self) -> int:
        return self.release(self.held())

    def heartbeat(self) -> int:
        ids = self.held()
        if not ids:
            return 0
        return claims.extend(self.engine, self.id, ids, self.clock(), self.options.lease_delta)

    def _maybe_reap(self) -> None:
        if time.monotonic() - self._last_reap < self.options.reap_every:
            return
        self._last_reap = time.monotonic()
        try:
            self.reap()
        except Exception:
            log.exception("reaping lost sends failed")
        try:  # POST answers kept past their 24 hours
            idempotency_keys.purge(self._session, self.clock())
        except Exception:
            log.exception("purging expired idempotency keys failed")
        try:  # drafts nobody approved in time: skipped, on the reaper's beat
            draft_expiry.sweep(self._session, self.clock(), ACTOR)
        except Exception:
            log.exception("expiring unapproved drafts failed")
        try:  # message texts past their organisation's retention
            retention.sweep(self._session, self.clock(), self.config)
        except Exception:
            log.exception("applying the retention of message texts failed")

    def reap(self) -> list[Outcome]:
        """Touches left 'sending' by a worker that is gone become 'unknown', never re-sent."""
        now = self.clock()
        outcomes = []
        with self._session() as session, session.begin():
            for touch in session.scalars(claims.lost_sends_query(now)).all():
                reason = f"{LOST_REASON}. {UNKNOWN_ADVICE.format(id=touch.id)}"
                lost_worker = touch.lease_owner
                touch.status = "unknown"
                touch.reason = reason
                touch.lease_expires_at = None  # lease_owner stays: who was sending
                ledger.record_event(
                    session,
                    touch,
                    "unknown",
                    ACTOR,
                    reason=LOST_REASON,
                    data={"worker": lost_worker, "attempt": touch.attempts, "reaper": self.id},
                )
                outcomes.append(
                    Outcome(touch.id, "unknown", touch.channel, touch.attempts, LOST_REASON)
                )
        for outcome in outcomes:
            self._log(outcome)
        self.stats.reaped += len(outcomes)
        return outcomes


class _Heartbeat(threading.Thread):
    """Keeps the worker's leases alive while it lives."""

    def __init__(self, worker: Worker) -> None:
        super().__init__(name=f"touchbase-lease-{worker.id}", daemon=True)
        self.worker = worker
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.worker.options.heartbeat):
            try:
                self.worker.heartbeat()
            except Exception:
                log.exception("lease heartbeat failed")

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=5)
