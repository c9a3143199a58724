"""What the hiring side did, and its effect on pending touches (R8, R4, R9, R10)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select

from api import ledger
from api.auth import ALL_ROLES, current, get_visible, roles, scope
from api.db import get_session
from api.models import Response, utcnow
from api.resources.common import PAGINATION, Blueprint, SelectPage, field_error, filter_equal
from api.resources.touches import _parties, requested_round
from api.scheduling.responses import record_response
from api.schemas.touches import ResponseCreateSchema, ResponseQuerySchema, ResponseSchema

blp = Blueprint(
    "responses",
    __name__,
    url_prefix="/v1/responses",
    description="Replies, decision dates, invitations, rejections, offers, out-of-office notes.",
)


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
        response, affected, proposed = record_response(
            session,
            contact=contact,
            application=application,
            round_=round_,
            kind=data["kind"],
            occurred_at=occurred_at,
            now=now,
            config=current_app.config,
            channel=data.get("channel"),
            decision_date=data.get("decision_date"),
            until=data.get("until"),
            note=data.get("note"),
        )
        session.commit()
        response.affected_touches = affected
        response.proposed_touch = proposed
        return response


@blp.route("/<int:response_id>")
class ResponseById(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(200, ResponseSchema)
    def get(self, response_id):
        """Show a response"""
        return get_visible(Response, response_id)
