"""The policy verdict on a touch with the database behind it: the situation of one contact
in one application, the daily-cap count, and :func:`decide`/:func:`recheck`.

Creation and send time ask the same question through :func:`decide`; the worker passes
what it loaded for a whole batch so that nothing is read twice. A situation loaded for a
time (``since``) holds only the rows that decide touches judged from then on
(:mod:`api.ledger.relevant`), not the contact's and application's whole history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from api import policy, timewindow
from api.ledger.layers import effective_policy
from api.ledger.records import contact_info, history, interview_end, responses
from api.ledger.relevant import relevant_history, relevant_responses
from api.models import Application, Contact, Touch
from api.timebounds import bounded, clamp_instant

COUNTING = tuple(sorted(policy.COUNTING_STATUSES))


#: The candidate's other automated touches on a touch's local day (the daily cap), as one
#: statement built once and bound with :func:`daily_cap_params` (a statement reused keeps
#: its compiled form).
SENDS_ON_LOCAL_DAY = select(func.count()).where(
    Touch.candidate_id == bindparam("cap_candidate"),
    Touch.automated.is_(True),
    Touch.status.in_(COUNTING),
    func.coalesce(Touch.sent_at, Touch.scheduled_for) >= bindparam("cap_start"),
    func.coalesce(Touch.sent_at, Touch.scheduled_for) < bindparam("cap_end"),
    Touch.id != bindparam("cap_exclude"),
)


def daily_cap_params(
    contact: Contact,
    *,
    channel: str,
    at: datetime,
    automated: bool,
    now: datetime,
    touch_id: int | None,
) -> dict[str, Any] | None:
    """The parameters of :data:`SENDS_ON_LOCAL_DAY` for a touch due at ``at``, or ``None``
    when the touch does not count toward the cap (manual, or not automated)."""
    if not automated or channel == "manual":
        return None
    day = clamp_instant(max(at, now))  # a stored time past the working range: its bound
    start, end = timewindow.local_day_bounds(day, contact.timezone)
    return {
        "cap_candidate": contact.candidate_id,
        "cap_start": start,
        "cap_end": end,
        "cap_exclude": touch_id if touch_id is not None else 0,  # ids start at 1
    }


@dataclass
class Situation:
    """Everything the engine needs about one contact in one application.

    ``since``: the history holds only what decides touches judged at that time or later
    (None: the whole history, good for any time)."""

    settings: policy.PolicySettings
    contact: policy.ContactInfo
    history: list[policy.TouchRecord]
    responses: list[policy.ResponseRecord]
    interview_end: datetime | None
    decision_date: date | None
    since: datetime | None = None

    def covers(self, at: datetime) -> bool:
        """Whether a touch judged at ``at`` may be decided from this situation."""
        return self.since is None or at >= self.since

    def budget(self, round_: int, now: datetime, application_id: int) -> dict[str, Any]:
        """The contact's budget in this round (GET .../budget), from this situation."""
        return policy.budget_summary(
            self.settings,
            self.contact,
            self.history,
            self.responses,
            round_,
            now,
            application_id=application_id,
            interview_end=self.interview_end,
            decision_date=self.decision_date,
        )


def situation(
    session: Session,
    contact: Contact,
    application: Application,
    round_: int,
    *,
    since: datetime | None = None,
) -> Situation:
    """The situation of a contact in an application round. With ``since`` (the earliest
    time a touch will be judged at: ``now`` for automated ones), only the rows that can
    decide it, from indexed queries; without, the whole history (as the worker's batch
    loads it)."""
    settings, _ = effective_policy(session, contact.org_id, contact.candidate_id, contact.id)
    if since is None:
        found = history(session, [contact.id], [application.id])
        heard = responses(session, contact_ids=[contact.id], application_ids=[application.id])
    else:
        since = bounded(since, "since")
        found = relevant_history(session, contact.id, application.id, round_, since, settings)
        heard = relevant_responses(session, contact.id, application.id)
    return Situation(
        settings=settings,
        contact=contact_info(contact),
        history=found,
        responses=heard,
        interview_end=interview_end(session, contact.id, application.id, round_),
        decision_date=application.decision_expected_on,
        since=since,
    )


def judged_at(at: datetime, now: datetime, *, automated: bool, channel: str) -> datetime:
    """The time :func:`api.policy.evaluate` judges a touch at: a manual one at its own
    time, an automated one no earlier than now."""
    at = bounded(at, "at")
    if not automated or channel == "manual":
        return at
    return max(at, bounded(now, "now"))


def decide(
    session: Session,
    contact: Contact,
    application: Application,
    *,
    round_: int,
    step: str,
    channel: str,
    at: datetime,
    automated: bool,
    now: datetime,
    touch_id: int | None = None,
    where: Situation | None = None,
    sends_today: int | None = None,
) -> policy.Decision:
    """The policy verdict on one touch, at creation or at the moment of sending.
    ``sends_today``: the daily-cap count when the caller has read it already."""
    judged = judged_at(at, now, automated=automated, channel=channel)
    if where is None or not where.covers(judged):
        where = situation(session, contact, application, round_, since=judged)
    proposed = policy.ProposedTouch(
        contact_id=contact.id,
        application_id=application.id,
        round=round_,
        step=step,
        channel=channel,
        at=at,
        automated=automated,
        touch_id=touch_id,
    )
    sends = 0
    cap = daily_cap_params(
        contact, channel=channel, at=at, automated=automated, now=now, touch_id=touch_id
    )
    if cap is not None:
        sends = sends_today
        if sends is None:
            sends = session.scalar(SENDS_ON_LOCAL_DAY, cap) or 0
    # Later steps of the same chain give way (api.scheduling re-plans them after it).
    from api.scheduling.placement import yields_to

    history = [h for h in where.history if not yields_to(h, proposed)]
    return policy.evaluate(
        where.settings,
        where.contact,
        history,
        where.responses,
        proposed,
        now,
        candidate_sends_today=sends,
        interview_end=where.interview_end,
        decision_date=where.decision_date,
    )


def recheck_sends_params(touch: Touch, contact: Contact, now: datetime) -> dict[str, Any] | None:
    """:func:`daily_cap_params` as :func:`recheck` uses them for ``touch``, for a caller
    that reads the count in a statement of its own."""
    return daily_cap_params(
        contact,
        channel=touch.channel,
        at=touch.scheduled_for or now,
        automated=touch.automated,
        now=now,
        touch_id=touch.id,
    )


def recheck(
    session: Session,
    touch: Touch,
    now: datetime,
    *,
    contact: Contact | None = None,
    application: Application | None = None,
    where: Situation | None = None,
    sends_today: int | None = None,
) -> policy.Decision:
    """Send-time re-check of a stored touch (a reply or a manual touch may have arrived).
    The worker passes what it loaded for its whole batch."""
    return decide(
        session,
        contact or session.get(Contact, touch.contact_id),
        application or session.get(Application, touch.application_id),
        round_=touch.round,
        step=touch.step,
        channel=touch.channel,
        at=touch.scheduled_for or now,
        automated=touch.automated,
        now=now,
        touch_id=touch.id,
        where=where,
        sends_today=sends_today,
    )
