"""Users, tokens, assignments."""

from __future__ import annotations

from marshmallow import fields, validate

from api.models.people import ROLES
from api.schemas.enums import USER_ROLE
from api.schemas.fields import (
    Aware,
    Email,
    Id,
    Phone,
    QueryBoolean,
    QueryId,
    ReadSchema,
    StrictSchema,
    Text,
    TimeZone,
)
from api.schemas.ranges import CreatedRange


class UserSchema(ReadSchema):
    id = fields.Integer(dump_only=True)
    org_id = fields.Integer(dump_only=True)
    email = fields.Email()
    name = fields.String()
    role = fields.String(metadata=USER_ROLE.tag())
    phone = fields.String(allow_none=True)
    timezone = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class UserCreateSchema(StrictSchema):
    email = Email(required=True)
    name = Text(200, required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES), metadata=USER_ROLE.tag())
    phone = Phone(allow_none=True)
    timezone = TimeZone(load_default="UTC")


class UserUpdateSchema(StrictSchema):
    """A role is fixed at creation: a candidate's records must stay a candidate's."""

    email = Email()
    name = Text(200)
    phone = Phone(allow_none=True)
    timezone = TimeZone()


class UserQuerySchema(CreatedRange):
    role = fields.String(validate=validate.OneOf(ROLES), metadata=USER_ROLE.tag())


class MeSchema(UserSchema):
    org_name = fields.String()
    token_id = fields.Integer()


class TokenSchema(ReadSchema):
    id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()
    prefix = fields.String(metadata={"description": "First characters, to recognise a token"})
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)


class TokenCreatedSchema(TokenSchema):
    token = fields.String(
        metadata={"description": "The secret, shown this once: store it, it cannot be read again"}
    )


class TokenCreateSchema(StrictSchema):
    name = Text(100, required=True)
    expires_at = Aware(allow_none=True)
    user_id = Id(
        metadata={"description": "Admins only: mint a token for another user of the org"},
    )


class TokenQuerySchema(CreatedRange):
    user_id = QueryId()
    include_revoked = QueryBoolean(load_default=False)


class AssignmentSchema(ReadSchema):
    id = fields.Integer()
    advisor_id = fields.Integer()
    candidate_id = fields.Integer()
    created_at = fields.DateTime()


class AssignmentCreateSchema(StrictSchema):
    advisor_id = Id(required=True)
    candidate_id = Id(required=True)


class AssignmentQuerySchema(CreatedRange):
    advisor_id = QueryId()
    candidate_id = QueryId()
