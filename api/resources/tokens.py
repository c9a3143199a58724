"""Bearer tokens: created (secret shown once), listed without secrets, revoked."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from api import idempotency
from api.auth import ALL_ROLES, current, issue_token, roles
from api.db import get_session
from api.models import ApiToken, User, utcnow
from api.privacy import audit
from api.problems import Problem
from api.resources.common import PAGINATION, Blueprint, SelectPage, field_error
from api.resources.listing import Sort, filter_range
from api.schemas.people import (
    TokenCreatedSchema,
    TokenCreateSchema,
    TokenQuerySchema,
    TokenSchema,
)

TOKEN_SORT = Sort(
    ApiToken.id,
    name=ApiToken.name,
    created_at=ApiToken.created_at,
    expires_at=ApiToken.expires_at,
    last_used_at=ApiToken.last_used_at,
)

blp = Blueprint(
    "tokens", __name__, url_prefix="/v1/tokens", description="API tokens of the caller."
)


def _org_user(user_id: int, field: str = "user_id") -> User:
    principal = current()
    user = get_session().get(User, user_id)
    if user is None or user.org_id != principal.org_id:
        raise field_error(field, "Unknown user.")
    return user


def _target_user(user_id: int | None) -> User:
    principal = current()
    if user_id is None or user_id == principal.user_id:
        return get_session().get(User, principal.user_id)
    if not principal.is_admin:
        raise Problem(403, "Only admins act on other users' tokens.")
    return _org_user(user_id)


@blp.route("")
class Tokens(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(TokenQuerySchema, location="query")
    @blp.response(200, TokenSchema(many=True))
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.paginate(SelectPage, sort=TOKEN_SORT, **PAGINATION)
    def get(self, args):
        """List tokens (never their secrets)

        The caller's API tokens (an admin may list another user's with `user_id`):
        names, prefixes, expiry and last use, never the secrets.
        """
        user = _target_user(args.get("user_id"))
        query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        if not args["include_revoked"]:
            query = query.where(ApiToken.revoked_at.is_(None))
        return filter_range(query, ApiToken.created_at, args, "created_after", "created_before")

    @idempotency.secret_answer
    @roles(*ALL_ROLES)
    @blp.arguments(TokenCreateSchema)
    @blp.response(201, TokenCreatedSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    def post(self, data):
        """Create a token; its secret is in this answer only

        Creates a bearer token for the caller or, for an admin, for another user of
        the organisation (`user_id`), as a portal does for each candidate. The
        secret (`tb_...`) is in this answer only; store it.
        """
        user = _target_user(data.get("user_id"))
        expires_at = data.get("expires_at")
        if expires_at is not None and expires_at <= utcnow():
            raise field_error("expires_at", "Must be in the future.")
        session = get_session()
        token, secret = issue_token(session, user, data["name"], expires_at)
        if user.id != current().user_id:
            audit.by_caller(session, "token.created", user.id, token_id=token.id)
        session.commit()
        # The response schema dumps: hand it the attributes, not an already dumped dict.
        out = {name: getattr(token, name) for name in TokenSchema().fields}
        out["token"] = secret
        return out


@blp.route("/<int:token_id>")
class TokenById(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, TokenSchema)
    def get(self, token_id):
        """Show a token (never its secret)

        One token's name, prefix, expiry and last use; never its secret.
        """
        return _visible_token(token_id)

    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(204)
    def delete(self, token_id):
        """Revoke a token: it stops working at once

        Revokes the token: requests with it are 401 from now on.
        """
        token = _visible_token(token_id)
        blp.check_etag(token, TokenSchema)
        if token.revoked_at is None:
            token.revoked_at = utcnow()
        get_session().commit()


def _visible_token(token_id: int) -> ApiToken:
    principal = current()
    query = select(ApiToken).join(User, User.id == ApiToken.user_id).where(ApiToken.id == token_id)
    if principal.is_admin:
        query = query.where(User.org_id == principal.org_id)
    else:
        query = query.where(ApiToken.user_id == principal.user_id)
    token = get_session().scalars(query).first()
    if token is None:
        raise Problem(404, "No such token.")
    return token
