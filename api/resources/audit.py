"""The audit trail, for admins: staff actions that matter to a candidate."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from api.auth import current, roles
from api.models import AuditEvent
from api.resources.common import PAGINATION, Blueprint, SelectPage
from api.resources.listing import Sort, filter_range
from api.schemas.privacy import AuditEventSchema, AuditQuerySchema

AUDIT_SORT = Sort(AuditEvent.id, at=AuditEvent.at, action=AuditEvent.action)

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/v1/audit-events",
    description="Staff actions that matter to a candidate, kept after an erasure; admins only.",
)


@blp.route("")
class AuditEvents(MethodView):
    @roles("admin")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEventSchema(many=True))
    @blp.paginate(SelectPage, sort=AUDIT_SORT, **PAGINATION)
    @blp.doc(operationId="list_audit_events")
    def get(self, args):
        """List the audit trail

        The organisation's audit events: exports, erasures and deletions of users,
        tokens made for another user, staff changes of a policy or of channel
        settings, assignments, retention changes. Actor and subject are user ids
        (kept after an erasure, with no other personal data). Filter by `action`,
        `actor_id`, `subject_id` and a time range (`at_after`, `at_before`).
        """
        query = select(AuditEvent).where(AuditEvent.org_id == current().org_id)
        for name in ("action", "actor_id", "subject_id"):
            if name in args:
                query = query.where(getattr(AuditEvent, name) == args[name])
        return filter_range(
            query.order_by(AuditEvent.id), AuditEvent.at, args, "at_after", "at_before"
        )
