"""Touches, their events, responses, budgets, policy and plans."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from api import policy
from api.models.touches import STATUSES, STEPS
from api.schemas.enums import (
    APPROVAL_MODE,
    POLICY_SCOPE,
    POLICY_SOURCE,
    STEP,
    TOUCH_EVENT_KIND,
    TOUCH_STATUS,
)
from api.schemas.fields import (
    Aware,
    Id,
    QueryBoolean,
    QueryId,
    ReadSchema,
    StrictBoolean,
    StrictSchema,
)
from api.schemas.ranges import DueRange
from api.schemas.records import CHANNEL_NAME, ApplicationSchema, ContactSchema, InterviewSchema


class FindingSchema(ReadSchema):
    check = fields.String()
    rule = fields.String(allow_none=True)
    severity = fields.String(metadata={"enum": ["block", "warn"]})
    detail = fields.String()


class TouchSchema(ReadSchema):
    id = fields.Integer()
    candidate_id = fields.Integer()
    contact_id = fields.Integer()
    contact_name = fields.String(attribute="contact.name", dump_only=True)
    contact_company = fields.String(attribute="contact.company", dump_only=True, allow_none=True)
    application_id = fields.Integer()
    interview_id = fields.Integer(allow_none=True)
    round = fields.Integer()
    step = fields.String(metadata=STEP.tag())
    channel = fields.String()
    status = fields.String(metadata=TOUCH_STATUS.tag())
    automated = fields.Boolean()
    planned = fields.Boolean()
    scheduled_for = fields.DateTime(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
    subject = fields.String(allow_none=True)
    body = fields.String(allow_none=True)
    attempts = fields.Integer()
    reason = fields.String(allow_none=True, metadata={"description": "Why skipped/failed/etc."})
    rule = fields.String(allow_none=True, metadata={"description": "Rule behind the reason"})
    flags = fields.List(
        fields.String(), metadata={"description": "Rules a logged manual touch broke, R2_LATE"}
    )
    warnings = fields.List(fields.Nested(FindingSchema))
    plan_reason = fields.String(allow_none=True)
    approve_by = fields.DateTime(
        allow_none=True,
        metadata={"description": "A draft: skipped if not approved by then (R2 for a thank-you)"},
    )
    message_id = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    provider_status = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    requested_for = fields.DateTime(
        allow_none=True,
        metadata={"description": "The time a person asked for; null: as the rules say"},
    )


class TouchChangeSchema(TouchSchema):
    affected_touches = fields.List(
        fields.Nested(TouchSchema),
        dump_only=True,
        metadata={
            "description": "Other pending touches this change moved or cancelled (re-planned "
            "from the facts); their events say why"
        },
    )


class TouchCreateSchema(StrictSchema):
    contact_id = Id(required=True)
    application_id = Id(required=True)
    interview_id = Id(allow_none=True)
    round = fields.Integer(strict=True, validate=validate.Range(min=1, max=50))
    step = fields.String(required=True, validate=validate.OneOf(STEPS), metadata=STEP.tag())
    channel = fields.String(
        required=True,
        validate=CHANNEL_NAME,
        metadata={"description": "A channel name (GET /v1/channels), or `manual`"},
    )
    scheduled_for = Aware(
        metadata={"description": "When to send; default now, moved into the send window"}
    )
    occurred_at = Aware(
        metadata={"description": "For a manual touch: when it happened (not in the future)"}
    )
    subject = fields.String(allow_none=True, validate=validate.Length(min=1, max=300))
    body = fields.String(
        validate=validate.Length(min=1, max=10_000),
        metadata={"description": "Default: rendered from the step's template"},
    )

    @validates_schema
    def _manual_or_scheduled(self, data, **_kwargs):
        manual = data.get("channel") == "manual"
        if manual and "scheduled_for" in data:
            raise ValidationError(
                "A manual touch is logged with occurred_at.", field_name="scheduled_for"
            )
        if not manual and "occurred_at" in data:
            raise ValidationError(
                "Only manual touches have occurred_at; use scheduled_for.",
                field_name="occurred_at",
            )


class TouchUpdateSchema(StrictSchema):
    scheduled_for = Aware()
    channel = fields.String(validate=CHANNEL_NAME)
    subject = fields.String(allow_none=True, validate=validate.Length(min=1, max=300))
    body = fields.String(validate=validate.Length(min=1, max=10_000))


class TouchApproveSchema(StrictSchema):
    """Edit-then-approve: what to change before approving (absent: as drafted)."""

    subject = fields.String(allow_none=True, validate=validate.Length(min=1, max=300))
    body = fields.String(validate=validate.Length(min=1, max=10_000))


class RefusedApprovalSchema(ReadSchema):
    touch_id = fields.Integer()
    status = fields.String(metadata=TOUCH_STATUS.tag())
    detail = fields.String(metadata={"description": "Why it was not approved"})
    type = fields.String(allow_none=True, metadata={"description": "The problem type"})
    rule = fields.String(allow_none=True)
    next_allowed_at = fields.DateTime(allow_none=True)


class ApprovalSchema(ReadSchema):
    approved = fields.List(fields.Nested(TouchSchema), metadata={"description": "Now scheduled"})
    refused = fields.List(
        fields.Nested(RefusedApprovalSchema),
        metadata={"description": "Still drafts (refused by the policy) or skipped (expired)"},
    )
    affected_touches = fields.List(
        fields.Nested(TouchSchema),
        metadata={"description": "Other pending touches the approvals moved (re-planned)"},
    )


class TouchCancelSchema(StrictSchema):
    reason = fields.String(validate=validate.Length(min=1, max=500))


class TouchResolveSchema(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(["sent", "failed"]))
    reason = fields.String(validate=validate.Length(min=1, max=500))


class TouchQuerySchema(DueRange):
    candidate_id = QueryId()
    contact_id = QueryId()
    application_id = QueryId()
    interview_id = QueryId()
    status = fields.String(validate=validate.OneOf(STATUSES), metadata=TOUCH_STATUS.tag())
    step = fields.String(validate=validate.OneOf(STEPS), metadata=STEP.tag())
    channel = fields.String(validate=validate.Length(max=40))


class TouchEventSchema(ReadSchema):
    id = fields.Integer()
    touch_id = fields.Integer()
    kind = fields.String(metadata=TOUCH_EVENT_KIND.tag())
    at = fields.DateTime()
    actor = fields.String()
    reason = fields.String(allow_none=True)
    rule = fields.String(allow_none=True)
    data = fields.Dict()


class BudgetQuerySchema(StrictSchema):
    application_id = QueryId(
        metadata={"description": "Default: the contact's most recent application"}
    )
    round = fields.Integer(validate=validate.Range(min=1, max=50))


class BudgetSchema(ReadSchema):
    contact_id = fields.Integer()
    application_id = fields.Integer()
    round = fields.Integer()
    budget = fields.Integer()
    used = fields.Integer()
    left = fields.Integer()
    stopped = fields.Boolean()
    stopped_rule = fields.String(allow_none=True)
    stopped_reason = fields.String(allow_none=True)
    next_allowed_at = fields.Dict(keys=fields.String(), values=fields.DateTime(allow_none=True))
    blocked_by = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))
    blocked_reason = fields.Dict(
        keys=fields.String(),
        values=fields.String(allow_none=True),
        metadata={"description": "Per channel, why the rule in blocked_by refuses it"},
    )


def _setting_field(name: str) -> fields.Field:
    rule = policy.SETTING_RULES.get(name)
    meta = {"description": f"{rule}" if rule else name}
    if name in policy.SETTING_RANGES:
        low, high = policy.SETTING_RANGES[name]
        return fields.Integer(
            allow_none=True, strict=True, validate=validate.Range(low, high), metadata=meta
        )
    if name in ("stop_on_response", "observe_holidays"):
        return StrictBoolean(allow_none=True, metadata=meta)
    if name in policy.CHOICE_FIELDS:
        return fields.String(
            allow_none=True,
            validate=validate.OneOf(policy.CHOICE_FIELDS[name]),
            metadata=APPROVAL_MODE.tag(
                description="`required`: planned touches are drafts until approved; "
                "`auto`: planned touches are scheduled directly"
            ),
        )
    if name == "business_days":
        return fields.List(
            fields.Integer(strict=True, validate=validate.Range(0, 6)),
            allow_none=True,
            validate=validate.Length(min=1, max=7),
            metadata={"description": "0 = Monday ... 6 = Sunday (R15)"},
        )
    return fields.String(
        allow_none=True,
        validate=validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Use HH:MM, 00:00-23:59."),
        metadata=meta,
    )


PolicyValuesSchema = StrictSchema.from_dict(
    {name: _setting_field(name) for name in policy.SETTING_NAMES}, name="PolicyValues"
)


class PolicySchema(ReadSchema):
    scope = fields.String(metadata=POLICY_SCOPE.tag())
    overrides = fields.Dict(metadata={"description": "What this level sets itself (staff)"})
    own = fields.Dict(
        metadata={
            "description": "Contact scope: the candidate's own rules for this contact, in "
            "force where stricter than the levels above"
        }
    )
    effective = fields.Dict(metadata={"description": "The values in force at this level"})
    sources = fields.Dict(
        keys=fields.String(),
        values=fields.String(metadata=POLICY_SOURCE.tag()),
        metadata={"description": "Where each effective value comes from"},
    )


class PolicyChangeSchema(PolicySchema):
    """The answer to setting a policy: the policy, and what it did to pending touches."""

    affected_touches = fields.List(
        fields.Nested(TouchSchema),
        dump_only=True,
        metadata={"description": "After a change: the pending touches it moved or cancelled"},
    )


class PlanQuerySchema(StrictSchema):
    dry_run = QueryBoolean(load_default=False)


class PlannedStepSchema(ReadSchema):
    contact_id = fields.Integer()
    contact_name = fields.String()
    step = fields.String(metadata=STEP.tag())
    channel = fields.String(allow_none=True)
    scheduled_for = fields.DateTime(allow_none=True)
    local_time = fields.String(allow_none=True, metadata={"description": "In the contact zone"})
    reason = fields.String()
    rule = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["planned", "created", "exists", "skipped"]})
    touch_id = fields.Integer(allow_none=True)
    subject = fields.String(allow_none=True, metadata={"description": "The rendered message"})
    body = fields.String(allow_none=True)
    warnings = fields.List(
        fields.Nested(FindingSchema), metadata={"description": "The message check's warnings"}
    )
    blocking = fields.List(
        fields.Nested(FindingSchema),
        metadata={"description": "The message check's blocking findings: the step is skipped"},
    )
    state = fields.String(
        allow_none=True,
        metadata={
            "enum": ["draft", "scheduled"],
            "description": "The touch's status: `draft` awaits approval (policy `approval`)",
        },
    )
    approve_by = fields.DateTime(
        allow_none=True, metadata={"description": "A draft not approved by then is skipped"}
    )
    approve_by_local = fields.String(allow_none=True, metadata={"description": "Contact zone"})


class PlanSchema(ReadSchema):
    interview_id = fields.Integer()
    dry_run = fields.Boolean()
    steps = fields.List(fields.Nested(PlannedStepSchema))


def _affected() -> fields.List:
    return fields.List(
        fields.Nested(TouchSchema),
        dump_only=True,
        metadata={"description": "Pending touches the change moved or cancelled (re-planned)"},
    )


class ApplicationChangeSchema(ApplicationSchema):
    affected_touches = _affected()


class ContactChangeSchema(ContactSchema):
    affected_touches = _affected()


class InterviewChangeSchema(InterviewSchema):
    affected_touches = _affected()
