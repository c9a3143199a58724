"""Interviews within an application, with the panel and the candidate's notes per interviewer."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from api import ledger, scheduling
from api.auth import ALL_ROLES, current, get_referenced, get_visible, roles, scope
from api.db import get_session
from api.models import Application, Contact, Interview, Interviewer, utcnow
from api.resources.common import (
    PAGINATION,
    Blueprint,
    SelectPage,
    apply_changes,
    field_error,
    filter_equal,
)
from api.resources.listing import Sort, filter_range
from api.schemas.records import (
    InterviewCreateSchema,
    InterviewQuerySchema,
    InterviewSchema,
    InterviewUpdateSchema,
)
from api.schemas.touches import InterviewChangeSchema

INTERVIEW_SORT = Sort(
    Interview.id,
    starts_at=Interview.starts_at,
    round=Interview.round,
    created_at=Interview.created_at,
    updated_at=Interview.updated_at,
)

blp = Blueprint(
    "interviews",
    __name__,
    url_prefix="/v1/interviews",
    description="Interviews and their panels; each interviewer carries the candidate's notes.",
)


def _panel(candidate_id: int, entries: list[dict]) -> list[Interviewer]:
    """Interviewer rows; every contact must be one of this candidate's (else 422 naming it)."""
    ids = [e["contact_id"] for e in entries]
    owned = set(
        get_session().scalars(
            select(Contact.id).where(Contact.candidate_id == candidate_id, Contact.id.in_(ids))
        )
    )
    for i, contact_id in enumerate(ids):
        if contact_id not in owned:
            raise field_error(f"interviewers.{i}.contact_id", "Unknown contact.")
    return [Interviewer(position=i, **entry) for i, entry in enumerate(entries)]


@blp.route("")
class Interviews(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(InterviewQuerySchema, location="query")
    @blp.response(200, InterviewSchema(many=True))
    @blp.paginate(SelectPage, sort=INTERVIEW_SORT, **PAGINATION)
    def get(self, args):
        """List interviews

        The interviews the caller may see, with their panels, filtered by
        application or candidate, paginated.
        """
        query = scope(select(Interview), Interview, current())
        query = filter_equal(query, Interview, args, "candidate_id", "application_id")
        if "starts_after" in args:
            query = query.where(Interview.starts_at >= args["starts_after"])
        if "starts_before" in args:
            query = query.where(Interview.starts_at < args["starts_before"])
        query = filter_range(query, Interview.created_at, args, "created_after", "created_before")
        return query.order_by(Interview.starts_at, Interview.id)

    @roles(*ALL_ROLES)
    @blp.arguments(InterviewCreateSchema)
    @blp.response(201, InterviewSchema)
    def post(self, data):
        """Add an interview with its panel

        An interview of an application with its panel: each interviewer is one of
        the candidate's contacts, with the candidate's notes on them (a specific
        point to mention in the thank-you, R3). Plan the follow-ups with POST
        /v1/interviews/{id}/plan.
        """
        application = get_referenced(Application, data.pop("application_id"), "application_id")
        panel = _panel(application.candidate_id, data.pop("interviewers"))
        interview = Interview(
            org_id=application.org_id,
            candidate_id=application.candidate_id,
            application_id=application.id,
            interviewers=panel,
            **data,
        )
        session = get_session()
        session.add(interview)
        session.commit()
        return interview


@blp.route("/<int:interview_id>")
class InterviewById(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, InterviewSchema)
    def get(self, interview_id):
        """Show an interview

        One interview with its times, format, round and panel.
        """
        return get_visible(Interview, interview_id)

    @roles(*ALL_ROLES)
    @blp.etag
    @blp.arguments(InterviewUpdateSchema)
    @blp.response(200, InterviewChangeSchema)
    def patch(self, data, interview_id):
        """Change an interview; `interviewers` replaces the whole panel

        Changes the fields given; `interviewers` replaces the whole panel. A new
        time re-plans the pending touches of the application in the same request;
        the answer lists them in `affected_touches`.
        """
        interview = get_visible(Interview, interview_id)
        blp.check_etag(interview, InterviewSchema)
        starts = data.get("starts_at", interview.starts_at)
        ends = data.get("ends_at", interview.ends_at)
        if ends <= starts:
            raise field_error("ends_at", "Must be after starts_at.")
        session = get_session()
        if "interviewers" in data:
            interview.interviewers = []
            session.flush()
            interview.interviewers = _panel(interview.candidate_id, data.pop("interviewers"))
        apply_changes(interview, data)
        session.flush()
        # A new end time moves the thank-yous (R2) and the steps after them.
        actor = ledger.actor_for_user(current().user_id)
        application = session.get(Application, interview.application_id)
        interview.affected_touches = scheduling.replan(session, application, utcnow(), actor)
        session.commit()
        blp.set_etag(interview, InterviewSchema)
        return interview

    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(204)
    def delete(self, interview_id):
        """Delete an interview

        Removes the interview and its touches; what is pending of it is never sent.
        """
        session = get_session()
        interview = get_visible(Interview, interview_id)
        blp.check_etag(interview, InterviewSchema)
        session.delete(interview)
        session.commit()
