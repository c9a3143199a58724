"""What needs someone now, per candidate: counted at the moment of the request, whatever
the report's range (a draft waiting since last month still waits)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session

from api.models import Contact, InboundMail, Touch
from api.models.base import UTCDateTime
from api.reports.figures import Narrow, _sum

#: A scheduled touch this late has missed its time (the worker claims due touches within
#: seconds; an hour means it is stuck or the worker is down).
OVERDUE = timedelta(hours=1)
FIGURES = (
    "drafts_awaiting_approval",
    "past_deadline",
    "unknown_outcomes",
    "bounced_addresses",
    "unmatched_inbound",
)


def attention(session: Session, narrow: Narrow, now: datetime) -> dict[int | None, Counter]:
    """{candidate_id: Counter}; key ``None``: unmatched mail no candidate was named for
    (an org's mailbox), which only the organisation's total shows."""
    at = literal(now, UTCDateTime())
    late = literal(now - OVERDUE, UTCDateTime())
    expired = and_(Touch.status == "draft", Touch.approve_by.is_not(None), Touch.approve_by <= at)
    touches = (
        select(
            Touch.candidate_id,
            _sum(and_(Touch.status == "draft", ~expired)).label("drafts_awaiting_approval"),
            _sum(
                or_(expired, and_(Touch.status == "scheduled", Touch.scheduled_for <= late))
            ).label("past_deadline"),
            _sum(Touch.status == "unknown").label("unknown_outcomes"),
        )
        .where(Touch.status.in_(("draft", "scheduled", "unknown")))
        .group_by(Touch.candidate_id)
    )
    bounced = (
        select(Contact.candidate_id, func.count().label("bounced_addresses"))
        .where(Contact.email_undeliverable_at.is_not(None))
        .group_by(Contact.candidate_id)
    )
    found: dict = defaultdict(Counter)
    for query, model in ((touches, Touch), (bounced, Contact)):
        for row in session.execute(narrow(query, model)).mappings():
            values = dict(row)
            candidate = values.pop("candidate_id")
            found[candidate].update({k: int(v) for k, v in values.items() if v})
    unmatched = (
        select(InboundMail.candidate_id, func.count())
        .where(InboundMail.outcome == "unmatched")
        .group_by(InboundMail.candidate_id)
    )
    for candidate, n in session.execute(narrow(unmatched, InboundMail)):
        found[candidate]["unmatched_inbound"] += n
    return found
