"""People on the hiring side, each owned by one candidate."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api import ledger, scheduling
from api.auth import ALL_ROLES, current, get_visible, resolve_candidate, roles, scope
from api.contact_identity import normal_email, refuse_duplicates
from api.db import get_session
from api.models import Contact, utcnow
from api.resources.common import PAGINATION, Blueprint, SelectPage, apply_changes, filter_equal
from api.resources.listing import Sort, filter_range
from api.schemas.records import (
    ContactCreateSchema,
    ContactQuerySchema,
    ContactSchema,
    ContactUpdateSchema,
)
from api.schemas.touches import ContactChangeSchema

CONTACT_SORT = Sort(
    Contact.id, name=Contact.name, company=Contact.company, created_at=Contact.created_at
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
    @blp.paginate(SelectPage, sort=CONTACT_SORT, **PAGINATION)
    def get(self, args):
        """List contacts

        The contacts the caller may see: a candidate's own, an advisor's
        candidates', an admin's organisation's; filtered and paginated.
        """
        query = scope(select(Contact), Contact, current())
        if "email" in args:
            args["email"] = normal_email(args["email"])
        query = filter_equal(query, Contact, args, "candidate_id", "company", "email")
        query = filter_range(query, Contact.created_at, args, "created_after", "created_before")
        return query.order_by(Contact.id)

    @roles(*ALL_ROLES)
    @blp.arguments(ContactCreateSchema)
    @blp.response(201, ContactSchema)
    @blp.alt_response(409, response="CONFLICT", description="Email or phone already on a contact")
    def post(self, data):
        """Add a contact

        One contact per person: an email or phone already on another of the candidate's
        contacts is a 409 naming the field, with `existing_id`."""
        candidate = resolve_candidate(data.pop("candidate_id", None))
        if data.get("email"):
            data["email"] = normal_email(data["email"])
        data.setdefault("timezone", candidate.timezone)
        session = get_session()
        refuse_duplicates(session, candidate.id, data)
        contact = Contact(org_id=candidate.org_id, candidate_id=candidate.id, **data)
        session.add(contact)
        _commit(session, candidate.id, data)
        return contact


@blp.route("/<int:contact_id>")
class ContactById(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, ContactSchema)
    def get(self, contact_id):
        """Show a contact

        One contact with their addresses, zone, preferred channel, SMS opt-out and
        whether their email address is undeliverable.
        """
        return get_visible(Contact, contact_id)

    @roles(*ALL_ROLES)
    @blp.etag
    @blp.arguments(ContactUpdateSchema)
    @blp.response(200, ContactChangeSchema)
    @blp.alt_response(409, response="CONFLICT", description="Email or phone already on a contact")
    def patch(self, data, contact_id):
        """Change a contact

        Changes the fields given. A new email address clears an undeliverable mark;
        an address or phone another of the candidate's contacts has is a 409 with
        `existing_id`. Pending touches are re-planned for the change (zone,
        channel), in the same request.
        """
        contact = get_visible(Contact, contact_id)
        blp.check_etag(contact, ContactSchema)
        if data.get("email"):
            data["email"] = normal_email(data["email"])
        session = get_session()
        refuse_duplicates(session, contact.candidate_id, data, except_id=contact.id)
        if "email" in data and data["email"] != contact.email:
            # A bounce said the old address cannot be reached; the new one is untried.
            contact.email_undeliverable_at = contact.email_undeliverable_reason = None
        apply_changes(contact, data)
        actor = ledger.actor_for_user(current().user_id)

        def replan() -> None:
            # A new zone, address or do-not-contact re-plans every pending touch to them.
            contact.affected_touches = scheduling.replan_where(
                session, utcnow(), actor, contact_id=contact.id
            )

        _commit(session, contact.candidate_id, data, except_id=contact.id, then=replan)
        blp.set_etag(contact, ContactSchema)
        return contact

    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(204)
    def delete(self, contact_id):
        """Delete a contact and its history

        Removes the contact with their touches and responses. Nothing pending to
        them is sent afterwards; `do_not_contact` keeps the history and stops the
        touches instead.
        """
        session = get_session()
        contact = get_visible(Contact, contact_id)
        blp.check_etag(contact, ContactSchema)
        session.delete(contact)
        session.commit()


def _commit(session, candidate_id: int, data: dict, except_id: int | None = None, then=None):
    """Commit (after ``then``, which sees the change flushed); a concurrent request that
    took the same address first makes the unique index refuse ours: answer the same 409
    as the check before it would have."""
    try:
        if then is not None:
            session.flush()
            then()
        session.commit()
    except IntegrityError:
        session.rollback()
        refuse_duplicates(session, candidate_id, data, except_id)
        raise
