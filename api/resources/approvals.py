"""Approving drafts: one touch (optionally edited first), or every draft of an interview or
an application in one call."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from api import approval, draft_approval, draft_expiry, ledger, locks, scheduling
from api.auth import ALL_ROLES, current, get_visible, roles
from api.db import get_session
from api.models import Application, Interview, Touch, utcnow
from api.problems import Problem
from api.resources.common import Blueprint
from api.resources.touches import replanned
from api.schemas.touches import ApprovalSchema, TouchApproveSchema, TouchChangeSchema

blp = Blueprint(
    "approvals",
    __name__,
    url_prefix="/v1",
    description="Drafts the planner proposed become scheduled touches once the candidate "
    "(or their advisor) has read and approved them.",
)


@blp.route("/touches/<int:touch_id>/approve")
class TouchApprove(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(TouchApproveSchema, required=False)
    @blp.response(200, TouchChangeSchema)
    @blp.alt_response(
        409, response="CONFLICT", description="Not a draft, expired, or refused by the policy"
    )
    def post(self, data, touch_id):
        """Approve a draft, optionally editing its subject or body first (checked again)

        The policy is checked again now: a draft whose time has passed goes at the next
        allowed time. An edit passes the same message check as a new touch; a blocking
        finding is a 422 naming `body` or `subject`, and nothing changes.
        """
        session = get_session()
        touch = get_visible(Touch, touch_id)
        contact = locks.lock_for_touches(session, touch.candidate_id, [touch.contact_id])[
            touch.contact_id
        ]
        touch = ledger.lock_touch(session, touch.id)
        now = utcnow()
        draft_expiry.refuse_if_expired(session, touch, contact.timezone, now)
        application = session.get(Application, touch.application_id)
        actor = ledger.actor_for_user(current().user_id)
        touch = draft_approval.approve(
            session, touch, contact, application, data, actor=actor, now=now
        )
        return replanned(session, touch, application, now, actor)


def approve_all(candidate_id: int, condition) -> dict[str, Any]:
    """Approve every draft matching ``condition`` (of one candidate), each on its own: the
    ones that pass are scheduled, the others listed with why (expired ones skipped)."""
    session = get_session()
    drafts = session.scalars(
        select(Touch).where(condition, Touch.status == approval.DRAFT).order_by(Touch.id)
    ).all()
    contacts = locks.lock_for_touches(session, candidate_id, {t.contact_id for t in drafts})
    now = utcnow()
    actor = ledger.actor_for_user(current().user_id)
    approved: list[Touch] = []
    refused: list[dict[str, Any]] = []
    for touch in sorted(drafts, key=lambda t: (t.scheduled_for, t.id)):
        touch = ledger.lock_touch(session, touch.id)
        contact = contacts[touch.contact_id]
        if approval.expired(touch, now):
            draft_expiry.skip(session, touch, contact.timezone, draft_expiry.SYSTEM_ACTOR)
        try:
            with session.begin_nested():
                application = session.get(Application, touch.application_id)
                approved.append(
                    draft_approval.approve(
                        session, touch, contact, application, {}, actor=actor, now=now
                    )
                )
        except Problem as problem:
            refused.append(_refused(touch, problem))
    session.flush()
    # an approval at a later time than planned carries the steps after it (the core)
    moved: dict[int, Touch] = {}
    for app_id in sorted({t.application_id for t in drafts}):
        application = session.get(Application, app_id)
        moved.update((t.id, t) for t in scheduling.replan(session, application, now, actor))
    session.commit()
    return {"approved": approved, "refused": refused, "affected_touches": list(moved.values())}


def _refused(touch: Touch, problem: Problem) -> dict[str, Any]:
    return {
        "touch_id": touch.id,
        "status": touch.status,
        "detail": problem.detail,
        "type": problem.type_,
        "rule": problem.extensions.get("rule"),
        "next_allowed_at": problem.extensions.get("next_allowed_at"),
    }


@blp.route("/interviews/<int:interview_id>/approve")
class InterviewApprove(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(200, ApprovalSchema)
    def post(self, interview_id):
        """Approve every draft of an interview (the plan's touches)

        Approves every draft of the interview (what its plan proposed) in one call:
        each is checked again by the policy and scheduled, or listed under `refused`
        with the rule and the reason.
        """
        interview = get_visible(Interview, interview_id)
        return approve_all(interview.candidate_id, Touch.interview_id == interview.id)


@blp.route("/applications/<int:application_id>/approve")
class ApplicationApprove(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(200, ApprovalSchema)
    def post(self, application_id):
        """Approve every draft of an application, all its interviews at once

        Approves every draft of every interview of the application in one call: each
        is checked again by the policy and scheduled, or listed under `refused` with
        the rule and the reason; the others are approved regardless.
        """
        application = get_visible(Application, application_id)
        return approve_all(application.candidate_id, Touch.application_id == application.id)
