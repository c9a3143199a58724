"""Named enums: one OpenAPI component for each set of values the API uses.

Declared inline, the step set was eleven unrelated enums in a generated client (`TouchStep`,
`TemplateStep`, `CalendarEntryStep`...), none assignable to another. Here each set is named
once; a field says which it carries with `metadata=STEP.tag()`, and its property becomes a
`$ref` to the component (in `allOf` when it has a description or `readOnly` of its own,
which OpenAPI 3.0 ignores beside a bare `$ref`; in `anyOf` with NULL_SCHEMA when nullable).
The field's validator, where it has one, stays as it was: its error messages are part of
the wire. tests/api/test_openapi_contract.py checks that no inline enum repeats a named one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin

from api.inbound.classify import KINDS as CLASSIFIER_KINDS
from api.models.inbound import MAIL_OUTCOMES
from api.models.people import ROLES
from api.models.records import APPLICATION_STATUSES, INTERVIEW_FORMATS
from api.models.touches import EVENT_KINDS, RESPONSE_KINDS, RESPONSE_SOURCES, STATUSES, STEPS
from api.models.webhooks import DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES
from api.policy import APPROVAL_MODES
from api.privacy.audit import ACTIONS as AUDIT_ACTIONS

#: The metadata key a field names its enum by; never left in the document.
ENUM_KEY = "x-named-enum"


@dataclass(frozen=True)
class NamedEnum:
    name: str
    values: tuple[str, ...]
    description: str

    def tag(self, **metadata: Any) -> dict[str, Any]:
        """A field's metadata: this enum, and any other metadata (a description...)."""
        return {ENUM_KEY: self.name, **metadata}

    def component(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values), "description": self.description}


STEP = NamedEnum("Step", STEPS, "What a touch is for in the sequence (R1-R10).")
TOUCH_STATUS = NamedEnum(
    "TouchStatus",
    STATUSES,
    "Where a touch is: pending (draft, scheduled), sending, or how it ended.",
)
TOUCH_EVENT_KIND = NamedEnum(
    "TouchEventKind",
    EVENT_KINDS,
    "What happened to a touch: the status it reached, or another change (rescheduled, "
    "rechanneled, edited, approved...).",
)
RESPONSE_KIND = NamedEnum("ResponseKind", RESPONSE_KINDS, "What the contact's response says.")
RESPONSE_SOURCE = NamedEnum("ResponseSource", RESPONSE_SOURCES, "How a response reached Touchbase.")
APPLICATION_STATUS = NamedEnum(
    "ApplicationStatus", APPLICATION_STATUSES, "Where an application is."
)
INTERVIEW_FORMAT = NamedEnum("InterviewFormat", INTERVIEW_FORMATS, "How an interview is held.")
USER_ROLE = NamedEnum("UserRole", ROLES, "What a user may see and do.")
SETTINGS_SCOPE = NamedEnum(
    "SettingsScope",
    ("org", "candidate"),
    "Whose a template or channel settings are: the organisation's or one candidate's.",
)
APPROVAL_MODE = NamedEnum(
    "ApprovalMode", APPROVAL_MODES, "Whether planned touches wait for a person's approval."
)
POLICY_SCOPE = NamedEnum(
    "PolicyScope", ("org", "candidate", "contact"), "Which level of the policy an answer is."
)
POLICY_SOURCE = NamedEnum(
    "PolicySource",
    ("default", "org", "candidate", "contact", "own"),
    "Where a value in force comes from: the built-in default, a level, or the candidate's "
    "own rules for a contact.",
)
CHANNEL_CAPABILITY = NamedEnum(
    "ChannelCapability",
    ("threading", "delivery_receipts", "inbound_replies"),
    "What a channel can do beyond sending.",
)
INBOUND_CLASSIFICATION = NamedEnum(
    "InboundClassification",
    CLASSIFIER_KINDS,
    "What the classifier read a heard message as.",
)
INBOUND_MAIL_OUTCOME = NamedEnum(
    "InboundMailOutcome", MAIL_OUTCOMES, "What became of a heard email."
)
WEBHOOK_EVENT_TYPE = NamedEnum(
    "WebhookEventType",
    WEBHOOK_EVENT_TYPES,
    "What an outbound webhook reports: a touch reached a status (or moved), a response was "
    "recorded, a contact opted out, an inbound message matched no one.",
)
WEBHOOK_DELIVERY_STATUS = NamedEnum(
    "WebhookDeliveryStatus",
    DELIVERY_STATUSES,
    "Where a webhook delivery is: pending (waiting or retrying), delivered (a 2xx), failed "
    "(the retry schedule ran out).",
)
AUDIT_ACTION = NamedEnum(
    "AuditAction",
    AUDIT_ACTIONS,
    "What a staff action in the audit trail was (exports and erasures by anyone).",
)

NAMED_ENUMS: tuple[NamedEnum, ...] = (
    STEP,
    TOUCH_STATUS,
    TOUCH_EVENT_KIND,
    RESPONSE_KIND,
    RESPONSE_SOURCE,
    APPLICATION_STATUS,
    INTERVIEW_FORMAT,
    USER_ROLE,
    SETTINGS_SCOPE,
    APPROVAL_MODE,
    POLICY_SCOPE,
    POLICY_SOURCE,
    CHANNEL_CAPABILITY,
    INBOUND_CLASSIFICATION,
    INBOUND_MAIL_OUTCOME,
    WEBHOOK_EVENT_TYPE,
    WEBHOOK_DELIVERY_STATUS,
    AUDIT_ACTION,
)
_BY_NAME = {enum.name: enum for enum in NAMED_ENUMS}

#: The schema of null and nothing else, in OpenAPI 3.0 terms. A nullable `$ref` is
#: `anyOf: [{$ref}, NULL_SCHEMA]`: `nullable` beside an `allOf` or a `$ref` does not let null
#: through the referenced schema (OpenAPI 3.0.3's clarification; openapi-schema-validator and
#: schemathesis refuse it), and this form is what both openapi-python-client (`T | None`) and
#: openapi-typescript (`T | null`) read as "this type or null".
NULL_SCHEMA = {"nullable": True, "enum": [None]}


def named_enum_property(_converter, field, ret: dict[str, Any], **_kwargs) -> dict[str, Any]:
    """apispec attribute function (the last one): a tagged field's property becomes a `$ref`
    to its enum. Refuses a field whose validator allows another set than its tag says."""
    name = ret.pop(ENUM_KEY, None)
    if name is None:
        return {}
    enum = _BY_NAME[name]
    listed = tuple(v for v in ret.pop("enum", enum.values) if v is not None)
    if set(listed) != set(enum.values):
        raise ValueError(f"{field!r} is tagged {name} but allows {listed}")
    ret.pop("type", None)
    ref = {"$ref": f"#/components/schemas/{name}"}
    if not ret:
        return ref
    siblings = dict(ret)
    ret.clear()
    if siblings.pop("nullable", False):
        return {"anyOf": [ref, NULL_SCHEMA], **siblings}
    return {"allOf": [ref], **siblings}


class NamedEnumPlugin(BasePlugin):
    """Registers every named enum as a component and turns tagged fields into references.
    Goes after the MarshmallowPlugin, whose converter it extends."""

    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        marshmallow = next(p for p in spec.plugins if isinstance(p, MarshmallowPlugin))
        marshmallow.converter.add_attribute_function(named_enum_property)
        for enum in NAMED_ENUMS:
            spec.components.schema(enum.name, enum.component())
