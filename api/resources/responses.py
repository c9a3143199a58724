"""What the hiring side did, and its effect on pending touches (R8, R4, R9, R10)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select

from api import ledger, scheduling
from api.auth import ALL_ROLES, current, get_visible, roles, scope
from api.db import get_session
from api.models import Response, utcnow
from api.problems import Problem
from api.resources.common import PAGINATION, Blueprint, SelectPage, field_error, filter_equal
from api.resources.touches import _parties, prepare_touch, requested_round, store_planned
from api.scheduling.proposals import proposal_for
from api.schemas.touches import ResponseCreateSchema, ResponseQuerySchema, ResponseSchema

blp = Blueprint(
    "responses",
    __name__,
    url_prefix="/v1/responses",
    description="Replies, decision dates, invitations, rejections, offers, out-of-office notes.",
)

# The application's status follows what the company said.
APPLICATION_STATUS = {"rejected": "rejected", "offer": "offer", "next_round": "next_round"}


@blp.route("")
class Responses(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(ResponseQuerySchema, location="query")
    @blp.response(200, ResponseSchema(many=True))
    @blp.paginate(SelectPage, **PAGINATION)
    def get(self, args):
        """List responses"""
        query = scope(select(Response), Response, current())
        query = filter_equal(
            query, Response, args, "candidate_id", "contact_id", "application_id", "kind"
        )
        return query.order_by(Response.occurred_at, Response.id)

    @roles(*ALL_ROLES)
    @blp.arguments(ResponseCreateSchema)
    @blp.response(201, ResponseSchema)
    def post(self, data):
        """Record a response; pending touches it affects are cancelled or moved, with events"""
        session = get_session()
        contact, application, _ = _parties(session, data)
        ledger.lock_contact(session, contact.id)
        now = utcnow()
        occurred_at = data.get("occurred_at", now)
        if occurred_at > now + ledger.GRACE:
            raise field_error("occurred_at", "A response cannot be in the future.")
        round_ = requested_round(session, application.id, data.get("round"))
        response = Response(
            org_id=contact.org_id,
            candidate_id=contact.candidate_id,
            contact_id=contact.id,
            application_id=application.id,
            round=round_,
            kind=data["kind"],
            channel=data.get("channel"),
            occurred_at=occurred_at,
            decision_date=data.get("decision_date"),
            until=data.get("until"),
            note=data.get("note"),
        )
        session.add(response)
        if response.kind in APPLICATION_STATUS:
            application.status = APPLICATION_STATUS[response.kind]
        if response.kind == "decision_date":
            application.decision_expected_on = response.decision_date
        session.flush()
        affected = scheduling.replan_where(
            session, now, f"response:{response.id}", contact_id=contact.id, also=application
        )
        response.proposed_touch = _propose(session, response, contact, application, now)
        session.commit()
        response.affected_touches = affected
        return response


def _propose(session, response: Response, contact, application, now):
    """R9/R10: the note the response calls for, planned like the planner's steps (None
    when there is none to propose, or the rules refuse it now)."""
    proposal = proposal_for(session, response, contact, current_app.config)
    if proposal is None:
        return None
    try:
        with session.begin_nested():
            prepared = prepare_touch(
                session,
                contact=contact,
                application=application,
                interview=None,
                round_=proposal.round,
                step=proposal.step,
                channel=proposal.channel,
                wanted=now,
                now=now,
            )
            actor = f"response:{response.id}"
            return store_planned(session, prepared, actor=actor, plan_reason=proposal.reason)
    except Problem:
        return None


@blp.route("/<int:response_id>")
class ResponseById(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(200, ResponseSchema)
    def get(self, response_id):
        """Show a response"""
        return get_visible(Response, response_id)
