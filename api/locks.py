"""Row locks that serialise what counts a limit, always taken in one order.

The order is: the candidate's user row (the daily cap's scope), then contact rows in id
order (the budget's and the gap's scope), then a touch row. Every path that creates or
moves a touch takes them in this order, so two requests never wait on each other in a
circle. PostgreSQL row locks; SQLite already serialises writers.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import ledger
from api.models import Contact, User


def lock_candidate(session: Session, candidate_id: int) -> None:
    """Serialise everything that counts the candidate's daily cap at creation, so that
    concurrent requests to different contacts cannot all read "4 of 5 today".

    FOR NO KEY UPDATE, not FOR UPDATE: inserting a row that references the candidate (a
    response, a contact) takes FOR KEY SHARE on this row, which FOR UPDATE would block; a
    response holding its contact's lock would then wait for us while we wait for that
    contact: a deadlock."""
    session.execute(select(User.id).where(User.id == candidate_id).with_for_update(key_share=True))


def lock_for_touches(
    session: Session, candidate_id: int, contact_ids: Iterable[int]
) -> dict[int, Contact]:
    """The candidate's lock, then each contact's, in id order; the contacts re-read locked."""
    lock_candidate(session, candidate_id)
    return {cid: ledger.lock_contact(session, cid) for cid in sorted(set(contact_ids))}
