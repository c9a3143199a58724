"""Send-time preparation: re-check a claimed touch, then fence it or settle it.

In one transaction (which also writes down the previous touch's answer): the policy
re-check and the message check as at creation, then either the fence ('sending',
attempts + 1, committed before any provider hears of it) or an outcome without a send:
rescheduled (``_move``), skipped (``_skip``) or failed before sending.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from api import ledger, preflight, scheduling
from api.channel_settings import settings_problems
from api.dispatch.context import SendContext
from api.dispatch.options import ACTOR
from api.dispatch.outgoing import build_message
from api.dispatch.stamp import fence_facts
from api.dispatch.stats import Outcome
from api.models import Application, Touch
from channels import registry
from channels.base import Message, SendResult


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


class PrepareMixin:
    """Re-check and fence one touch (see :mod:`api.dispatch.worker`)."""

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
        if touch is not None and touch.scheduled_for and touch.scheduled_for > now:
            # claimed when due, then moved by a re-plan in this very transaction (the
            # previous touch's send moved the steps after it): not due any more
            touch.lease_owner = touch.lease_expires_at = None
            later = Outcome(touch.id, "rescheduled", touch.channel, touch.attempts,
                            "moved by a re-plan", next_at=touch.scheduled_for)  # fmt: skip
            return later, touch
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
            problem = settings_problems(settings) if settings is not None else "not loaded"
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
        """Not yet: the scheduling core re-plans the whole application from its facts, so
        the steps after this one move with it, never this one behind them."""
        application = session.get(Application, touch.application_id)
        scheduling.replan(session, application, now, ACTOR)
        touch.lease_owner = touch.lease_expires_at = None
        if touch.status == "cancelled":
            return Outcome(touch.id, "skipped", touch.channel, touch.attempts, touch.reason,
                           touch.rule)  # fmt: skip
        if touch.scheduled_for is not None and touch.scheduled_for > now:
            return Outcome(
                touch.id,
                "rescheduled",
                touch.channel,
                touch.attempts,
                decision.detail,
                decision.rule,
                next_at=touch.scheduled_for,
            )
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
