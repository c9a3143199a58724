"""Channels and their settings, message templates and previews, Twilio webhook forms."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from api import templating
from api.schemas.enums import CHANNEL_CAPABILITY, SETTINGS_SCOPE, STEP
from api.schemas.fields import Id, QueryId, ReadSchema, StrictSchema
from api.schemas.ranges import CreatedRange
from api.schemas.touches import FindingSchema

# -- channels ---------------------------------------------------------------------------------


class ChannelSchema(ReadSchema):
    name = fields.String(metadata={"example": "sms"})
    title = fields.String()
    address_kind = fields.String(metadata={"enum": ["email", "phone"]})
    capabilities = fields.List(fields.String(metadata=CHANNEL_CAPABILITY.tag()))
    settings_schema = fields.Dict(
        metadata={
            "description": "JSON Schema of the channel's settings; secrets are writeOnly and "
            'carry "x-secret": true'
        }
    )
    plugin = fields.String(metadata={"description": "The plugin that provides the channel"})


class ChannelSettingsInputSchema(ma.Schema):
    """Any JSON object: checked against the channel's own settings schema."""

    class Meta:
        unknown = ma.INCLUDE


SETTINGS_INPUT_DESCRIPTION = (
    "The settings of this level, replacing what it had: each field as in the channel's "
    "`settings_schema` (GET /v1/channels). Absent or null: not set at this level. Secrets "
    "are write-only: absent keeps the stored secret, null removes it."
)
SETTINGS_INPUT_EXAMPLE = {
    "account_sid": "AC0123456789abcdef0123456789abcdef",
    "auth_token": "(write-only)",
    "from_number": "+14155550100",
}


class ChannelSettingsSchema(ReadSchema):
    channel = fields.String()
    scope = fields.String(metadata=SETTINGS_SCOPE.tag())
    candidate_id = fields.Integer(allow_none=True)
    values = fields.Dict(
        metadata={"description": "What this level sets itself; for each secret only `<name>_set`"}
    )
    effective = fields.Dict(
        metadata={
            "description": "The values in force at this level (defaults included); secrets "
            "never appear, only `<name>_set: true|false`"
        }
    )
    sources = fields.Dict(
        keys=fields.String(),
        values=fields.String(metadata={"enum": ["default", "deployment", "org", "candidate"]}),
        metadata={"description": "Where each effective value comes from"},
    )
    complete = fields.Boolean(
        metadata={"description": "The effective settings are enough for the channel to send"}
    )
    problems = fields.Dict(
        metadata={"description": "What is missing or invalid in the effective settings"}
    )


# -- templates --------------------------------------------------------------------------------

_STEP = fields.String(required=True, validate=validate.OneOf(templating.STEPS), metadata=STEP.tag())
_CHANNEL_NAME = validate.Regexp(r"^[a-z][a-z0-9_-]{0,39}$", error="Not a channel name.")
_CHANNEL_DOC = (
    "A registered channel (GET /v1/channels): email, sms, call or a plugin's. A plugin "
    "channel's message has a subject when its address kind is email"
)


def _registered_channel(name: str) -> None:
    """A template is written for a channel that can send it: built in or a loaded plugin's."""
    from channels.registry import channels

    known = channels()
    if name not in known:
        raise ValidationError(
            f"Unknown channel {name!r}; registered: {', '.join(known)} (GET /v1/channels)."
        )


def _template_channel(**kwargs) -> fields.String:
    return fields.String(
        validate=[_CHANNEL_NAME, _registered_channel],
        metadata={"description": _CHANNEL_DOC},
        **kwargs,
    )


_SUBJECT_DOC = {"description": "Email only (Jinja2, sandboxed); SMS and call have none"}
_BODY_DOC = {"description": "Jinja2 text with the variables of the fixed namespace (sandboxed)"}


class TemplateSchema(ReadSchema):
    id = fields.Integer()
    scope = fields.Function(
        lambda t: "org" if t.candidate_id is None else "candidate",
        metadata={"type": "string", **SETTINGS_SCOPE.tag()},
    )
    candidate_id = fields.Integer(allow_none=True)
    step = fields.String(metadata=STEP.tag())
    channel = fields.String(metadata={"description": _CHANNEL_DOC})
    subject = fields.String(allow_none=True)
    body = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class TemplateCreateSchema(StrictSchema):
    candidate_id = Id(
        allow_none=True,
        metadata={
            "description": "The candidate this template is for. Absent or null: for the "
            "whole organisation (admins); a candidate's own when a candidate omits it"
        },
    )
    step = _STEP
    channel = _template_channel(required=True)
    subject = fields.String(allow_none=True, metadata=_SUBJECT_DOC)
    body = fields.String(required=True, metadata=_BODY_DOC)


class TemplateUpdateSchema(StrictSchema):
    step = fields.String(validate=validate.OneOf(templating.STEPS), metadata=STEP.tag())
    channel = _template_channel()
    subject = fields.String(allow_none=True, metadata=_SUBJECT_DOC)
    body = fields.String(metadata=_BODY_DOC)


class TemplateQuerySchema(CreatedRange):
    candidate_id = QueryId(metadata={"description": "Templates of this candidate"})
    scope = fields.String(
        validate=validate.OneOf(["org", "candidate"]), metadata=SETTINGS_SCOPE.tag()
    )
    step = fields.String(validate=validate.OneOf(templating.STEPS), metadata=STEP.tag())
    channel = fields.String(
        validate=_CHANNEL_NAME,
        metadata={"description": "Templates for this channel"},
    )


class DefaultTemplateSchema(ReadSchema):
    step = fields.String(metadata=STEP.tag())
    channel = fields.String(metadata={"description": _CHANNEL_DOC})
    subject = fields.String(allow_none=True)
    body = fields.String()


class _PreviewTarget(StrictSchema):
    contact_id = Id(metadata={"description": "Render for this contact (or give touch_id)"})
    application_id = Id(
        metadata={"description": "Default: the contact's latest interview's application"}
    )
    interview_id = Id(metadata={"description": "Default: the contact's latest interview"})
    touch_id = Id(metadata={"description": "Render for the parties of this touch"})

    @validates_schema
    def _one_target(self, data, **_kwargs):
        if ("contact_id" in data) == ("touch_id" in data):
            raise ValidationError("Give contact_id or touch_id (one of them).", "contact_id")
        if "touch_id" in data:
            for name in ("application_id", "interview_id"):
                if name in data:
                    raise ValidationError("Only with contact_id.", name)


class TemplatePreviewSchema(_PreviewTarget):
    pass


class StepPreviewSchema(_PreviewTarget):
    step = fields.String(
        validate=validate.OneOf(templating.STEPS),
        metadata=STEP.tag(description="Required with contact_id; a touch has its own"),
    )
    channel = fields.String(
        validate=validate.Length(min=1, max=40),
        metadata={"description": "Required with contact_id; a touch has its own"},
    )

    @validates_schema
    def _step_and_channel(self, data, **_kwargs):
        if "contact_id" in data:
            for name in ("step", "channel"):
                if name not in data:
                    raise ValidationError("Required with contact_id.", name)


class PreviewSchema(ReadSchema):
    template_id = fields.Integer(allow_none=True)
    source = fields.String(
        metadata={"enum": ["candidate", "org", "default"], "description": "Which template"}
    )
    step = fields.String()
    channel = fields.String()
    contact_id = fields.Integer()
    application_id = fields.Integer()
    interview_id = fields.Integer(allow_none=True)
    subject = fields.String(allow_none=True)
    body = fields.String()
    findings = fields.List(fields.Nested(FindingSchema))
    blocking = fields.Boolean(
        metadata={"description": "A finding would refuse the message (422 on scheduling)"}
    )


# -- Twilio webhooks --------------------------------------------------------------------------


class _TwilioForm(ma.Schema):
    """Twilio's form fields; it sends many more, all kept for the signature check."""

    class Meta:
        unknown = ma.EXCLUDE

    AccountSid = fields.String()


def _sid(prefix: str, description: str) -> fields.String:
    """A Twilio SID (two letters and 32 hex digits today): always sent, so required."""
    return fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z0-9]{2,64}$", error="Not a Twilio SID."),
        metadata={"description": description, "example": prefix + "0123456789abcdef" * 2},
    )


class MessageStatusFormSchema(_TwilioForm):
    MessageSid = _sid("SM", "The message the callback is about: the touch's provider id")
    MessageStatus = fields.String(
        metadata={"description": "queued, sending, sent, delivered, undelivered, failed..."}
    )
    ErrorCode = fields.String(metadata={"description": "Twilio error code, e.g. 21610"})


class CallFormSchema(_TwilioForm):
    CallSid = _sid("CA", "The call (the candidate's leg): the touch's provider id")
    CallStatus = fields.String(
        metadata={"description": "queued, ringing, in-progress, completed, busy, no-answer..."}
    )
    AnsweredBy = fields.String(metadata={"description": "human, machine_start... (detection)"})
    DialCallStatus = fields.String(
        metadata={"description": "The contact's leg, when Twilio reports the <Dial> outcome"}
    )


class InboundSmsFormSchema(_TwilioForm):
    MessageSid = _sid("SM", "The message: each one is acted on once")
    From = fields.String(metadata={"description": "The sender (a contact's phone)"})
    To = fields.String(metadata={"description": "The Twilio number that received it"})
    Body = fields.String()
    MessagingServiceSid = fields.String()
