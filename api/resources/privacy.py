"""A candidate's data, theirs to take and to erase: export and erasure.

Who may: the candidate themselves, or an admin of their organisation. Not an advisor:
an export or an erasure is the candidate's own request (the advisor sees their records
through the API as before). A user the caller may not see is a 404; an advisor asking
for a candidate assigned to them is a 403. Both are in the audit trail.
"""

from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView

from api.auth import ALL_ROLES, current, roles
from api.db import get_session
from api.models import User, utcnow
from api.privacy import audit, erasure, export, files
from api.problems import Problem
from api.resources.common import Blueprint
from api.resources.users import get_visible_user
from api.schemas.privacy import ErasedSchema, ErasureSchema

blp = Blueprint(
    "privacy",
    __name__,
    url_prefix="/v1/users",
    description="A candidate's data exported (a ZIP) and erased, by the candidate or an admin.",
)
ZIP = "application/zip"


def subject_user(user_id: int) -> User:
    """The user whose data is asked for: the caller, or anyone of the org for an admin."""
    user = get_visible_user(user_id)
    principal = current()
    if principal.role != "admin" and user.id != principal.user_id:
        raise Problem(
            403,
            "Only the candidate themselves or an admin may export or erase a candidate's data.",
        )
    return user


def erase_user(user: User, *, action: str) -> dict:
    """Erase ``user`` for the caller (the erasure endpoint and an admin's DELETE): the
    audit row in the erasure's transaction, the files after its commit. A touch being
    sent right now is a 409 with Retry-After (its pending ones are cancelled already)."""
    session = get_session()
    principal = current()
    user_id, org_id, role = user.id, user.org_id, user.role
    try:
        erased = erasure.erase(session, user, utcnow(), current_app.config)
    except erasure.InFlight as busy:
        session.commit()  # the cancellations stand: nothing more will be sent
        raise Problem(
            409,
            f"{len(busy.touch_ids)} message(s) of this user are being sent right now; their "
            "pending touches are cancelled. Retry the erasure in a few seconds.",
            type_="urn:touchbase:problem:erasure-in-flight",
            title="A message is being sent",
            headers={"Retry-After": str(busy.retry_after)},
        ) from None
    audit.record(
        session,
        action,
        org_id=org_id,
        actor_id=principal.user_id,
        actor_role=principal.role,
        subject_id=user_id,
        data={
            "role": role,
            "cancelled_touches": erased.cancelled,
            "rows": sum(erased.rows.values()),
            "files": len(erased.files),
        },
    )
    session.commit()
    removed = files.remove(erased.files)
    return {
        "user_id": user_id,
        "cancelled_touches": erased.cancelled,
        "rows_deleted": {k: v for k, v in erased.rows.items() if v},
        "files_removed": removed,
    }


@blp.route("/<int:user_id>/export")
class UserExport(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(200, description="The export (a ZIP)", content_type=ZIP)
    @blp.alt_response(403, response="FORBIDDEN", description="An advisor, or another user")
    @blp.doc(operationId="export_user")
    def get(self, user_id):
        """Export everything Touchbase holds of a user, as a ZIP

        The candidate themselves or an admin downloads one ZIP:
        `touchbase-export-<id>/data.json` (the profile, contacts, applications,
        interviews with the notes on each interviewer, touches with their events,
        responses with their corrections, inbound mail, the candidate's policy,
        channel settings without their secrets, templates, calendar feed and tokens
        without their secrets, assignments, the audit events about them),
        `messages/*.eml` (the exact emails the outbox kept) and a `README.txt`
        describing the layout. Each export is in the audit trail.
        """
        user = subject_user(user_id)
        session = get_session()
        body = export.build(session, user, current_app.config)
        audit.by_caller(session, "export", user.id, bytes=len(body))
        session.commit()
        return Response(
            body,
            status=200,
            content_type=ZIP,
            headers={
                "Content-Disposition": f'attachment; filename="touchbase-export-{user_id}.zip"',
                "Cache-Control": "no-store",
            },
        )


@blp.route("/<int:user_id>/erasure")
class UserErasure(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(ErasureSchema)
    @blp.response(200, ErasedSchema)
    @blp.alt_response(403, response="FORBIDDEN", description="An advisor, or another user")
    @blp.alt_response(409, response="CONFLICT", description="A message is being sent, or self")
    @blp.doc(operationId="erase_user")
    def post(self, data, user_id):
        """Erase a user and everything of theirs (confirm with their email address)

        The candidate themselves or an admin erases a user: their pending touches are
        cancelled first (nothing of theirs is sent after); a message being sent at
        that moment is a 409 with Retry-After, to retry once it is written down. Then
        every row of theirs (records, touches and events, responses, inbound mail,
        settings, templates, tokens, feeds, assignments, stored answers of POSTs,
        webhook events about them) and every outbox file of their messages is
        deleted. `confirm` must be the user's email address (422 otherwise). The
        audit trail keeps that user id N was erased, by whom, and nothing else of
        them. An admin cannot erase their own account (409).
        """
        user = subject_user(user_id)
        if data["confirm"].strip().lower() != user.email.lower():
            raise Problem(
                422,
                "Invalid input: confirm: Must be the email address of the user being erased.",
                errors={"confirm": ["Must be the email address of the user being erased."]},
            )
        principal = current()
        if principal.role == "admin" and user.id == principal.user_id:
            raise Problem(409, "You cannot erase your own admin account.")
        return erase_user(user, action="erasure")
