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

Within a batch the last step of one touch and the first of the next share a transaction:
the answer for touch n is written down in the transaction that re-checks and fences touch
n + 1 (the batch's last answer in one of its own). One commit per touch, and nothing else
changes: a touch is fenced alone, just before its own send.

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
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import resource
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Connection, Engine, bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api import draft_expiry, inbound_sms, ledger, preflight
from api.dispatch import claim as claims
from api.dispatch.context import SendContext, fence_facts, load_contexts
from api.dispatch.outgoing import build_message
from api.models import Contact, Touch, utcnow
from channels import registry
from channels.base import Failed, Message, RetryLater, SendResult, Sent, Unknown, send_safely

log = logging.getLogger("touchbase.dispatch")

ACTOR = "worker"
LOST_REASON = "worker lost during send; not re-sent automatically"
UNKNOWN_ADVICE = (
    "Settle it with POST /v1/touches/{id}/resolve once you know whether it arrived "
    "(a provider status callback may also settle it)."
)
PROVIDER_ID_MAX = 64  # Touch.provider_id column size
#: Pauses between attempts to record a provider's answer while the database is away.
RECORD_RETRY_PAUSES = (0.5, 1.0, 2.0, 4.0)
#: Outcomes logged at warning level: someone may want to look at them.
WARN_OUTCOMES = frozenset({"failed", "unknown", "lost", "error"})


def make_worker_id() -> str:
    """``hostname:pid:random``: unique across machines, restarts and threads."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def peak_rss_kb() -> int:
    """This process's peak resident memory in KiB.

    Linux: ``VmHWM`` of /proc/self/status. ``getrusage().ru_maxrss`` would do elsewhere,
    but on Linux it survives ``exec`` and starts at the parent's size when forked, so a
    worker started by a big process would report the parent's memory."""
    found = _proc_status_kb("VmHWM")
    if found is not None:
        return found
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if os.uname().sysname == "Darwin" else peak


def _proc_status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def current_rss_kb() -> int | None:
    return _proc_status_kb("VmRSS")


@dataclass(frozen=True)
class Options:
    """How a worker works. ``lease`` in seconds; backoff in seconds (full jitter)."""

    batch: int = 50
    poll: float = 1.0
    lease: float = 120.0
    max_attempts: int = 5
    backoff_base: float = 60.0
    backoff_cap: float = 3600.0
    progress_every: int = 100

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError("batch must be at least 1")
        if not (self.lease > 0 and self.poll > 0):  # written so that nan fails too
            raise ValueError("lease and poll must be positive")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @property
    def lease_delta(self) -> timedelta:
        return timedelta(seconds=self.lease)

    @property
    def heartbeat(self) -> float:
        return max(0.05, self.lease / 3)

    @property
    def reap_every(self) -> float:
        return min(30.0, max(0.25, self.lease / 4))


def backoff_delay(
    attempt: int,
    *,
    base: float = 60.0,
    cap: float = 3600.0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds before attempt ``attempt + 1``: exponential backoff with full jitter,
    ``uniform(0, min(cap, base * 2 ** (attempt - 1)))``, at least 1 s, and never sooner
    than the provider asked (``retry_after``)."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    delay = max(1.0, (rng or random).uniform(0, ceiling))
    if retry_after is not None:
        delay = max(delay, float(retry_after))
    return delay


@dataclass
class Outcome:
    """What happened to one touch in one pass of the worker (one log line)."""

    touch_id: int
    kind: str  # sent retry failed unknown skipped rescheduled lost error
    channel: str | None = None
    attempt: int | None = None
    reason: str | None = None
    rule: str | None = None
    provider_id: str | None = None
    next_at: datetime | None = None
    ms: float | None = None


@dataclass
class RunStats:
    """What one ``run`` did; ``as_dict`` is the worker's final log line."""

    worker_id: str
    started: float = field(default_factory=time.monotonic)
    outcomes: Counter = field(default_factory=Counter)
    claimed: int = 0
    released: int = 0
    reaped: int = 0

    @property
    def processed(self) -> int:
        return sum(self.outcomes.values())

    def as_dict(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started
        return {
            "worker": self.worker_id,
            "processed": self.processed,
            "claimed": self.claimed,
            "released": self.released,
            "reaped": self.reaped,
            "outcomes": dict(self.outcomes),
            "elapsed_s": round(elapsed, 3),
            "rate_per_s": round(self.processed / elapsed, 1) if elapsed > 0 else None,
            "cpu_s": round(_cpu_seconds(), 3),
            "peak_rss_kb": peak_rss_kb(),
            "rss_kb": current_rss_kb(),
        }


@dataclass
class _Prepared:
    """A touch committed as 'sending', with everything needed to send it."""

    touch_id: int
    channel_name: str
    channel: Any
    settings: Mapping[str, Any]
    message: Message
    attempt: int


@dataclass
class _Answered:
    """A touch its provider has answered for, the answer not yet written down."""

    prepared: _Prepared
    result: SendResult
    at: datetime  # when the provider answered: the touch's sent_at
    ms: float  # from the start of its re-check to the answer


# Built once: a statement object reused keeps its cache key and compiled form.
_TOUCHES = Touch.__table__
#: Lock this worker's touches among ``ids`` and read what says whether they changed.
_LOCK_MINE = (
    select(_TOUCHES.c.id, _TOUCHES.c.status, _TOUCHES.c.updated_at)
    .where(
        _TOUCHES.c.id.in_(bindparam("ids", expanding=True)),
        _TOUCHES.c.lease_owner == bindparam("owner"),
    )
    .order_by(_TOUCHES.c.id)
    .with_for_update()
)
#: The whole rows, when the worker's copy is out of date.
_RELOAD = select(Touch).where(Touch.id.in_(bindparam("ids", expanding=True)))


def _current(known: Touch | None, status: str, updated_at: datetime) -> bool:
    """Whether the worker's copy is the row as just read. A copy whose transaction rolled
    back is expired (and detached): it is not, and is read afresh."""
    if known is None:
        return False
    expired = sa_inspect(known).expired_attributes
    if "status" in expired or "updated_at" in expired:
        return False
    return known.status == status and known.updated_at == updated_at


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


class Worker:
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

    def run_once(self) -> RunStats:
        """Drain what is due now, then return (``touchbase worker --once``)."""
        return self.run(once=True)

    def work(self, ids: Iterable[int], stop: threading.Event | None = None, *, progress=False):
        """Process claimed touches in order; on stop, release the ones not started.

        Pipelined: a provider's answer is written down in the same transaction that
        re-checks and fences the next touch, so a touch costs one commit, not two.
        Exactly-once is untouched: each touch is still fenced on its own, just before its
        own send, and a worker that dies with an answer unwritten leaves that one touch
        'sending' (then 'unknown'), as it would have without the pipeline."""
        pending = list(ids)
        self._progress_on = progress
        with self._pinned():
            self._watch(self.load_contexts(pending))
            waiting: _Answered | None = None
            try:
                for index, touch_id in enumerate(pending):
                    if stop is not None and stop.is_set():
                        self.release(pending[index:])
                        break
                    waiting = self._step(touch_id, self._batch.pop(touch_id, None), waiting)
            finally:
                if waiting is not None:
                    self._finish(self._record_alone(waiting), ms=waiting.ms)
                self._watch({})
                self._touches = {}

    def _step(
        self, touch_id: int, ctx: SendContext | None, waiting: _Answered | None
    ) -> _Answered | None:
        """Write down ``waiting`` and fence ``touch_id`` in one transaction, then send it.
        Returns the answer, to be written with the next touch (or alone at the end)."""
        started = time.perf_counter()
        try:
            with self._session() as session:
                previous, prepared = self._prepare(session, touch_id, self.clock(), ctx, waiting)
        except Exception as exc:
            if waiting is None:
                log.exception("touch %s: unexpected error", touch_id)
                self._finish(self._after_error(touch_id, exc), started)
                return None
            # The answer rolled back with this touch's transaction: write it on its own,
            # then give this touch a transaction of its own too.
            log.warning("touch %s: preparing it failed; recording touch %s alone",
                        touch_id, waiting.prepared.touch_id, exc_info=True)  # fmt: skip
            self._finish(self._record_alone(waiting), ms=waiting.ms)
            return self._step(touch_id, ctx, None)
        if previous is not None:
            self._finish(previous, ms=waiting.ms)
        if isinstance(prepared, Outcome):
            self._finish(prepared, started)
            return None
        # no transaction is open while the provider is called
        result = send_safely(prepared.channel, prepared.message, prepared.settings)
        return _Answered(prepared, result, self.clock(), _ms_since(started))

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

    def _watch(self, contexts: dict[int, SendContext]) -> None:
        """The batch's contexts, and for each touch the contexts whose stamp includes it."""
        self._batch = contexts
        watchers: dict[int, list[SendContext]] = {}
        for ctx in contexts.values():
            for neighbour in ctx.stamp[0]:
                watchers.setdefault(neighbour, []).append(ctx)
        self._watchers = watchers

    @contextlib.contextmanager
    def _pinned(self) -> Iterator[None]:
        """One connection for the whole batch: no pool checkout, ping and reset around each
        of its transactions (the heartbeat thread has its own)."""
        if self._conn is not None:
            yield
            return
        try:
            conn = self.engine.connect()
        except SQLAlchemyError:
            log.exception("no database connection for the batch; using the pool")
            yield
            return
        self._conn = conn
        try:
            yield
        finally:
            self._conn = None
            conn.close()

    def _session(self) -> Session:
        """A session on the batch's connection (or the pool outside a batch)."""
        if self._conn is not None and not self._conn.closed and not self._conn.invalidated:
            return self.sessions(bind=self._conn)
        return self.sessions()

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

    def _progress(self) -> None:
        summary = self.stats.as_dict()
        log.info(
            "progress: %d touches in %.1fs (%s/s): %s",
            summary["processed"],
            summary["elapsed_s"],
            summary["rate_per_s"],
            ", ".join(f"{k} {v}" for k, v in sorted(summary["outcomes"].items())),
            extra={"touchbase": {"event": "progress", **summary}},
        )

    # ------------------------------------------------------------------ leases

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
        try:  # drafts nobody approved in time: skipped, on the reaper's beat
            draft_expiry.sweep(self._session, self.clock(), ACTOR)
        except Exception:
            log.exception("expiring unapproved drafts failed")

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

    # ------------------------------------------------------------------ one touch

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

    def _mine(self, session: Session, touch_id: int, statuses: tuple[str, ...]) -> Touch | None:
        return self._lock(session, {touch_id: statuses}).get(touch_id)

    def _lock(self, session: Session, wanted: dict[int, tuple[str, ...]]) -> dict[int, Touch]:
        """Lock and re-read this worker's touches among ``wanted`` (id -> the statuses it
        may be in), in one statement, in id order."""
        rows = (
            session.connection()
            .execute(_LOCK_MINE, {"ids": sorted(wanted), "owner": self.id})
            .all()
        )
        found: dict[int, Touch] = {}
        stale = []
        for touch_id, status, updated_at in rows:
            if status not in wanted[touch_id]:
                continue
            known = self._touches.get(touch_id)
            if _current(known, status, updated_at):
                # Every change but lease bookkeeping moves updated_at: the worker's copy
                # (from the batch load, or as it last wrote it) is the row as it is now.
                session.add(known)
                found[touch_id] = known
            else:
                stale.append(touch_id)
        if stale:
            reloaded = session.scalars(
                _RELOAD, {"ids": stale}, execution_options={"populate_existing": True}
            ).all()
            for touch in reloaded:
                found[touch.id] = self._touches[touch.id] = touch
        return found

    def _saw(self, touch: Touch | None) -> None:
        """Tell the rest of the batch about a change this worker made to ``touch``."""
        watching = self._watchers.get(touch.id) if touch is not None else None
        if watching:
            record = ledger.touch_record(touch)
            for ctx in watching:
                ctx.saw(touch, record)

    def _prepare(
        self,
        session: Session,
        touch_id: int,
        now: datetime,
        ctx: SendContext | None,
        waiting: _Answered | None,
    ) -> tuple[Outcome | None, _Prepared | Outcome]:
        """One transaction: write down ``waiting`` (the previous touch's answer), then
        re-check and fence ``touch_id``. Returns (the previous outcome, this touch's
        fence or outcome)."""
        wanted = {touch_id: ("scheduled",)}
        if waiting is not None:
            wanted[waiting.prepared.touch_id] = ("sending", "unknown")
        events: list[dict[str, Any]] = []
        with session.begin():
            locked = self._lock(session, wanted)
            previous = None
            if waiting is not None:
                touch = locked.get(waiting.prepared.touch_id)
                previous, _ = self._record_in(session, waiting, touch, events)
                if touch is not None:
                    session.flush()  # (only an outcome other than 'sent' has anything to flush)
                    self._saw(touch)  # before this touch's freshness check reads it
            result, touch = self._prepare_in(
                session, touch_id, now, ctx, locked.get(touch_id), events
            )
            ledger.insert_events(session, events)
        self._saw(touch)
        return previous, result

    def _prepare_in(
        self,
        session: Session,
        touch_id: int,
        now: datetime,
        ctx: SendContext | None,
        touch: Touch | None,
        events: list[dict[str, Any]],
    ) -> tuple[_Prepared | Outcome, Touch | None]:
        if touch is None:
            lost = Outcome(
                touch_id,
                "lost",
                reason="no longer claimed by this worker (cancelled, changed or "
                "claimed by another worker after the lease ran out)",
            )
            return lost, None
        fresh = ctx is None
        if ctx is None:
            ctx = self._load_one(session, touch)
        stamp, sends = fence_facts(
            session, touch, ledger.recheck_sends_params(touch, ctx.contact, now)
        )
        if not fresh and (ctx.touch_updated_at != touch.updated_at or ctx.stamp != stamp):
            # something changed since the batch was loaded: load this touch afresh, and
            # count its day again (the contact's zone may be what changed)
            ctx, sends = self._load_one(session, touch), None
        contact, application = ctx.contact, ctx.application
        decision = ledger.recheck(
            session,
            touch,
            now,
            contact=contact,
            application=application,
            where=ctx.situation,
            sends_today=sends,
        )
        if not decision.allowed:
            if decision.next_allowed_at is not None:
                return self._move(session, touch, decision, now), touch
            return self._skip(session, touch, decision.rule, decision.detail), touch

        blocking = preflight.blocking(ctx.check_message(touch))
        if blocking:
            reason = "The message check refused the message at send time: " + " ".join(
                f"{f.check}: {f.detail}" for f in blocking
            )
            checks = {"checks": [f.as_dict() for f in blocking]}
            rule = blocking[0].rule or "CHECK"
            return self._skip(session, touch, rule, reason, data=checks), touch

        try:
            channel = registry.get_channel(touch.channel)
        except registry.UnknownChannelError as exc:
            return self._fail_before_send(session, touch, "channel:unknown", str(exc)), touch
        settings = ctx.channel_settings
        if isinstance(settings, ValidationError) or settings is None:
            problem = _messages(settings) if settings is not None else "not loaded"
            reason = f"The {touch.channel} channel settings are invalid: {problem}"
            return self._fail_before_send(session, touch, "channel:settings", reason), touch
        message = build_message(
            session, touch, contact, ctx.parties.candidate, channel.address_kind, self.config
        )

        # The fence: committed before any provider hears of the touch.
        attempt = (touch.attempts or 0) + 1
        ledger.update_touch(
            session,
            touch,
            status="sending",
            attempts=attempt,
            lease_expires_at=now + self.options.lease_delta,
        )
        data: dict[str, Any] = {"attempt": attempt, "worker": self.id}
        if decision.flags:
            data["flags"] = list(decision.flags)
        events.append(ledger.event_row(touch.id, "sending", ACTOR, data=data))
        prepared = _Prepared(touch.id, touch.channel, channel, settings, message, attempt)
        return prepared, touch

    def _move(self, session: Session, touch: Touch, decision, now: datetime) -> Outcome:
        when = max(decision.next_allowed_at, now + timedelta(minutes=1))
        old = touch.scheduled_for
        touch.scheduled_for = when
        touch.lease_owner = touch.lease_expires_at = None
        ledger.record_event(
            session,
            touch,
            "rescheduled",
            ACTOR,
            reason=decision.detail,
            rule=decision.rule,
            data={"from": old, "to": when},
        )
        return Outcome(
            touch.id,
            "rescheduled",
            touch.channel,
            touch.attempts,
            decision.detail,
            decision.rule,
            next_at=when,
        )

    def _skip(
        self,
        session: Session,
        touch: Touch,
        rule: str | None,
        reason: str,
        data: dict[str, Any] | None = None,
    ) -> Outcome:
        touch.status = "skipped"
        touch.rule = rule
        touch.reason = reason
        touch.lease_owner = touch.lease_expires_at = None
        ledger.record_event(session, touch, "skipped", ACTOR, reason=reason, rule=rule, data=data)
        return Outcome(touch.id, "skipped", touch.channel, touch.attempts, reason, rule)

    def _fail_before_send(self, session: Session, touch: Touch, code: str, reason: str):
        touch.status = "failed"
        touch.reason = reason
        touch.lease_owner = touch.lease_expires_at = None
        ledger.record_event(session, touch, "failed", ACTOR, reason=reason, data={"code": code})
        return Outcome(touch.id, "failed", touch.channel, touch.attempts, reason)

    def _load_one(self, session: Session, touch: Touch) -> SendContext:
        return load_contexts(session, [touch], self.config, _channels([touch]))[touch.id]

    def _record_alone(self, answered: _Answered) -> Outcome:
        """Write down one answer in a transaction of its own. Never raises: a touch whose
        answer cannot be written stays 'sending' and its lease runs out ('unknown')."""
        try:
            with self._session() as session:
                return self._record_with_retries(session, answered)
        except Exception as exc:
            touch_id = answered.prepared.touch_id
            log.exception("touch %s: could not record the outcome", touch_id)
            reason = f"{_describe(answered.result)}; not recorded: {type(exc).__name__}: {exc}"
            return Outcome(touch_id, "error", answered.prepared.channel_name, reason=reason)

    def _record_with_retries(self, session: Session, answered: _Answered) -> Outcome:
        """The provider has answered: try hard to write it down. If the database stays away,
        the touch stays 'sending' and becomes 'unknown' when its lease runs out."""
        for pause in RECORD_RETRY_PAUSES:
            try:
                return self._record(session, answered)
            except SQLAlchemyError:
                log.warning(
                    "touch %s: recording the outcome failed; again in %.1fs",
                    answered.prepared.touch_id,
                    pause,
                    exc_info=True,
                )
                time.sleep(pause)  # an invalidated connection reconnects on its next use
        return self._record(session, answered)

    def _record(self, session: Session, answered: _Answered) -> Outcome:
        events: list[dict[str, Any]] = []
        with session.begin():
            touch = self._mine(session, answered.prepared.touch_id, ("sending", "unknown"))
            outcome, touch = self._record_in(session, answered, touch, events)
            ledger.insert_events(session, events)
        self._saw(touch)
        return outcome

    def _record_in(
        self,
        session: Session,
        answered: _Answered,
        touch: Touch | None,
        events: list[dict[str, Any]],
    ) -> tuple[Outcome, Touch | None]:
        """Write down ``answered`` on ``touch`` (locked, or None if no longer this
        worker's 'sending' touch)."""
        prepared, result, now = answered.prepared, answered.result, answered.at
        if touch is None:
            lost = Outcome(
                prepared.touch_id,
                "lost",
                prepared.channel_name,
                prepared.attempt,
                f"the outcome ({result.outcome}) came after the touch was settled "
                f"elsewhere: {_describe(result)}",
            )
            return lost, None
        data: dict[str, Any] = {"attempt": prepared.attempt, "worker": self.id}
        if touch.status == "unknown":
            data["late"] = True  # reaped while sending (heartbeat stalled): we know now
        if isinstance(result, Sent):
            return self._sent(session, touch, result, now, data, events), touch
        touch.lease_owner = touch.lease_expires_at = None
        if isinstance(result, RetryLater):
            return self._retry(session, touch, result, now, data), touch
        if isinstance(result, Failed):
            return self._failed(session, touch, result, data), touch
        return self._unknown(session, touch, result, data), touch

    def _sent(self, session, touch: Touch, result: Sent, now: datetime, data, events) -> Outcome:
        provider_id = result.provider_id or None
        status = result.info.get("status") if isinstance(result.info, Mapping) else None
        ledger.update_touch(
            session,
            touch,
            status="sent",
            sent_at=now,
            provider_id=provider_id
            if provider_id and len(provider_id) <= PROVIDER_ID_MAX
            else None,
            provider_status=str(status)[:32] if status else None,
            reason=None,
            rule=None,
            lease_owner=None,
            lease_expires_at=None,
        )
        data.update(_plain(result.info))
        data["provider_id"] = provider_id
        events.append(ledger.event_row(touch.id, "sent", ACTOR, data=data, at=now))
        return Outcome(touch.id, "sent", touch.channel, touch.attempts, provider_id=provider_id)

    def _retry(self, session, touch: Touch, result: RetryLater, now: datetime, data) -> Outcome:
        if touch.attempts >= self.options.max_attempts:
            reason = f"Gave up after {touch.attempts} attempts: {result.reason}"
            touch.status = "failed"
            touch.reason = reason
            data["code"] = "attempts_exhausted"
            ledger.record_event(session, touch, "failed", ACTOR, reason=reason, data=data)
            return Outcome(touch.id, "failed", touch.channel, touch.attempts, reason)
        delay = backoff_delay(
            touch.attempts,
            base=self.options.backoff_base,
            cap=self.options.backoff_cap,
            retry_after=result.retry_after,
            rng=self.rng,
        )
        when = now + timedelta(seconds=delay)
        touch.status = "scheduled"
        touch.scheduled_for = when
        touch.reason = result.reason
        data.update(retry_at=when, retry_after=result.retry_after)
        ledger.record_event(session, touch, "retry", ACTOR, reason=result.reason, data=data)
        return Outcome(
            touch.id, "retry", touch.channel, touch.attempts, result.reason, next_at=when
        )

    def _failed(self, session, touch: Touch, result: Failed, data) -> Outcome:
        reason = f"{result.code}: {result.reason}"
        data["code"] = result.code
        if result.opt_out:
            contact = session.get(Contact, touch.contact_id)
            inbound_sms.mark_refused(contact, touch, self.clock())
            data["opt_out"] = True
            reason += (
                " The contact opted out of SMS (replied STOP): no SMS will be sent to them again."
            )
        touch.status = "failed"
        touch.reason = reason
        ledger.record_event(session, touch, "failed", ACTOR, reason=reason, data=data)
        return Outcome(touch.id, "failed", touch.channel, touch.attempts, reason)

    def _unknown(self, session, touch: Touch, result: Unknown, data) -> Outcome:
        touch.status = "unknown"
        touch.reason = f"{result.reason}. Not re-sent automatically. " + UNKNOWN_ADVICE.format(
            id=touch.id
        )
        ledger.record_event(session, touch, "unknown", ACTOR, reason=result.reason, data=data)
        return Outcome(touch.id, "unknown", touch.channel, touch.attempts, result.reason)

    def _after_error(self, touch_id: int, exc: Exception) -> Outcome:
        """An unexpected error (a bug, the database): a touch not yet 'sending' is retried
        later like a transient failure, bounded by ``max_attempts``; a 'sending' one is
        left for the reaper (its outcome is unknown)."""
        reason = f"internal error before sending: {type(exc).__name__}: {exc}"
        try:
            with self._session() as session, session.begin():
                touch = self._mine(session, touch_id, ("scheduled",))
                if touch is None:
                    return Outcome(touch_id, "error", reason=f"{type(exc).__name__}: {exc}")
                touch.attempts = (touch.attempts or 0) + 1
                touch.lease_owner = touch.lease_expires_at = None
                return self._retry(
                    session,
                    touch,
                    RetryLater(reason),
                    self.clock(),
                    {"attempt": touch.attempts, "worker": self.id, "error": True},
                )
        except SQLAlchemyError:
            log.exception("touch %s: could not record the error", touch_id)
            return Outcome(touch_id, "error", reason=reason)

    # ------------------------------------------------------------------ logging

    def _log(self, outcome: Outcome) -> None:
        fields_ = {
            "event": "touch",
            "worker": self.id,
            "touch_id": outcome.touch_id,
            "outcome": outcome.kind,
            "channel": outcome.channel,
            "attempt": outcome.attempt,
            "rule": outcome.rule,
            "provider_id": outcome.provider_id,
            "next_at": outcome.next_at.isoformat() if outcome.next_at else None,
            "reason": outcome.reason,
            "ms": outcome.ms,
        }
        fields_ = {k: v for k, v in fields_.items() if v is not None}
        text = " ".join(
            f"{k}={v}" for k, v in fields_.items() if k not in ("event", "worker", "reason")
        )
        if outcome.reason:
            text += f" reason={outcome.reason!r}"
        level = logging.WARNING if outcome.kind in WARN_OUTCOMES else logging.INFO
        log.log(level, "touch %s", text, extra={"touchbase": fields_})


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


def _channels(touches: Iterable[Touch]) -> dict[str, Any]:
    """The channel objects the touches need (unknown names left out)."""
    found = {}
    for name in {t.channel for t in touches}:
        try:
            found[name] = registry.get_channel(name)
        except registry.UnknownChannelError:
            continue
    return found


def _messages(exc: ValidationError) -> str:
    messages = exc.messages
    if isinstance(messages, dict):
        return "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                         for k, v in messages.items())  # fmt: skip
    return " ".join(map(str, messages)) if isinstance(messages, list) else str(messages)


def _plain(info: Any) -> dict[str, Any]:
    if not isinstance(info, Mapping):
        return {}
    out = {}
    for key, value in info.items():
        if isinstance(value, str | int | float | bool) or value is None:
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out


def _describe(result: SendResult) -> str:
    if isinstance(result, Sent):
        return f"sent as {result.provider_id}"
    if isinstance(result, Failed):
        return f"{result.code}: {result.reason}"
    return getattr(result, "reason", "")
