"""The dispatch worker: due touches go out on time, through their channel, exactly once.

One touch, start to end::

    claim (lease, still 'scheduled')              api.dispatch.claim
      -> re-check: policy (a reply, a manual touch, the window, the daily cap...)
                   and the message check, as at creation
         refused for now  -> 'scheduled' at the next allowed time   (event rescheduled)
         refused for good -> 'skipped' with the rule                 (event skipped)
      -> COMMIT 'sending', attempts + 1                 <- the fence: the only way to a provider
      -> channel.send(message)
      -> Sent 'sent' | RetryLater 'scheduled' later (backoff) or 'failed' when attempts run out
         | Failed 'failed' | Unknown 'unknown'

Within a batch the answer for touch n is written down with the fence of touch n + 1,
in one commit; on PostgreSQL, when the stamp of n + 1 has not moved, in one statement
(:mod:`api.dispatch.fast`). ``fence_batch`` K > 1 fences K touches per commit: a dead
worker then leaves up to K touches 'unknown'.

Exactly once: a provider is called only for a touch this worker moved from 'scheduled'
to 'sending' under its lease, in a committed transaction. A 'sending' touch never goes
back to 'scheduled' except on a definite "not delivered" answer (RetryLater). If the
worker dies after the fence, its heartbeat stops, the lease runs out, and any worker's
reaper marks the touch 'unknown': never re-sent automatically, settled by a provider
status callback or ``POST /v1/touches/{id}/resolve``. A touch claimed but not started
when its worker dies is simply claimable again once the lease has run out.

Leases: a heartbeat thread pushes the lease of every touch the worker still holds
(claimed or sending) every ``lease / 3`` seconds, so a slow send never looks like a
dead worker; ``lease`` is how long a dead worker's touches stay stuck. Lease times come
from the workers' clocks: keep hosts NTP-synchronised, with a lease well above the skew.

This module holds the loop; :class:`Worker` gathers its other parts as mixins: claims
and leases (:mod:`api.dispatch.leases`), row locks (:mod:`api.dispatch.locking`), the
re-check and fence (:mod:`api.dispatch.prepare`, :mod:`api.dispatch.fast`), the
outcomes (:mod:`api.dispatch.record`), channel sessions (:mod:`api.dispatch.sessions`),
the batch's connection (:mod:`api.dispatch.batch`) and the log lines
(:mod:`api.dispatch.stats`). Every name it had before is importable from here.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session, sessionmaker

from api.dispatch.batch import BatchMixin
from api.dispatch.context import SendContext, load_contexts
from api.dispatch.fast import FastFenceMixin, FastStepMixin
from api.dispatch.leases import LeaseMixin, _Heartbeat
from api.dispatch.locking import LockMixin
from api.dispatch.options import (
    ACTOR,
    LOST_REASON,
    PROVIDER_ID_MAX,
    RECORD_RETRY_PAUSES,
    UNKNOWN_ADVICE,
    WARN_OUTCOMES,
    Options,
    backoff_delay,
    make_worker_id,
)
from api.dispatch.prepare import PrepareMixin, _Answered
from api.dispatch.record import RecordMixin
from api.dispatch.sessions import SessionMixin
from api.dispatch.stats import (
    Outcome,
    ReportMixin,
    RunStats,
    _cpu_seconds,
    _ms_since,
    current_rss_kb,
    peak_rss_kb,
)
from api.inbound.poller import MailboxPoller, PollerThread
from api.models import Touch, utcnow
from api.webhooks.delivery import start_beside as start_webhooks
from channels import registry
from channels.base import send_safely

log = logging.getLogger("touchbase.dispatch")

__all__ = [
    "ACTOR",
    "LOST_REASON",
    "PROVIDER_ID_MAX",
    "RECORD_RETRY_PAUSES",
    "UNKNOWN_ADVICE",
    "WARN_OUTCOMES",
    "Options",
    "Outcome",
    "RunStats",
    "Worker",
    "backoff_delay",
    "current_rss_kb",
    "make_worker_id",
    "peak_rss_kb",
]


class Worker(
    LeaseMixin,
    LockMixin,
    PrepareMixin,
    FastFenceMixin,
    FastStepMixin,
    RecordMixin,
    SessionMixin,
    BatchMixin,
    ReportMixin,
):
    """Delivers due touches. Thread-compatible: one ``run`` per Worker object at a time.

    ``clock`` returns an aware UTC datetime (tests pass a fixed one); ``config`` is the
    app config (``PUBLIC_URL``, ``OUTBOX_DIR``...).
    """

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        config: Mapping[str, Any],
        *,
        options: Options | None = None,
        clock: Callable[[], datetime] = utcnow,
        worker_id: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.config = config
        self.options = options or Options()
        self.clock = clock
        self.id = worker_id or make_worker_id()
        self.rng = rng or random.Random()
        self._held: set[int] = set()
        self._held_lock = threading.Lock()
        self._last_reap = float("-inf")
        self._batch: dict[int, SendContext] = {}
        self._watchers: dict[int, list[SendContext]] = {}
        self._touches: dict[int, Touch] = {}  # the batch's touches, as this worker knows them
        self._progress_on = False
        self._conn: Connection | None = None
        self._sessions: dict[str, Any] = {}  # the batch's channel sessions, by channel
        self._sends: dict[int, Any] = {}  # the batch's daily-cap counts (api.dispatch.fast)
        self.stats = RunStats(self.id)

    @classmethod
    def from_app(cls, app, *, options: Options | None = None, **kwargs: Any) -> Worker:
        """A worker on the app's database and config. Keyword arguments that are
        :class:`Options` fields (``batch``, ``lease``...) build the options."""
        fields_ = set(Options.__dataclass_fields__)
        given = {k: kwargs.pop(k) for k in list(kwargs) if k in fields_}
        if options is None:
            options = Options(**given)
        return cls(
            app.extensions["touchbase.engine"],
            app.extensions["touchbase.sessionmaker"],
            app.config,
            options=options,
            **kwargs,
        )

    # ------------------------------------------------------------------ the loop

    def run(self, stop: threading.Event | None = None, *, once: bool = False) -> RunStats:
        """Work until ``stop`` is set (or, with ``once``, until nothing is due).

        On stop: the touch in flight is finished, touches claimed but not started are
        released for other workers. Database trouble is logged and waited out.
        """
        stop = stop or threading.Event()
        self.stats = RunStats(self.id)
        beat = _Heartbeat(self)
        beat.start()
        mailboxes = self._start_mailboxes(once)
        webhooks = start_webhooks(self, once)
        log.info(
            "worker %s started (batch %d, lease %.1fs%s)",
            self.id,
            self.options.batch,
            self.options.lease,
            ", once" if once else "",
            extra={
                "touchbase": {
                    "event": "worker_started",
                    "worker": self.id,
                    "once": once,
                    "cpu_s": round(_cpu_seconds(), 3),  # start-up, for the benchmark
                }
            },
        )
        try:
            while not stop.is_set():
                self._maybe_reap()
                try:
                    ids = self.claim()
                except Exception:  # the database is away, or a bug: never kill the loop
                    log.exception("claim failed; retrying in %.1fs", self.options.poll)
                    stop.wait(self.options.poll)
                    continue
                if not ids:
                    if once:
                        break
                    stop.wait(self.options.poll)
                    continue
                self.work(ids, stop, progress=True)
        finally:
            self.release_held()
            beat.stop()
            if once:  # what this run's sends reported
                start_webhooks(self, once)
            for thread in (mailboxes, webhooks):
                if thread is not None:
                    thread.stop()
            summary = self.stats.as_dict()
            log.info(
                "worker %s stopped: %d touches (%s), peak RSS %d KiB",
                self.id,
                summary["processed"],
                ", ".join(f"{k} {v}" for k, v in sorted(summary["outcomes"].items())) or "none",
                summary["peak_rss_kb"],
                extra={"touchbase": {"event": "worker_stopped", **summary}},
            )
        return self.stats

    def mailbox_poller(self) -> MailboxPoller:
        """The poller of the mailboxes replies arrive in, on this worker's clock and id."""
        lease = float(self.config.get("MAILBOX_LEASE_SECONDS", 300))
        return MailboxPoller(self.sessions, self.config, self.id, clock=self.clock, lease=lease)

    def _start_mailboxes(self, once: bool) -> PollerThread | None:
        """Polls mailboxes beside the send loop; with ``once``, one pass before it."""
        tick = self.config.get("MAILBOX_TICK_SECONDS", 5)
        if not tick or tick <= 0:
            return None
        if once:
            try:
                self.mailbox_poller().poll_due()
            except Exception:  # the database is away: the sends below will say so too
                log.exception("mailbox polling failed")
            return None
        thread = PollerThread(self.mailbox_poller(), tick=float(tick))
        thread.start()
        return thread

    def run_once(self) -> RunStats:
        """Drain what is due now, then return (``touchbase worker --once``)."""
        return self.run(once=True)

    def work(self, ids: Iterable[int], stop: threading.Event | None = None, *, progress=False):
        """Process claimed touches in order; on stop, release the ones not started.

        Pipelined: the answers of the touches just sent are written down with the fence of
        the next ones, ``options.fence_batch`` touches per fence (default one): one commit
        per fence. On PostgreSQL, when nothing changed, that is one statement
        (:mod:`api.dispatch.fast`); else each touch is re-checked in full. A worker that
        dies leaves at most ``fence_batch`` touches 'sending' (then 'unknown'); a
        channel's messages share a session (:mod:`api.dispatch.sessions`)."""
        pending = list(ids)
        self._progress_on = progress
        size = self.options.fence_batch
        with self._pinned():
            self._watch(self.load_contexts(pending))
            self._load_sends(self._batch)
            waiting: list[_Answered] = []
            try:
                for start in range(0, len(pending), size):
                    if stop is not None and stop.is_set():
                        self.release(pending[start:])
                        break
                    fenced, waiting = self._fence(pending[start : start + size], waiting), []
                    for prepared, started in fenced:  # no transaction open while sending
                        result = self._send(prepared)
                        waiting.append(
                            _Answered(prepared, result, self.clock(), _ms_since(started))
                        )
            finally:
                if waiting and self._fast_on():  # the last fence's answers: one statement
                    done = self._fast([], waiting)
                    waiting = [
                        a for a in waiting if done is None or a.prepared.touch_id not in done[1]
                    ]
                for answer in waiting:
                    self._finish(self._record_alone(answer), ms=answer.ms)
                self._close_sessions()
                self._watch({})
                self._touches, self._sends = {}, {}

    def _fence(self, chunk: list[int], waiting: list[_Answered]) -> list[tuple[Any, float]]:
        """Write down ``waiting`` and fence the touches of ``chunk``: in one statement
        what the batch's contexts allow, the rest the full way. Returns the fenced."""
        started = time.perf_counter()
        out: list[tuple[Any, float]] = []
        if self._fast_on():
            done = self._fast(chunk, waiting)
            if done is not None:
                fenced, recorded = done
                out = [(prepared, started) for prepared in fenced]
                waiting = [a for a in waiting if a.prepared.touch_id not in recorded]
                chunk = [t for t in chunk if t not in {p.touch_id for p in fenced}]
        for touch_id in chunk:
            prepared = self._step(touch_id, self._batch.pop(touch_id, None), waiting[:1])
            waiting = waiting[1:]
            if prepared is not None:
                out.append((prepared, started))
        for answer in waiting:
            self._finish(self._record_alone(answer), ms=answer.ms)
        return out

    def _step(self, touch_id: int, ctx: SendContext | None, waiting: list[_Answered]):
        """Write down ``waiting`` (one answer at most) and re-check and fence ``touch_id``
        in full, in one transaction. Returns the fence, or None (an outcome already)."""
        started = time.perf_counter()
        answer = waiting[0] if waiting else None
        try:
            with self._session() as session:
                previous, prepared = self._prepare(session, touch_id, self.clock(), ctx, answer)
        except Exception as exc:
            if answer is None:
                log.exception("touch %s: unexpected error", touch_id)
                self._finish(self._after_error(touch_id, exc), started)
                return None
            # The answer rolled back with this touch's transaction: write it on its own,
            # then give this touch a transaction of its own too.
            log.warning("touch %s: preparing it failed; recording touch %s alone",
                        touch_id, answer.prepared.touch_id, exc_info=True)  # fmt: skip
            self._finish(self._record_alone(answer), ms=answer.ms)
            return self._step(touch_id, ctx, [])
        if previous is not None:
            self._finish(previous, ms=answer.ms)
        if isinstance(prepared, Outcome):
            self._finish(prepared, started)
            return None
        return prepared

    def _finish(
        self, outcome: Outcome, started: float | None = None, *, ms: float | None = None
    ) -> None:
        """A touch's outcome is written down (or could not be): log it, let it go."""
        if ms is not None:
            outcome.ms = ms
        elif started is not None:
            outcome.ms = _ms_since(started)
        self._log(outcome)
        self._drop(outcome.touch_id)
        self.stats.outcomes[outcome.kind] += 1
        if self._progress_on and self.stats.processed % self.options.progress_every == 0:
            self._progress()

    def load_contexts(self, ids: Iterable[int]) -> dict[int, SendContext]:
        """The send-time facts of a claimed batch, in a few queries (see api.dispatch.context).
        On trouble each touch loads its own."""
        ids = list(ids)
        if not ids:
            return {}
        try:
            with self._session() as session, session.begin():
                touches = session.scalars(
                    select(Touch).where(
                        Touch.id.in_(ids),
                        Touch.lease_owner == self.id,
                        Touch.status == "scheduled",
                    )
                ).all()
                self._touches = {t.id: t for t in touches}
                return load_contexts(session, touches, self.config, _channels(touches))
        except Exception:
            log.exception("loading the batch's context failed; loading touch by touch")
            return {}

    def process(self, touch_id: int, context: SendContext | None = None) -> Outcome:
        """Re-check, fence, send, record one touch, on its own (``work`` pipelines these).
        The touch must be claimed by this worker; ``context`` is its batch-loaded context,
        if any (checked for freshness)."""
        started = time.perf_counter()
        with self._session() as session:
            _, prepared = self._prepare(session, touch_id, self.clock(), context, None)
        if isinstance(prepared, Outcome):
            outcome = prepared
        else:  # no transaction is open while the provider is called
            result = send_safely(prepared.channel, prepared.message, prepared.settings)
            outcome = self._record_alone(_Answered(prepared, result, self.clock(), 0.0))
        outcome.ms = _ms_since(started)
        self._log(outcome)
        return outcome

    def _load_one(self, session: Session, touch: Touch) -> SendContext:
        return load_contexts(session, [touch], self.config, _channels([touch]))[touch.id]


def _channels(touches: Iterable[Touch]) -> dict[str, Any]:
    """The channel objects the touches need (unknown names left out)."""
    found = {}
    for name in {t.channel for t in touches}:
        try:
            found[name] = registry.get_channel(name)
        except registry.UnknownChannelError:
            continue
    return found
