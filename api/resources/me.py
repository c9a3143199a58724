"""Who the bearer token belongs to."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import ALL_ROLES, current, roles
from api.db import get_session
from api.models import Organization, User
from api.resources.common import Blueprint
from api.schemas.people import MeSchema

blp = Blueprint("me", __name__, url_prefix="/v1/me", description="The caller's own account.")


@blp.route("")
class Me(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, MeSchema)
    @blp.doc(operationId="get_me")
    def get(self):
        """Show the caller's user, organisation and token

        Who the token belongs to: the user, their role and organisation, and the
        token itself. A portal calls it first to know what the caller may see.
        """
        principal = current()
        session = get_session()
        user = session.get(User, principal.user_id)
        org = session.get(Organization, principal.org_id)
        data = {column.key: getattr(user, column.key) for column in User.__table__.columns}
        data.update(org_name=org.name, token_id=principal.token_id)
        return data
