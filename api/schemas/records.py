"""Contacts, applications, interviews."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from api.models.records import APPLICATION_STATUSES, INTERVIEW_FORMATS
from api.schemas.enums import APPLICATION_STATUS, INTERVIEW_FORMAT
from api.schemas.fields import (
    Aware,
    Country,
    Day,
    Email,
    Id,
    Phone,
    QueryId,
    ReadSchema,
    StrictBoolean,
    StrictSchema,
    Text,
    TimeZone,
)
from api.schemas.ranges import CreatedRange, StartsRange

CHANNEL_NAME = validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$", error="Not a channel name.")


class ContactSchema(ReadSchema):
    id = fields.Integer()
    candidate_id = fields.Integer()
    name = fields.String()
    title = fields.String(allow_none=True)
    company = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    timezone = fields.String()
    country = fields.String(allow_none=True)
    preferred_channel = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    do_not_contact = fields.Boolean()
    sms_opted_out = fields.Boolean(
        metadata={"description": "Replied STOP (or Twilio refused an SMS to them: 21610)"}
    )
    sms_opt_source = fields.String(
        allow_none=True,
        metadata={
            "description": "What set sms_opted_out last: the MessageSid of their STOP/START, "
            'or "touch:<id>" when Twilio refused that SMS (21610); null: never changed'
        },
    )
    sms_opt_changed_at = fields.DateTime(
        allow_none=True, metadata={"description": "When sms_opt_source set it"}
    )
    email_undeliverable_at = fields.DateTime(
        allow_none=True,
        metadata={
            "description": "When a permanent bounce (5.x.x) showed that email cannot reach "
            "this address: nothing more goes to it by email. Read-only; a new email clears it"
        },
    )
    email_undeliverable_reason = fields.String(
        allow_none=True, metadata={"description": "The bounce's status and diagnostic"}
    )
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class _ContactFields(StrictSchema):
    name = Text(200)
    title = Text(200, allow_none=True)
    company = Text(200, allow_none=True)
    email = Email(allow_none=True)
    phone = Phone(allow_none=True)
    timezone = TimeZone()
    country = Country(allow_none=True)
    preferred_channel = fields.String(allow_none=True, validate=CHANNEL_NAME)
    notes = fields.String(allow_none=True, validate=validate.Length(max=10_000))
    do_not_contact = StrictBoolean()


class ContactCreateSchema(_ContactFields):
    candidate_id = Id(metadata={"description": "Required for admins and advisors"})
    name = Text(200, required=True)


class ContactUpdateSchema(_ContactFields):
    pass


class ContactQuerySchema(CreatedRange):
    candidate_id = QueryId()
    company = fields.String(validate=validate.Length(max=200))
    email = fields.String(validate=validate.Length(max=254))


class ApplicationSchema(ReadSchema):
    id = fields.Integer()
    candidate_id = fields.Integer()
    company = fields.String()
    position = fields.String()
    status = fields.String(metadata=APPLICATION_STATUS.tag())
    decision_expected_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class _ApplicationFields(StrictSchema):
    company = Text(200)
    position = Text(200)
    status = fields.String(
        validate=validate.OneOf(APPLICATION_STATUSES), metadata=APPLICATION_STATUS.tag()
    )
    decision_expected_on = Day(allow_none=True)


class ApplicationCreateSchema(_ApplicationFields):
    candidate_id = Id(metadata={"description": "Required for admins and advisors"})
    company = Text(200, required=True)
    position = Text(200, required=True)


class ApplicationUpdateSchema(_ApplicationFields):
    pass


class ApplicationQuerySchema(CreatedRange):
    candidate_id = QueryId()
    status = fields.String(
        validate=validate.OneOf(APPLICATION_STATUSES), metadata=APPLICATION_STATUS.tag()
    )
    company = fields.String(validate=validate.Length(max=200))


class InterviewerInputSchema(StrictSchema):
    """A panel member as given (POST, PATCH): the contact, and what to mention (R3)."""

    contact_id = Id(required=True)
    topics = fields.String(allow_none=True, validate=validate.Length(max=2000))
    skills = fields.String(allow_none=True, validate=validate.Length(max=2000))
    specific_point = fields.String(
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={"description": "A specific point from the conversation to mention (R3)"},
    )


class InterviewerSchema(ReadSchema):
    """A panel member as answered."""

    contact_id = fields.Integer()
    topics = fields.String(allow_none=True)
    skills = fields.String(allow_none=True)
    specific_point = fields.String(
        allow_none=True,
        metadata={"description": "A specific point from the conversation to mention (R3)"},
    )


class InterviewSchema(ReadSchema):
    id = fields.Integer()
    candidate_id = fields.Integer()
    application_id = fields.Integer()
    round = fields.Integer()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    format = fields.String(metadata=INTERVIEW_FORMAT.tag())
    location = fields.String(allow_none=True)
    interviewers = fields.List(fields.Nested(InterviewerSchema))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


def _check_panel(data: dict) -> None:
    starts, ends = data.get("starts_at"), data.get("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        raise ValidationError("Must be after starts_at.", field_name="ends_at")
    panel = data.get("interviewers") or []
    ids = [i["contact_id"] for i in panel]
    if len(ids) != len(set(ids)):
        raise ValidationError("Each contact may appear once.", field_name="interviewers")


class _InterviewFields(StrictSchema):
    round = fields.Integer(strict=True, validate=validate.Range(min=1, max=50))
    starts_at = Aware()
    ends_at = Aware()
    format = fields.String(
        validate=validate.OneOf(INTERVIEW_FORMATS), metadata=INTERVIEW_FORMAT.tag()
    )
    location = Text(300, allow_none=True)
    interviewers = fields.List(
        fields.Nested(InterviewerInputSchema), validate=validate.Length(max=20)
    )

    @validates_schema
    def _panel(self, data, **_kwargs):
        _check_panel(data)


class InterviewCreateSchema(_InterviewFields):
    application_id = Id(required=True)
    starts_at = Aware(required=True)
    ends_at = Aware(required=True)
    interviewers = fields.List(
        fields.Nested(InterviewerInputSchema),
        required=True,
        validate=validate.Length(min=1, max=20),
    )


class InterviewUpdateSchema(_InterviewFields):
    interviewers = fields.List(
        fields.Nested(InterviewerInputSchema),
        validate=validate.Length(min=1, max=20),
        metadata={"description": "Replaces the whole panel"},
    )


class InterviewQuerySchema(CreatedRange, StartsRange):
    candidate_id = QueryId()
    application_id = QueryId()
    starts_after = Aware()
    starts_before = Aware()
