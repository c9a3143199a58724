"""Export, erasure, the organisation's retention, the audit trail."""

from __future__ import annotations

from marshmallow import fields, validate, validates_schema

from api.privacy.audit import ACTIONS
from api.privacy.retention import MAX_DAYS, MIN_DAYS
from api.schemas.enums import AUDIT_ACTION, USER_ROLE
from api.schemas.fields import Aware, Email, QueryId, ReadSchema, StrictSchema
from api.schemas.ranges import refuse_inverted


class ErasureSchema(StrictSchema):
    confirm = Email(
        required=True,
        metadata={"description": "The email address of the user being erased, to confirm"},
    )


class ErasedSchema(ReadSchema):
    user_id = fields.Integer(metadata={"description": "The id the erased user had"})
    cancelled_touches = fields.Integer(
        metadata={"description": "Pending touches cancelled before the erasure"}
    )
    rows_deleted = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Rows deleted, per table"},
    )
    files_removed = fields.Integer(metadata={"description": "Outbox files removed"})


def _days(what: str):
    return fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.Range(MIN_DAYS, MAX_DAYS),
        metadata={"description": f"Days {what} are kept ({MIN_DAYS}-{MAX_DAYS}); null keeps them"},
    )


class OrganizationSchema(ReadSchema):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    inbound_body_retention_days = _days("the texts of inbound messages (emails, replies)")
    sent_body_retention_days = _days("the bodies of sent messages (and their outbox files)")


class OrganizationUpdateSchema(StrictSchema):
    inbound_body_retention_days = _days("the texts of inbound messages (emails, replies)")
    sent_body_retention_days = _days("the bodies of sent messages (and their outbox files)")


class AuditEventSchema(ReadSchema):
    id = fields.Integer()
    at = fields.DateTime()
    action = fields.String(metadata=AUDIT_ACTION.tag())
    actor_id = fields.Integer(
        allow_none=True, metadata={"description": "Who acted (a user id; kept after erasure)"}
    )
    actor_role = fields.String(allow_none=True, metadata=USER_ROLE.tag())
    subject_id = fields.Integer(
        allow_none=True,
        metadata={"description": "The user the action was about (an id; kept after erasure)"},
    )
    data = fields.Dict(metadata={"description": "Ids and field names only, never personal data"})


class AuditQuerySchema(StrictSchema):
    action = fields.String(validate=validate.OneOf(ACTIONS), metadata=AUDIT_ACTION.tag())
    actor_id = QueryId(metadata={"description": "Only actions by this user"})
    subject_id = QueryId(metadata={"description": "Only actions about this user"})
    at_after = Aware(metadata={"description": "Only actions at or after this instant"})
    at_before = Aware(metadata={"description": "Only actions before this instant (exclusive)"})

    @validates_schema
    def _in_order(self, data, **_kwargs):
        refuse_inverted(data, "at_after", "at_before")
