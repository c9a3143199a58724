"""Skipping drafts nobody approved in time: the worker's sweep and the read-time check.

Nothing else would ever end a draft: the worker claims only ``scheduled`` touches. So the
worker sweeps on its reaper's beat (no user action needed), and the API sweeps the
caller's drafts before it reads or approves them, so nobody sees a draft as pending after
its deadline even with no worker running.

Rows are locked ``SKIP LOCKED``: a draft another transaction holds (being approved, or
swept by another worker) is left to it, and the sweep never waits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api import approval, ledger, scheduling
from api.auth import Principal, scope
from api.db import is_reading, writing
from api.models import Application, Contact, Touch, utcnow
from api.problems import Problem

log = logging.getLogger("touchbase.drafts")

#: Who skips a draft when the API notices the deadline (the worker's sweep says "worker").
SYSTEM_ACTOR = "system"
BATCH = 200


def expire(
    session: Session,
    now: datetime,
    actor: str,
    *,
    restrict: Callable[[Select], Select] | None = None,
    limit: int = BATCH,
) -> list[Touch]:
    """Skip the drafts (``restrict``: of those the query keeps) whose deadline has passed,
    each with a reason and an event; flushed, not committed."""
    query = (
        select(Touch, Contact.timezone)
        .join(Contact, Contact.id == Touch.contact_id)
        .where(Touch.status == approval.DRAFT, Touch.approve_by <= now)
    )
    if restrict is not None:
        query = restrict(query)
    query = (
        query.order_by(Touch.approve_by).limit(limit).with_for_update(skip_locked=True, of=Touch)
    )
    skipped = []
    for touch, tz in session.execute(query).all():
        skip(session, touch, tz, actor)
        skipped.append(touch)
    if skipped:
        session.flush()
        # what followed an expired draft is placed again without it (a follow-up needs a
        # thank-you, R5): the scheduling core decides, as after any other fact
        for app_id in sorted({t.application_id for t in skipped}):
            scheduling.replan(session, session.get(Application, app_id), now, actor)
    return skipped


def skip(session: Session, touch: Touch, tz: str, actor: str) -> None:
    """End one expired draft (the caller holds its row)."""
    reason, rule = approval.expiry(touch, tz)
    touch.status, touch.reason, touch.rule = "skipped", reason, rule
    ledger.record_event(
        session,
        touch,
        "skipped",
        actor,
        reason=reason,
        rule=rule,
        data={"approve_by": touch.approve_by},
    )


def expire_visible(session: Session, principal: Principal, touch_id: int | None = None) -> int:
    """Before a read: skip the caller's expired drafts (``touch_id``: that one only) and
    commit, so the answer never shows one as pending."""
    now = utcnow()

    def restrict(query: Select) -> Select:
        query = scope(query, Touch, principal)
        return query if touch_id is None else query.where(Touch.id == touch_id)

    if is_reading(session):
        # A reader looks first, and begins a write transaction only for a draft to skip.
        due = restrict(select(Touch.id).where(Touch.status == approval.DRAFT))
        if session.scalar(due.where(Touch.approve_by <= now).limit(1)) is None:
            return 0
        writing(session)
    skipped = expire(session, now, SYSTEM_ACTOR, restrict=restrict)
    if skipped:
        session.commit()
    return len(skipped)


def refuse_if_expired(session: Session, touch: Touch, tz: str, now: datetime) -> None:
    """For a change to a locked ``touch``: an expired draft is skipped (committed), and the
    change is a 409 that says so."""
    if not approval.expired(touch, now):
        return
    skip(session, touch, tz, SYSTEM_ACTOR)
    session.commit()
    raise expired_problem(touch)


def expired_problem(touch: Touch) -> Problem:
    return Problem(
        409,
        f"This draft expired and was skipped: {touch.reason}",
        type_="urn:touchbase:problem:draft-expired",
        title="The draft expired",
        rule=touch.rule,
    )


def sweep(sessions: Callable[[], Session], now: datetime, actor: str = "worker") -> int:
    """One pass for the worker: every expired draft, in batches; how many were skipped."""
    total = 0
    while True:
        with sessions() as session, session.begin():
            done = len(expire(session, now, actor))
        total += done
        if done < BATCH:
            break
    if total:
        log.info(
            "skipped %d unapproved drafts",
            total,
            extra={"touchbase": {"event": "drafts_expired", "count": total}},
        )
    return total
