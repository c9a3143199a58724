"""Outbound webhook endpoints and their delivery log."""

from __future__ import annotations

from urllib.parse import urlsplit

from marshmallow import ValidationError, fields, validate

from api.models.webhooks import DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES
from api.schemas.enums import WEBHOOK_DELIVERY_STATUS, WEBHOOK_EVENT_TYPE
from api.schemas.fields import ReadSchema, StrictBoolean, StrictSchema, Text
from api.schemas.ranges import CreatedRange

URL_MAX = 2000


class EndpointURL(fields.String):
    """An absolute http(s) URL of the portal, without credentials in it."""

    default_error_messages = {
        "url": "Must be an absolute http:// or https:// URL with a host and no user:password."
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault(
            "example", "https://portal.example.edu/touchbase/webhooks"
        )
        super().__init__(validate=validate.Length(max=URL_MAX), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            parts = urlsplit(value)
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            raise self.make_error("url") from None
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or "@" in parts.netloc
            or not port_ok
            or any(c.isspace() for c in value)
        ):
            raise self.make_error("url")
        return value


class EventTypes(fields.List):
    """Event types, each at most once."""

    def __init__(self, **kwargs):
        item = fields.String(
            validate=validate.OneOf(WEBHOOK_EVENT_TYPES), metadata=WEBHOOK_EVENT_TYPE.tag()
        )
        super().__init__(
            item, validate=validate.Length(min=1, max=len(WEBHOOK_EVENT_TYPES)), **kwargs
        )

    def _deserialize(self, value, attr, data, **kwargs):
        found = super()._deserialize(value, attr, data, **kwargs)
        if len(set(found)) != len(found):
            raise ValidationError("Each event type at most once.")
        return found


class WebhookEndpointCreateSchema(StrictSchema):
    url = EndpointURL(required=True)
    event_types = EventTypes(
        required=True, metadata={"description": "The event types this endpoint hears"}
    )
    description = Text(200, allow_none=True)
    enabled = StrictBoolean(load_default=True)


class WebhookEndpointUpdateSchema(StrictSchema):
    url = EndpointURL()
    event_types = EventTypes()
    description = Text(200, allow_none=True)
    enabled = StrictBoolean(
        metadata={"description": "false pauses deliveries (they wait, pending, until true)"}
    )


class WebhookEndpointSchema(ReadSchema):
    id = fields.Integer()
    url = fields.String()
    description = fields.String(allow_none=True)
    event_types = fields.List(fields.String(metadata=WEBHOOK_EVENT_TYPE.tag()))
    enabled = fields.Boolean()
    previous_secret_expires_at = fields.DateTime(
        allow_none=True,
        attribute="previous_expires_at",
        metadata={
            "description": "After a rotation: until when the previous secret signs beside "
            "the new one (each request then carries both signatures)"
        },
    )
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class WebhookEndpointSecretSchema(WebhookEndpointSchema):
    secret = fields.String(
        metadata={
            "description": "The signing secret (whsec_...), shown in this answer only: "
            "verify every request with it (Standard Webhooks)"
        }
    )


class WebhookDeliverySchema(ReadSchema):
    id = fields.Integer()
    endpoint_id = fields.Integer()
    webhook_id = fields.String(
        metadata={"description": "The webhook-id header: the same on every attempt"}
    )
    event_type = fields.String(metadata=WEBHOOK_EVENT_TYPE.tag())
    status = fields.String(metadata=WEBHOOK_DELIVERY_STATUS.tag())
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_attempt_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(
        allow_none=True,
        metadata={"description": "Why the last attempt failed (a refusal, a timeout, a 500...)"},
    )
    delivered_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    payload = fields.Dict(metadata={"description": "The body sent: {type, timestamp, data}"})


class WebhookDeliveryQuerySchema(CreatedRange):
    status = fields.String(
        validate=validate.OneOf(DELIVERY_STATUSES), metadata=WEBHOOK_DELIVERY_STATUS.tag()
    )
