"""People of an organisation. Admins manage them; others see only who they work with."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import Select, or_, select

from api.auth import ALL_ROLES, Principal, current, not_found, roles, visible_candidates
from api.db import get_session
from api.models import User
from api.problems import Problem
from api.resources.common import PAGINATION, Blueprint, SelectPage, apply_changes, conflict
from api.resources.listing import Sort, filter_range
from api.schemas.people import UserCreateSchema, UserQuerySchema, UserSchema, UserUpdateSchema

USER_SORT = Sort(
    User.id, name=User.name, email=User.email, role=User.role, created_at=User.created_at
)

blp = Blueprint(
    "users",
    __name__,
    url_prefix="/v1/users",
    description="Admins, advisors and candidates of the caller's organisation.",
)


def visible_users(principal: Principal) -> Select:
    query = select(User).where(User.org_id == principal.org_id)
    if principal.role == "admin":
        return query
    return query.where(
        or_(User.id == principal.user_id, User.id.in_(visible_candidates(principal)))
    )


def get_visible_user(user_id: int) -> User:
    user = get_session().scalars(visible_users(current()).where(User.id == user_id)).first()
    if user is None:
        raise not_found(User)
    return user


def _email_taken(org_id: int, email: str, except_id: int | None = None) -> bool:
    query = select(User.id).where(User.org_id == org_id, User.email == email.lower())
    if except_id is not None:
        query = query.where(User.id != except_id)
    return get_session().scalar(query) is not None


@blp.route("")
class Users(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    @blp.paginate(SelectPage, sort=USER_SORT, **PAGINATION)
    def get(self, args):
        """List users the caller may see

        The users the caller may see: an admin the organisation's, an advisor their
        candidates and themselves, a candidate themselves.
        """
        query = visible_users(current()).order_by(User.id)
        if "role" in args:
            query = query.where(User.role == args["role"])
        return filter_range(query, User.created_at, args, "created_after", "created_before")

    @roles("admin")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data):
        """Create a user in the organisation

        An admin adds an admin, advisor or candidate to the organisation; an email
        address already in use is a 409. Give them a token with POST /v1/tokens.
        """
        principal = current()
        data["email"] = data["email"].lower()
        if _email_taken(principal.org_id, data["email"]):
            raise conflict("email", "A user with this email already exists.")
        user = User(org_id=principal.org_id, **data)
        session = get_session()
        session.add(user)
        session.commit()
        return user


@blp.route("/<int:user_id>")
class UserById(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """Show a user

        One user with their role, email, phone and time zone.
        """
        return get_visible_user(user_id)

    @roles("admin")
    @blp.etag
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data, user_id):
        """Change a user's name, email, phone or time zone

        An admin changes the fields given; an email address another user of the
        organisation has is a 409.
        """
        user = get_visible_user(user_id)
        blp.check_etag(user, UserSchema)
        if "email" in data:
            data["email"] = data["email"].lower()
            if _email_taken(user.org_id, data["email"], except_id=user.id):
                raise conflict("email", "A user with this email already exists.")
        apply_changes(user, data)
        get_session().commit()
        return user

    @roles("admin")
    @blp.etag
    @blp.response(204)
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, user_id):
        """Delete a user: the full erasure of everything of theirs

        An admin removes a user as POST /v1/users/{id}/erasure does (without its
        confirmation field): pending touches cancelled, then every row of theirs and
        every outbox file of their messages; a message being sent at that moment is a
        409 with Retry-After. In the audit trail as `user.deleted`. Deleting one's own
        account is a 409.
        """
        from api.resources.privacy import erase_user

        user = get_visible_user(user_id)
        blp.check_etag(user, UserSchema)
        if user.id == current().user_id:
            raise Problem(409, "You cannot delete your own account.")
        erase_user(user, action="user.deleted")
