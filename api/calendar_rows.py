"""What the calendar shows: which touches, at what time, and why.

One definition for `GET /v1/calendar` and the iCalendar feed, so a subscribed calendar
and the API can never disagree: the same visibility (api.auth.scope), the same time (the
send time once sent, else the scheduled one), the same sentence for why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api import timewindow
from api.auth import Principal, scope
from api.models import Application, Contact, Touch, TouchEvent, User

#: When a touch is on the calendar: when it went out, else when it is (or was) due.
TIME = func.coalesce(Touch.sent_at, Touch.scheduled_for)
#: The default window of `GET /v1/calendar`, around now.
DEFAULT_BACK = timedelta(days=7)
DEFAULT_AHEAD = timedelta(days=60)
#: The longest range one request may ask for.
MAX_SPAN = timedelta(days=366)
#: Events that say why a touch is at its time; the latest one wins.
TIMING_EVENTS = ("scheduled", "rescheduled", "retry")
#: States whose own reason (why it ended) is the truest sentence.
ENDED = frozenset({"cancelled", "skipped", "failed"})


def touch_time(touch: Touch) -> datetime | None:
    return touch.sent_at or touch.scheduled_for


def select_touches(
    principal: Principal,
    start: datetime,
    end: datetime,
    *,
    candidate_id: int | None = None,
    application_id: int | None = None,
    states: Sequence[str] | None = None,
) -> Select:
    """The touches the caller may see whose time is in [start, end), by time then id. A
    candidate or application the caller may not see simply matches nothing."""
    query = scope(select(Touch), Touch, principal).where(start <= TIME, end > TIME)
    if candidate_id is not None:
        query = query.where(Touch.candidate_id == candidate_id)
    if application_id is not None:
        query = query.where(Touch.application_id == application_id)
    if states:
        query = query.where(Touch.status.in_(list(states)))
    return query.order_by(TIME, Touch.id)


def why(touch: Touch, latest: TouchEvent | None) -> tuple[str, str | None]:
    """The truest sentence for why the touch is at its time (and in its state), with its rule.

    An ended touch says why it ended; a logged one, that it happened then; otherwise the
    latest timing event (a re-plan's reason wins over the plan's), then the plan's reason."""
    if touch.status in ENDED and touch.reason:
        return touch.reason, touch.rule
    if not touch.automated:
        return touch.reason or "Logged by hand: it happened at this time.", touch.rule
    if latest is not None and latest.reason:
        if latest.kind == "retry":
            return f"Retrying after a temporary failure: {latest.reason}", latest.rule
        return latest.reason, latest.rule
    if latest is not None and latest.kind == "rescheduled":
        return "Moved to this time on request.", None
    if touch.plan_reason:
        return touch.plan_reason, None
    return "Scheduled for the time asked for.", None


def _latest_timing_events(session: Session, touch_ids: list[int]) -> dict[int, TouchEvent]:
    latest: dict[int, TouchEvent] = {}
    if not touch_ids:
        return latest
    events = session.scalars(
        select(TouchEvent)
        .where(TouchEvent.touch_id.in_(touch_ids), TouchEvent.kind.in_(TIMING_EVENTS))
        .order_by(TouchEvent.id)
    )
    for evt in events:
        latest[evt.touch_id] = evt
    return latest


def _by_id(session: Session, model, ids: Iterable[int]) -> dict[int, Any]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {o.id: o for o in session.scalars(select(model).where(model.id.in_(wanted)))}


def rows(session: Session, touches: Sequence[Touch]) -> list[dict[str, Any]]:
    """One calendar row per touch, in the given order; four queries however many rows."""
    contacts = _by_id(session, Contact, (t.contact_id for t in touches))
    candidates = _by_id(session, User, (t.candidate_id for t in touches))
    applications = _by_id(session, Application, (t.application_id for t in touches))
    latest = _latest_timing_events(session, [t.id for t in touches])
    out = []
    for touch in touches:
        contact = contacts[touch.contact_id]
        application = applications[touch.application_id]
        reason, rule = why(touch, latest.get(touch.id))
        at = touch_time(touch)
        out.append(
            {
                "touch_id": touch.id,
                "candidate_id": touch.candidate_id,
                "candidate_name": candidates[touch.candidate_id].name,
                "contact_id": contact.id,
                "contact_name": contact.name,
                "company": contact.company or application.company,
                "application_id": application.id,
                "position": application.position,
                "interview_id": touch.interview_id,
                "round": touch.round,
                "step": touch.step,
                "channel": touch.channel,
                "state": touch.status,
                "at": at,
                "local_time": timewindow.local_label(at, contact.timezone),
                "time_zone": contact.timezone,
                "reason": reason,
                "rule": rule,
                "sequence": touch.sequence,
                "approve_by": touch.approve_by,
                "updated_at": touch.updated_at,
            }
        )
    return out
