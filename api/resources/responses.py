"""What the hiring side did, and its effect on pending touches (R8, R4, R9, R10)."""

from __future__ import annotations

import dataclasses

from flask import current_app
from flask.views import MethodView
from marshmallow import ValidationError
from sqlalchemy import select

from api import ledger
from api.auth import ALL_ROLES, current, get_visible, roles, scope
from api.db import get_session
from api.models import Response, utcnow
from api.resources.common import PAGINATION, Blueprint, SelectPage, field_error, filter_equal
from api.resources.listing import Sort, filter_range
from api.resources.touches import _parties, requested_round
from api.scheduling.corrections import correct_response, corrected, said_by
from api.scheduling.responses import record_response
from api.schemas.responses import (
    ContactResponseChangeSchema,
    ContactResponseCorrectSchema,
    ContactResponseCreateSchema,
    ContactResponseSchema,
    ResponseQuerySchema,
    check_kind_fields,
)

RESPONSE_SORT = Sort(Response.id, occurred_at=Response.occurred_at, created_at=Response.created_at)

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
    @blp.response(200, ContactResponseSchema(many=True))
    @blp.paginate(SelectPage, sort=RESPONSE_SORT, **PAGINATION)
    def get(self, args):
        """List responses

        The responses recorded (replies, decision dates, invitations, rejections,
        offers, out-of-office notes), typed by hand or heard by email, filtered and
        paginated.
        """
        query = scope(select(Response), Response, current())
        query = filter_equal(
            query, Response, args, "candidate_id", "contact_id", "application_id", "kind"
        )
        query = filter_range(query, Response.occurred_at, args, "occurred_after", "occurred_before")
        query = filter_range(query, Response.created_at, args, "created_after", "created_before")
        return query.order_by(Response.occurred_at, Response.id)

    @roles(*ALL_ROLES)
    @blp.arguments(ContactResponseCreateSchema)
    @blp.response(201, ContactResponseChangeSchema)
    def post(self, data):
        """Record a response; pending touches it affects are cancelled or moved, with events

        Records what a contact answered. Its effect follows the rules in the same
        request: a reply stops that person's sequence (R8), a rejection or an offer
        closes the application (R9), a decision date makes the follow-up wait (R4),
        an out-of-office moves pending touches past the return. The answer lists the
        touches it changed and the note it proposes (`proposed_touch`).
        """
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
            source="manual",
        )
        session.commit()
        response.affected_touches = affected
        response.proposed_touch = proposed
        return response


@blp.route("/<int:response_id>")
class ResponseById(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, ContactResponseSchema)
    def get(self, response_id):
        """Show a response

        One response with where it came from (`source`, `message_id`, the
        classifier's reading) and its corrections.
        """
        return get_visible(Response, response_id)

    @roles(*ALL_ROLES)
    @blp.etag
    @blp.arguments(ContactResponseCorrectSchema)
    @blp.response(200, ContactResponseChangeSchema)
    def patch(self, data, response_id):
        """Correct a response's kind or dates; it then acts as if recorded that way

        The application's status and decision date follow the corrected facts (unless set
        by hand since), touches only the wrong reading stopped come back where the rules
        allow them, a note it proposed that is no longer called for is withdrawn and the
        corrected kind's note proposed, and everything is re-planned. `corrections` keeps
        who changed what; `classified_as` keeps what the classifier said.
        """
        session = get_session()
        response = get_visible(Response, response_id)
        ledger.lock_contact(session, response.contact_id)
        session.refresh(response)  # as it is now that no one else can change it
        blp.check_etag(response, ContactResponseSchema)
        after = corrected(said_by(response), data)
        try:
            check_kind_fields(dataclasses.asdict(after))
        except ValidationError as error:
            field, reasons = next(iter(error.normalized_messages().items()))
            raise field_error(field, " ".join(reasons)) from None
        affected, proposed = correct_response(
            session,
            response,
            after,
            actor=ledger.actor_for_user(current().user_id),
            now=utcnow(),
            config=current_app.config,
        )
        session.commit()
        response.affected_touches = affected
        response.proposed_touch = proposed
        blp.set_etag(response, ContactResponseSchema)
        return response
