"""The touches and responses the policy reads for one contact in one application round,
from indexed queries instead of the whole history (which grows without bound).

Why this subset decides exactly as the full history does (the rules in
:mod:`api.policy` only read counting touches):

- the contact's touches of this application and round, all of them: R1, R6's count, the
  thank-you anchor of R4/R5, R11's email follow-up, and the only touches that
  ``touch_id`` or :func:`api.scheduling.placement.yields_to` may leave out;
- the contact's touches (any application) later than ``since - min_gap`` (and a few
  more: those due or sent after it): R7 only looks at touches closer than the gap to the
  time judged, which is never before ``since``, and its search for the next allowed time
  only moves forward;
- one post-rejection note of the application and one answer to this round's invitation
  by someone else (R9, R10 ask only whether one exists, and nothing leaves them out);
- the application's responses and the contact's out-of-office notices (R8-R10, R4, OOO).

``since`` must be at most the time the touch is judged at (``max(at, now)`` for an
automated touch, ``at`` for a manual one); :func:`api.ledger.decide` checks it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, func, not_, or_, select, union_all
from sqlalchemy.orm import Session

from api import policy
from api.ledger.records import touch_record
from api.models import Response, Touch

_COUNTING = tuple(sorted(policy.COUNTING_STATUSES))

#: A touch's ``at`` (:func:`api.ledger.records.touch_record`) is its sent_at once sent,
#: else this: "``at`` later than a time" holds only if one of the two is later.
due_at = func.coalesce(Touch.scheduled_for, Touch.sent_at, Touch.created_at)

_TOUCH_COLUMNS = (
    Touch.id,
    Touch.contact_id,
    Touch.application_id,
    Touch.round,
    Touch.step,
    Touch.channel,
    Touch.status,
    Touch.sent_at,
    Touch.scheduled_for,
    Touch.created_at,
    Touch.automated,
)


def _one(*conditions):
    """At most one counting touch meeting ``conditions``, as a member of a UNION (SQLite
    takes a LIMIT only inside a subquery there)."""
    sub = (
        select(*_TOUCH_COLUMNS)
        .where(Touch.status.in_(_COUNTING), *conditions)
        .order_by(Touch.id)
        .limit(1)
        .subquery()
    )
    return select(*sub.c)


def _statements():
    """The history's query without R7's rows and with them, built once and bound per call
    (a statement reused keeps its compiled form)."""
    contact, app, round_ = bindparam("rh_contact"), bindparam("rh_app"), bindparam("rh_round")
    cut = bindparam("rh_cut", type_=Touch.sent_at.type)
    counting = Touch.status.in_(_COUNTING)
    members = [
        select(*_TOUCH_COLUMNS).where(
            counting,
            Touch.contact_id == contact,
            Touch.application_id == app,
            Touch.round == round_,
        ),
        _one(
            Touch.application_id == app,
            Touch.step == "post_rejection",
            not_(and_(Touch.contact_id == contact, Touch.round == round_)),
        ),
        _one(
            Touch.application_id == app,
            Touch.step == "next_round_reply",
            Touch.round == round_,
            Touch.contact_id != contact,
        ),
    ]
    person = and_(counting, Touch.contact_id == contact)
    near = select(*_TOUCH_COLUMNS).where(person, or_(Touch.sent_at > cut, due_at > cut))  # R7
    return union_all(*members), union_all(*members, near)


_WITHOUT_GAP, _WITH_GAP = _statements()


def relevant_history(
    session: Session,
    contact_id: int,
    application_id: int,
    round_: int,
    since: datetime,
    settings: policy.PolicySettings,
) -> list[policy.TouchRecord]:
    """The counting touches that decide any touch to the contact in this application
    round judged at ``since`` or later, in id order like :func:`api.ledger.history`."""
    params = {"rh_contact": contact_id, "rh_app": application_id, "rh_round": round_}
    statement = _WITHOUT_GAP
    if settings.min_gap:
        statement = _WITH_GAP
        params["rh_cut"] = since - settings.min_gap  # R7 reads touches with ``at`` after it
    rows = {row.id: row for row in session.execute(statement, params)}
    # The selected columns carry touch_record's names: no ORM object for each row.
    return [touch_record(rows[i]) for i in sorted(rows)]


def relevant_responses(
    session: Session, contact_id: int, application_id: int
) -> list[policy.ResponseRecord]:
    """The application's responses (from anyone: a rejection ends the panel's sequences)
    and the contact's out-of-office notices from any application, in the order of
    :func:`api.ledger.responses`. A reply about another application is not read."""
    rows = session.execute(
        select(
            Response.id,
            Response.contact_id,
            Response.application_id,
            Response.round,
            Response.kind,
            Response.occurred_at,
            Response.decision_date,
            Response.until,
        )
        .where(
            or_(
                Response.application_id == application_id,
                and_(Response.contact_id == contact_id, Response.kind == "out_of_office"),
            )
        )
        .order_by(Response.occurred_at, Response.id)
    )
    return [policy.ResponseRecord(*row) for row in rows]
