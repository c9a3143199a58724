"""Writing down a provider's answer: sent, retry later, failed, unknown.

Tried hard (the answer cannot be asked for again): a database that is away is retried
with pauses; a touch whose answer cannot be written stays 'sending' and becomes 'unknown'
when its lease runs out. Also the retry of a touch hit by an unexpected error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api import inbound_sms, ledger, scheduling
from api.dispatch.options import (
    ACTOR,
    PROVIDER_ID_MAX,
    RECORD_RETRY_PAUSES,
    UNKNOWN_ADVICE,
    backoff_delay,
)
from api.dispatch.prepare import _Answered
from api.dispatch.stats import Outcome
from api.models import Contact, Touch
from channels.base import Failed, RetryLater, SendResult, Sent, Unknown

log = logging.getLogger("touchbase.dispatch")


class RecordMixin:
    """Outcomes of a :class:`~api.dispatch.worker.Worker`'s sends."""

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
        if scheduling.has_pending_siblings(session, touch):
            # what follows it to this person is placed from when it really went (late by d:
            # by d), in each application that holds some
            scheduling.replan_where(session, now, ACTOR, contact_id=touch.contact_id)
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
