"""The caller's organisation: its name and its retention of message texts."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import ALL_ROLES, current, roles
from api.db import get_session
from api.models import Organization
from api.privacy import audit
from api.resources.common import Blueprint, apply_changes
from api.schemas.privacy import OrganizationSchema, OrganizationUpdateSchema

blp = Blueprint(
    "organization",
    __name__,
    url_prefix="/v1/organization",
    description="The caller's organisation and its retention of message texts.",
)


@blp.route("")
class OrganizationView(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, OrganizationSchema)
    @blp.doc(operationId="get_organization")
    def get(self):
        """Show the caller's organisation and its retention

        The organisation's name and how many days the texts of inbound messages and
        the bodies of sent messages are kept (null: kept until erased).
        """
        return get_session().get(Organization, current().org_id)

    @roles("admin")
    @blp.etag
    @blp.arguments(OrganizationUpdateSchema)
    @blp.response(200, OrganizationSchema)
    @blp.doc(operationId="update_organization")
    def patch(self, data):
        """Set the organisation's retention of message texts (admins)

        `inbound_body_retention_days` (emails heard and replies' texts) and
        `sent_body_retention_days` (sent bodies and their outbox `.eml` files), 1 to
        3650 days, or null to keep them. The worker removes the texts past the limit
        on its reaper's beat; the rows, their times and every count stay. The change
        is in the audit trail.
        """
        session = get_session()
        org = session.get(Organization, current().org_id)
        blp.check_etag(org, OrganizationSchema)
        before = {k: getattr(org, k) for k in data}
        apply_changes(org, data)
        changed = {k: {"from": before[k], "to": v} for k, v in data.items() if before[k] != v}
        if changed:
            audit.by_caller(session, "retention.changed", None, changes=changed)
        session.commit()
        return org
