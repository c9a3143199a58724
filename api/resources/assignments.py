"""Which advisor works with which candidate."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from api.auth import ALL_ROLES, current, roles
from api.db import get_session
from api.models import Assignment, User
from api.privacy import audit
from api.problems import Problem
from api.resources.common import (
    PAGINATION,
    Blueprint,
    SelectPage,
    conflict,
    field_error,
    filter_equal,
)
from api.resources.listing import Sort, filter_range
from api.schemas.people import AssignmentCreateSchema, AssignmentQuerySchema, AssignmentSchema

#: Lists sortable by creation only share one enum of sort keys (CreatedSort).
ASSIGNMENT_SORT = Sort(Assignment.id, component="CreatedSort", created_at=Assignment.created_at)

blp = Blueprint(
    "assignments",
    __name__,
    url_prefix="/v1/assignments",
    description="Advisor <-> candidate assignments; admins manage them.",
)


def _visible_assignments():
    principal = current()
    query = select(Assignment).where(Assignment.org_id == principal.org_id)
    if principal.role == "advisor":
        query = query.where(Assignment.advisor_id == principal.user_id)
    elif principal.role == "candidate":
        query = query.where(Assignment.candidate_id == principal.user_id)
    return query


def _org_user_with_role(user_id: int, role: str, field: str) -> User:
    user = get_session().get(User, user_id)
    if user is None or user.org_id != current().org_id:
        raise field_error(field, "Unknown user.")
    if user.role != role:
        raise field_error(field, f"Must be a user with the {role} role.")
    return user


@blp.route("")
class Assignments(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(AssignmentQuerySchema, location="query")
    @blp.response(200, AssignmentSchema(many=True))
    @blp.paginate(SelectPage, sort=ASSIGNMENT_SORT, **PAGINATION)
    def get(self, args):
        """List assignments the caller may see

        Which advisor follows which candidate: an admin sees the organisation's, an
        advisor their own candidates, a candidate their advisors.
        """
        query = filter_equal(_visible_assignments(), Assignment, args, "advisor_id", "candidate_id")
        query = filter_range(query, Assignment.created_at, args, "created_after", "created_before")
        return query.order_by(Assignment.id)

    @roles("admin")
    @blp.arguments(AssignmentCreateSchema)
    @blp.response(201, AssignmentSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data):
        """Assign a candidate to an advisor

        An admin gives a candidate to an advisor, who from then on sees and acts for
        that candidate. Assigning the same pair twice is a 409.
        """
        advisor = _org_user_with_role(data["advisor_id"], "advisor", "advisor_id")
        candidate = _org_user_with_role(data["candidate_id"], "candidate", "candidate_id")
        session = get_session()
        exists = session.scalar(
            select(Assignment.id).where(
                Assignment.advisor_id == advisor.id, Assignment.candidate_id == candidate.id
            )
        )
        if exists:
            raise conflict("candidate_id", "Already assigned to this advisor.")
        assignment = Assignment(
            org_id=current().org_id, advisor_id=advisor.id, candidate_id=candidate.id
        )
        session.add(assignment)
        session.flush()
        audit.by_caller(
            session,
            "assignment.created",
            candidate.id,
            assignment_id=assignment.id,
            advisor_id=advisor.id,
        )
        session.commit()
        return assignment


@blp.route("/<int:assignment_id>")
class AssignmentById(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, AssignmentSchema)
    def get(self, assignment_id):
        """Show an assignment

        One advisor-candidate assignment the caller may see.
        """
        return _get(assignment_id)

    @roles("admin")
    @blp.etag
    @blp.response(204)
    def delete(self, assignment_id):
        """End an assignment

        The advisor stops seeing the candidate at once; nothing of the candidate's
        is changed.
        """
        session = get_session()
        assignment = _get(assignment_id)
        blp.check_etag(assignment, AssignmentSchema)
        audit.by_caller(
            session,
            "assignment.deleted",
            assignment.candidate_id,
            assignment_id=assignment.id,
            advisor_id=assignment.advisor_id,
        )
        session.delete(assignment)
        session.commit()


def _get(assignment_id: int) -> Assignment:
    found = (
        get_session().scalars(_visible_assignments().where(Assignment.id == assignment_id)).first()
    )
    if found is None:
        raise Problem(404, "No such assignment.")
    return found
