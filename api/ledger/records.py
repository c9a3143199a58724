"""Database rows turned into the engine's plain records, and the loaders that gather a
contact's history, responses, current round and interview end.

What they load is what :mod:`api.policy` asks for: every touch to the person and every
touch and response of the application, so R7-R10 see the whole picture.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, lazyload

from api import policy
from api.models import Contact, Interview, Interviewer, Response, Touch
from api.sql_lists import among


def contact_info(contact: Contact) -> policy.ContactInfo:
    return policy.ContactInfo(
        id=contact.id,
        tz=contact.timezone,
        country=contact.country,
        phone=contact.phone,
        email=contact.email,
        preferred_channel=contact.preferred_channel,
        do_not_contact=contact.do_not_contact,
        sms_opted_out=contact.sms_opted_out,
        email_undeliverable=contact.email_undeliverable_reason
        if contact.email_undeliverable_at
        else None,
    )


def touch_record(touch: Touch) -> policy.TouchRecord:
    """The policy's view of a touch: an ORM Touch, or a row of the same columns
    (api.ledger.relevant selects them without loading objects)."""
    at = touch.sent_at if touch.status in ("sent", "delivered") and touch.sent_at else None
    return policy.TouchRecord(
        id=touch.id,
        contact_id=touch.contact_id,
        application_id=touch.application_id,
        round=touch.round,
        step=touch.step,
        channel=touch.channel,
        status=touch.status,
        at=at or touch.scheduled_for or touch.sent_at or touch.created_at,
        automated=touch.automated,
    )


def response_record(response: Response) -> policy.ResponseRecord:
    return policy.ResponseRecord(
        id=response.id,
        contact_id=response.contact_id,
        application_id=response.application_id,
        round=response.round,
        kind=response.kind,
        occurred_at=response.occurred_at,
        decision_date=response.decision_date,
        until=response.until,
    )


def history(
    session: Session, contact_ids: list[int], application_ids: list[int] | None = None
) -> list[policy.TouchRecord]:
    """Every touch to these contacts (R7 spaces touches to a person, across applications)
    and every touch of these applications (R9/R10 allow one note per application)."""
    condition = Touch.contact_id.in_(contact_ids)
    if application_ids:
        condition = or_(condition, Touch.application_id.in_(application_ids))
    rows = session.scalars(select(Touch).where(condition).order_by(Touch.id)).all()
    return [touch_record(t) for t in rows]


def responses(
    session: Session,
    *,
    contact_ids: list[int] | None = None,
    application_ids: list[int] | None = None,
) -> list[policy.ResponseRecord]:
    """Responses from these contacts (an out-of-office follows the person) and every response
    about these applications (a rejection or an offer from anyone stops the whole panel)."""
    # Records only: the corrections the model loads with each response are not read.
    query = (
        select(Response)
        .options(lazyload(Response.corrections))
        .order_by(Response.occurred_at, Response.id)
    )
    conditions = []
    if contact_ids is not None:
        conditions.append(Response.contact_id.in_(contact_ids))
    if application_ids is not None:
        conditions.append(Response.application_id.in_(application_ids))
    if conditions:
        query = query.where(or_(*conditions))
    return [response_record(r) for r in session.scalars(query)]


def current_round(session: Session, application_id: int) -> int:
    """The latest interview round, moved on by next-round invitations (R10)."""
    interview_round = session.scalar(
        select(func.max(Interview.round)).where(Interview.application_id == application_id)
    )
    invited = session.scalar(
        select(func.max(Response.round)).where(
            Response.application_id == application_id, Response.kind == "next_round"
        )
    )
    return max(interview_round or 1, (invited + 1) if invited else 1)


def interview_end(
    session: Session, contact_id: int, application_id: int, round_: int
) -> datetime | None:
    return session.scalar(
        select(func.max(Interview.ends_at))
        .join(Interviewer, Interviewer.interview_id == Interview.id)
        .where(
            Interviewer.contact_id == contact_id,
            Interview.application_id == application_id,
            Interview.round == round_,
        )
    )


def interview_ends(
    session: Session, contact_ids, application_ids
) -> dict[tuple[int, int, int], datetime | None]:
    """:func:`interview_end` for every (contact, application, round) of a batch, in one
    query."""
    rows = session.execute(
        select(
            Interviewer.contact_id,
            Interview.application_id,
            Interview.round,
            func.max(Interview.ends_at),
        )
        .join(Interviewer, Interviewer.interview_id == Interview.id)
        .where(
            among(session, Interviewer.contact_id, contact_ids),
            among(session, Interview.application_id, application_ids),
        )
        .group_by(Interviewer.contact_id, Interview.application_id, Interview.round)
    ).all()
    return {(c, a, r): end for c, a, r, end in rows}


#: Clock skew tolerated on times a client states (a response's or logged touch's
#: ``occurred_at``, a touch's ``scheduled_for``).
GRACE = timedelta(minutes=5)
