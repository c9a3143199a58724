"""A candidate's pursuit of one position at one company."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from api import ledger, scheduling
from api.auth import ALL_ROLES, current, get_visible, resolve_candidate, roles, scope
from api.db import get_session
from api.models import Application, utcnow
from api.resources.common import PAGINATION, Blueprint, SelectPage, apply_changes, filter_equal
from api.resources.listing import Sort, filter_range
from api.schemas.records import (
    ApplicationCreateSchema,
    ApplicationQuerySchema,
    ApplicationSchema,
    ApplicationUpdateSchema,
)
from api.schemas.touches import ApplicationChangeSchema

APPLICATION_SORT = Sort(
    Application.id,
    company=Application.company,
    position=Application.position,
    status=Application.status,
    decision_expected_on=Application.decision_expected_on,
    created_at=Application.created_at,
    updated_at=Application.updated_at,
)

blp = Blueprint(
    "applications",
    __name__,
    url_prefix="/v1/applications",
    description="Positions a candidate pursues, with their status and expected decision date.",
)


@blp.route("")
class Applications(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(ApplicationQuerySchema, location="query")
    @blp.response(200, ApplicationSchema(many=True))
    @blp.paginate(SelectPage, sort=APPLICATION_SORT, **PAGINATION)
    def get(self, args):
        """List applications

        The applications the caller may see: their own (a candidate), their assigned
        candidates' (an advisor) or the organisation's (an admin), filtered by
        candidate or status, paginated.
        """
        query = scope(select(Application), Application, current())
        query = filter_equal(query, Application, args, "candidate_id", "status", "company")
        query = filter_range(query, Application.created_at, args, "created_after", "created_before")
        return query.order_by(Application.id)

    @roles(*ALL_ROLES)
    @blp.arguments(ApplicationCreateSchema)
    @blp.response(201, ApplicationSchema)
    def post(self, data):
        """Add an application

        A position a candidate pursues, with its status and, when the employer gave
        one, the date a decision is expected (R4 waits for it). A candidate adds
        their own; staff name the candidate with `candidate_id`.
        """
        candidate = resolve_candidate(data.pop("candidate_id", None))
        application = Application(org_id=candidate.org_id, candidate_id=candidate.id, **data)
        session = get_session()
        session.add(application)
        session.commit()
        return application


@blp.route("/<int:application_id>")
class ApplicationById(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, ApplicationSchema)
    def get(self, application_id):
        """Show an application

        One application with its status and expected decision date. Another
        candidate's application, or one outside the caller's reach, is a 404.
        """
        return get_visible(Application, application_id)

    @roles(*ALL_ROLES)
    @blp.etag
    @blp.arguments(ApplicationUpdateSchema)
    @blp.response(200, ApplicationChangeSchema)
    def patch(self, data, application_id):
        """Change an application; its pending touches are re-planned at once

        A new decision date moves the follow-ups (R4); a withdrawn application cancels
        what is pending. `affected_touches` lists the touches that moved or were cancelled.
        """
        session = get_session()
        application = get_visible(Application, application_id)
        blp.check_etag(application, ApplicationSchema)
        apply_changes(application, data)
        session.flush()
        actor = ledger.actor_for_user(current().user_id)
        application.affected_touches = scheduling.replan(session, application, utcnow(), actor)
        session.commit()
        blp.set_etag(application, ApplicationSchema)
        return application

    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(204)
    def delete(self, application_id):
        """Delete an application with its interviews and touches

        Removes the application, its interviews, touches and responses. Nothing
        pending of it is sent afterwards; use `status` instead to keep the history
        of a closed application.
        """
        session = get_session()
        application = get_visible(Application, application_id)
        blp.check_etag(application, ApplicationSchema)
        session.delete(application)
        session.commit()
