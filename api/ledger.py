"""The bridge between the touch ledger in the database and the pure policy engine.

Loads a contact's history, responses and effective policy into the engine's plain
records, and records every change of a touch as an event. Plugins observe events only
after the transaction that made them commits, so they never hear of a change that
was rolled back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, event, func, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from api import policy, timewindow
from api.models import (
    Application,
    Contact,
    Interview,
    Interviewer,
    PolicySetting,
    Response,
    Touch,
    TouchEvent,
    utcnow,
)
from api.timebounds import clamp_instant

log = logging.getLogger("touchbase.ledger")

COUNTING = tuple(sorted(policy.COUNTING_STATUSES))


# -- policy layers ----------------------------------------------------------------------------


def policy_layers(
    session: Session, org_id: int, candidate_id: int | None, contact_id: int | None
) -> tuple[dict, dict, dict]:
    """The staff-set layers (org, candidate, contact), without the candidate's own rules."""
    return all_layers(session, org_id, candidate_id, contact_id)[:3]


def all_layers(
    session: Session, org_id: int, candidate_id: int | None, contact_id: int | None
) -> tuple[dict, dict, dict, dict]:
    """The staff layers and the candidate's own rules for the contact, as policy.merge takes."""
    rows = session.scalars(select(PolicySetting).where(PolicySetting.org_id == org_id)).all()
    org, cand, cont, own = {}, {}, {}, {}
    for row in rows:
        if row.candidate_id is None and row.contact_id is None:
            org = row.values or {}
        elif row.contact_id is None and row.candidate_id == candidate_id:
            cand = row.values or {}
        elif contact_id is not None and row.contact_id == contact_id:
            cont, own = row.values or {}, row.own_values or {}
    return org, cand, cont, own


def effective_policy(
    session: Session, org_id: int, candidate_id: int | None = None, contact_id: int | None = None
) -> tuple[policy.PolicySettings, dict[str, str]]:
    return policy.merge(*all_layers(session, org_id, candidate_id, contact_id))


def message_limits(settings: policy.PolicySettings) -> dict[str, int]:
    return {
        "thank_you_max_words": settings.thank_you_max_words,
        "follow_up_max_words": settings.follow_up_max_words,
        "sms_max_segments": settings.sms_max_segments,
    }


# -- records for the engine -------------------------------------------------------------------


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
    )


def touch_record(touch: Touch) -> policy.TouchRecord:
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
    query = select(Response).order_by(Response.occurred_at, Response.id)
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
    """Everything the engine needs about one contact in one application."""

    settings: policy.PolicySettings
    contact: policy.ContactInfo
    history: list[policy.TouchRecord]
    responses: list[policy.ResponseRecord]
    interview_end: datetime | None
    decision_date: date | None


def situation(
    session: Session, contact: Contact, application: Application, round_: int
) -> Situation:
    settings, _ = effective_policy(session, contact.org_id, contact.candidate_id, contact.id)
    return Situation(
        settings=settings,
        contact=contact_info(contact),
        history=history(session, [contact.id], [application.id]),
        responses=responses(session, contact_ids=[contact.id], application_ids=[application.id]),
        interview_end=interview_end(session, contact.id, application.id, round_),
        decision_date=application.decision_expected_on,
    )


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
    where = where or situation(session, contact, application, round_)
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
    return policy.evaluate(
        where.settings,
        where.contact,
        where.history,
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


# -- events ----------------------------------------------------------------------------------


def actor_for_user(user_id: int) -> str:
    return f"user:{user_id}"


def record_event(
    session: Session,
    touch: Touch,
    kind: str,
    actor: str,
    *,
    reason: str | None = None,
    rule: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TouchEvent:
    """Append an event; plugins hear of it once the transaction commits."""
    fields = event_row(touch.id, kind, actor, reason=reason, rule=rule, data=data, at=at)
    del fields["touch_id"]  # the relationship sets it (a new touch has no id yet)
    evt = TouchEvent(touch=touch, **fields)
    session.add(evt)
    session.info.setdefault("touchbase.events", []).append(evt)
    return evt


def event_row(
    touch_id: int | None,
    kind: str,
    actor: str,
    *,
    reason: str | None = None,
    rule: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The columns of one event, for :func:`insert_events`."""
    return {
        "touch_id": touch_id,
        "kind": kind,
        "actor": actor,
        "reason": reason,
        "rule": rule,
        "data": _jsonable(data or {}),
        "at": at or utcnow(),
    }


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append events (:func:`event_row`) in one INSERT, past the unit of work: the worker
    writes two per touch, and the unit of work costs more than the statement. Plugins
    hear of them once the transaction commits, like :func:`record_event`'s."""
    if not rows:
        return
    session.connection().execute(insert(TouchEvent.__table__), rows)
    session.info.setdefault("touchbase.events", []).extend(SimpleNamespace(**r) for r in rows)


_UPDATE_TOUCH = Touch.__table__.update().where(Touch.__table__.c.id == bindparam("touch_pk"))


def update_touch(session: Session, touch: Touch, **values: Any) -> None:
    """UPDATE a loaded (and locked) touch by primary key, past the unit of work, and set
    the same values on ``touch`` as its committed state, so the object stays true and
    clean. For the worker's hot path; elsewhere, change the object."""
    values.setdefault("updated_at", utcnow())
    if "scheduled_for" in values and values["scheduled_for"] != touch.scheduled_for:
        values.setdefault("sequence", touch.sequence + 1)  # as Touch's own hook (feed SEQUENCE)
    session.connection().execute(_UPDATE_TOUCH, {"touch_pk": touch.id, **values})
    for key, value in values.items():
        set_committed_value(touch, key, value)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime | date) else v) for k, v in data.items()}


@event.listens_for(Session, "after_commit")
def _notify_observers(session: Session) -> None:
    events = session.info.pop("touchbase.events", None)
    if not events:
        return
    try:
        from channels.registry import notify_event
    except ImportError:
        return
    for evt in events:
        payload = {
            "touch_id": evt.touch_id,
            "kind": evt.kind,
            "at": evt.at,
            "actor": evt.actor,
            "reason": evt.reason,
            "rule": evt.rule,
            "data": evt.data,
        }
        try:
            notify_event(payload)
        except Exception:  # an observer must never break the ledger
            log.exception("touch_event observer failed for touch %s", evt.touch_id)


@event.listens_for(Session, "after_rollback")
def _forget_events(session: Session) -> None:
    session.info.pop("touchbase.events", None)


# -- re-examination after a response (R8-R10) --------------------------------------------------


#: Passes of re-examination: a moved follow-up can push the call behind it, and so on.
REEXAMINE_PASSES = 5


def reexamine_application(
    session: Session,
    application: Application,
    now: datetime,
    actor: str,
    contact_id: int | None = None,
) -> list[Touch]:
    """Re-check every pending automated touch of the application (and, with ``contact_id``,
    every pending one to that contact: an out-of-office follows the person); cancel or move
    the ones that no longer pass, each with an event naming the rule.

    Repeated until nothing changes, because one move can break the next step (a follow-up
    moved past its call must take the call along, R11/R7)."""
    scope = Touch.application_id == application.id
    if contact_id is not None:
        scope = or_(scope, Touch.contact_id == contact_id)
    changed: dict[int, Touch] = {}
    for _ in range(REEXAMINE_PASSES):
        pending = session.scalars(
            select(Touch)
            .where(scope, Touch.status == "scheduled", Touch.automated.is_(True))
            .order_by(Touch.id)
        ).all()
        moved = _reexamine(session, pending, now, actor)
        if not moved:
            break
        changed.update((t.id, t) for t in moved)
        session.flush()
    return sorted(changed.values(), key=lambda t: t.id)


def _reexamine(session: Session, pending: list[Touch], now: datetime, actor: str) -> list[Touch]:
    if not pending:
        return []
    contact_ids = sorted({t.contact_id for t in pending})
    app_ids = sorted({t.application_id for t in pending})
    contacts = {
        c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))
    }
    settings = {
        cid: effective_policy(session, c.org_id, c.candidate_id, cid)[0]
        for cid, c in contacts.items()
    }
    infos = {cid: contact_info(c) for cid, c in contacts.items()}
    records = history(session, contact_ids, app_ids)
    answers = responses(session, contact_ids=contact_ids, application_ids=app_ids)
    decision_dates = {
        a.id: a.decision_expected_on
        for a in session.scalars(select(Application).where(Application.id.in_(app_ids)))
    }
    changed = []
    for touch in pending:  # policy.reexamine_pending, with each touch's own decision date
        record = touch_record(touch)
        decision = policy.evaluate(
            settings[touch.contact_id],
            infos[touch.contact_id],
            records,
            answers,
            policy.ProposedTouch(
                contact_id=record.contact_id,
                application_id=record.application_id,
                round=record.round,
                step=record.step,
                channel=record.channel,
                at=record.at,
                automated=True,
                touch_id=touch.id,
            ),
            now,
            decision_date=decision_dates[touch.application_id],
        )
        if not decision.allowed:
            _apply(session, touch, decision, actor)
            changed.append(touch)
    return changed


def _apply(session: Session, touch: Touch, decision: policy.Decision, actor: str) -> None:
    if decision.next_allowed_at is None:
        touch.status = "cancelled"
        touch.reason = decision.detail
        touch.rule = decision.rule
        record_event(session, touch, "cancelled", actor, reason=decision.detail, rule=decision.rule)
        return
    old = touch.scheduled_for
    touch.scheduled_for = decision.next_allowed_at
    record_event(
        session,
        touch,
        "rescheduled",
        actor,
        reason=decision.detail,
        rule=decision.rule,
        data={"from": old, "to": decision.next_allowed_at},
    )


def lock_contact(session: Session, contact_id: int) -> Contact:
    """Serialise touch creation per contact, so concurrent requests cannot both take the
    last touch of a budget (PostgreSQL row lock; SQLite already serialises writers)."""
    return session.scalars(select(Contact).where(Contact.id == contact_id).with_for_update()).one()


def lock_touch(session: Session, touch_id: int) -> Touch:
    """Re-read a touch under a row lock, so a change by the candidate and the worker's claim
    of the same touch cannot both win (the later one sees the other's status)."""
    return session.scalars(
        select(Touch)
        .where(Touch.id == touch_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


GRACE = timedelta(minutes=5)
