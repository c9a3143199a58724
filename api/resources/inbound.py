"""Inbound email: a raw message posted in, heard once, matched, classified, acted on."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from sqlalchemy import select

from api.auth import ALL_ROLES, current, roles, scope
from api.db import get_session
from api.inbound.pipeline import NotAMessage, receive
from api.models import InboundMail, utcnow
from api.problems import Problem
from api.resources.common import PAGINATION, Blueprint, SelectPage, filter_equal
from api.schemas.inbound import InboundMailSchema, InboundQuerySchema, InboundResultSchema

blp = Blueprint(
    "inbound",
    __name__,
    url_prefix="/v1/inbound",
    description="Replies heard by email: posted raw by a mail provider's inbound route, a "
    "forwarding rule or a portal; bounces, automatic replies and human answers.",
)

#: A raw message larger than this is answered 413 (attachments make mail large).
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
RFC822 = "message/rfc822"


@blp.route("/email")
class InboundEmail(MethodView):
    @roles("admin")
    @blp.doc(
        requestBody={
            "required": True,
            "description": "The whole message, as received (RFC 5322), at most 10 MB.",
            "content": {RFC822: {"schema": {"type": "string", "format": "binary"}}},
        }
    )
    @blp.response(202, InboundResultSchema)
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE", description="Not message/rfc822")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="Not a message")
    def post(self):
        """Hear one email (the raw message as the body)

        The message is entered once (a second delivery answers `duplicate`), matched to the
        touch it answers by In-Reply-To/References (else to a contact by the sender),
        classified, and acted on exactly as the same response typed into
        `POST /v1/responses`: a reply stops that contact's sequence (R8), a rejection
        leaves only the one note (R9), an out-of-office moves the pending touches past the
        return. A bounce fails the touch it refers to; an automatic reply is only logged.
        A message that matches no one is kept as `unmatched` (`GET /v1/inbound`).
        """
        if request.mimetype != RFC822:
            raise Problem(415, f"Send the whole message as {RFC822}.")
        request.max_content_length = MAX_MESSAGE_BYTES
        raw = request.get_data(cache=False)
        session = get_session()
        try:
            result = receive(
                session,
                current().org_id,
                raw,
                source="upload",
                now=utcnow(),
                config=current_app.config,
            )
        except NotAMessage as exc:
            raise Problem(422, f"Invalid input: body: {exc}", errors={"body": [str(exc)]}) from exc
        session.commit()
        return result


@blp.route("")
class InboundList(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(InboundQuerySchema, location="query")
    @blp.response(200, InboundMailSchema(many=True))
    @blp.paginate(SelectPage, **PAGINATION)
    def get(self, args):
        """Emails heard, newest first (`outcome=unmatched`: the ones to attach by hand)"""
        query = scope(select(InboundMail), InboundMail, current())
        query = filter_equal(query, InboundMail, args, "outcome")
        return query.order_by(InboundMail.id.desc())
