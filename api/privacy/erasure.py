"""Erasing a candidate: nothing of theirs is sent after, then every row and file goes.

The order, in one request:

1. Their pending touches (scheduled, drafts) are cancelled, each with an event, under
   row locks (``FOR UPDATE``, as the worker locks a touch before it fences or records
   it). A worker that claimed one of them finds it cancelled when it locks it, and lets
   it go: nothing is sent after.
2. A touch being sent right now (``sending`` under a live lease) cannot be stopped: the
   provider has it. :class:`InFlight` is raised once the cancellations are committed, and
   the caller retries when the worker has written its answer (seconds). A ``sending``
   touch whose lease ran out (its worker is gone) is marked ``unknown``, as the reaper
   would, and erased with the rest.
3. :func:`_keep_anonymous_counts` keeps what the organisation's reports need, as
   anonymous aggregates, just before the rows are deleted.
4. Every row of theirs is deleted (:func:`delete_rows`), the audit row written, and
   committed; then their files (outbox ``.eml``) are removed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from api import ledger
from api.dispatch.options import LOST_REASON
from api.models import (
    ApiToken,
    Application,
    Assignment,
    CalendarFeed,
    ChannelSetting,
    Contact,
    IdempotencyKey,
    InboundMail,
    Interview,
    Interviewer,
    Mailbox,
    PolicySetting,
    Response,
    ResponseCorrection,
    Template,
    Touch,
    TouchEvent,
    User,
    WebhookDelivery,
    WebhookEvent,
)
from api.privacy import files
from api.webhooks import events as webhook_events

ACTOR = "erasure"
CANCEL_REASON = "Cancelled: the candidate's data is being erased."
PENDING = ("scheduled", "draft")


@dataclass
class InFlight(Exception):
    """Touches of the candidate are being sent right now; retry after ``retry_after`` s."""

    touch_ids: list[int]
    retry_after: int


@dataclass
class Erased:
    rows: dict[str, int]
    cancelled: int
    files: list[Path]


def _keep_anonymous_counts(session: Session, user: User) -> None:
    """Fold the candidate's counts into the organisation's anonymous tallies before their
    rows go, so the admin's adherence totals and chart for past ranges do not change."""
    from api.reports.anonymous import fold_candidate

    fold_candidate(session, user.id)


def settle_touches(session: Session, user: User, now: datetime) -> tuple[int, list[int]]:
    """Step 1 and 2: (pending touches cancelled, touches being sent under a live lease).
    Locks every unfinished touch of the candidate, in id order."""
    rows = session.scalars(
        select(Touch)
        .where(Touch.candidate_id == user.id, Touch.status.in_((*PENDING, "sending")))
        .order_by(Touch.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    cancelled, live = 0, []
    for touch in rows:
        if touch.status in PENDING:
            touch.status, touch.reason, touch.rule = "cancelled", CANCEL_REASON, None
            touch.lease_owner = touch.lease_expires_at = None
            ledger.record_event(session, touch, "cancelled", ACTOR, reason=CANCEL_REASON, at=now)
            cancelled += 1
        elif touch.lease_expires_at is not None and touch.lease_expires_at > now:
            live.append(touch.id)
        else:  # its worker is gone: what the reaper would do
            touch.status, touch.reason = "unknown", LOST_REASON
            touch.lease_expires_at = None
            ledger.record_event(session, touch, "unknown", ACTOR, reason=LOST_REASON, at=now)
    session.flush()
    return cancelled, live


def _mentions(value: Any, user_id: int) -> bool:
    """Whether a stored answer or payload names the candidate (``candidate_id``)."""
    if isinstance(value, dict):
        if value.get("candidate_id") == user_id:
            return True
        return any(_mentions(v, user_id) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, user_id) for v in value)
    return False


def _idempotency_ids(session: Session, user: User) -> list[int]:
    """Keys whose stored answer is about the candidate: their own, and other users'
    (staff acting for them) whose answer names them or their /v1/users/{id} path."""
    own_path = re.compile(rf"^/v1/users/{user.id}(/|$)")
    found = []
    rows = session.execute(
        select(IdempotencyKey.id, IdempotencyKey.user_id, IdempotencyKey.path, IdempotencyKey.body)
        .join(User, User.id == IdempotencyKey.user_id)
        .where(User.org_id == user.org_id)
    ).all()
    for key_id, owner, path, body in rows:
        if owner == user.id or own_path.match(path or ""):
            found.append(key_id)
            continue
        try:
            answer = json.loads(body) if body else None
        except ValueError:
            answer = None
        is_user = (path or "").rstrip("/") == "/v1/users" and isinstance(answer, dict)
        if _mentions(answer, user.id) or (is_user and answer.get("id") == user.id):
            found.append(key_id)
    return found


def _webhook_event_ids(session: Session, user: User, touch_ids: set[int]) -> list[int]:
    rows = session.execute(
        select(WebhookEvent.id, WebhookEvent.touch_id, WebhookEvent.payload).where(
            WebhookEvent.org_id == user.org_id
        )
    ).all()
    return [
        event_id
        for event_id, touch_id, payload in rows
        if touch_id in touch_ids or _mentions((payload or {}).get("data"), user.id)
    ]


def delete_rows(session: Session, user: User) -> dict[str, int]:
    """Every row of the user, children first; the count per table."""
    uid = user.id
    touch_ids = set(session.scalars(select(Touch.id).where(Touch.candidate_id == uid)))
    contacts = select(Contact.id).where(Contact.candidate_id == uid).scalar_subquery()
    responses = select(Response.id).where(Response.candidate_id == uid).scalar_subquery()
    touches = select(Touch.id).where(Touch.candidate_id == uid).scalar_subquery()
    interviews = select(Interview.id).where(Interview.candidate_id == uid).scalar_subquery()
    hooks = _webhook_event_ids(session, user, touch_ids)
    keys = _idempotency_ids(session, user)
    statements = [
        delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(hooks or [-1])),
        delete(WebhookEvent).where(WebhookEvent.id.in_(hooks or [-1])),
        delete(IdempotencyKey).where(IdempotencyKey.id.in_(keys or [-1])),
        delete(InboundMail).where(
            or_(
                InboundMail.candidate_id == uid,
                InboundMail.contact_id.in_(contacts),
                InboundMail.touch_id.in_(touches),
                InboundMail.response_id.in_(responses),
            )
        ),
        delete(ResponseCorrection).where(ResponseCorrection.response_id.in_(responses)),
        delete(Response).where(Response.candidate_id == uid),
        delete(TouchEvent).where(TouchEvent.touch_id.in_(touches)),
        delete(Touch).where(Touch.candidate_id == uid),
        delete(Interviewer).where(
            or_(Interviewer.interview_id.in_(interviews), Interviewer.contact_id.in_(contacts))
        ),
        delete(Interview).where(Interview.candidate_id == uid),
        delete(Application).where(Application.candidate_id == uid),
        delete(PolicySetting).where(
            or_(PolicySetting.candidate_id == uid, PolicySetting.contact_id.in_(contacts))
        ),
        delete(Contact).where(Contact.candidate_id == uid),
        delete(Mailbox).where(Mailbox.candidate_id == uid),
        delete(ChannelSetting).where(ChannelSetting.candidate_id == uid),
        delete(Template).where(Template.candidate_id == uid),
        delete(CalendarFeed).where(CalendarFeed.user_id == uid),
        delete(ApiToken).where(ApiToken.user_id == uid),
        delete(Assignment).where(or_(Assignment.candidate_id == uid, Assignment.advisor_id == uid)),
        delete(User).where(User.id == uid),
    ]
    counts: dict[str, int] = {}
    for statement in statements:
        result = session.execute(statement, execution_options={"synchronize_session": False})
        table = statement.table.name
        counts[table] = counts.get(table, 0) + (result.rowcount or 0)
    session.expunge_all()
    return counts


def erase(session: Session, user: User, now: datetime, config: Mapping[str, Any]) -> Erased:
    """Steps 1 to 4 but the commit and the files (the caller commits, then removes
    ``Erased.files``). Raises :class:`InFlight`, with the cancellations flushed for the
    caller to commit, when a touch of theirs is being sent."""
    cancelled, live = settle_touches(session, user, now)
    if live:
        lease_ends = session.scalars(select(Touch.lease_expires_at).where(Touch.id.in_(live))).all()
        wait = max((end - now).total_seconds() for end in lease_ends if end is not None)
        raise InFlight(live, max(1, min(60, int(wait) + 1)))
    touch_ids = session.scalars(select(Touch.id).where(Touch.candidate_id == user.id)).all()
    dirs = files.outbox_dirs(session, user.org_id, user.id, config)
    paths = files.touch_files(dirs, touch_ids)
    _keep_anonymous_counts(session, user)
    rows = delete_rows(session, user)
    # The cancellations' webhook events would be written at the commit, naming the
    # candidate after their erasure: the portal hears of the erasure from its own call.
    session.info.pop(webhook_events.KEY, None)
    return Erased(rows, cancelled, paths)
