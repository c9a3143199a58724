"""Approving a draft: the candidate has read it (and maybe edited it); now it may go out.

Approval is a second creation: the policy is checked again at approval time (a draft whose
time has passed is placed at the next allowed time, through the same adjust/evaluate path
:func:`api.scheduling.creation.prepare_touch` uses), and the text, edited or not, passes the
same message check. Whatever refuses, nothing changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from api import approval, draft_expiry, ledger, policy
from api.compose import Parties
from api.models import Application, Contact, Touch
from api.problems import Problem
from api.scheduling.channels import usable_channels
from api.scheduling.creation import (
    blocked_message,
    refusal,
    render,
    window_move_reason,
    window_rule,
)


def not_a_draft(touch: Touch) -> Problem:
    if touch.status == "skipped" and touch.approve_by is not None:
        return draft_expiry.expired_problem(touch)  # swept already
    return Problem(
        409,
        f"Only a draft can be approved; this one is {touch.status}.",
        type_="urn:touchbase:problem:not-a-draft",
        title="Not a draft",
    )


def blocked_edit(findings, edited: set[str]) -> Problem:
    """The message check's 422, naming the field each blocking finding is about: the
    subject when only it was edited (or it is missing), else the body."""
    problem = blocked_message(findings)
    errors: dict[str, list[str]] = {}
    for f in findings:
        field = "subject" if f.check == "missing_subject" or edited == {"subject"} else "body"
        errors.setdefault(field, []).append(f"{f.check}: {f.detail}")
    problem.errors = errors
    return problem


def approve(
    session: Session,
    touch: Touch,
    contact: Contact,
    application: Application,
    edits: dict[str, Any],
    *,
    actor: str,
    now: datetime,
) -> Touch:
    """Make a locked draft ``scheduled`` (or raise a 409/422 and change nothing); an expired
    one is refused too (the caller sweeps it, see :mod:`api.draft_expiry`)."""
    if touch.status != approval.DRAFT:
        raise not_a_draft(touch)
    if approval.expired(touch, now):
        raise draft_expiry.expired_problem(touch)
    usable = usable_channels(session, contact.org_id, contact.candidate_id, current_app.config)
    if not usable.can_send(touch.channel):
        raise Problem(409, usable.settings_hint(touch.channel), rule="CHANNEL")
    where = ledger.situation(session, contact, application, touch.round, since=now)
    wanted = max(touch.scheduled_for or now, now)
    at = policy.adjust_to_window(
        where.settings, where.contact, wanted, step=touch.step, channel=touch.channel
    )
    decision = ledger.decide(
        session,
        contact,
        application,
        round_=touch.round,
        step=touch.step,
        channel=touch.channel,
        at=at,
        automated=True,
        now=now,
        touch_id=touch.id,
        where=where,
    )
    if not decision.allowed:
        raise refusal(decision)
    subject = edits.get("subject", touch.subject)
    body = edits.get("body", touch.body)
    parties = Parties.load(session, contact, application, touch.interview_id)
    composition = render(
        session, parties, touch.step, touch.channel, where.settings, touch.round, subject, body
    )
    if composition.blocking:
        raise blocked_edit(composition.blocking, set(edits))
    if (composition.subject, composition.body) != (touch.subject, touch.body):
        ledger.record_event(session, touch, "edited", actor)
    if at != touch.scheduled_for:
        moved = at != wanted
        ledger.record_event(
            session,
            touch,
            "rescheduled",
            actor,
            reason=window_move_reason(touch.step, touch.channel) if moved else None,
            rule=window_rule(touch.step, touch.channel) if moved else None,
            data={"from": touch.scheduled_for, "to": at},
        )
    ledger.record_event(
        session,
        touch,
        "approved",
        actor,
        data={"scheduled_for": at, "approve_by": touch.approve_by, "edited": bool(edits)},
    )
    touch.status, touch.scheduled_for, touch.approve_by = "scheduled", at, None
    touch.reason = None  # a draft's "cannot go yet" no longer holds
    touch.subject, touch.body = composition.subject, composition.body
    touch.warnings = [f.as_dict() for f in composition.warnings]
    touch.flags = list(decision.flags)
    session.flush()
    return touch
