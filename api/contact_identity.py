"""One contact record is one person: the same address twice for a candidate is refused.

Every rule counts per contact record: the budget and the gap (R6, R7), the one thank-you
(R1), the stop on a reply (R8), an out-of-office, an SMS opt-out. So a candidate's second
contact with an email address or phone number already on one of their contacts is refused
with a 409 naming the field and the existing contact (``existing_id``), rather than
quietly getting a budget of its own. Unique indexes on (candidate, email) and (candidate,
phone) back this up under concurrency. Another candidate's contact is never a duplicate.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Contact
from api.problems import Problem

#: The fields that identify a person, in the order a conflict is reported.
IDENTIFYING = ("email", "phone")


def normal_email(address: str | None) -> str | None:
    """The form an email address is stored and compared in: trimmed and lower-cased.

    Domains are case-insensitive by standard, and every mainstream mail system treats the
    local part so too. Provider aliases (dots, "+tags") are not folded: they are not the
    same mailbox everywhere. Phones need nothing here: the Phone field stores E.164."""
    if address is None:
        return None
    return address.strip().lower()


def duplicates(
    session: Session, candidate_id: int, values: dict, except_id: int | None = None
) -> dict[str, int]:
    """Field -> id of the candidate's other contact that already has that value."""
    found = {}
    for field in IDENTIFYING:
        value = values.get(field)
        if not value:
            continue
        column = getattr(Contact, field)
        query = select(Contact.id).where(Contact.candidate_id == candidate_id, column == value)
        if except_id is not None:
            query = query.where(Contact.id != except_id)
        existing = session.scalar(query.order_by(Contact.id))
        if existing is not None:
            found[field] = existing
    return found


def refuse_duplicates(
    session: Session, candidate_id: int, values: dict, except_id: int | None = None
) -> None:
    """409 naming each field already on another of the candidate's contacts."""
    found = duplicates(session, candidate_id, values, except_id)
    if not found:
        return
    errors = {
        field: [
            f"Contact {existing} already has this {field}: one person is one contact, with "
            "one touch budget. Change that contact instead."
        ]
        for field, existing in found.items()
    }
    raise Problem(
        409,
        "Same person as an existing contact: "
        + "; ".join(f"{field} is on contact {existing}" for field, existing in found.items())
        + ".",
        type_="urn:touchbase:problem:duplicate-contact",
        title="Duplicate contact",
        errors=errors,
        existing_id=next(iter(found.values())),
    )
