"""What Touchbase heard by email, and what became of it."""

from __future__ import annotations

from marshmallow import fields, validate

from api.inbound.classify import KINDS
from api.models.inbound import MAIL_OUTCOMES
from api.schemas.enums import INBOUND_CLASSIFICATION, INBOUND_MAIL_OUTCOME
from api.schemas.fields import Id, QueryId, ReadSchema, StrictSchema
from api.schemas.ranges import ReceivedRange

OUTCOMES = ("recorded", "duplicate", "ignored", "unmatched")
CLASSES = KINDS


class InboundResultSchema(ReadSchema):
    outcome = fields.String(required=True, metadata={"enum": list(OUTCOMES)})
    classification = fields.String(allow_none=True, metadata=INBOUND_CLASSIFICATION.tag())
    reason = fields.String(required=True, metadata={"description": "Why, in one sentence"})
    inbound_id = fields.Integer(allow_none=True)
    response_id = fields.Integer(allow_none=True)
    touch_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)


class InboundMailSchema(ReadSchema):
    id = fields.Integer()
    candidate_id = fields.Integer(allow_none=True)
    message_id = fields.String(allow_none=True)
    source = fields.String(
        metadata={
            "description": "upload (POST /v1/inbound/email), or the channel whose mailbox it "
            "was read from (email)"
        }
    )
    sender = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime()
    outcome = fields.String(metadata=INBOUND_MAIL_OUTCOME.tag())
    classification = fields.String(allow_none=True, metadata=INBOUND_CLASSIFICATION.tag())
    confidence = fields.Float(allow_none=True)
    reason = fields.String(allow_none=True)
    text = fields.String(allow_none=True, metadata={"description": "Quotes and signature cut"})
    decision_date = fields.Date(allow_none=True, metadata={"description": "A promised date read"})
    until = fields.Date(allow_none=True, metadata={"description": "Last day away read"})
    contact_id = fields.Integer(allow_none=True)
    application_id = fields.Integer(allow_none=True)
    touch_id = fields.Integer(allow_none=True)
    response_id = fields.Integer(allow_none=True)


class InboundQuerySchema(ReceivedRange):
    outcome = fields.String(
        validate=validate.OneOf(MAIL_OUTCOMES), metadata=INBOUND_MAIL_OUTCOME.tag()
    )


class InboundPostQuerySchema(StrictSchema):
    candidate_id = QueryId(
        metadata={
            "description": "Whose mailbox received it (an admin's per-candidate forwarding "
            "route): matching is restricted to that candidate's contacts, and the message is "
            "theirs to see. A candidate posting their own mail is that candidate."
        }
    )


class InboundAttachSchema(StrictSchema):
    contact_id = Id(required=True, metadata={"description": "Who the message is from"})
    application_id = Id(
        metadata={
            "description": "Which of the contact's applications it is about; default: the "
            "one the contact was last seen in (an interview, else a touch)"
        }
    )
