"""A new automated or manual touch: checked by the policy, composed, stored with its events.

The one way a touch comes into being, whoever asks: the API (``POST /v1/touches``), the
planner's steps, the notes a response proposes. :func:`prepare_touch` places the touch in
its window, checks the policy (409 when refused) and composes the message; nothing is
stored until :func:`store_touch` (or :func:`store_planned`, a draft or scheduled by the
approval setting). The caller then re-plans the application (:func:`api.scheduling.replan`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api import approval, ledger, policy, templating
from api.compose import Composition, Parties, Reads, compose, previous_subject
from api.models import Application, Contact, Interview, Touch, User
from api.problems import Problem
from api.resources.common import field_error
from api.scheduling.placement import window_rule


def refusal(decision: policy.Decision) -> Problem:
    """409 naming the rule, with the earliest time it would be allowed."""
    return Problem(
        409,
        decision.detail,
        type_="urn:touchbase:problem:policy-refusal",
        title="Refused by the follow-up policy",
        rule=decision.rule,
        next_allowed_at=decision.next_allowed_at,
    )


def blocked_message(findings) -> Problem:
    reasons = [f"{f.check}: {f.detail}" for f in findings]
    return Problem(
        422,
        "The message check refused this message: " + " ".join(f.detail for f in findings),
        type_="urn:touchbase:problem:message-check",
        title="Message check failed",
        errors={"body": reasons},
        checks=[f.as_dict() for f in findings],
    )


def message_domain(candidate: User) -> str:
    return candidate.email.rsplit("@", 1)[-1] if "@" in candidate.email else "touchbase.local"


def new_message_id(candidate: User) -> str:
    from channels.base import make_message_id

    return make_message_id(message_domain(candidate))


def render(session, parties, step, channel, settings, round_, subject=None, body=None, reads=None):
    """The message and the check's findings; a template that cannot render is a 422."""
    try:
        return compose(
            session,
            parties,
            step,
            channel,
            ledger.message_limits(settings),
            subject=subject,
            body=body,
            round_=round_,
            reads=reads,
        )
    except templating.TemplateRenderError as exc:
        raise field_error("body", f"The template could not be rendered: {exc}") from exc


def render_or_refuse(session, parties, step, channel, settings, round_, subject=None, body=None):
    composition = render(session, parties, step, channel, settings, round_, subject, body)
    if composition.blocking:
        raise blocked_message(composition.blocking)
    return composition


@dataclass
class Prepared:
    """A touch that passed the policy, with its rendered message and the check's findings
    (blocking ones included: :func:`store_touch` refuses those)."""

    contact: Contact
    application: Application
    interview: Interview | None
    round_: int
    step: str
    channel: str
    wanted: datetime
    now: datetime
    at: datetime
    decision: policy.Decision
    where: ledger.Situation
    parties: Parties
    composition: Composition


def prepare_touch(
    session: Session,
    *,
    contact: Contact,
    application: Application,
    interview: Interview | None,
    round_: int,
    step: str,
    channel: str,
    wanted: datetime,
    now: datetime,
    subject: str | None = None,
    body: str | None = None,
    where: ledger.Situation | None = None,
    cap_count: Callable[[dict[str, Any]], int | None] | None = None,
    reads: Reads | None = None,
) -> Prepared:
    """Place an automated touch in its window, check the policy (409 if refused), and
    compose its message; nothing is stored. ``where``: the situation, when the caller read
    it already (api.scheduling.proposing reads a wave's at once). ``cap_count``: the
    daily-cap count for :func:`api.ledger.daily_cap_params`' parameters, when the caller
    can count it from what it holds (None from it: read it). ``reads``: what composing
    reads (api.compose.Reads), when the caller read it for many touches."""
    where = where or ledger.situation(session, contact, application, round_, since=now)
    at = policy.adjust_to_window(
        where.settings, where.contact, max(wanted, now), step=step, channel=channel
    )
    sends_today = None
    if cap_count is not None:
        cap = ledger.daily_cap_params(
            contact, channel=channel, at=at, automated=True, now=now, touch_id=None
        )
        sends_today = cap_count(cap) if cap is not None else None
    decision = ledger.decide(
        session,
        contact,
        application,
        round_=round_,
        step=step,
        channel=channel,
        at=at,
        automated=True,
        now=now,
        where=where,
        sends_today=sends_today,
    )
    if not decision.allowed:
        raise refusal(decision)
    reads = reads or Reads(session)
    parties = reads.parties(contact, application, interview.id if interview else None)
    composition = render(
        session, parties, step, channel, where.settings, round_, subject, body, reads
    )
    return Prepared(
        contact=contact,
        application=application,
        interview=interview,
        round_=round_,
        step=step,
        channel=channel,
        wanted=wanted,
        now=now,
        at=at,
        decision=decision,
        where=where,
        parties=parties,
        composition=composition,
    )


def store_touch(
    session: Session,
    p: Prepared,
    *,
    actor: str,
    planned: bool = False,
    plan_reason: str | None = None,
    status: str = "scheduled",
    approve_by: datetime | None = None,
) -> Touch:
    """Store a prepared touch (422 if its message is blocked): ``scheduled`` for the
    worker, or a ``draft`` awaiting approval by ``approve_by``."""
    touch = new_touch(
        session, p, planned=planned, plan_reason=plan_reason, status=status, approve_by=approve_by
    )
    session.add(touch)
    session.flush()
    for kind, fields in opening_events(p, status, plan_reason, approve_by):
        ledger.record_event(session, touch, kind, actor, **fields)
    return touch


def new_touch(
    session: Session,
    p: Prepared,
    *,
    planned: bool,
    plan_reason: str | None,
    status: str,
    approve_by: datetime | None,
    thread_of: Callable[[int, int], int | None] | None = None,
) -> Touch:
    """The touch :func:`store_touch` stores, not yet added (422 if its message is blocked).
    ``thread_of``: the id of the thank-you a (contact, round) threads onto, when the caller
    holds it (else read: api.compose.previous_subject)."""
    if p.composition.blocking:
        raise blocked_message(p.composition.blocking)
    contact, step, composition = p.contact, p.step, p.composition
    if thread_of is not None:
        threads_onto = thread_of(contact.id, p.round_)
    else:
        _, threads_onto = previous_subject(session, contact.id, p.round_)
    interview = p.interview or p.parties.interview
    return Touch(
        org_id=contact.org_id,
        candidate_id=contact.candidate_id,
        contact_id=contact.id,
        application_id=p.application.id,
        interview_id=interview.id if interview else None,
        round=p.round_,
        step=step,
        channel=p.channel,
        status=status,
        automated=True,
        planned=planned,
        plan_reason=plan_reason,
        scheduled_for=p.at,
        requested_for=None if planned else p.wanted,
        approve_by=approve_by,
        subject=composition.subject,
        body=composition.body,
        flags=list(p.decision.flags),
        warnings=[f.as_dict() for f in composition.warnings],
        thread_of_id=threads_onto if step != "thank_you" else None,
        message_id=new_message_id(p.parties.candidate),
    )


def opening_events(
    p: Prepared, status: str, plan_reason: str | None, approve_by: datetime | None
) -> list[tuple[str, dict[str, Any]]]:
    """A new touch's first two events (kind, fields): created, then scheduled or draft."""
    moved = p.at != max(p.wanted, p.now)
    data = {"scheduled_for": p.at, "requested": p.wanted}
    if approve_by is not None:
        data["approve_by"] = approve_by
    return [
        ("created", {"data": {"template": p.composition.template_source}}),
        (
            status,  # "scheduled", or "draft"
            {
                "reason": window_move_reason(p.step, p.channel) if moved else plan_reason,
                "rule": window_rule(p.step, p.channel) if moved else None,
                "data": data,
            },
        ),
    ]


def planned_state(p: Prepared, unsendable: str | None = None) -> tuple[str, datetime | None]:
    """A planned touch's status and approval deadline: a draft awaiting approval when the
    contact's policy says ``approval: required`` (or it cannot send yet), else scheduled."""
    settings = p.where.settings
    state = approval.DRAFT if unsendable else approval.planned_status(settings)
    approve_by = None
    if state == approval.DRAFT:
        approve_by = approval.deadline(settings, p.step, p.at, p.where.interview_end)
    return state, approve_by


def store_planned(
    session: Session, p: Prepared, *, actor: str, plan_reason: str, unsendable: str | None = None
) -> Touch:
    """Store a touch the planner proposed: a draft awaiting approval when the contact's
    policy says ``approval: required`` (by its deadline), else scheduled. A touch whose
    channel cannot send yet (``unsendable``: why) is a draft whatever the setting."""
    state, approve_by = planned_state(p, unsendable)
    touch = store_touch(
        session,
        p,
        actor=actor,
        planned=True,
        plan_reason=plan_reason,
        status=state,
        approve_by=approve_by,
    )
    if unsendable is not None:  # else no UPDATE just after the INSERT
        touch.reason = unsendable
    return touch


def schedule_touch(
    session: Session,
    *,
    actor: str,
    planned: bool = False,
    plan_reason: str | None = None,
    **touch: Any,
) -> Touch:
    """Create an automated touch that passed the policy and the message check (or raise);
    ``touch`` is what :func:`prepare_touch` takes."""
    prepared = prepare_touch(session, **touch)
    return store_touch(session, prepared, actor=actor, planned=planned, plan_reason=plan_reason)


def window_move_reason(step: str, channel: str) -> str:
    window = "call" if policy.is_call(step, channel) else "send"
    return f"Moved to the next opening of the {window} window in the contact's time zone."


def log_manual_touch(
    session: Session,
    *,
    contact: Contact,
    application: Application,
    interview: Interview | None,
    round_: int,
    step: str,
    occurred_at: datetime,
    actor: str,
    now: datetime,
    subject: str | None,
    body: str | None,
) -> Touch:
    """A touch that happened is always recorded; one that breaks a rule is flagged with it."""
    decision = ledger.decide(
        session,
        contact,
        application,
        round_=round_,
        step=step,
        channel="manual",
        at=occurred_at,
        automated=False,
        now=now,
    )
    touch = Touch(
        org_id=contact.org_id,
        candidate_id=contact.candidate_id,
        contact_id=contact.id,
        application_id=application.id,
        interview_id=interview.id if interview else None,
        round=round_,
        step=step,
        channel="manual",
        status="sent",
        automated=False,
        sent_at=occurred_at,
        subject=subject,
        body=body,
        flags=list(policy.for_manual(decision)),
        rule=None if decision.allowed else decision.rule,
        reason=None
        if decision.allowed
        else f"Logged, but it breaks {decision.rule}: {decision.detail}",
    )
    session.add(touch)
    session.flush()
    ledger.record_event(
        session,
        touch,
        "created",
        actor,
        reason=touch.reason,
        rule=touch.rule,
        data={"manual": True},
    )
    ledger.record_event(session, touch, "sent", actor, at=occurred_at, data={"manual": True})
    return touch
