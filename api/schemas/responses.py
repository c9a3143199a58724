"""What the hiring side did (a response): as shown, as recorded, as corrected."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from api.models.touches import RESPONSE_KINDS
from api.schemas.enums import RESPONSE_KIND, RESPONSE_SOURCE
from api.schemas.fields import Aware, Day, Id, QueryId, ReadSchema, StrictSchema
from api.schemas.ranges import OccurredRange
from api.schemas.records import CHANNEL_NAME
from api.schemas.touches import TouchSchema


class ContactResponseCorrectionSchema(ReadSchema):
    at = fields.DateTime()
    actor = fields.String()
    before = fields.Dict(metadata={"description": "kind, decision_date, until before"})
    after = fields.Dict(metadata={"description": "kind, decision_date, until after"})


class ContactResponseSchema(ReadSchema):
    """A response as answered. Its component is `ContactResponse`, not `Response`: generated
    clients have a `Response` type of their own (see api.spec.RESERVED_SCHEMA_NAMES)."""

    id = fields.Integer()
    candidate_id = fields.Integer()
    contact_id = fields.Integer()
    application_id = fields.Integer()
    round = fields.Integer()
    kind = fields.String(metadata=RESPONSE_KIND.tag())
    channel = fields.String(allow_none=True)
    occurred_at = fields.DateTime()
    decision_date = fields.Date(allow_none=True)
    until = fields.Date(allow_none=True)
    note = fields.String(allow_none=True)
    source = fields.String(
        dump_only=True,
        metadata=RESPONSE_SOURCE.tag(description="How it reached Touchbase"),
    )
    message_id = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The heard message's Message-ID (email) or MessageSid (SMS)"},
    )
    text = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The heard message's text, without quoted history or signature"},
    )
    classified_as = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The classifier's kind, kept when a person corrects `kind`"},
    )
    confidence = fields.Float(
        dump_only=True, allow_none=True, metadata={"description": "The classifier's, 0 to 1"}
    )
    inbound_id = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "The inbound log entry (GET /v1/inbound) it was heard as"},
    )
    corrections = fields.List(
        fields.Nested(ContactResponseCorrectionSchema),
        dump_only=True,
        metadata={"description": "Each correction of kind or dates: who, when, from, to"},
    )
    created_at = fields.DateTime()


class ContactResponseChangeSchema(ContactResponseSchema):
    """The answer to recording or correcting a response: the response, and what it did
    to the pending touches."""

    affected_touches = fields.List(fields.Nested(TouchSchema), dump_only=True)
    proposed_touch = fields.Nested(
        TouchSchema,
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "The note this response calls for, planned: R9's one thank-you "
            "after a rejection, R10's prompt answer to a next-round invitation"
        },
    )


def check_kind_fields(data) -> None:
    """The dates a response kind takes: a decision_date response needs its date, an
    out_of_office one its last day away, and no other kind has either. The one rule for
    a response recorded (POST) and corrected (PATCH, on the corrected whole)."""
    kind = data.get("kind")
    if kind == "decision_date" and not data.get("decision_date"):
        raise ValidationError("Required for a decision_date response.", "decision_date")
    if kind == "out_of_office" and not data.get("until"):
        raise ValidationError("Required for an out_of_office response.", "until")
    if kind != "decision_date" and data.get("decision_date"):
        raise ValidationError("Only for a decision_date response.", "decision_date")
    if kind != "out_of_office" and data.get("until"):
        raise ValidationError("Only for an out_of_office response.", "until")


class ContactResponseCreateSchema(StrictSchema):
    contact_id = Id(required=True)
    application_id = Id(required=True)
    kind = fields.String(
        required=True, validate=validate.OneOf(RESPONSE_KINDS), metadata=RESPONSE_KIND.tag()
    )
    round = fields.Integer(strict=True, validate=validate.Range(min=1, max=50))
    channel = fields.String(allow_none=True, validate=CHANNEL_NAME)
    occurred_at = Aware()
    decision_date = Day(metadata={"description": "Required for kind decision_date"})
    until = Day(metadata={"description": "Last day away, for kind out_of_office"})
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates_schema
    def _kind_fields(self, data, **_kwargs):
        check_kind_fields(data)


class ContactResponseCorrectSchema(StrictSchema):
    """A correction of what the response says. A date not given is kept while the kind
    still takes it; the corrected whole must pass the rules of a new response."""

    kind = fields.String(validate=validate.OneOf(RESPONSE_KINDS), metadata=RESPONSE_KIND.tag())
    decision_date = Day(allow_none=True, metadata={"description": "For kind decision_date"})
    until = Day(allow_none=True, metadata={"description": "Last day away, for out_of_office"})


class ResponseQuerySchema(OccurredRange):
    candidate_id = QueryId()
    contact_id = QueryId()
    application_id = QueryId()
    kind = fields.String(validate=validate.OneOf(RESPONSE_KINDS), metadata=RESPONSE_KIND.tag())
