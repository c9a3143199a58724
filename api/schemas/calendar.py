"""The calendar of touches and the caller's iCalendar feed."""

from __future__ import annotations

from marshmallow import ValidationError, fields

from api.models.touches import STATUSES
from api.schemas.enums import STEP, TOUCH_STATUS
from api.schemas.fields import Aware, QueryId, ReadSchema, StrictSchema


class StateList(fields.List):
    """Touch states, repeated (`state=draft&state=scheduled`) or comma-separated
    (`state=draft,scheduled`), or both."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault(
            "description", "Touch states, repeated or comma-separated: " + ", ".join(STATUSES)
        )
        super().__init__(fields.String(metadata=TOUCH_STATUS.tag()), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise self.make_error("invalid")
        states = [part.strip() for v in value for part in v.split(",")]
        unknown = sorted({s for s in states if s not in STATUSES})
        if unknown:
            raise ValidationError(
                f"Unknown state {', '.join(repr(s) for s in unknown)}; "
                f"one of: {', '.join(STATUSES)}."
            )
        return super()._deserialize(list(dict.fromkeys(states)), attr, data, **kwargs)


class CalendarQuerySchema(StrictSchema):
    candidate_id = QueryId()
    application_id = QueryId()
    state = StateList()
    from_ = Aware(data_key="from", metadata={"description": "Default: now - 7 days"})
    to = Aware(
        metadata={"description": "Exclusive; default now + 60 days; at most 366 days after from"}
    )


class CalendarEntrySchema(ReadSchema):
    touch_id = fields.Integer()
    candidate_id = fields.Integer()
    candidate_name = fields.String()
    contact_id = fields.Integer()
    contact_name = fields.String()
    company = fields.String(
        allow_none=True, metadata={"description": "The contact's company, else the application's"}
    )
    application_id = fields.Integer()
    position = fields.String()
    interview_id = fields.Integer(allow_none=True)
    round = fields.Integer()
    step = fields.String(metadata=STEP.tag())
    channel = fields.String()
    state = fields.String(metadata=TOUCH_STATUS.tag())
    at = fields.DateTime(metadata={"description": "sent_at once sent, else scheduled_for (UTC)"})
    local_time = fields.String(allow_none=True, metadata={"description": "In the contact's zone"})
    time_zone = fields.String(metadata={"description": "The contact's IANA time zone"})
    reason = fields.String(
        metadata={"description": "Why it is at this time (the latest re-plan's reason first)"}
    )
    rule = fields.String(allow_none=True, metadata={"description": "The rule behind the reason"})
    sequence = fields.Integer(metadata={"description": "Bumped each time the time moved"})
    approve_by = fields.DateTime(
        allow_none=True, metadata={"description": "A draft not approved by then is skipped"}
    )
    updated_at = fields.DateTime()


class FeedSchema(ReadSchema):
    active = fields.Boolean(metadata={"description": "Whether the caller has a feed URL"})
    prefix = fields.String(
        allow_none=True, metadata={"description": "First characters of the secret"}
    )
    created_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(
        allow_none=True, metadata={"description": "Last fetch by a calendar app (to the minute)"}
    )


class FeedCreatedSchema(FeedSchema):
    url = fields.String(
        metadata={
            "description": "The feed URL, shown this once: its secret is the credential. "
            "Subscribe to it from a calendar app; POST again to rotate, DELETE to revoke."
        }
    )
