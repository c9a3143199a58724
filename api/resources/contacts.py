"""People on the hiring side, each owned by one candidate."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from api.auth import ALL_ROLES, current, get_visible, resolve_candidate, roles, scope
from api.db import get_session
from api.models import Contact
from api.resources.common import PAGINATION, Blueprint, SelectPage, apply_changes, filter_equal
from api.schemas.records import (
    ContactCreateSchema,
    ContactQuerySchema,
    ContactSchema,
    ContactUpdateSchema,
)

blp = Blueprint(
    "contacts",
    __name__,
    url_prefix="/v1/contacts",
    description="Interviewers, recruiters and HR people a candidate follows up with.",
)


@blp.route("")
class Contacts(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(ContactQuerySchema, location="query")
    @blp.response(200, ContactSchema(many=True))
    @blp.paginate(SelectPage, **PAGINATION)
    def get(self, args):
        """List contacts"""
        query = scope(select(Contact), Contact, current())
        if "email" in args:
            args["email"] = args["email"].lower()
        query = filter_equal(query, Contact, args, "candidate_id", "company", "email")
        return query.order_by(Contact.id)

    @roles(*ALL_ROLES)
    @blp.arguments(ContactCreateSchema)
    @blp.response(201, ContactSchema)
    def post(self, data):
        """Add a contact"""
        candidate = resolve_candidate(data.pop("candidate_id", None))
        if data.get("email"):
            data["email"] = data["email"].lower()
        data.setdefault("timezone", candidate.timezone)
        contact = Contact(org_id=candidate.org_id, candidate_id=candidate.id, **data)
        session = get_session()
        session.add(contact)
        session.commit()
        return contact


@blp.route("/<int:contact_id>")
class ContactById(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(200, ContactSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, contact_id):
        """Show a contact"""
        return get_visible(Contact, contact_id)

    @roles(*ALL_ROLES)
    @blp.arguments(ContactUpdateSchema)
    @blp.response(200, ContactSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, data, contact_id):
        """Change a contact"""
        contact = get_visible(Contact, contact_id)
        if data.get("email"):
            data["email"] = data["email"].lower()
        apply_changes(contact, data)
        get_session().commit()
        return contact

    @roles(*ALL_ROLES)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, contact_id):
        """Delete a contact and its history"""
        session = get_session()
        session.delete(get_visible(Contact, contact_id))
        session.commit()
