"""The cadence planner over HTTP: an interview becomes one follow-up plan per interviewer."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from api import cadence, ledger, locks, policy, scheduling, timewindow
from api.auth import ALL_ROLES, current, get_visible, roles
from api.db import get_session
from api.models import Application, Contact, Interview, utcnow
from api.problems import Problem
from api.resources.common import Blueprint
from api.scheduling.channels import usable_channels
from api.scheduling.creation import prepare_touch, store_planned
from api.schemas.touches import PlanQuerySchema, PlanSchema

blp = Blueprint(
    "plans",
    __name__,
    url_prefix="/v1/interviews",
    description="Thank-you, follow-up and call for each interviewer, timed by the rules.",
)


def _create(
    session, step, contact, application, interview, actor, now, dry_run: bool
) -> dict[str, Any]:
    """Where a planned step becomes a touch: a draft when the contact's policy requires
    approval, else scheduled. The row's changes: the touch, its text, the check's findings
    and its state; or why it was skipped."""
    try:
        with session.begin_nested():
            prepared = prepare_touch(
                session,
                contact=contact,
                application=application,
                interview=interview,
                round_=interview.round,
                step=step.step,
                channel=step.channel,
                wanted=step.scheduled_for,
                now=now,
            )
            composition = prepared.composition
            text = {
                "subject": composition.subject,
                "body": composition.body,
                "warnings": [f.as_dict() for f in composition.warnings],
                "blocking": [f.as_dict() for f in composition.blocking],
            }
            try:
                touch = store_planned(
                    session,
                    prepared,
                    actor=actor,
                    plan_reason=step.reason,
                    unsendable=step.unsendable,
                )
            except Problem as blocked:
                return {**text, **_skipped(step, blocked)}
    except Problem as refused:
        return _skipped(step, refused)
    return {
        **text,
        "status": "planned" if dry_run else "created",
        "state": touch.status,
        "approve_by": touch.approve_by,
        "approve_by_local": timewindow.local_label(touch.approve_by, contact.timezone),
        "touch_id": None if dry_run else touch.id,
        "scheduled_for": touch.scheduled_for,
        "local_time": timewindow.local_label(touch.scheduled_for, contact.timezone),
        "_touch": (touch, contact.timezone),  # for _replanned, not part of the answer
    }


def _replanned(session, application, now, actor: str, rows: list[dict[str, Any]]) -> None:
    """The scheduling core places the whole application, the new steps with the rest (the
    daily cap and the steps of the other interviewers); each row shows where it landed."""
    session.flush()
    scheduling.replan(session, application, now, actor)
    for row in rows:
        touch, tz = row.pop("_touch", (None, None))
        if touch is None:
            continue
        if touch.status == "cancelled":
            row.update(status="skipped", reason=touch.reason, rule=touch.rule, state=None)
            continue
        row["scheduled_for"] = touch.scheduled_for
        row["local_time"] = timewindow.local_label(touch.scheduled_for, tz)
        row["approve_by"] = touch.approve_by
        row["approve_by_local"] = timewindow.local_label(touch.approve_by, tz)


def _skipped(step, refused: Problem) -> dict[str, Any]:
    return {
        "status": "skipped",
        "reason": refused.detail,
        "rule": refused.extensions.get("rule") or step.rule,
    }


@blp.route("/<int:interview_id>/plan")
class InterviewPlan(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(PlanQuerySchema, location="query")
    @blp.response(200, PlanSchema)
    def post(self, args, interview_id):
        """Plan follow-ups for each interviewer (`dry_run=true`: show the calendar only)

        Proposes a thank-you, a follow-up and a call for each interviewer, each
        timed by the rules (R2, R4, R5, R15) and rendered from the templates in
        force, with the message check's findings. With policy `approval: required`
        (the default) they are drafts to review and approve; with `auto` they are
        scheduled. `dry_run=true` shows the plan and creates nothing.
        """
        session = get_session()
        interview = get_visible(Interview, interview_id)
        application = session.get(Application, interview.application_id)
        # The candidate (daily cap), then the panel in id order (api.locks).
        locked = locks.lock_for_touches(
            session, interview.candidate_id, (i.contact_id for i in interview.interviewers)
        )
        contacts: list[Contact] = [locked[i.contact_id] for i in interview.interviewers]
        now = utcnow()
        settings = {
            c.id: ledger.effective_policy(session, c.org_id, c.candidate_id, c.id)[0]
            for c in contacts
        }
        ids = [c.id for c in contacts]
        records = ledger.history(session, ids, [application.id])
        steps = cadence.plan_interview(
            settings,
            policy.InterviewInfo(
                id=interview.id,
                application_id=application.id,
                round=interview.round,
                ends_at=interview.ends_at,
                decision_expected_on=application.decision_expected_on,
            ),
            [ledger.contact_info(c) for c in contacts],
            records,
            ledger.responses(session, contact_ids=ids, application_ids=[application.id]),
            now,
            application.decision_expected_on,
            usable_channels(session, interview.org_id, interview.candidate_id, current_app.config),
        )
        # The touch an "exists" step stands for: the earliest live one, as the planner sees it.
        existing = {
            (r.contact_id, r.step): r.id
            for r in sorted(records, key=lambda r: r.at, reverse=True)
            if r.application_id == application.id
            and r.round == interview.round
            and r.status != "cancelled"
        }
        by_id = {c.id: c for c in contacts}
        out = []
        actor = ledger.actor_for_user(current().user_id)
        for step in steps:
            contact = by_id[step.contact_id]
            row: dict[str, Any] = {
                "contact_id": contact.id,
                "contact_name": contact.name,
                "step": step.step,
                "channel": step.channel,
                "scheduled_for": step.scheduled_for,
                "local_time": timewindow.local_label(step.scheduled_for, contact.timezone),
                "reason": step.reason,
                "rule": step.rule,
                "status": step.status,
                "touch_id": existing.get((contact.id, step.step))
                if step.status == "exists"
                else None,
                "subject": None,
                "body": None,
                "warnings": [],
                "blocking": [],
                "state": None,
                "approve_by": None,
                "approve_by_local": None,
            }
            if step.planned:  # the dry run too: the same path, rolled back below
                dry = args["dry_run"]
                row.update(_create(session, step, contact, application, interview, actor, now, dry))
            out.append(row)
        _replanned(session, application, now, actor, out)
        if args["dry_run"]:
            session.rollback()  # nothing the dry run created is kept
        else:
            session.commit()
        return {"interview_id": interview.id, "dry_run": args["dry_run"], "steps": out}
