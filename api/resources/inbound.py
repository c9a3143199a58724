"""Inbound email: a raw message posted in, heard once, matched, classified, acted on."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from sqlalchemy import select

from api import idempotency
from api.auth import ALL_ROLES, current, get_visible, resolve_candidate, roles, scope
from api.db import get_session
from api.inbound.pipeline import NotAMessage, attach, receive
from api.inbound_sms import reply_application
from api.models import Application, Contact, InboundMail, utcnow
from api.problems import Problem
from api.resources.common import PAGINATION, Blueprint, SelectPage, field_error, filter_equal
from api.resources.listing import Sort, filter_range
from api.schemas.inbound import (
    InboundAttachSchema,
    InboundMailSchema,
    InboundPostQuerySchema,
    InboundQuerySchema,
    InboundResultSchema,
)
from channels.registry import notify_inbound

INBOUND_SORT = Sort(InboundMail.id, received_at=InboundMail.received_at)

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
    @idempotency.exempt("a message is entered once by its Message-ID; bodies up to 10 MB")
    @roles("admin", "candidate")
    @blp.arguments(InboundPostQuerySchema, location="query")
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
    @blp.doc(operationId="receive_inbound_email")
    def post(self, args):
        """Hear one email (the raw message as the body)

        The message is entered once (a second delivery answers `duplicate`), matched to the
        touch it answers by In-Reply-To/References (else to a contact by the sender),
        classified, and acted on exactly as the same response typed into
        `POST /v1/responses`: a reply stops that contact's sequence (R8), a rejection
        leaves only the one note (R9), an out-of-office moves the pending touches past the
        return. A bounce fails the touch it refers to; an automatic reply is only logged.
        A message that matches no one is kept as `unmatched` (`GET /v1/inbound`), for
        the candidate to attach (`POST /v1/inbound/{id}/attach`).

        An admin posts for the org (a mail provider's route), or for one candidate with
        `candidate_id` (their forwarding route); a candidate posts their own mail. When the
        candidate is known, only their contacts and touches are matched, and the message
        is theirs (and their advisor's) to see.

        `Idempotency-Key` is ignored here: the message's own `Message-ID` already makes a
        retried delivery harmless (it answers `duplicate`, and changes nothing).
        """
        if request.mimetype != RFC822:
            raise Problem(415, f"Send the whole message as {RFC822}.")
        request.max_content_length = MAX_MESSAGE_BYTES
        raw = request.get_data(cache=False)
        session = get_session()
        candidate_id = None
        if current().role == "candidate" or "candidate_id" in args:
            candidate_id = resolve_candidate(args.get("candidate_id")).id
        try:
            result = receive(
                session,
                current().org_id,
                raw,
                source="upload",
                now=utcnow(),
                config=current_app.config,
                candidate_id=candidate_id,
            )
        except NotAMessage as exc:
            raise Problem(422, f"Invalid input: body: {exc}", errors={"body": [str(exc)]}) from exc
        session.commit()
        notify_inbound(result.event(current().org_id, candidate_id, "upload", utcnow()))
        return result


@blp.route("")
class InboundList(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(InboundQuerySchema, location="query")
    @blp.response(200, InboundMailSchema(many=True))
    @blp.paginate(SelectPage, sort=INBOUND_SORT, **PAGINATION)
    @blp.doc(operationId="list_inbound_emails")
    def get(self, args):
        """Emails heard, newest first (`outcome=unmatched`: the ones to attach by hand)

        Every email heard (posted raw or read from a mailbox), newest first, with
        its outcome, classification and what it was matched to. `outcome=unmatched`
        lists the ones to attach by hand with POST /v1/inbound/{id}/attach.
        """
        query = scope(select(InboundMail), InboundMail, current())
        query = filter_equal(query, InboundMail, args, "outcome")
        query = filter_range(
            query, InboundMail.received_at, args, "received_after", "received_before"
        )
        return query.order_by(InboundMail.id.desc())


@blp.route("/<int:inbound_id>/attach")
class InboundAttach(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(InboundAttachSchema)
    @blp.response(200, InboundResultSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="No such message or contact")
    @blp.alt_response(409, response="CONFLICT", description="Already recorded or ignored")
    @blp.doc(operationId="attach_inbound_email")
    def post(self, data, inbound_id):
        """Attach an unmatched email to a contact, which records it

        The message is recorded as the response it was classified as when it arrived, with
        exactly the effect of a matched one (R8, R9, R10, R4, out-of-office). A message
        already recorded or ignored is a 409; another candidate's message or contact a 404.
        """
        session = get_session()
        row = get_visible(InboundMail, inbound_id)
        contact = get_visible(Contact, data["contact_id"])
        if row.candidate_id is not None and contact.candidate_id != row.candidate_id:
            raise Problem(404, "No such contact.")
        session.refresh(row, with_for_update=True)  # two attaches at once: one records
        if row.outcome != "unmatched":
            raise Problem(
                409,
                f"This message was {row.outcome} already; only an unmatched one is attached.",
            )
        if row.classification == "bounce":
            raise Problem(409, "A bounce is never a reply: there is nothing to record.")
        application = _application(session, contact, data.get("application_id"))
        result = attach(session, row, contact, application, utcnow(), current_app.config)
        session.commit()
        notify_inbound(result.event(row.org_id, row.candidate_id, row.source, utcnow()))
        return result


def _application(session, contact: Contact, application_id: int | None) -> Application:
    if application_id is None:
        found = reply_application(session, contact)
        if found is None:
            raise field_error("application_id", "Required: this contact has no touch or interview.")
        return found
    found = session.get(Application, application_id)
    if found is None or found.candidate_id != contact.candidate_id:
        raise field_error("application_id", "Unknown application for this contact.")
    return found
