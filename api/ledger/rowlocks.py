"""Row locks on a contact and on a touch, taken before deciding on or changing touches.

They keep two requests (or a request and the worker) from both taking the last slot of a
budget or both changing one touch. Not to be confused with :mod:`api.locks`, which builds
on these for the resources.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Contact, Touch
from api.sql_lists import among


def lock_contact(session: Session, contact_id: int) -> Contact:
    """Serialise touch creation per contact, so concurrent requests cannot both take the
    last touch of a budget (PostgreSQL row lock; SQLite already serialises writers)."""
    return session.scalars(select(Contact).where(Contact.id == contact_id).with_for_update()).one()


def lock_contacts(session: Session, contact_ids: list[int]) -> list[Contact]:
    """:func:`lock_contact` for many in one statement, in id order (two batches locking
    the same people in the same order cannot deadlock)."""
    if not contact_ids:
        return []
    return list(
        session.scalars(
            select(Contact)
            .where(among(session, Contact.id, sorted(set(contact_ids))))
            .order_by(Contact.id)
            .with_for_update()
        )
    )


def lock_touch(session: Session, touch_id: int) -> Touch:
    """Re-read a touch under a row lock, so a change by the candidate and the worker's claim
    of the same touch cannot both win (the later one sees the other's status)."""
    return session.scalars(
        select(Touch)
        .where(Touch.id == touch_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
