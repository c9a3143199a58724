"""Reading mailboxes on a schedule: each held by one worker at a time, each message once.

A worker claims a due mailbox under a lease (a conditional UPDATE, so two workers never
hold one), asks its channel for the messages after the stored cursor, and hears each
fetched batch at once (api.inbound.pipeline.receive_many) in one transaction that also
writes the cursor just past its last message, fenced on the lease:

- killed before that commit, the batch is fetched again by whoever polls next;
- killed after it, the cursor already covers it: none of it is heard twice;
- a lease that lapsed and was taken over fails the fence, and the old holder stops.

A batch that breaks the pipeline is rolled back and heard again one message per
transaction, so the one message at fault is skipped (logged) and the others are heard.

The next batch is fetched (in a helper thread) while one is heard, so the mailbox
server's time and the pipeline's overlap; a fetched batch counts for nothing until heard.

A mailbox that cannot be read is marked ``unavailable`` with the reason and retried with
backoff; its cursor is untouched, so nothing is skipped once it is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.channel_settings import effective_settings, settings_problems
from api.inbound.mailboxes import inbound_channels, source_of, sync_all, sync_mailboxes
from api.inbound.pipeline import NotAMessage, receive, receive_many
from api.models import Mailbox, utcnow
from channels.inbound import SourceUnavailable
from channels.registry import notify_inbound

log = logging.getLogger("touchbase.inbound")

#: Messages asked for per fetch (and heard in one transaction; the MAILBOX_BATCH setting),
#: and heard per turn before the mailbox is let go (the rest of a backlog is taken at once
#: by the next turn, by this worker or another).
FETCH_LIMIT = 200
TURN_LIMIT = 1000
#: Longest wait between two attempts at a mailbox that cannot be read.
BACKOFF_CAP = timedelta(hours=1)


@dataclass
class PollReport:
    """What one :meth:`MailboxPoller.poll_due` did."""

    mailboxes: int = 0
    heard: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)


class MailboxPoller:
    """Polls due mailboxes. ``clock`` gives aware UTC datetimes (tests pass their own)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: Mapping[str, Any],
        owner: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        lease: float = 300.0,
    ) -> None:
        self.sessions = sessions
        self.config = config
        self.owner = owner
        self.clock = clock
        self.lease = timedelta(seconds=lease)
        self._synced = False

    # ------------------------------------------------------------------ claiming

    def sync(self) -> None:
        with self.sessions() as session:
            sync_all(session, self.config, self.clock())
            session.commit()
        self._synced = True

    def claim(self, limit: int = 10) -> list[int]:
        """Due mailboxes, now leased to this poller."""
        now = self.clock()
        free = or_(Mailbox.lease_owner.is_(None), Mailbox.lease_expires_at < now)
        taken: list[int] = []
        with self.sessions() as session:
            due = session.scalars(
                select(Mailbox.id)
                .where(Mailbox.next_poll_at <= now, free)
                .order_by(Mailbox.next_poll_at)
                .limit(limit)
            ).all()
            for mailbox_id in due:
                claimed = session.execute(
                    update(Mailbox)
                    .where(Mailbox.id == mailbox_id, Mailbox.next_poll_at <= now, free)
                    .values(lease_owner=self.owner, lease_expires_at=now + self.lease)
                )
                session.commit()
                if claimed.rowcount == 1:
                    taken.append(mailbox_id)
        return taken

    def poll_due(self) -> PollReport:
        """Claim what is due and poll it; never raises for a mailbox's own trouble."""
        if not self._synced:
            self.sync()
        report = PollReport()
        for mailbox_id in self.claim():
            report.mailboxes += 1
            try:
                self.poll(mailbox_id, report)
            except Exception:  # a bug or the database: the lease lapses, another takes it
                log.exception("polling mailbox %s failed", mailbox_id)
        return report

    # ------------------------------------------------------------------ one mailbox

    def poll(self, mailbox_id: int, report: PollReport | None = None) -> PollReport:
        """One turn at a leased mailbox: hear what is new, then let it go."""
        report = report or PollReport()
        with self.sessions() as session:
            box = session.get(Mailbox, mailbox_id)
            if box is None or box.lease_owner != self.owner:
                return report
            channel = inbound_channels().get(box.channel)
            try:
                if channel is None:
                    raise ValidationError(f"no channel {box.channel!r} reads replies")
                settings = effective_settings(
                    session, box.org_id, box.candidate_id, box.channel, self.config
                )
            except ValidationError as exc:
                problem = settings_problems(exc) if exc.messages else str(exc)
                return self._fail(session, box, "misconfigured", problem, report)
            if source_of(channel, settings) != box.source:  # the settings moved on
                sync_mailboxes(session, box.org_id, self.config, self.clock())
                session.commit()
                return report
            org_id, candidate_id, cursor = box.org_id, box.candidate_id, box.cursor
            since, interval = box.created_at, _interval(channel, settings)
            session.commit()
        heard, batch = 0, max(1, int(self.config.get("MAILBOX_BATCH", FETCH_LIMIT)))

        def fetch(after, limit: int):
            return channel.fetch_replies(settings, after, since=since, limit=limit)

        # The next batch is fetched while this one is heard (the mailbox server's time and
        # ours overlap); the cursor still moves only with what was heard.
        with ThreadPoolExecutor(1, thread_name_prefix=f"mailbox-{mailbox_id}") as ahead:
            pending = ahead.submit(fetch, cursor, min(batch, TURN_LIMIT))
            while pending is not None:
                try:
                    replies = pending.result()
                except Exception as exc:  # a plugin's bug too: shown, retried, nothing skipped
                    if isinstance(exc, SourceUnavailable):
                        reason = exc.reason
                    else:
                        log.exception("channel %s failed to fetch replies", channel.name)
                        reason = f"the {channel.name} channel failed: {type(exc).__name__}: {exc}"
                    with self.sessions() as session:
                        box = session.get(Mailbox, mailbox_id)
                        if box is not None and box.lease_owner == self.owner:
                            self._fail(session, box, "unavailable", reason, report)
                    return report
                if not replies.items:
                    cursor = dict(replies.cursor)
                    break
                after, count = dict(replies.items[-1].cursor), heard + len(replies.items)
                more = count < TURN_LIMIT
                pending = (
                    ahead.submit(fetch, after, min(batch, TURN_LIMIT - count)) if more else None
                )
                where = (mailbox_id, org_id, candidate_id, channel.name)
                if not self._hear_batch(*where, replies.items, report):
                    return report  # the lease was lost: whoever holds it goes on
                cursor, heard = after, count
        self._release(mailbox_id, cursor, interval, more=heard >= TURN_LIMIT)
        return report

    def _hear_batch(self, mailbox_id, org_id, candidate_id, source, items, report) -> bool:
        """Hear a fetched batch and move the cursor past it, in one transaction; when the
        batch breaks the pipeline, one message per transaction instead (:meth:`_hear`)."""
        now = self.clock()
        with self.sessions() as session:
            if not self._fence(session, mailbox_id, items[-1].cursor, len(items), now):
                return False
            try:
                results = receive_many(
                    session,
                    org_id,
                    [item.raw for item in items],
                    source=source,
                    now=now,
                    config=self.config,
                    candidate_id=candidate_id,
                )
            except Exception:  # one message at fault must not jam the batch, nor the mailbox
                session.rollback()
                log.exception("mailbox %s: a batch broke the pipeline; one at a time", mailbox_id)
                results = None
            else:
                session.commit()
        if results is None:
            return all(
                self._hear(mailbox_id, org_id, candidate_id, source, item, report) for item in items
            )
        for result in results:
            if isinstance(result, NotAMessage):
                log.warning("mailbox %s: skipped a message that is none: %s", mailbox_id, result)
            self._heard(report, None if isinstance(result, NotAMessage) else result)
        for result in results:
            if not isinstance(result, NotAMessage):
                notify_inbound(result.event(org_id, candidate_id, source, now))
        return True

    def _fence(self, session, mailbox_id: int, cursor, count: int, now: datetime) -> bool:
        """Move the cursor (in the caller's transaction), if this poller still holds the
        lease; else roll back and say so."""
        fenced = session.execute(
            update(Mailbox)
            .where(Mailbox.id == mailbox_id, Mailbox.lease_owner == self.owner)
            .values(
                cursor=dict(cursor),
                heard=Mailbox.heard + count,
                lease_expires_at=now + self.lease,
            )
        )
        if fenced.rowcount != 1:
            session.rollback()
            log.warning("lost the lease of mailbox %s; stopping this turn", mailbox_id)
            return False
        return True

    @staticmethod
    def _heard(report: PollReport, outcome) -> None:
        report.heard += 1
        kind = outcome.outcome if outcome else "not_a_message"
        report.outcomes[kind] = report.outcomes.get(kind, 0) + 1

    def _hear(self, mailbox_id, org_id, candidate_id, source, item, report) -> bool:
        """Hear one message and move the cursor past it, in one transaction."""
        now = self.clock()
        with self.sessions() as session:
            if not self._fence(session, mailbox_id, item.cursor, 1, now):
                return False
            try:
                outcome = receive(
                    session,
                    org_id,
                    item.raw,
                    source=source,
                    now=now,
                    config=self.config,
                    candidate_id=candidate_id,
                )
            except NotAMessage as exc:
                outcome = None
                log.warning("mailbox %s: skipped a message that is none: %s", mailbox_id, exc)
            except Exception:  # a message that breaks the pipeline must not jam the mailbox
                session.rollback()
                log.exception("mailbox %s: a message broke the pipeline; skipped", mailbox_id)
                return self._skip(mailbox_id, item, report)
            session.commit()
        self._heard(report, outcome)
        if outcome is not None:
            notify_inbound(outcome.event(org_id, candidate_id, source, now))
        return True

    def _skip(self, mailbox_id, item, report) -> bool:
        with self.sessions() as session:
            moved = session.execute(
                update(Mailbox)
                .where(Mailbox.id == mailbox_id, Mailbox.lease_owner == self.owner)
                .values(cursor=dict(item.cursor))
            )
            session.commit()
        report.outcomes["error"] = report.outcomes.get("error", 0) + 1
        return moved.rowcount == 1

    def _release(self, mailbox_id: int, cursor, interval: timedelta, *, more: bool) -> None:
        now = self.clock()
        with self.sessions() as session:
            session.execute(
                update(Mailbox)
                .where(Mailbox.id == mailbox_id, Mailbox.lease_owner == self.owner)
                .values(
                    cursor=cursor,
                    status="ok",
                    last_error=None,
                    failures=0,
                    last_polled_at=now,
                    next_poll_at=now if more else now + interval,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
            session.commit()

    def _fail(self, session, box: Mailbox, status: str, reason: str, report) -> PollReport:
        now = self.clock()
        box.failures = (box.failures or 0) + 1
        wait = min(BACKOFF_CAP, timedelta(seconds=60) * 2 ** min(box.failures - 1, 12))
        box.status, box.last_error = status, reason[:2000]
        box.last_polled_at, box.next_poll_at = now, now + wait
        box.lease_owner, box.lease_expires_at = None, None
        session.commit()
        report.unavailable.append(reason)
        log.warning("mailbox %s is %s: %s", box.id, status, reason)
        return report


def _interval(channel, settings: Mapping[str, Any]) -> timedelta:
    """The channel's own poll interval (60 s for a duck-typed channel that names none)."""
    seconds = getattr(channel, "inbound_poll_seconds", None)
    return timedelta(seconds=seconds(settings) if seconds is not None else 60.0)


class PollerThread(threading.Thread):
    """Runs :meth:`MailboxPoller.poll_due` every ``tick`` seconds until stopped, beside
    the worker's send loop (a slow mailbox never holds up a send)."""

    def __init__(self, poller: MailboxPoller, tick: float = 5.0) -> None:
        super().__init__(name="touchbase-mailboxes", daemon=True)
        self.poller = poller
        self.tick = tick
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.poller.poll_due()
            except Exception:  # the database is away: wait it out
                log.exception("mailbox polling failed; retrying in %.1fs", self.tick)
            self._stop_event.wait(self.tick)

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
