"""The touch ledger: schedule, log, move, re-channel, cancel, resolve; every change an event."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api import approval, draft_expiry, ledger, locks, policy, scheduling
from api.auth import ALL_ROLES, current, get_referenced, get_visible, roles, scope
from api.compose import Parties
from api.db import get_session
from api.models import Application, Contact, Interview, Touch, TouchEvent, utcnow
from api.problems import Problem
from api.resources.common import PAGINATION, Blueprint, SelectPage, field_error, filter_equal
from api.resources.listing import Sort, filter_range
from api.scheduling.channels import usable_channels
from api.scheduling.creation import (
    log_manual_touch,
    refusal,
    render_or_refuse,
    schedule_touch,
    window_move_reason,
    window_rule,
)
from api.schemas.touches import (
    TouchCancelSchema,
    TouchChangeSchema,
    TouchCreateSchema,
    TouchEventSchema,
    TouchQuerySchema,
    TouchResolveSchema,
    TouchSchema,
    TouchUpdateSchema,
)

#: The fields a list of touches can be sorted by.
TOUCH_SORT = Sort(
    Touch.id,
    scheduled_for=Touch.scheduled_for,
    sent_at=Touch.sent_at,
    approve_by=Touch.approve_by,
    created_at=Touch.created_at,
    updated_at=Touch.updated_at,
)

blp = Blueprint(
    "touches",
    __name__,
    url_prefix="/v1/touches",
    description="Every contact attempt from a candidate to a contact, scheduled or logged.",
)


def known_channel(name: str, field: str = "channel", candidate: Contact | None = None) -> None:
    """An installed channel (422 otherwise) that can send for the contact's candidate: one
    whose settings are complete (api.scheduling.channels)."""
    if name == "manual":
        return
    from channels.registry import channels

    if name not in channels():
        raise field_error(field, "Unknown channel; see GET /v1/channels.")
    if candidate is not None:
        usable = usable_channels(
            get_session(), candidate.org_id, candidate.candidate_id, current_app.config
        )
        if not usable.can_send(name):
            raise field_error(field, usable.settings_hint(name))


def _parties(session: Session, data: dict) -> tuple[Contact, Application, Interview | None]:
    contact = get_referenced(Contact, data["contact_id"], "contact_id")
    application = get_referenced(Application, data["application_id"], "application_id")
    if application.candidate_id != contact.candidate_id:
        raise field_error("application_id", "Belongs to another candidate than the contact.")
    interview = None
    if data.get("interview_id"):
        interview = session.get(Interview, data["interview_id"])
        if interview is None or interview.application_id != application.id:
            raise field_error("interview_id", "Unknown interview for this application.")
    return contact, application, interview


def requested_round(session: Session, application_id: int, requested: int | None) -> int:
    """The round a new touch or response belongs to: the current one unless an earlier one
    is named. A later round cannot be named: it would be a fresh budget (R6) for the asking;
    only a next-round invitation opens one (R10)."""
    current_round = ledger.current_round(session, application_id)
    if requested is None:
        return current_round
    if requested > current_round:
        raise field_error(
            "round",
            f"Round {requested} has not started; the application is in round {current_round} "
            "(a next-round invitation opens the next one, R10).",
        )
    return requested


@blp.route("")
class Touches(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(TouchQuerySchema, location="query")
    @blp.response(200, TouchSchema(many=True))
    @blp.paginate(SelectPage, sort=TOUCH_SORT, **PAGINATION)
    def get(self, args):
        """List touches

        Every contact attempt the caller may see, scheduled, sent or logged,
        filtered by candidate, contact, application, interview, status, step,
        channel or due time, paginated.
        """
        draft_expiry.expire_visible(get_session(), current())
        query = scope(select(Touch), Touch, current())
        query = filter_equal(
            query,
            Touch,
            args,
            "candidate_id",
            "contact_id",
            "application_id",
            "interview_id",
            "status",
            "step",
            "channel",
        )
        query = filter_range(query, Touch.scheduled_for, args, "due_after", "due_before")
        query = filter_range(query, Touch.created_at, args, "created_after", "created_before")
        return query.options(selectinload(Touch.contact)).order_by(Touch.id)

    @roles(*ALL_ROLES)
    @blp.arguments(TouchCreateSchema)
    @blp.response(201, TouchChangeSchema)
    @blp.alt_response(409, response="CONFLICT", description="Refused by the policy (rule)")
    def post(self, data):
        """Schedule a touch, or log a manual one (channel `manual`)

        Schedules one touch at a time the caller names (or the rules pick), or logs
        one made by hand (channel `manual`, with `occurred_at`). The policy checks
        it: a refusal is a 409 naming the rule with `next_allowed_at`; a message the
        check blocks is a 422 naming `body` or `subject`. A logged thank-you cancels
        the automated one (R1).
        """
        session = get_session()
        contact, application, interview = _parties(session, data)
        known_channel(data["channel"], candidate=contact)
        contact = locks.lock_for_touches(session, contact.candidate_id, [contact.id])[contact.id]
        now = utcnow()
        round_ = requested_round(session, application.id, data.get("round"))
        actor = ledger.actor_for_user(current().user_id)
        if data["channel"] == "manual":
            occurred_at = data.get("occurred_at", now)
            if occurred_at > now + ledger.GRACE:
                raise field_error("occurred_at", "A logged touch cannot be in the future.")
            touch = log_manual_touch(
                session,
                contact=contact,
                application=application,
                interview=interview,
                round_=round_,
                step=data["step"],
                occurred_at=occurred_at,
                actor=actor,
                now=now,
                subject=data.get("subject"),
                body=data.get("body"),
            )
        else:
            wanted = data.get("scheduled_for", now)
            if wanted < now - ledger.GRACE:
                raise field_error(
                    "scheduled_for", "Cannot schedule in the past; log a manual touch instead."
                )
            touch = schedule_touch(
                session,
                contact=contact,
                application=application,
                interview=interview,
                round_=round_,
                step=data["step"],
                channel=data["channel"],
                wanted=wanted,
                actor=actor,
                now=now,
                subject=data.get("subject"),
                body=data.get("body"),
            )
        return replanned(session, touch, application, now, actor)


@blp.route("/<int:touch_id>")
class TouchById(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, TouchSchema)
    def get(self, touch_id):
        """Show a touch

        One touch with its time, channel, status, message and provider state;
        `plan_reason` says why it is at that time.
        """
        draft_expiry.expire_visible(get_session(), current(), touch_id)
        return get_visible(Touch, touch_id)

    @roles(*ALL_ROLES)
    @blp.etag
    @blp.arguments(TouchUpdateSchema)
    @blp.response(200, TouchChangeSchema)
    @blp.alt_response(409, response="CONFLICT", description="Refused by the policy, or not pending")
    def patch(self, data, touch_id):
        """Move, re-channel or edit a scheduled touch (checked again by the policy)

        Moves, re-channels or edits a pending touch. The policy checks the new time
        and channel again (409 with the rule if refused) and the touches after it
        are re-planned; the answer lists them in `affected_touches`.
        """
        session = get_session()
        touch = get_visible(Touch, touch_id)
        contact = locks.lock_for_touches(session, touch.candidate_id, [touch.contact_id])[
            touch.contact_id
        ]
        touch = ledger.lock_touch(session, touch.id)
        blp.check_etag(touch, TouchSchema)
        draft_expiry.refuse_if_expired(session, touch, contact.timezone, utcnow())
        if touch.status not in policy.PENDING_STATUSES or not touch.automated:
            raise Problem(
                409,
                f"Only a scheduled touch or a draft can be changed; this one is {touch.status}.",
            )
        if "channel" in data:
            known_channel(data["channel"], candidate=contact)
            if data["channel"] == "manual":
                raise field_error("channel", "A scheduled touch cannot become manual.")
        application = session.get(Application, touch.application_id)
        now = utcnow()
        actor = ledger.actor_for_user(current().user_id)
        channel = data.get("channel", touch.channel)
        where = ledger.situation(session, contact, application, touch.round, since=now)
        at = touch.scheduled_for
        window_moved = False
        if "scheduled_for" in data or "channel" in data:
            wanted = data.get("scheduled_for", touch.scheduled_for)
            if wanted < now - ledger.GRACE:
                raise field_error("scheduled_for", "Cannot schedule in the past.")
            at = policy.adjust_to_window(
                where.settings, where.contact, max(wanted, now), step=touch.step, channel=channel
            )
            window_moved = at != max(wanted, now)
            decision = ledger.decide(
                session,
                contact,
                application,
                round_=touch.round,
                step=touch.step,
                channel=channel,
                at=at,
                automated=True,
                now=now,
                touch_id=touch.id,
                where=where,
            )
            if not decision.allowed:
                ledger.record_event(
                    session,
                    touch,
                    "refused",
                    actor,
                    reason=decision.detail,
                    rule=decision.rule,
                    data={"scheduled_for": at, "channel": channel},
                )
                session.commit()
                raise refusal(decision)
        body = data.get("body")
        subject = data.get("subject", touch.subject if body is not None else None)
        if body is None and "channel" not in data:
            body, subject = touch.body, data.get("subject", touch.subject)
        parties = Parties.load(session, contact, application, touch.interview_id)
        composition = render_or_refuse(
            session, parties, touch.step, channel, where.settings, touch.round, subject, body
        )
        if at != touch.scheduled_for:
            ledger.record_event(
                session,
                touch,
                "rescheduled",
                actor,
                reason=window_move_reason(touch.step, channel) if window_moved else None,
                rule=window_rule(touch.step, channel) if window_moved else None,
                data={"from": touch.scheduled_for, "to": at},
            )
            touch.scheduled_for, old_at = at, touch.scheduled_for
            touch.approve_by = approval.moved_deadline(touch, old_at)
        if "scheduled_for" in data:
            touch.requested_for = data["scheduled_for"]
        if channel != touch.channel:
            ledger.record_event(
                session, touch, "rechanneled", actor, data={"from": touch.channel, "to": channel}
            )
            touch.channel = channel
        if (composition.subject, composition.body) != (touch.subject, touch.body):
            ledger.record_event(session, touch, "edited", actor)
        touch.subject, touch.body = composition.subject, composition.body
        touch.warnings = [f.as_dict() for f in composition.warnings]
        # A worker that claimed the old version must not send it: its claim is void.
        touch.lease_owner = touch.lease_expires_at = None
        touch = replanned(session, touch, application, now, actor)
        blp.set_etag(touch, TouchSchema)
        return touch


@blp.route("/<int:touch_id>/cancel")
class TouchCancel(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(TouchCancelSchema, required=False)
    @blp.response(200, TouchChangeSchema)
    @blp.alt_response(409, response="CONFLICT", description="Already sent or ended")
    def post(self, data, touch_id):
        """Cancel a scheduled touch (always allowed while it is pending)

        Cancels a pending touch (a draft or a scheduled one) with an optional
        reason; a touch already sent or sending cannot be (409). The touches after
        it are re-planned.
        """
        session = get_session()
        touch = _lock_in(
            session,
            touch_id,
            ("scheduled", "draft"),
            "Only a scheduled touch or a draft can be cancelled",
        )
        touch.lease_owner = touch.lease_expires_at = None
        return _settle(
            session, touch, "cancelled", data.get("reason") or "Cancelled by the candidate."
        )


@blp.route("/<int:touch_id>/resolve")
class TouchResolve(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(TouchResolveSchema)
    @blp.response(200, TouchChangeSchema)
    @blp.alt_response(409, response="CONFLICT", description="Not in the unknown state")
    def post(self, data, touch_id):
        """Settle a touch whose outcome is unknown (the worker died mid-send)

        A touch is `unknown` when a worker died while sending it: say whether it
        went (`sent`) or not (`failed`). Other touches are a 409.
        """
        session = get_session()
        touch = _lock_in(
            session, touch_id, ("unknown",), "Only a touch in state unknown can be resolved"
        )
        outcome = data["outcome"]
        if outcome == "sent" and touch.sent_at is None:
            touch.sent_at = touch.scheduled_for or utcnow()
        reason = data.get("reason") or f"Resolved as {outcome} by the candidate."
        return _settle(session, touch, outcome, reason)


def _lock_in(session, touch_id: int, statuses: tuple[str, ...], refusal: str) -> Touch:
    """The caller's touch, locked against the worker; 409 (``refusal``) unless in ``statuses``."""
    touch = ledger.lock_touch(session, get_visible(Touch, touch_id).id)
    if touch.status not in statuses:
        raise Problem(409, f"{refusal}; this one is {touch.status}.")
    return touch


def _settle(session, touch: Touch, status: str, reason: str) -> Touch:
    """The candidate's own ending of a touch: new status and reason, an event, the rest of
    the application re-planned, committed."""
    touch.status, touch.reason = status, reason
    actor = ledger.actor_for_user(current().user_id)
    ledger.record_event(session, touch, status, actor, reason=reason)
    application = session.get(Application, touch.application_id)
    return replanned(session, touch, application, utcnow(), actor)


def replanned(session, touch: Touch, application: Application, now, actor: str) -> Touch:
    """Re-plan the application after a change to ``touch`` (api.scheduling), commit, and
    answer the touch with the others the change moved or cancelled."""
    session.flush()
    changed = scheduling.replan(session, application, now, actor)
    for answered in (touch, *changed):
        # The answer names each touch's contact: loaded now, from the session's contacts,
        # not by a lazy load in a transaction of its own once this one is committed.
        _ = answered.contact
    session.commit()
    touch.affected_touches = [t for t in changed if t.id != touch.id]
    return touch


@blp.route("/<int:touch_id>/events")
class TouchEvents(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(200, TouchEventSchema(many=True))
    @blp.paginate(SelectPage, sort=Sort(TouchEvent.id, at=TouchEvent.at), **PAGINATION)
    def get(self, touch_id):
        """The touch's history: every change, when, by whom and why

        The touch's history, oldest first: every creation, approval, move, send,
        delivery and failure, with who or what did it, the rule and a sentence.
        """
        touch = get_visible(Touch, touch_id)
        return select(TouchEvent).where(TouchEvent.touch_id == touch.id).order_by(TouchEvent.id)
