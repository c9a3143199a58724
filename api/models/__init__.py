"""Typed declarative models. Importing this package registers every table on `Base.metadata`."""

from api.models.audit import AuditEvent
from api.models.base import Base, UTCDateTime, utcnow
from api.models.feeds import CalendarFeed
from api.models.idempotency import IdempotencyKey
from api.models.inbound import InboundMail, InboundMessage, Mailbox
from api.models.people import ApiToken, Assignment, Organization, User
from api.models.records import Application, Contact, Interview, Interviewer
from api.models.reports import AnonymousTally
from api.models.settings import ChannelSetting, PolicySetting, Template
from api.models.touches import Response, ResponseCorrection, Touch, TouchEvent
from api.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "AnonymousTally",
    "ApiToken",
    "Application",
    "Assignment",
    "AuditEvent",
    "Base",
    "CalendarFeed",
    "ChannelSetting",
    "Contact",
    "IdempotencyKey",
    "InboundMail",
    "InboundMessage",
    "Interview",
    "Interviewer",
    "Mailbox",
    "Organization",
    "PolicySetting",
    "Response",
    "ResponseCorrection",
    "Template",
    "Touch",
    "TouchEvent",
    "UTCDateTime",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "utcnow",
]
